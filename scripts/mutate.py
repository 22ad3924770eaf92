"""A small mutation tester: does the test suite notice a planted bug?

    python scripts/mutate.py rnnzoo/training/optim.py rnnzoo/training/checkpoint.py --per-module 25
    python scripts/mutate.py rnnzoo/teaching/figures/state_space.py --functions cost_claims \
        --tests test_s4d --per-module 100           # only what a change touched

For each module it lists every mutation site (an AST-level change: a comparison flipped,
+ and - or * and / swapped, a number or True/False changed, ``and``/``or`` swapped, a
``not`` dropped, or a ``raise`` / call statement / augmented assignment replaced by
``pass``), samples ``--per-module`` of them with a fixed seed, and for each one copies
the repository to a scratch folder, writes the mutated module there, and runs the
module's tests (``TESTS`` below; only the files that exist) with ``pytest -x`` under a
timeout. A cell module (``CELLS`` below) runs the registry-driven suites filtered to
that cell with ``-k`` (its variants' ids), then its own test files unfiltered; ``--k``
adds a filter of your own to every run. A mutant is *killed* when a run fails (or
times out), and *survives* when every run passes or selects no test. Prints the score
per module and every survivor with its line.

Not part of the test suite (it is slow by design); nothing is written into the repo.
Docstrings and f-strings are left alone (mutating messages only tests the wording).
"""
from __future__ import annotations

import argparse
import ast
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TESTS = {   # module (its path under rnnzoo/) -> the test files that exercise it (missing
            # files are skipped)
    "core/base.py": ["test_contract", "test_bad_input", "test_gradients", "test_hostile_cells"],
    "core/validation.py": ["test_validation", "test_hostile_cells", "test_hostile_model",
                           "test_hostile_optim", "test_hostile_training",
                           "test_hostile_tasks_gradcheck"],
    "core/gradcheck.py": ["test_gradients", "test_hostile_tasks_gradcheck",
                          "test_gradcheck_limits"],
    "core/gradcheck_differences.py": ["test_gradcheck_limits", "test_gradients",
                                      "test_hostile_tasks_gradcheck"],
    "core/gradcheck_inputs.py": ["test_hostile_tasks_gradcheck", "test_gradients",
                                 "test_gradcheck_limits"],
    "core/backend.py": ["test_cupy_emulated", "test_bad_input", "test_contract"],
    "training/model.py": ["test_bad_input", "test_gradients", "test_hostile_model",
                          "test_reference_equations", "test_train", "test_hostile_training"],
    "training/optim.py": ["test_optim", "test_hostile_optim", "test_hostile_training",
                          "test_train"],
    "training/clipping.py": ["test_optim", "test_hostile_optim", "test_hostile_training",
                             "test_train"],
    "training/checkpoint.py": ["test_checkpoint", "test_hostile_checkpoint"],
    "training/checkpoint_file.py": ["test_checkpoint", "test_hostile_checkpoint"],
    "training/trainer.py": ["test_train", "test_hostile_training"],
    "training/history.py": ["test_train", "test_hostile_training"],
    "training/plotting.py": ["test_train", "test_experiments", "test_hostile_training"],
    "teaching/experiments/results.py": ["test_experiments", "test_robust_claims",
                                        "test_claims_classic"],
    "teaching/experiments/claims.py": ["test_experiments", "test_robust_claims"],
    "teaching/experiments/robust.py": ["test_robust_claims"],
    "teaching/experiments/running.py": ["test_experiments", "test_hostile_experiments",
                                        "test_robust_claims", "test_experiments_store"],
    "teaching/experiments/store.py": ["test_experiments_store"],
    "teaching/reproductions/catalog.py": ["test_reproductions"],
    "teaching/reproductions/running.py": ["test_reproductions"],
    "teaching/reproductions/table.py": ["test_reproductions"],
    "cli/reproduce.py": ["test_reproductions"],
    "cli/figures.py": ["test_hostile_cli", "test_figures_and_cli"],
    "teaching/experiments/spec.py": ["test_hostile_experiments", "test_experiments",
                                     "test_experiments_store"],
    "teaching/figures/claims_file.py": ["test_robust_claims"],
    # the figure modules whose claim functions are tested on made-up data (their drawing
    # code is only run by the figures command and the notebooks: expect survivors there;
    # --functions NAME_claims measures the claims alone)
    "teaching/figures/linear.py": ["test_claims_revival"],
    "teaching/figures/state_space.py": ["test_claims_revival", "test_s4d"],
    "teaching/figures/memories.py": ["test_claims_revival"],
    "teaching/figures/structural.py": ["test_claims_classic"],
    "teaching/figures/unitary.py": ["test_claims_classic", "test_unitary"],
    "teaching/figures/skipping.py": ["test_claims_classic"],
    "teaching/figures/fast_memory.py": ["test_claims_classic", "test_fast_memory"],
    "teaching/figures/training.py": ["test_claims_classic"],
    "teaching/figures/dynamics.py": ["test_claims_dynamics"],
    "teaching/figures/dynamics_memory.py": ["test_claims_dynamics"],
    "cli/compare.py": ["test_hostile_cli", "test_experiments", "test_experiments_store"],
    "cli/train.py": ["test_train", "test_hostile_cli"],
    "cli/gradcheck.py": ["test_figures_and_cli", "test_hostile_cli"],
    "cli/bench.py": ["test_hostile_cli", "test_benchmark"],
    "benchmark/timing.py": ["test_benchmark"],
    "core/diagnostics.py": ["test_figures_and_cli", "test_unitary", "test_robust_claims",
                            "test_bad_input"],
    "teaching/selfcheck/values.py": ["test_assignments"],
    "teaching/selfcheck/steps.py": ["test_assignments"],
    "teaching/nbgrader_kit.py": ["test_nbgrader_kit", "test_assignments", "test_hostile_text"],
    "training/tasks/charlm.py": ["test_charlm", "test_hostile_text"],
    "teaching/assignments.py": ["test_assignments", "test_hostile_text"],
    "core/cell_checks.py": ["test_hostile_cells", "test_bad_input"],
    "core/registry.py": ["test_bad_input", "test_contract"],
    "core/torch_interop.py": ["test_torch_oracle"],
    "cli/args.py": ["test_hostile_cli", "test_train"],
    "core/scan.py": ["test_scan", "test_minimal_rnns"],
    # the option checks, through the cells that call them
    "cells/_options.py": ["test_lru", "test_s6", "test_s4d", "test_clockwork_qrnn",
                          "test_skiprnn", "test_xlstm", "test_deltanet", "test_lmu",
                          "test_unicornn"],
    "training/tasks/mqar.py": ["test_mqar"],
    **{f"training/tasks/{m}.py": ["test_tasks", "test_hostile_tasks_gradcheck"]
       for m in ("__init__", "task", "memory", "digits")},
    "training/tasks/parity.py": ["test_parity", "test_tasks", "test_hostile_tasks_gradcheck"],
    # the sequence loops and the entry points' checks of every textbook cell
    "reference/core.py": ["test_reference", "test_reference_equations"],
}

# the registry-driven suites (parametrized over every registered cell and EXTRA_VARIANTS)
REGISTRY = ["test_contract", "test_gradients", "test_hostile_cells", "test_bad_input",
            "test_reference", "test_reference_equations", "test_cupy_emulated"]
# cell module -> (-k expression selecting its variants in REGISTRY, its own test files)
CELLS = {
    # every other name with "rnn" in it is left out, so that only the Elman cell's variants run
    "cells/rnn.py": ("rnn and not " + " and not ".join(
        ("cornn", "deltarnn", "eurnn", "indrnn", "qrnn", "skiprnn", "urnn")),
        ["test_rnn", "test_gated_cells"]),
    "cells/gru.py": ("gru", ["test_gated_cells"]),
    "cells/mgu.py": ("mgu", ["test_gated_cells"]),
    "cells/janet.py": ("janet", ["test_gated_cells"]),
    "cells/lstm.py": ("lstm", ["test_gated_cells"]),
    "cells/clockwork.py": ("clockwork", ["test_clockwork_qrnn"]),
    "cells/qrnn.py": ("qrnn", ["test_clockwork_qrnn"]),
    "cells/skiprnn.py": ("skiprnn", ["test_skiprnn"]),
    "cells/fastweights.py": ("fastweights", ["test_fast_memory"]),
    "cells/urnn.py": ("urnn", ["test_unitary"]),
    "cells/eurnn.py": ("eurnn", ["test_unitary"]),
    "cells/_unitary.py": ("urnn", ["test_unitary"]),       # "urnn" also selects eurnn
    "cells/indrnn.py": ("indrnn", ["test_indrnn"]),        # "indrnn" also selects resindrnn
    "cells/resindrnn.py": ("resindrnn", ["test_indrnn"]),
    "cells/orthogonal.py": ("orthogonal", ["test_orthogonal"]),
    "cells/expm.py": ("orthogonal", ["test_orthogonal"]),
    "cells/deltarnn.py": ("deltarnn", ["test_fast_memory"]),  # its own checks live there
    "cells/mingru.py": ("mingru", ["test_minimal_rnns"]),
    "cells/minlstm.py": ("minlstm", ["test_minimal_rnns"]),
    "cells/_minimal.py": ("mingru or minlstm", ["test_minimal_rnns"]),
    "cells/lru.py": ("lru", ["test_lru"]),
    "cells/s6.py": ("s6", ["test_s6"]),
    "cells/s4d.py": ("s4d", ["test_s4d"]),
    "cells/antisymmetric.py": ("antisymmetric", ["test_antisymmetric"]),
    "reference/antisymmetric.py": ("antisymmetric", ["test_antisymmetric"]),
    "cells/lipschitz.py": ("lipschitz", ["test_lipschitz"]),
    "reference/lipschitz.py": ("lipschitz", ["test_lipschitz"]),
    "cells/cornn.py": ("cornn", ["test_cornn"]),
    "reference/cornn.py": ("cornn", ["test_cornn"]),
    "cells/unicornn.py": ("unicornn", ["test_unicornn"]),
    "reference/unicornn.py": ("unicornn", ["test_unicornn"]),   # its twin: test_reference
    "cells/lmu.py": ("lmu", ["test_lmu"]),
    "reference/lmu.py": ("lmu", ["test_lmu"]),
    "cells/_delta_rule.py": ("deltanet", ["test_deltanet"]),  # "deltanet" also selects gated_
    "cells/deltanet.py": ("deltanet", ["test_deltanet"]),
    "cells/gated_deltanet.py": ("gated_deltanet", ["test_deltanet"]),
    "cells/slstm.py": ("slstm", ["test_xlstm"]),
    "cells/mlstm.py": ("mlstm", ["test_xlstm"]),
    "reference/xlstm.py": ("slstm or mlstm", ["test_xlstm"]),   # both textbook twins
}

# slow tests that only repeat what faster ones check (training to convergence); the
# plot_history tests were skipped too once, and that hid every test of plotting.py's
# plot_history (they take half a second)
SKIP = "not learns_the_adding_problem"

SWAP = {ast.Lt: ast.GtE, ast.GtE: ast.Lt, ast.Gt: ast.LtE, ast.LtE: ast.Gt, ast.Eq: ast.NotEq,
        ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn,
        ast.NotIn: ast.In, ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div,
        ast.Div: ast.Mult, ast.And: ast.Or, ast.Or: ast.And}


class Mutator(ast.NodeTransformer):
    """Visits every site in a fixed order; mutates only site number ``target``
    (None: just count them, recording a description of each in ``sites``)."""

    def __init__(self, target=None):
        self.target, self.count, self.sites = target, 0, []

    def _hit(self, node, what):
        self.sites.append((getattr(node, "lineno", 0), what))
        self.count += 1
        return self.count - 1 == self.target

    def visit_JoinedStr(self, node):           # f-strings: messages, leave alone
        return node

    def visit_Expr(self, node):
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return node                         # a docstring
        if isinstance(node.value, ast.Call) and self._hit(node, "call statement -> pass"):
            return ast.copy_location(ast.Pass(), node)
        return self.generic_visit(node)

    def visit_Raise(self, node):
        if self._hit(node, "raise -> pass"):
            return ast.copy_location(ast.Pass(), node)
        return node

    def visit_AugAssign(self, node):
        if self._hit(node, "augmented assignment -> pass"):
            return ast.copy_location(ast.Pass(), node)
        return self.generic_visit(node)

    def _swap(self, node, op_attr):
        op = getattr(node, op_attr)
        if type(op) in SWAP and self._hit(node, f"{type(op).__name__} -> "
                                                f"{SWAP[type(op)].__name__}"):
            setattr(node, op_attr, SWAP[type(op)]())
        return self.generic_visit(node)

    def visit_BinOp(self, node):
        return self._swap(node, "op")

    def visit_BoolOp(self, node):
        return self._swap(node, "op")

    def visit_Compare(self, node):
        if len(node.ops) == 1 and type(node.ops[0]) in SWAP and \
                self._hit(node, f"{type(node.ops[0]).__name__} -> "
                                f"{SWAP[type(node.ops[0])].__name__}"):
            node.ops = [SWAP[type(node.ops[0])]()]
        return self.generic_visit(node)

    def visit_UnaryOp(self, node):
        if isinstance(node.op, ast.Not) and self._hit(node, "drop not"):
            return self.generic_visit(node).operand
        return self.generic_visit(node)

    def visit_Constant(self, node):
        v = node.value
        if isinstance(v, bool):
            if self._hit(node, f"{v} -> {not v}"):
                return ast.copy_location(ast.Constant(not v), node)
        elif isinstance(v, (int, float)) and not isinstance(v, bool):
            new = v + 1 if isinstance(v, int) else (v * 2 if v else 1.0)
            if self._hit(node, f"{v!r} -> {new!r}"):
                return ast.copy_location(ast.Constant(new), node)
        return node


def sites(source):
    m = Mutator()
    m.visit(ast.parse(source))
    return m.sites


def mutant(source, k):
    tree = Mutator(target=k).visit(ast.parse(source))
    return ast.unparse(ast.fix_missing_locations(tree))


def function_spans(source, names):
    """[(first line, last line), ...] of the functions (methods too) called one of
    ``names`` in ``source``."""
    return [(node.lineno, node.end_lineno) for node in ast.walk(ast.parse(source))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names]


def test_groups(root, name, tests=None):
    """[(test files, -k expression or None), ...] for module ``name``: each group is one
    pytest run; the mutant is killed when any run fails. ``tests`` (names like
    "test_s4d") replaces the mapping."""
    def have(files):
        return [f"tests/{t}.py" for t in files
                if os.path.exists(os.path.join(root, "tests", f"{t}.py"))]
    if tests:
        return [(have([t.removesuffix(".py").split("/")[-1] for t in tests]), None)]
    if name in CELLS:
        k, own = CELLS[name]
        return [g for g in [(have(REGISTRY), k), (have(own), None)] if g[0]]
    return [(have(TESTS.get(name, [])), None)]


def run_tests(root, groups, timeout, extra_k=None):
    deadline = time.time() + timeout
    for tests, k in groups:
        expr = " and ".join(f"({e})" for e in (k, extra_k, SKIP) if e)
        outcome = run_pytest(root, tests, expr, deadline - time.time())
        if outcome != "passed":
            return outcome
    return "passed"


def run_pytest(root, tests, expr, timeout):
    if timeout <= 0:
        return "timeout"
    env = {**os.environ, "PYTHONPATH": root, "OMP_NUM_THREADS": "1",
           "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-n", "0", "-p", "no:cacheprovider",
           "-m", "not notebook", "-k", expr, *tests]
    # its own session, so that a timeout ends the tests' children too: a mutant that makes
    # a benchmark worker loop forever would otherwise spin on, orphaned, for hours
    with subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, start_new_session=True) as proc:
        try:
            returncode = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return "timeout"
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)       # whatever it left running
            except ProcessLookupError:
                pass
    return "passed" if returncode in (0, 5) else "failed"   # 5: the filter selected none


def _ignore(repo):
    """What the scratch copy leaves out: the git and virtualenv folders, caches, notebooks
    and images, and the repository's own figures/ and notebooks/ folders (the top level
    only: rnnzoo/teaching/figures is code, and a copy without it fails every test that
    imports it, which would count every mutant of such a module as killed)."""
    top = os.path.abspath(repo)

    def ignore(folder, names):
        skip = {n for n in names if n in (".git", ".venv", "__pycache__")
                or n.endswith((".ipynb", ".png"))}
        if os.path.abspath(folder) == top:
            skip |= {n for n in names if n in ("figures", "notebooks")}
        return skip
    return ignore


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("modules", nargs="+", help="paths like rnnzoo/training/optim.py")
    p.add_argument("--repo", default=".", help="repository root (default: here)")
    p.add_argument("--per-module", type=int, default=25, help="mutants sampled per module")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per test run")
    p.add_argument("--k", default=None, help="a pytest -k expression added to every run")
    p.add_argument("--budget", type=float, default=900.0, help="stop after this many seconds")
    p.add_argument("--functions", default=None, metavar="NAME,...",
                   help="only the sites inside these functions (what a change touched)")
    p.add_argument("--tests", nargs="+", default=None, metavar="TEST",
                   help="test files to run instead of the module's mapping (names like "
                        "test_s4d; for a module the mapping leaves out, or to run the one "
                        "file that tests --functions)")
    args = p.parse_args(argv)
    functions = set(args.functions.split(",")) if args.functions else None
    start, total_killed, total = time.time(), 0, 0
    with tempfile.TemporaryDirectory(prefix="mutate-") as scratch:
        root = os.path.join(scratch, "repo")
        shutil.copytree(args.repo, root, ignore=_ignore(args.repo))
        for module in args.modules:
            name = os.path.relpath(module, "rnnzoo").replace(os.sep, "/")
            groups = test_groups(root, name, args.tests)
            if not any(tests for tests, _ in groups):
                # with no test files pytest would run the whole suite, time out, and score
                # every mutant as killed: a module without mapped tests is not measured
                print(f"{module}: skipped: no test files mapped to it (add it to TESTS or "
                      f"CELLS in {os.path.relpath(__file__)})")
                continue
            path = os.path.join(root, module)
            with open(path) as f:
                original = f.read()
            found = sites(original)
            candidates = range(len(found))
            if functions:
                spans = function_spans(original, functions)
                if not spans:
                    print(f"{module}: skipped: it defines none of {sorted(functions)}")
                    continue
                candidates = [k for k, (line, _) in enumerate(found)
                              if any(a <= line <= b for a, b in spans)]
            picks = sorted(random.Random(f"{args.seed}:{name}").sample(
                candidates, min(args.per_module, len(candidates))))
            killed, survivors = 0, []
            try:
                for k in picks:
                    if time.time() - start > args.budget:
                        print(f"budget of {args.budget:.0f} s spent; stopping")
                        break
                    with open(path, "w") as f:
                        f.write(mutant(original, k))
                    outcome = run_tests(root, groups, args.timeout, args.k)
                    line, what = found[k]
                    if outcome == "passed":
                        src = original.splitlines()[line - 1].strip() if line else ""
                        survivors.append(f"  {module}:{line}  {what}   | {src}")
                    else:
                        killed += 1
            finally:
                with open(path, "w") as f:
                    f.write(original)
            n = killed + len(survivors)
            total_killed, total = total_killed + killed, total + n
            print(f"{module}: {len(found)} sites, {n} mutants run, {killed} killed "
                  f"({killed / max(n, 1):.0%}); tests: "
                  + "; ".join(" ".join(t) + (f" -k {k}" if k else "") for t, k in groups))
            print("\n".join(survivors) or "  no survivors")
    print(f"TOTAL: {total_killed}/{total} killed ({total_killed / max(total, 1):.0%}) in "
          f"{time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
