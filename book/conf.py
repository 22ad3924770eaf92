"""Sphinx configuration of the rnnzoo course book: ``python -m rnnzoo book`` builds it.

Why plain Sphinx + MyST-NB + sphinx-book-theme and not Jupyter Book 1: Jupyter Book 1 is
this same stack behind a ``_config.yml`` that it translates into a conf.py. Writing the
conf.py ourselves drops one layer and one pinned dependency, and lets ``--only`` build a
subset of pages by setting Sphinx's own ``exclude_patterns`` (see ``_ext/rnnzoo_book.py``),
which Jupyter Book's toc-driven build does not offer. The look and the notebook handling
are the same as a Jupyter Book's: the same theme, the same MyST-NB execution cache.
"""
import pathlib
import sys

BOOK = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(BOOK / "_ext"))
sys.path.insert(0, str(BOOK.parent))          # rnnzoo itself, for autodoc and the notebooks

project = "rnnzoo: recurrent cells from scratch"
author = "the rnnzoo authors"
copyright = "the rnnzoo authors"

extensions = [
    "myst_nb",                       # MyST markdown and the notebooks, executed
    "sphinx.ext.autodoc",            # the API reference from the cells' docstrings
    "sphinx.ext.napoleon",           # their numpydoc "Parameters" / "Options" sections
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",        # MathJax 3 from PyPI, copied into _static: no CDN
    "sphinxcontrib.bibtex",
    "rnnzoo_book",                   # --only, the API pages, $...$ in docstrings
]

root_doc = "index"
exclude_patterns = ["_build", "readme_map.md", "**/.ipynb_checkpoints", "notebooks/*.py"]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb"}

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]

# "cache": a notebook runs only when its code changed since the last build
nb_execution_mode = "cache"
nb_execution_cache_path = str(BOOK / "_build" / ".jupyter_cache")
nb_execution_timeout = 900
nb_execution_raise_on_error = True           # a chapter that fails to run fails the build
nb_merge_streams = True
# the chapters show each exercise's student version, and run (and hide) its solution
nb_custom_formats = {".ipynb": ["student_chapters.read", {}]}

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_numpy_docstring = True
napoleon_google_docstring = False
# the cells list their constructor options under "Options", parsed like "Parameters"
napoleon_custom_sections = [("Options", "params_style")]

bibtex_bibfiles = ["references.bib"]
bibtex_default_style = "alpha"
bibtex_reference_style = "author_year"

html_theme = "sphinx_book_theme"
html_title = "rnnzoo"
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
}
# the theme's web fonts and analytics are off by default; nothing is fetched from a CDN
html_static_path = []
html_last_updated_fmt = None
# pydata-sphinx-theme (under sphinx-book-theme) reads the colour mode from here; left
# empty, its script logs "Got invalid theme mode" as a console error on every first visit
html_context = {"default_mode": "light"}
