"""Every notebook runs top to bottom, and its paired percent-format script (the form to
review in diffs) holds the same cells."""
import pathlib
import time

import pytest

NOTEBOOKS = sorted((pathlib.Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


# The notebooks run one after another on one pytest worker (--dist loadgroup in
# pyproject.toml): each already trains on two processes, and several of them time cells
# against each other, which two notebooks running at once on two cores would distort.
@pytest.mark.notebook
@pytest.mark.xdist_group("notebooks")
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_runs(path):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    nbclient.NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}}).execute()
    elapsed = time.perf_counter() - start
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    images = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert images, "a notebook ends with a plot that teaches something"
    # the teaching part ends with its closing plot; the exercises (with their
    # self-checks, tests/test_assignments.py) come after the '## Exercises' heading
    end = next((i for i, c in enumerate(nb.cells)
                if c.cell_type == "markdown" and "## Exercises" in c.source), len(nb.cells))
    last_code = [c for c in nb.cells[:end] if c.cell_type == "code"][-1]
    assert any("image/png" in o.get("data", {}) for o in last_code.outputs), \
        "the last code cell before the exercises should draw the notebook's closing plot"
    print(f"{path.name}: {elapsed:.1f} s")


@pytest.mark.xdist_group("notebooks")
def test_the_notebooks_share_one_worker(request):
    """Under ``--dist loadgroup`` (pyproject.toml) pytest-xdist tags a grouped test's node ID
    with its group and sends the group to one worker. pytest 9.2 with pytest-xdist 3.8 drops
    the tag silently (pytest-dev/pytest-xdist#1386): the notebooks then run two at a time,
    the suite takes about twice as long and their timing claims see the other notebook's
    load. requirements.txt keeps pytest below 9.2; this says so if the grouping is lost."""
    if getattr(request.config, "workerinput", None) is None:
        pytest.skip("not running under pytest-xdist workers")
    if not getattr(request.config.option, "loadgroup", False):     # set on each worker
        pytest.skip("not running with --dist loadgroup")
    assert request.node.nodeid.endswith("@notebooks"), (
        f"pytest-xdist did not group this test (node ID {request.node.nodeid!r}); with "
        f"pytest {pytest.__version__} the notebooks would run two at a time")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_matches_its_script(path):
    jupytext = pytest.importorskip("jupytext")
    script = path.with_suffix(".py")
    assert script.exists(), f"{script.name} (jupytext percent format) should sit beside {path.name}"
    a = [(c.cell_type, c.source.strip()) for c in jupytext.read(path).cells]
    b = [(c.cell_type, c.source.strip()) for c in jupytext.read(script).cells]
    assert a == b, f"{path.name} and {script.name} differ: run `jupytext --sync {script}`"
    committed = path.read_text()
    assert '"outputs": []' in committed or '"outputs"' not in committed
    assert '"output_type"' not in committed, f"commit {path.name} without outputs"
