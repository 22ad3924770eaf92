"""The teaching figures in figures/, each produced from code and a seed.

``python -m rnnzoo figures`` runs every function registered with ``@figure``; ``--full``
runs longer (longer sequences, more steps, toward the papers' lengths; the paper-scale
runs are ``python -m rnnzoo reproduce``) instead of the quick defaults. Each function takes
(out_dir, full, seed), draws one PNG and returns its path. The PNGs carry no timestamp,
so a rerun with the same seed rewrites identical files. ``--seed S`` starts every
comparison at seed S (S, S+1, S+2): ``--seed 10`` checks every claim on fresh seeds.
``--robust`` re-runs the variants behind each negative claim (:func:`.core.check_robust`)
at 4x the steps on a second seed block and records the verdicts in claims.json.

One module per cell family registers its figures (``baselines``, ``gated``, ...); the
shared registry and plots live in :mod:`.core`, claims.json and claims.md in
:mod:`.claims_file`.
"""
from __future__ import annotations

import os

from ...core.validation import (ArgumentTypeError, check_bool, check_distinct, check_seed,
                                 describe)

# isort: off
from .core import (CLAIMS, FIGURES, SETTINGS, _current, check, check_rerun,  # noqa: F401
                   check_robust, comparison, figure, measure, plot_gradient_norms,
                   plot_jacobian_spectra, variant)
from .claims_file import (claims_path, render_claims, robustness_problems,  # noqa: F401
                          write_claims)
# each module registers its figures, in the issues' order (FIGURES, claims.md and --list
# follow it)
from . import (baselines, training, gated, structural, unitary, skipping,  # noqa: F401
               fast_memory, charlm, linear, state_space, memories, dynamics)
from .baselines import BASELINES  # noqa: F401
from .gated import GATED  # noqa: F401
# isort: on


def make_figures(names=None, out_dir="figures", full=False, seed=0, progress=True,
                 robust=False):
    """Draw the named figures (default: all) into ``out_dir``; returns their paths.

    The claims each figure checks on its data are written to ``out_dir/claims.json`` and,
    readable, ``claims.md`` (the entries of figures not drawn this time are kept).
    ``robust``: run the robustness re-run of every claim stated with
    :func:`.core.check_robust` (otherwise recorded as skipped)."""
    w = "make_figures"
    if isinstance(names, str) or not (names is None or isinstance(names, (list, tuple))):
        raise ArgumentTypeError(f"{w}: names must be None (every figure) or a list of figure "
                                f"names (e.g. [{next(iter(FIGURES))!r}]); got {describe(names)}")
    names = list(FIGURES) if not names else list(names)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure(s) {unknown}; available: {', '.join(FIGURES)}")
    check_distinct(names, "names", w)    # a repeat would be drawn and its claims checked twice
    if not isinstance(out_dir, (str, os.PathLike)) or not str(out_dir):
        raise ArgumentTypeError(f"{w}: out_dir must be a folder path (str or os.PathLike); "
                                f"got {describe(out_dir)}")
    full = check_bool(full, "full", where=w)
    seed = check_seed(seed, where=w)
    progress = check_bool(progress, "progress", where=w)
    from tqdm.auto import tqdm
    SETTINGS["robust"] = check_bool(robust, "robust", where=w)
    paths, drawn = [], []
    bar = tqdm(names, desc="figures", unit="fig", disable=not progress)
    try:
        for name in bar:
            bar.set_postfix_str(name)
            _current[0] = name
            CLAIMS[name] = []
            paths.append(FIGURES[name](out_dir, full=full, seed=seed))
            drawn.append(name)
    except (OSError, KeyboardInterrupt):
        # a write failed mid-run (a full disk, a folder gone) or Ctrl-C: the PNGs of the
        # figures already drawn are on disk, and so are their claims, then the error
        if drawn:
            write_claims(out_dir, {n: CLAIMS[n] for n in drawn}, full=full)
        raise
    finally:
        _current[0] = None
        SETTINGS["robust"] = False
    write_claims(out_dir, {n: CLAIMS[n] for n in names}, full=full)
    return paths
