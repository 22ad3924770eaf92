"""The book's own Sphinx extension: one API page per registered cell, the pages that
``python -m rnnzoo book --only`` leaves out, and ``$...$`` math in docstrings.

* Each registered cell gets ``api/cells/NAME.md`` (generated, git-ignored): its class
  documented by autodoc. A page is rewritten only when its text changes, so an
  unchanged cell does not make Sphinx read its page again.
* ``rnnzoo_exclude`` (a list of glob patterns, set by the command with ``-D``) is added
  to ``exclude_patterns``: that is how a subset of the book is built.
* autodoc hands docstrings over as reStructuredText, where ``$x$`` is plain text. Some
  docstrings write inline math that way (as notebooks do); it becomes ``:math:`x```
  and ``$$...$$`` a ``.. math::`` block, so MathJax renders both.
"""
from __future__ import annotations

import pathlib
import re

INLINE_DOLLARS = re.compile(r"(?<![\\$`])\$(?!\$)([^$\n`]+?)(?<!\\)\$(?!\$)")
DISPLAY_DOLLARS = re.compile(r"^(\s*)\$\$(.+?)\$\$\s*$")

API_PAGE = """# `{name}`: {title}

```{{eval-rst}}
.. autoclass:: {module}.{qualname}
   :no-index-entry:
```
"""


def cell_classes():
    """{registered name: cell class}, every cell of the zoo."""
    from rnnzoo import cells  # noqa: F401  (registers every cell)
    from rnnzoo.core.registry import available, get_cell_class
    return {name: get_cell_class(name) for name in available()}


def write_api_pages(srcdir):
    folder = pathlib.Path(srcdir) / "api" / "cells"
    folder.mkdir(parents=True, exist_ok=True)
    for name, cls in cell_classes().items():
        title = (cls.__doc__ or cls.__name__).strip().split("(")[0].split("\n")[0].strip(" .")
        text = API_PAGE.format(name=name, title=title, module=cls.__module__,
                               qualname=cls.__qualname__)
        page = folder / f"{name}.md"
        if not page.exists() or page.read_text() != text:
            page.write_text(text)


def dollars_to_math(app, what, name, obj, options, lines):
    """autodoc-process-docstring: ``$x$`` -> ``:math:`x```, ``$$x$$`` -> a math block."""
    out = []
    for line in lines:
        display = DISPLAY_DOLLARS.match(line)
        if display:
            indent = display.group(1)
            out += [f"{indent}.. math::", "", f"{indent}   {display.group(2).strip()}", ""]
        else:
            out.append(INLINE_DOLLARS.sub(r":math:`\1`", line))
    lines[:] = out


def on_config_inited(app, config):
    write_api_pages(app.srcdir)
    config.exclude_patterns = list(config.exclude_patterns) + list(config.rnnzoo_exclude)


def setup(app):
    app.add_config_value("rnnzoo_exclude", [], "env", types=[list])
    app.connect("config-inited", on_config_inited)
    app.connect("autodoc-process-docstring", dollars_to_math)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
