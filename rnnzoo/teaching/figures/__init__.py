"""The teaching figures in figures/, each produced from code and a seed.

``python -m rnnzoo figures`` runs every function registered with ``@figure``; ``--full``
runs the papers' lengths instead of the quick defaults. Each function takes
(out_dir, full, seed), draws one PNG and returns its path. The PNGs carry no timestamp,
so a rerun with the same seed rewrites identical files.

One module per cell family registers its figures (``baselines``, ``gated``, ...); the
shared registry and plots live in :mod:`.core`.
"""
from __future__ import annotations

import json
import pathlib

# isort: off
from .core import (CLAIMS, FIGURES, _current, check, comparison, figure,  # noqa: F401
                   measure, plot_gradient_norms, plot_jacobian_spectra, variant)
# each module registers its figures, in the issues' order (FIGURES, claims.md and --list
# follow it)
from . import (baselines, training, gated, structural, unitary, skipping,  # noqa: F401
               fast_memory, charlm)
from .baselines import BASELINES  # noqa: F401
from .gated import GATED  # noqa: F401
# isort: on


def make_figures(names=None, out_dir="figures", full=False, seed=0, progress=True):
    """Draw the named figures (default: all) into ``out_dir``; returns their paths.

    The claims each figure checks on its data are written to ``out_dir/claims.json`` and,
    readable, ``claims.md`` (the entries of figures not drawn this time are kept)."""
    names = list(FIGURES) if not names else list(names)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure(s) {unknown}; available: {', '.join(FIGURES)}")
    from tqdm.auto import tqdm
    paths = []
    bar = tqdm(names, desc="figures", unit="fig", disable=not progress)
    for name in bar:
        bar.set_postfix_str(name)
        _current[0] = name
        CLAIMS[name] = []
        paths.append(FIGURES[name](out_dir, full=full, seed=seed))
    _current[0] = None
    write_claims(out_dir, {n: CLAIMS[n] for n in names}, full=full)
    return paths


def claims_path(out_dir, full=False):
    return pathlib.Path(out_dir) / ("claims_full.json" if full else "claims.json")


def write_claims(out_dir, new, full=False):
    """Merge ``new`` ({figure: [Claim]}) into out_dir/claims.json and rewrite claims.md."""
    path = claims_path(out_dir, full)
    data = json.loads(path.read_text()) if path.exists() else {}
    data.update({name: [c.to_dict() for c in claims] for name, claims in new.items()})
    # the figures' order; an entry of a figure this process does not know is kept last
    data = {**{n: data[n] for n in FIGURES if n in data},
            **{n: v for n, v in data.items() if n not in FIGURES}}
    path.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    path.with_suffix(".md").write_text(render_claims(data, full))


def render_claims(data, full=False) -> str:
    """claims.json as markdown: one section per figure, each claim PASS or FAIL with its
    numbers, exactly as the figures command computed them."""
    from ..experiments import Claim, Measurement
    lines = ["# What the figures' runs show" + (" (--full)" if full else ""), "",
             "Written by `python -m rnnzoo figures" + (" --full" if full else "") + "` from the "
             "runs behind each figure; do not edit. Each line is a check on the data: PASS "
             "means the runs support the sentence, with the numbers that decided it.", ""]
    for name, claims in data.items():
        if not claims:
            continue
        lines += [f"## {name}.png", ""]
        lines += [f"- {Measurement(c['statement'], c['numbers'])}" if c.get("measured") else
                  f"- {Claim(c['statement'], c['passed'], c['numbers'])}" for c in claims]
        lines.append("")
    return "\n".join(lines)
