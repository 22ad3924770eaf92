"""The course book (``python -m rnnzoo book``): the command's refusals, the docstring
math conversion, the hand-written pages held to the code (every command they show
parses; the landing page, README map, zoo, contract and layout pages list what exists),
and a subset of the book built and opened in headless Chromium.

The subset (landing page, notation, the bugs page, the API index and two cells' pages,
the bibliography and ONE notebook chapter, 01) builds in about 30 s on a quiet machine
the first time, when chapter 01 is executed, and in about 10 s once MyST-NB's cache holds
it. Chromium is Debian's (``apt-get install chromium``, as .ci/run does); without it, or
without playwright (``pip install -e '.[book]'``), the browser test skips and says why.
Set RNNZOO_BOOK_SCREENSHOTS=DIR to keep the screenshots in DIR as well.
"""
from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import pathlib
import re
import shutil
import subprocess
import sys
import threading
import urllib.parse

import pytest

from rnnzoo.cli import book as book_cli

ROOT = pathlib.Path(__file__).resolve().parents[1]
# one pytest worker builds the subset once for every test here (--dist loadgroup): two
# builds at once would share Sphinx's doctrees and the notebook cache
pytestmark = pytest.mark.xdist_group("book")
CHROMIUM = "/usr/bin/chromium"
SUBSET = ["notation", "bugs", "bibliography", "api/index", "api/cells/lstm",
          "api/cells/gru", "notebooks/01_vanishing_gradients"]
# the flags that run Chromium headless as root here, with nothing fetched in the background
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]
OUTSIDE = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=\"(?:https?:)?//",
                     re.IGNORECASE)


def toolchain_missing():
    return [m for m in book_cli.TOOLCHAIN if importlib.util.find_spec(m.split(".")[0]) is None]


needs_toolchain = pytest.mark.skipif(bool(toolchain_missing()),
                                     reason="the book's toolchain is not installed "
                                            "(pip install -e '.[book]')")


def assert_usage_error(capsys, argv, named):
    with pytest.raises(SystemExit) as info:
        book_cli.main(argv)
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert "error:" in err and "Traceback" not in err
    assert named in err, err


@needs_toolchain
@pytest.mark.parametrize("argv, named", [
    (["--only", "notation", "no_such_page"], "no_such_page"),
    (["--only", "api/cells/no_such_cell"], "api/cells/no_such_cell"),
    (["--only", "readme_map"], "readme_map"),              # in book/, not in the book
    (["--only"], "--only"),
    (["--flag"], "--flag"),
])
def test_bad_arguments_are_usage_errors(capsys, argv, named):
    assert_usage_error(capsys, argv, named)


@needs_toolchain
def test_out_that_is_a_file_is_refused_before_building(capsys, tmp_path):
    a_file = tmp_path / "site"
    a_file.write_text("")
    assert_usage_error(capsys, ["--out", str(a_file), "--only", "notation"], "--out")


def test_without_the_toolchain_it_says_what_to_install(capsys, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "myst_nb" else real(name, *a))
    assert_usage_error(capsys, ["--only", "notation"], "pip install -e '.[book]'")


@needs_toolchain
def test_only_list_refuses_the_out_it_would_ignore(capsys, tmp_path):
    with pytest.raises(SystemExit) as exit_:
        book_cli.main(["--only", "list", "--out", str(tmp_path / "b")])
    assert exit_.value.code == 2
    assert "--out" in capsys.readouterr().err and not (tmp_path / "b").exists()


def test_only_list_names_every_chapter_and_one_api_page_per_cell(capsys):
    import rnnzoo
    assert book_cli.main(["--only", "list"]) == 0
    pages = capsys.readouterr().out.split()
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert [p for p in pages if p.startswith("notebooks/")] == [f"notebooks/{n}" for n in notebooks]
    assert [p for p in pages if p.startswith("api/cells/")] == \
        [f"api/cells/{n}" for n in rnnzoo.available()]
    assert {"index", "notation", "glossary", "bugs", "bibliography"} <= set(pages)
    assert "readme_map" not in pages


def test_the_landing_page_lists_every_notebook_as_a_chapter():
    """index.md's learning path and its chapter table name every notebook, in order (the
    prose around them counts none: a typed count went stale when 02b was added)."""
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    index = (ROOT / "book" / "index.md").read_text()
    assert re.findall(r"\{doc\}`[^<`]*<notebooks/([^>]+)>`", index) == notebooks
    path = index.split("```text", 1)[1].split("```", 1)[0]
    assert sorted(set(re.findall(r"\b(\d\d[a-z]?)\b", path))) == [n.split("_")[0] for n in notebooks]


def test_a_chapter_reads_first_every_earlier_chapter_it_builds_on():
    """A chapter that names an earlier one ("the zero-order hold of notebook 10", "the way
    Exercise A of notebook 02b does") lists it, or a chapter that builds on it, in the
    learning path's "read first" column (12 used 10's zero-order hold with 04 and 05 listed;
    03, 06 and 12 followed 02b's exercise without it)."""
    index = (ROOT / "book" / "index.md").read_text()
    first = {}
    for chapter, cell in re.findall(r"<notebooks/(\d\d[a-z]?)_[^>]*>` \| [^|]* \| ([^|]*) \|",
                                    index):
        names = set(re.findall(r"\b\d\d[a-z]?\b", cell))
        for lo, hi in re.findall(r"\b(\d\d)–(\d\d)\b", cell):       # "01–03"
            names |= {f"{n:02d}" for n in range(int(lo), int(hi) + 1)}
        first[chapter] = names
    assert len(first) == len(list((ROOT / "notebooks").glob("*.ipynb")))

    def builds_on(chapter):
        seen, todo = set(), [chapter]
        while todo:
            for n in first[todo.pop()] - seen:
                seen.add(n)
                todo.append(n)
        return seen
    missing = {}
    for path in sorted((ROOT / "notebooks").glob("*.py")):
        chapter = path.stem.split("_")[0]
        named = set(re.findall(r"notebook (\d\d[a-z]?)\b", path.read_text()))
        earlier = {n for n in named if n < chapter and n in first}
        if earlier - builds_on(chapter):
            missing[chapter] = sorted(earlier - builds_on(chapter))
    assert missing == {}, f"chapters naming an earlier one not in their read-first path: {missing}"


def test_no_inline_formula_in_a_chapter_is_split_by_a_list_marker():
    """An inline $...$ formula wrapped so that the next line starts with "+ " (or "- ", "* ",
    "1. ") becomes a Markdown list item: the built page shows raw TeX (chapter 10's GLU
    block did)."""
    import nbformat
    split = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "markdown":
                continue
            open_math = False
            for line in cell.source.splitlines():
                if not line.strip():
                    open_math = False              # a blank line ends a paragraph
                    continue
                if open_math and re.match(r"\s*([-+*]|\d+\.)\s", line):
                    split.append(f"{path.name}: {line.strip()[:60]}")
                open_math ^= line.replace("$$", "").count("$") % 2 == 1
    assert split == []


def test_readme_map_names_every_readme_section_and_an_existing_page():
    sections = re.findall(r"^## (.+)$", (ROOT / "README.md").read_text(), re.MULTILINE)
    rows = dict(re.findall(r"^\| (.+?) \| `(book/[^`]+)`", (ROOT / "book" / "readme_map.md")
                           .read_text(), re.MULTILINE))
    assert sections and set(sections) <= set(rows), set(sections) - set(rows)
    for page in rows.values():
        assert (ROOT / page.split("#")[0]).exists(), page


def test_contract_page_names_every_textbook_module():
    """The contract page lists rnnzoo.reference's modules, one per family: a module added
    (or renamed) there and not on the page fails here, naming it (the list once stopped at
    lru, nine modules short)."""
    import pkgutil
    from rnnzoo import reference
    modules = {m.name for m in pkgutil.iter_modules(reference.__path__)} - {"core"}
    text = (ROOT / "book" / "contract.md").read_text().replace("\n", " ")
    family = text.split("one module per family (", 1)[1].split("): a CS231n-style", 1)[0]
    named = set(re.findall(r"`(\w+)`", family))
    assert modules <= named, f"book/contract.md does not name {sorted(modules - named)}"
    assert named - modules <= {"reference"}, sorted(named - modules)


def test_layout_page_names_every_module_of_each_wing():
    """book/layout.md's tree names every module of core, training (its tasks too),
    benchmark and teaching, the cells' shared helpers, and every script: a module added
    without a line there fails here by name (sixteen were once missing, core's scan and
    four of the tasks among them)."""
    block = (ROOT / "book" / "layout.md").read_text().split("```", 2)[1]
    # each wing's modules are looked for in its own entry (a name found in another wing's
    # lines, as core's memory in the cells' "_fast_memory (... memory forms)", is not named)
    entries = dict(re.findall(r"^rnnzoo/(\w+)/ +(.*?)(?=^\S|\Z)", block, re.M | re.S))
    package = ROOT / "rnnzoo"
    expected = {(wing.split("/")[0], p.stem) for wing in ("core", "training", "training/tasks",
                                                          "benchmark", "teaching")
                for p in (package / wing).glob("*.py")}
    expected |= {("teaching", p.name) for p in (package / "teaching").iterdir()
                 if (p / "__init__.py").exists()}
    expected |= {("cells", p.stem) for p in (package / "cells").glob("_*.py")} | {("cells", "expm")}
    expected = {(w, m) for w, m in expected if m != "__init__"}
    words = {w: set(re.findall(r"[\w.*]+", text)) for w, text in entries.items()}
    missing = sorted(f"{w}/{m}" for w, m in expected
                     if m not in words.get(w, ()) and f"{m}.py" not in words.get(w, ()))
    assert not missing, f"book/layout.md does not name {missing}"
    scripts = sorted(p.name for p in (ROOT / "scripts").iterdir())
    unnamed = [s for s in scripts if f"scripts/{s}" not in block
               and not (s.endswith("_floor.py") and "scripts/*_floor.py" in block)]
    assert not unnamed, f"book/layout.md does not name {unnamed}"


PROSE = ["README.md"] + sorted(f"book/{p.name}" for p in (ROOT / "book").glob("*.md"))


def shown_commands(text):
    """Every `python -m rnnzoo...` command in ``text``: the lines of its bash (or bare)
    code blocks, split at && and cut at a comment, and its inline code spans."""
    commands, fence = [], None
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            fence = None if fence is not None else line.strip()[3:]
        elif fence in ("", "bash"):
            commands += [part.split(" #")[0].strip() for part in line.split("&&")]
    inline = re.sub(r"```.*?```", "", text, flags=re.DOTALL).replace("\n", " ")
    commands += re.findall(r"`(python -m rnnzoo[^`]*)`", inline)
    return [c for c in commands if c.startswith("python -m rnnzoo")]


class _Parsed(Exception):
    pass


@pytest.mark.parametrize("page", PROSE)
def test_every_command_shown_parses(page, monkeypatch):
    """Every `python -m rnnzoo COMMAND ...` that README.md or a hand-written book page shows
    parses: the command and each flag exist (the parse stops the command before it runs),
    and every `python -m rnnzoo.MODULE` it names is a module."""
    import argparse
    import shlex
    from rnnzoo import cli
    parse_args = argparse.ArgumentParser.parse_args

    def parse_then_stop(self, args=None, namespace=None):
        parse_args(self, args, namespace)
        raise _Parsed
    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    for command in shown_commands((ROOT / page).read_text()):
        words = shlex.split(command)
        if words[2] != "rnnzoo":
            assert importlib.util.find_spec(words[2]) is not None, f"{page}: {command}"
            continue
        try:
            cli.main(words[3:])
        except _Parsed:
            continue
        except SystemExit as exit:
            pytest.fail(f"{page}: {command!r} does not parse (exit {exit.code})")
        pytest.fail(f"{page}: {command!r} returned without parsing its arguments")


def test_shown_commands_are_found():
    """The extraction above finds the commands it should (a pass with none found would
    check nothing)."""
    found = {c for page in PROSE for c in shown_commands((ROOT / page).read_text())}
    assert {"python -m rnnzoo figures", "python -m rnnzoo bench --scan revival",
            "python -m rnnzoo.benchmark.skipping",
            "python -m rnnzoo bench --pairs 3 --repeat 3 --threads 1 --clock cpu"} <= found
    assert any(c.startswith("python -m rnnzoo train --cell gru") for c in found)


def zoo_rows(text):
    """{cell: row} of the zoo table in ``text`` (README.md or book/zoo.md): the rows whose
    second column is a `make(...)` name and whose last says done, with the book's {cite:p}
    citations taken out."""
    rows = re.findall(r"^\| [^|`]+ \| `.*\| done \|$", text, re.MULTILINE)
    return {row.split(" | ")[0][2:]: re.sub(r" \{cite:p\}`[^`]*`", "", row) for row in rows}


def test_zoo_page_rows_are_the_readme_rows():
    """book/zoo.md holds a copy of README's zoo table (with citations) until the README
    shrinks to the cells' names (book/readme_map.md): a row changed in one and not the
    other (the S4D and LMU rows once drifted) fails here."""
    readme = zoo_rows((ROOT / "README.md").read_text())
    book = zoo_rows((ROOT / "book" / "zoo.md").read_text())
    assert len(book) >= 28 and set(book) == set(readme), set(book) ^ set(readme)
    assert [cell for cell in book if book[cell] != readme[cell]] == []


def test_dollar_math_in_docstrings_becomes_math_roles():
    spec = importlib.util.spec_from_file_location("rnnzoo_book", ROOT / "book/_ext/rnnzoo_book.py")
    ext = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ext)
    lines = ["The gradient shrinks like $\\lambda^k$ per unit, costs $5 not $6,",
             "    $$h_t = \\tanh(a_t)$$", "``$x$`` stays code.",
             "passes when |a - n| <= atol, :math:`\\|x\\|` and ``a | b`` stay",
             "|h_t| <= 1 at every step", "| a | b |", "+---+---+"]
    ext.dollars_to_math(None, "class", "name", None, {}, lines)
    assert lines[0] == "The gradient shrinks like :math:`\\lambda^k` per unit, costs $5 not $6,"
    assert lines[1:4] == ["    .. math::", "", "       h_t = \\tanh(a_t)"]
    assert lines[-5:] == ["``$x$`` stays code.",
                          "passes when \\|a - n\\| <= atol, :math:`\\|x\\|` and ``a | b`` stay",
                          "\\|h_t\\| <= 1 at every step", "| a | b |", "+---+---+"]


def test_bars_in_math_code_and_literal_blocks_stay_as_they_are():
    """A math block's |x| is TeX: escaped, MathJax drew it as a norm (uRNN's and mLSTM's
    API pages did). The body of a math, code or literal block passes through; the prose
    around it, a '::' line included, is escaped as before."""
    spec = importlib.util.spec_from_file_location("rnnzoo_book", ROOT / "book/_ext/rnnzoo_book.py")
    ext = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ext)
    lines = ["    .. math:: |z| = 1", "", "        \\sigma(|z_t| + b)", "        |n^T q|",
             "    after |x|", ".. code-block:: python", "", "    a | b", "Shapes |x|::", "",
             "    |h| (B, H)", "", "then |y|"]
    ext.dollars_to_math(None, "class", "name", None, {}, lines)
    assert lines == ["    .. math:: |z| = 1", "", "        \\sigma(|z_t| + b)", "        |n^T q|",
                     "    after \\|x\\|", ".. code-block:: python", "", "    a | b",
                     "Shapes \\|x\\|::", "", "    |h| (B, H)", "", "then \\|y\\|"]


# ------------------------------------------------------------------ the built subset
@pytest.fixture(scope="module")
def site(tmp_path_factory):
    missing = toolchain_missing()
    if missing:
        pytest.skip(f"the book's toolchain is not installed (missing {missing}): "
                    "pip install -e '.[book]'")
    out = tmp_path_factory.mktemp("book") / "html"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    built = subprocess.run([sys.executable, "-m", "rnnzoo", "book", "--out", str(out),
                            "--only", *SUBSET], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=900)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return out


def built_pages(site):
    return sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html")
                  if not p.relative_to(site).as_posix().startswith("_"))


def test_subset_has_its_pages_and_no_others(site):
    pages = {p[:-len(".html")] for p in built_pages(site)} - {"genindex", "search"}
    assert pages == {"index", *SUBSET}


def test_no_page_loads_anything_from_another_host(site):
    for page in built_pages(site):
        html = (site / page).read_text()
        assert not OUTSIDE.search(html), f"{page}: {OUTSIDE.search(html).group(0)}"
    assert (site / "_static" / "mathjax" / "tex-chtml.js").is_file()


def test_the_chapter_is_executed_and_the_bugs_page_shows_real_failures(site):
    chapter = (site / "notebooks" / "01_vanishing_gradients.html").read_text()
    assert chapter.count("<img") >= 3 and "PASSED" in chapter
    bugs = (site / "bugs.html").read_text()
    assert bugs.count("FAILED: worst rel err") == 4 and bugs.count("PASSED: worst rel err") == 1
    assert "gradient of 'b_ih' is wrong" in bugs


def test_the_chapter_shows_the_student_version_of_its_exercises(site):
    """Pass: the built chapter shows each exercise's stub and visible self-check, and none
    of the answer key: no solution line, no hidden test, no written answer, no marker;
    the solutions still ran (the plots after them are there)."""
    import jupytext
    from rnnzoo.teaching import assignments
    chapter = (site / "notebooks" / "01_vanishing_gradients.html").read_text()
    assert "NotImplementedError" in chapter and "YOUR ANSWER HERE" in chapter
    assert "check_step" in chapter
    for marker in ("BEGIN SOLUTION", "HIDDEN TESTS", "MARK SCHEME"):
        assert marker not in chapter
    nb = jupytext.read(ROOT / "notebooks" / "01_vanishing_gradients.py")
    answers = [line.strip() for c in nb.cells
               for block in assignments.solution_blocks(c.source)
               for line in block[1:-1] if len(line.strip()) > 25]
    assert answers
    import html
    text = html.unescape(re.sub(r"<[^>]+>", "", chapter))
    shown = [a for a in answers if a.lstrip("# ") in text]
    assert not shown, f"the book shows {len(shown)} answer line(s), e.g. {shown[0]!r}"


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed (pip install -e '.[book]')")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM,
            headless=True, args=CHROMIUM_FLAGS)
        yield context
        context.close()


@pytest.fixture(scope="module")
def server(site):
    """The site over http://127.0.0.1 (MathJax's fonts are refused to file:// pages)."""
    handler = functools.partial(QuietHandler, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def open_page(browser, url, base):
    """Load ``url``; returns (page, problems): console errors, page errors, failed or
    outside requests, each a sentence."""
    page = browser.new_page()
    problems = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}")
            if r.status >= 400 else None)

    def only_this_site(route):
        if route.request.url.startswith(base):
            route.continue_()
        else:
            problems.append(f"request to another host: {route.request.url}")
            route.abort()
    page.route("**/*", only_this_site)
    page.goto(url, wait_until="networkidle")
    return page, problems


def test_every_page_loads_cleanly_in_chromium(site, server, browser):
    for name in built_pages(site):
        page, problems = open_page(browser, server + name, server)
        broken_images = page.evaluate("""() => [...document.images]
            .filter(img => !(img.complete && img.naturalWidth > 0)).map(img => img.src)""")
        links = page.evaluate("""() => [...document.querySelectorAll('a[href]')]
            .map(a => a.href).filter(h => h.startsWith(location.origin))""")
        page.close()
        assert not problems, f"{name}: {problems}"
        assert not broken_images, f"{name}: images that did not load: {broken_images}"
        for link in links:
            assert_internal_link_resolves(site, server, name, link)


def assert_internal_link_resolves(site, server, page, link):
    parts = urllib.parse.urlsplit(link[len(server) - 1:])
    target = site / urllib.parse.unquote(parts.path).lstrip("/")
    if target.is_dir():
        target = target / "index.html"
    assert target.is_file(), f"{page}: link to {link}: no such file"
    if parts.fragment and target.suffix == ".html":
        ids = re.findall(r'\bid="([^"]+)"', target.read_text())
        assert urllib.parse.unquote(parts.fragment) in ids, \
            f"{page}: link to {link}: no element with id {parts.fragment!r}"


@pytest.mark.parametrize("name, equations", [("notation.html", 40), ("api/cells/lstm.html", 4)])
def test_equations_are_typeset_by_mathjax(site, server, browser, name, equations, tmp_path):
    page, problems = open_page(browser, server + name, server)
    page.wait_for_selector("mjx-container", timeout=30_000)
    typeset = page.evaluate("() => document.querySelectorAll('mjx-container').length")
    raw = page.evaluate("""() => [...document.querySelectorAll('span.math, div.math')]
        .filter(el => !el.querySelector('mjx-container')).map(el => el.textContent)""")
    shot = tmp_path / name.replace("/", "_").replace(".html", ".png")
    page.screenshot(path=str(shot), full_page=False)
    page.close()
    assert not problems, problems
    assert typeset >= equations, f"{name}: only {typeset} equations typeset"
    assert not raw, f"{name}: math left as raw TeX: {raw[:3]}"
    assert shot.stat().st_size > 10_000               # a real picture, not a blank page
    keep = os.environ.get("RNNZOO_BOOK_SCREENSHOTS")
    if keep:
        os.makedirs(keep, exist_ok=True)
        shutil.copy(shot, keep)


def test_citation_file_has_what_cff_requires():
    yaml = pytest.importorskip("yaml")
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text())
    # CFF 1.2.0's required keys, and only keys its schema knows
    assert {"cff-version", "message", "title", "authors"} <= set(citation)
    assert set(citation) <= {"cff-version", "message", "title", "authors", "type", "version",
                             "date-released", "keywords", "references", "abstract", "license",
                             "repository-code", "url", "doi", "identifiers", "preferred-citation",
                             "commit", "contact", "license-url", "repository",
                             "repository-artifact"}
    assert all("title" in r and "authors" in r for r in citation["references"])
