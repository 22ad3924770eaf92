"""The package's layout is its architecture: seven wings whose imports run one way,

    cli  ->  teaching  ->  benchmark  ->  training  ->  cells, reference  ->  core

no import circle between modules, and the public names where the README says they are.
Every import counts, including the ones inside functions (they run too)."""
import ast
import importlib
import pathlib
import subprocess
import sys

import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "rnnzoo"

# a wing may import its own modules and those of the wings ranked below it; cells and
# reference share a rank and neither imports the other
RANK = {"core": 0, "cells": 1, "reference": 1, "training": 2, "benchmark": 3, "teaching": 4,
        "cli": 5}
FACADE = {"rnnzoo", "rnnzoo.__main__"}      # the public face imports every wing


def _modules():
    """{dotted name: path} of every module of the package."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


MODULES = _modules()


def _imports(name, path):
    """The rnnzoo modules that module ``name`` imports: [(target, line)]."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names if a.name.split(".")[0] == "rnnzoo"]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if source.split(".")[0] != "rnnzoo":
                continue
            # ``from pkg import mod`` imports the module pkg.mod; ``from mod import f``, mod
            submodules = [f"{source}.{a.name}" for a in node.names
                          if f"{source}.{a.name}" in MODULES]
            out += [(t, node.lineno) for t in submodules or [source]]
    return out


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _wing(name):
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[1] in RANK else None


def test_the_top_level_holds_only_the_wings():
    # (a folder without Python files is what git leaves of a moved package: its bytecode)
    top = sorted(p.name for p in PACKAGE.iterdir()
                 if p.suffix == ".py" or (p.is_dir() and any(p.rglob("*.py"))))
    assert top == sorted(["__init__.py", "__main__.py", *RANK]), \
        f"rnnzoo/ should hold the seven wings and the facade, found {top}"


def test_every_module_lives_in_a_wing():
    homeless = [n for n in MODULES if n not in FACADE and _wing(n) is None]
    assert not homeless


def test_every_import_names_a_module_that_exists():
    """(A relative import with one dot too few names a module that is not there, and only
    fails when its function runs.)"""
    missing = [f"{n}:{line} imports {t}" for n, ts in GRAPH.items() for t, line in ts
               if t not in MODULES]
    assert not missing, "\n".join(missing)


def test_imports_run_one_way():
    wrong = []
    for name, targets in GRAPH.items():
        if name in FACADE:
            continue
        here = _wing(name)
        for target, line in targets:
            there = _wing(target)
            if there is None:
                wrong.append(f"{name}:{line} imports the facade {target} (import from the wing)")
            elif there != here and RANK[there] >= RANK[here]:
                wrong.append(f"{name}:{line} ({here}) imports {target} ({there})")
    assert not wrong, "imports that run against the layout:\n" + "\n".join(wrong)


def test_core_imports_nothing_outside_core():
    outside = [(n, t) for n, ts in GRAPH.items() if _wing(n) == "core"
               for t, _ in ts if _wing(t) != "core"]
    assert not outside


def test_no_import_circle():
    """Depth-first search for a back edge among the modules (a package's own __init__
    running first when one of its modules is imported is not an edge)."""
    edges = {n: sorted({t for t, _ in ts if t in MODULES and t != n}) for n, ts in GRAPH.items()}
    state, stack = {}, []

    def visit(n):
        state[n] = "open"
        stack.append(n)
        for t in edges[n]:
            if state.get(t) == "open":
                return stack[stack.index(t):] + [t]
            if t not in state and (cycle := visit(t)):
                return cycle
        state[n] = "done"
        stack.pop()
        return None

    for n in sorted(edges):
        if n not in state and (cycle := visit(n)):
            pytest.fail("import circle: " + " -> ".join(cycle))


def test_the_import_check_sees_a_planted_back_edge():
    """The checks above would notice a module of core importing a cell."""
    before = GRAPH["rnnzoo.core.ops"]
    try:
        GRAPH["rnnzoo.core.ops"] = before + [("rnnzoo.cells.rnn", 1)]
        with pytest.raises(AssertionError, match="rnnzoo.core.ops:1"):
            test_imports_run_one_way()
        GRAPH["rnnzoo.core.ops"] = before + [("rnnzoo.core.base", 1)]   # base imports ops
        with pytest.raises(pytest.fail.Exception, match="import circle"):
            test_no_import_circle()
    finally:
        GRAPH["rnnzoo.core.ops"] = before


@pytest.mark.parametrize("short, home", [("optim", "rnnzoo.training.optim"),
                                         ("tasks", "rnnzoo.training.tasks"),
                                         ("experiments", "rnnzoo.teaching.experiments")])
def test_public_modules_keep_their_short_names(short, home):
    """``import rnnzoo.optim`` and ``from rnnzoo.tasks import make_task`` are the public
    API: the short name is the same module object as its home in the wing."""
    short_module = importlib.import_module(f"rnnzoo.{short}")
    assert short_module is importlib.import_module(home)
    import rnnzoo
    assert getattr(rnnzoo, short) is short_module


@pytest.mark.parametrize("short, home", [("experiments.spec", "teaching.experiments.spec"),
                                         ("experiments.claims", "teaching.experiments.claims"),
                                         ("tasks.memory", "training.tasks.memory"),
                                         ("tasks.charlm", "training.tasks.charlm")])
def test_submodules_of_the_short_names_are_the_same_modules(short, home):
    """No second copy of a module (with its own classes) under the short name."""
    assert importlib.import_module(f"rnnzoo.{short}") is importlib.import_module(f"rnnzoo.{home}")


def test_public_names_of_the_facade():
    import rnnzoo
    for name in rnnzoo.__all__:
        assert getattr(rnnzoo, name) is not None, name
    from rnnzoo.tasks import make_task
    from rnnzoo.training import History, Trainer, train
    assert make_task is rnnzoo.make_task
    assert (Trainer, train, History) == (rnnzoo.Trainer, rnnzoo.train, rnnzoo.History)


def test_a_fresh_process_imports_short_names_first():
    """``from rnnzoo.experiments import Budget`` as a script's first rnnzoo import (the
    alias must exist before anything else has imported the package)."""
    code = ("from rnnzoo.experiments import Budget\nfrom rnnzoo.optim import Adam\n"
            "import rnnzoo.tasks\nprint(Budget.__module__, Adam.__module__, "
            "rnnzoo.tasks.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=PACKAGE.parent, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["rnnzoo.teaching.experiments.spec",
                                  "rnnzoo.training.optim", "rnnzoo.training.tasks"]
