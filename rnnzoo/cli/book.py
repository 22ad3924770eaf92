"""``python -m rnnzoo book [--out DIR] [--only PAGE ...]``: build the course book.

The book's sources are ``book/`` in a checkout of rnnzoo: its pages in MyST markdown, the
notebooks (``book/notebooks`` is a link to ``notebooks/``), ``references.bib`` and
``conf.py``, which says why the toolchain is plain Sphinx + MyST-NB + sphinx-book-theme.
The notebooks are executed in MyST-NB's "cache" mode: a notebook runs again only when
its code changed, so a rebuild that changed nothing executes nothing. The result is a
static site (``book/_build/html`` by default) that needs no network: MathJax is served
from the site itself.

``--only`` builds a subset, for a quick look or a test: the landing page is always built,
and every other page is left out unless named (``notation``, ``bugs``,
``api/cells/lstm``, ``notebooks/01_vanishing_gradients``; ``--only list`` prints them).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import pathlib
import subprocess
import sys
import time

from .args import check_writable_folder, nonempty_path

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
SOURCE = REPOSITORY / "book"
DEFAULT_OUT = SOURCE / "_build" / "html"
ROOT_PAGE = "index"
NOT_PAGES = {"readme_map"}                       # in book/, but not part of the book
TOOLCHAIN = ("sphinx", "myst_nb", "sphinx_book_theme", "sphinxcontrib.bibtex")


def build_parser(prog="python -m rnnzoo book"):
    p = argparse.ArgumentParser(prog=prog, description="Build the course book (a static "
                                "HTML site, offline) from book/, the notebooks and the "
                                "cells' docstrings. Needs: pip install -e '.[book]'.")
    p.add_argument("--out", default=None, metavar="DIR", type=nonempty_path,
                   help=f"where the HTML goes (default: {DEFAULT_OUT.relative_to(REPOSITORY)})")
    p.add_argument("--only", nargs="+", default=None, metavar="PAGE",
                   help="build only these pages besides the landing page; "
                        "'--only list' prints the page names")
    return p


def book_pages(source=SOURCE) -> list:
    """Every page name of the book: its sources' paths without suffix, and one API page
    per registered cell (``api/cells/NAME``, generated at build time)."""
    from .. import cells  # noqa: F401  (registers every cell)
    from ..core.registry import available
    pages = {f"api/cells/{name}" for name in available()}
    for folder, subfolders, files in os.walk(source, followlinks=True):
        subfolders[:] = [d for d in subfolders if not d.startswith((".", "_"))]
        for name in files:
            path = pathlib.Path(folder, name).relative_to(source)
            if path.suffix in (".md", ".ipynb") and path.with_suffix("").as_posix() not in NOT_PAGES:
                pages.add(path.with_suffix("").as_posix())
    return sorted(pages)


def sphinx_command(out, doctrees, excluded) -> list:
    # a warning (a broken link or reference, a page left out of every toctree) fails the
    # build, after every page is built (--keep-going): the full book builds without one
    command = [sys.executable, "-m", "sphinx", "-b", "html", "-d", str(doctrees),
               "--jobs", "1", "-W", "--keep-going", str(SOURCE), str(out)]
    if excluded:
        # every other page's source, whatever its suffix (Sphinx splits lists at commas)
        command += ["-D", "rnnzoo_exclude=" + ",".join(f"{page}.*" for page in excluded),
                    # the links, citations and toctree entries of the pages left out are
                    # expected to dangle in a subset
                    "-D", "suppress_warnings=" + ",".join(SUBSET_WARNINGS)]
    return command


# what a subset of the book warns about only because pages are left out
SUBSET_WARNINGS = ("toc.excluded", "ref.doc", "myst.xref_missing", "bibtex.key_not_found")


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not (SOURCE / "conf.py").is_file():
        parser.error(f"the book's sources are not at {SOURCE}: build the book from a "
                     "checkout of rnnzoo (git clone), not from an installed package")
    missing = [m for m in TOOLCHAIN if importlib.util.find_spec(m.split(".")[0]) is None]
    if missing:
        parser.error(f"the book's toolchain is not installed (missing: {', '.join(missing)}); "
                     "install it with: pip install -e '.[book]'")
    pages = book_pages()
    if args.only == ["list"]:
        if args.out is not None:      # as bench --no-files refuses the --out it would ignore
            parser.error("--only list prints the page names and builds nothing, so --out "
                         f"{args.out} would be ignored; leave one of them out")
        print("\n".join(pages))
        return 0
    excluded = []
    if args.only is not None:
        unknown = [page for page in args.only if page not in pages]
        if unknown:
            parser.error(f"--only: unknown page(s) {unknown}; expected page names such as "
                         f"notation, bugs, api/cells/lstm, notebooks/01_vanishing_gradients "
                         f"('--only list' prints all {len(pages)})")
        excluded = [page for page in pages if page != ROOT_PAGE and page not in args.only]
    out = pathlib.Path(args.out) if args.out is not None else DEFAULT_OUT
    check_writable_folder(parser, "--out", str(out))
    doctrees = SOURCE / "_build" / "doctrees" / ("subset" if excluded else "full")
    # the notebooks' kernels import this checkout's rnnzoo, like Sphinx's autodoc
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(REPOSITORY), os.environ.get("PYTHONPATH")) if p))
    start = time.perf_counter()
    try:
        finished = subprocess.run(sphinx_command(out, doctrees, excluded), env=env)
    except KeyboardInterrupt:
        print("\ninterrupted: the notebooks executed so far are kept in the cache, "
              "and the next build starts from them", file=sys.stderr)
        return 130
    if finished.returncode != 0:
        print(f"the book's build failed (sphinx exit status {finished.returncode}); "
              "its messages are above", file=sys.stderr)
        return finished.returncode
    print(f"wrote {out / 'index.html'} in {time.perf_counter() - start:.0f} s")
    return 0
