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
* In reStructuredText ``|x|`` is a substitution; docstrings mean an absolute value
  (``|analytic − numeric|``). Outside code, math (roles and blocks), literal blocks and
  table borders the bars are escaped.
"""
from __future__ import annotations

import hashlib
import pathlib
import re

# as MyST and pandoc read it: no space inside the dollars, and a closing $ is not
# followed by a digit, so "$5 or $6" stays money
INLINE_DOLLARS = re.compile(r"(?<![\\$`])\$(?=[^\s$])([^$\n`]*?[^\s\\])\$(?![$\d])")
DISPLAY_DOLLARS = re.compile(r"^(\s*)\$\$(.+?)\$\$\s*$")
# literal and role spans, inside which a bar is TeX or code and must stay as it is
SPANS = re.compile(r"(``.+?``|:\w+:`[^`]+`|`[^`]+`)")
# the first line of a block whose indented body is TeX or code, where a bar stays as it
# is: a math or code directive (group 1), or a paragraph ending in '::' (a literal block)
VERBATIM_BLOCK = re.compile(r"^\s*(?:(\.\. (?:math|code|code-block|sourcecode)::.*)|.*::\s*$)")

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
    """autodoc-process-docstring: ``$x$`` -> ``:math:`x```, ``$$x$$`` -> a math block;
    bars escaped outside spans, math and code blocks and literal blocks."""
    out, verbatim = [], None        # verbatim: the indent of the block being passed through
    for line in lines:
        if verbatim is not None:
            if not line.strip() or _indent(line) > verbatim:
                out.append(line)    # a block's body: TeX or code, bars as they are
                continue
            verbatim = None
        opening = VERBATIM_BLOCK.match(line)
        if opening:
            verbatim = _indent(line)
            # a directive's argument is TeX or a language name; a '::' paragraph is prose
            out.append(line if opening.group(1) else _prose(line))
            continue
        display = DISPLAY_DOLLARS.match(line)
        if display:
            indent = display.group(1)
            out += [f"{indent}.. math::", "", f"{indent}   {display.group(2).strip()}", ""]
        else:
            out.append(_prose(line))
    lines[:] = out


def _prose(line):
    return escape_bars(INLINE_DOLLARS.sub(r":math:`\1`", line))


def _indent(line):
    return len(line) - len(line.lstrip())


def escape_bars(line):
    stripped = line.strip()
    if (stripped.startswith("|") and stripped.endswith("|") and stripped.count("|") > 2) \
            or re.fullmatch(r"\+[-=+]+\+", stripped):         # a grid table's row or border
        return line
    return "".join(part if SPANS.fullmatch(part) else part.replace("|", "\\|")
                   for part in SPANS.split(line))


def on_config_inited(app, config):
    write_api_pages(app.srcdir)
    config.exclude_patterns = list(config.exclude_patterns) + list(config.rnnzoo_exclude)


def setup(app):
    app.add_config_value("rnnzoo_exclude", [], "env", types=[list])
    # Sphinx re-reads every page when an "env" setting changes, but it does not watch this
    # file: its digest as a setting makes an edit here re-read the docstrings it converts
    digest = hashlib.sha256(pathlib.Path(__file__).read_bytes()).hexdigest()
    app.add_config_value("rnnzoo_book_extension", digest, "env", types=[str])
    app.connect("config-inited", on_config_inited)
    app.connect("autodoc-process-docstring", dollars_to_math)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
