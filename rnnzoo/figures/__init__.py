"""The teaching figures in figures/, each produced from code and a seed.

``python -m rnnzoo figures`` runs every function registered with ``@figure``; ``--full``
runs the papers' lengths instead of the quick defaults. Each function takes
(out_dir, full, seed), draws one PNG and returns its path. The PNGs carry no timestamp,
so a rerun with the same seed rewrites identical files.

One module per cell family registers its figures (``baselines``, ``gated``, ...); the
shared registry and plots live in :mod:`.core`.
"""
from __future__ import annotations

from .core import (FIGURES, figure, plot_gradient_norms,  # noqa: F401
                   plot_jacobian_spectra, training_run, variant)
from . import baselines, gated, structural  # noqa: F401,E402  (each registers its figures)
from .baselines import BASELINES  # noqa: F401
from .gated import GATED  # noqa: F401


def make_figures(names=None, out_dir="figures", full=False, seed=0, progress=True):
    """Draw the named figures (default: all) into ``out_dir``; returns their paths."""
    names = list(FIGURES) if not names else list(names)
    unknown = [n for n in names if n not in FIGURES]
    if unknown:
        raise ValueError(f"unknown figure(s) {unknown}; available: {', '.join(FIGURES)}")
    from tqdm.auto import tqdm
    paths = []
    bar = tqdm(names, desc="figures", unit="fig", disable=not progress)
    for name in bar:
        bar.set_postfix_str(name)
        paths.append(FIGURES[name](out_dir, full=full, seed=seed))
    return paths
