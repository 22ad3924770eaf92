"""The numbers README's zoo rows quote from the figures' runs are read back here from
figures/claims.json, and their speeds from figures/speed/scan.json (the book's zoo page
has the same rows: tests/test_book.py). When a
figures run moves them (another CPU, a changed budget), this fails and names the row and
the text it now supports, instead of the README going on quoting the old run."""
from __future__ import annotations

import json
import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CLAIMS = json.loads((ROOT / "figures" / "claims.json").read_text())
README = (ROOT / "README.md").read_text()
SOLVED, OFF_PLATEAU = 0.692, 0.484      # associative retrieval's criterion and plateau + 0.1


def entry(figure, starts):
    """The one claim (or measurement) of ``figure`` whose statement starts with ``starts``."""
    found = [c for c in CLAIMS[figure] if c["statement"].startswith(starts)]
    assert len(found) == 1, f"{figure}: {len(found)} statements start with {starts!r}"
    return found[0]


def rerun(figure, starts):
    return entry(figure, starts)["robustness"]["numbers"]


def per_seed(values, digits=2):
    return ", ".join(f"{v:.{digits}f}" for v in values)


def span(values, fmt=".2f"):
    return f"{format(min(values), fmt)}–{format(max(values), fmt)}"


def row(cell):
    lines = [line for line in README.splitlines() if line.startswith(f"| {cell} |")]
    assert len(lines) == 1, f"README has {len(lines)} rows for {cell!r}"
    return lines[0]


def sci(value):
    """1 significant digit as the rows write it: 3.57e-15 -> 4e-15, 2.26e-06 -> 2e-6."""
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def orthogonal():
    claim = entry("structural_learning_curves", "adding, T = 100: the 2-layer indrnn gets "
                  "below half the baseline before the orthogonal")
    first, again = claim["numbers"], claim["robustness"]["numbers"]
    key, orth, ind = "below_half_baseline_at", "orthogonal (exp)", "indrnn (2 layers)"
    assert all(s is None for s in first[orth][key]) and None not in first[ind][key], first
    assert all(o > i for o, i in zip(again[orth][key], again[ind][key])), again
    steps = again[orth][key]
    return ["it does not get below half the baseline within the budget in any seed, where "
            "the IndRNN does in every seed",
            f"it gets there too, after the IndRNN: by steps {min(steps):,}–{max(steps):,})"]


def eurnn():
    solved = entry("unitary_copy_task", "copy, T = 50: seeds that end solved")["numbers"]
    acc = entry("unitary_copy_task", "copy, T = 50: eurnn")["numbers"][
        "eurnn (tunable, L = 2)"]["final recall accuracy"]
    eu = solved["eurnn (tunable, L = 2)"]
    count = "none" if eu == 0 else str(eu)
    return [f"in {count} of 3 seeds ({span(acc, '.3g')}), the uRNN in {solved['urnn']} of 3"]


def fast_weights():
    """One unsolved seed in each block, and it sits on the plateau."""
    claim = entry("fast_memory_retrieval", "fast weights solve it")
    blocks = [(claim["robustness"]["first_seeds"], claim["numbers"]["fast weights"]),
              (claim["robustness"]["seeds"], claim["robustness"]["numbers"]["fast weights"])]
    stuck = []
    for seeds, numbers in blocks:
        acc = numbers["final accuracy"]
        unsolved = [(s, a) for s, a in zip(seeds, acc) if a < SOLVED]
        assert len(unsolved) == 1 and unsolved[0][1] < OFF_PLATEAU, (
            f"the fast-weights row says one seed a block ends on the plateau: {seeds} {acc}")
        stuck.append(unsolved[0][0])
    return ["in 2 of 3 seeds, on seeds 0–2 and on seeds 10–12: seeds "
            f"{stuck[0]} and {stuck[1]} end the budget on the plateau"]


def mlstm():
    label, key = "lstm (forget bias 1)", "final query accuracy"
    claim = entry("memories_mqar", "within this budget the lstm")
    return [f"the lstm under the same budget ends at {span(claim['numbers'][label][key])}",
            f"({span(claim['robustness']['numbers'][label][key])} at 4x the steps on seeds "
            "10–12)"]


def mqar_steps():
    """mLSTM's "by step N, as deltanet does (gated_deltanet by step M)"."""
    solved = entry("memories_mqar", "the step at which each seed met")["numbers"]
    by = {cell: max(solved[cell]) for cell in ("mlstm", "deltanet", "gated_deltanet")}
    assert by["deltanet"] <= by["mlstm"] < by["gated_deltanet"], by
    return [f"in every seed by step {by['mlstm']}, as deltanet does (gated_deltanet by step "
            f"{by['gated_deltanet']})"]


def lru():
    claim = entry("linear_selective_copy", "the gru and the lstm, whose gates read")
    assert claim["passed"] and claim["robustness"]["passed"]
    assert claim["robustness"]["seeds"] == [10, 11, 12]
    factor = claim["robustness"]["budget_factor"]
    return ["the gru and the lstm beside it solve the task (99%) in every seed, "
            + ("also on seeds 10–12" if factor == 1 else f"also at {factor}x the steps on "
               "seeds 10–12")]


def s6():
    final = entry("state_space_selective_copy", "every seed of s6 + conv ends above")[
        "numbers"]["s6 + conv"]
    solved = entry("state_space_selective_copy", "the step at which each seed met")[
        "numbers"]["s6 + conv"]
    assert None not in solved, solved
    return [f"(recall {span(final, '.3g')} at the end; every seed met the 99% criterion during "
            f"training, by steps {min(solved)}–{max(solved)})"]


def s4d():
    claim = entry("state_space_blocks", "in GLU blocks, s4d and lru each end above every seed")
    assert claim["passed"] and claim["robustness"]["passed"]
    again = claim["robustness"]
    assert again["seeds"] == [10, 11, 12]
    solved = again["numbers"]["solved_at"]
    assert all(None not in steps for steps in solved.values()), solved
    return ["the same s4d and lru end above every bare seed, and at "
            f"{again['budget_factor']}x the steps on seeds 10–12 every seed reaches the 99% "
            "recall criterion (`state_space_blocks.png`)"]


def slstm():
    overflow = entry("memories_stabilizer", "without the stabilizer")["numbers"]["overflow_step"]
    largest = entry("memories_stabilizer", "with the stabilizer")["numbers"]["largest_m"]
    gap = entry("memories_stabilizer", "where the plain run is finite")["numbers"]["gap"]
    assert gap < 1e-16, gap
    return [f"overflows at step {overflow} of 400", f"the largest m_t ≈ {largest:,.0f}",
            "equals it to 1e-16 before"]


def unicornn():
    numbers = entry("dynamics_unicornn_memory", "float64: the reconstructed")["numbers"]
    f32 = entry("dynamics_unicornn_memory", "float32: what walking")["numbers"]["T = 1000"]
    peak = entry("dynamics_unicornn_memory", "the reconstruct cache keeps")["numbers"][
        "peak_MiB"]
    return ode_cell("unicornn") + [
        f"{kept('unicornn', True)} of the gradient reaches step 1",
        f"equal to {sci(numbers['T = 1000'])} in float64 at T = 1,000",
        f"in float32 reconstruction adds {sci(f32['f32 reconstruct vs store'])} (T = 1,000)",
        f"to {unicornn_at_10000()} (T = 10,000) relative",
        f"peak memory {peak[0]:.0f} vs {peak[1]:.0f} MiB"]


def unicornn_at_10000():
    """What walking back adds at T = 10,000 (float32 reconstruct vs store), from the table
    scripts/unicornn_memory.py recorded (the figure stops at T = 1,000), as the row
    writes it: 2.5e-05 -> 2.5e-5."""
    table = (ROOT / "figures" / "speed" / "unicornn_memory.md").read_text()
    cells = next(line for line in table.splitlines() if line.startswith("| 10000 |"))
    mantissa, exponent = cells.split("|")[4].strip().split("e")
    return f"{mantissa}e{int(exponent)}"


def lmu_window():
    error = entry("dynamics_lmu_window", "θ = 100: the window decoded")["numbers"]["d = 12"]
    return [f"with θ = 100, d = 12 a smooth window is read back to {error:.1e}".replace(
        "e-03", "e-3")]


def deltanet():
    acc = entry("memories_parity", "at 4x the training length")["numbers"][
        "deltanet, β in (0, 2)"]
    return [f"keeps {span(acc, '.3g')} at 4x the length"]


DIGITS = "within this budget no seed of antisymmetric"
KEPT = "antisymmetric, lipschitz, cornn and unicornn keep"


def ode_cell(label):
    first = entry("dynamics_permuted_digits", DIGITS)["numbers"][label]
    return [f"{per_seed(first)}", f"({span(rerun('dynamics_permuted_digits', DIGITS)[label])})"]


def kept(label, as_span):
    fractions = entry("dynamics_gradient_norms", KEPT)["numbers"][label]
    return span(fractions) if as_span else f"{min(fractions):.2f}"


def lmu():
    acc = entry("dynamics_permuted_digits", "final test accuracy per seed")["numbers"]
    median = {k: sorted(v)[1] for k, v in acc.items()}
    assert max(median, key=median.get) == "lmu", median
    return [f"{per_seed(acc['lmu'])}, the best median of the seven cells (tanh rnn "
            f"{per_seed(acc['rnn (tanh)'])}; lstm {per_seed(acc['lstm (forget bias 1)'])})"]


def cornn():
    energy = entry("dynamics_gradient_norms", "coRNN's energy")["numbers"][
        "largest_E_over_bound_after_step_0"]["the authors' init"]
    radius = entry("dynamics_spectra", "smallest and largest")["numbers"]["cornn"]
    return ode_cell("cornn") + [
        f"Its gradient keeps {kept('cornn', True)} of its size over 1,000 steps",
        f"\\|λ\\| from {radius[0]:.2f} to {radius[1]:g}", f"E_t/bound up to {energy:.2f}"]


def skip_rnn():
    """The Skip RNN row: the every-step GRU solved in every seed, λ = 1e-4 below MSE 0.01
    in every seed (at most half the updates in one), on both seed blocks, and how many of
    its seeds the paper's criterion calls solved in each block."""
    gru = entry("skiprnn_budget", "gru (every step) ends solved")
    assert gru["passed"]
    claim = entry("skiprnn_budget", "skip gru, λ=0.0001 ends below MSE 0.01 in every seed")
    assert claim["passed"] and claim["robustness"]["passed"]
    assert claim["robustness"]["seeds"] == [10, 11, 12]
    counts = [sum(numbers["solved"]) for numbers in (claim["numbers"],
                                                     claim["robustness"]["numbers"])]
    words = ["none" if n == 0 else "every one" if n == 3 else {1: "one", 2: "two"}[n]
             for n in counts]
    return ["the every-step GRU ends solved in every seed",
            "λ = 1e-4 ends below MSE 0.01 in every seed, at least one seed with at most half "
            "the steps updated, also on seeds 10–12",
            f"solved only in some seeds: {words[0]} of seeds 0–2, {words[1]} of seeds 10–12"]


ROWS = {
    "orthogonal RNN": orthogonal,
    "Skip RNN": skip_rnn,
    "EURNN": eurnn,
    "Fast-Weights RNN": fast_weights,
    "mLSTM": lambda: mlstm() + mqar_steps(),
    "LRU": lru,
    "S4D": s4d,
    "S6 (Mamba's selective SSM)": s6,
    "sLSTM": slstm,
    "DeltaNet": deltanet,
    "AntisymmetricRNN": lambda: ode_cell("antisymmetric") + [
        f"{kept('antisymmetric', False)} of the gradient at the loss reaches step 1"],
    "Lipschitz RNN": lambda: ode_cell("lipschitz") + [
        f"{kept('lipschitz', False)} of the gradient reaches step 1"],
    "coRNN": cornn,
    "UnICORNN": unicornn,
    "LMU": lambda: lmu() + lmu_window(),
}


def check_row(cell, fragments, record):
    """Every fragment the record supports is in README's row for ``cell``; the row."""
    text = row(cell)
    missing = [fragment for fragment in fragments if fragment not in text]
    assert not missing, (f"README's {cell} row no longer quotes {record}; the record "
                         f"supports: {missing}")
    return text


@pytest.mark.parametrize("cell", ROWS)
def test_readme_row_quotes_the_recorded_numbers(cell):
    check_row(cell, ROWS[cell](), "figures/claims.json")


# ------------------------------------------------------------------ speed
# The speeds the rows quote come from one run of `python -m rnnzoo bench --scan`,
# recorded in figures/speed/scan.json (scan.md is its rendering).
SCAN = json.loads((ROOT / "figures" / "speed" / "scan.json").read_text())["tables"]


def faster_than(table, cell, than="gru", digits=1):
    ms = SCAN[table]["ms"]
    return f"{ms[than] / ms[cell]:.{digits}f}x"


def ms_vs_gru(cell):
    ms = SCAN["dynamics"]["ms"]
    return f"{ms[cell]:.0f} ms vs gru's {ms['gru']:.0f} ms"


def gemm_gflop():
    """The multiply-adds the minGRU row counts at the cells table's sizes (T, B, D, H):
    every matrix product runs forward, for dW and for dx (or dh), 2 flops a multiply-add.
    gru's three gates read x and h_{t-1}; mingru's two (z and h~) read x alone."""
    from rnnzoo.benchmark.scan import CELL_SHAPE
    T, B, H = CELL_SHAPE                               # D = H
    D = H
    gru = 3 * 2 * T * B * (D + H) * 3 * H
    mingru = 3 * 2 * T * B * D * 2 * H
    return f"{mingru / 1e9:.1f} of gru's {gru / 1e9:.1f} GFLOP for mingru"


SPEED_ROWS = {
    "minGRU, minLSTM": lambda: [f"mingru {faster_than('cells', 'mingru')} faster than our gru, "
                                f"minlstm {faster_than('cells', 'minlstm', 'lstm')} faster "
                                "than our lstm", gemm_gflop()],
    "sLSTM": lambda: [f"{faster_than('memories', 'slstm', digits=2)} gru's speed"],
    "AntisymmetricRNN": lambda: [f"{faster_than('dynamics', 'antisymmetric')} faster than gru"],
    "Lipschitz RNN": lambda: [f"{faster_than('dynamics', 'lipschitz')} faster than gru"],
    "coRNN": lambda: [f"{faster_than('dynamics', 'cornn')} faster than gru"],
    "UnICORNN": lambda: [ms_vs_gru("unicornn")],
    "LMU": lambda: [ms_vs_gru("lmu")],
}


@pytest.mark.parametrize("cell", SPEED_ROWS)
def test_readme_row_quotes_the_recorded_speed(cell):
    text = check_row(cell, SPEED_ROWS[cell](), "figures/speed/scan.json")
    assert "figures/speed/scan.md" in text, f"README's {cell} row does not name its record"


def test_the_committed_scan_md_is_the_rendering_of_scan_json():
    from rnnzoo.benchmark.scan import TABLE_ORDER, report
    assert list(SCAN) == [t for t in TABLE_ORDER if t in SCAN] and set(SCAN) == set(TABLE_ORDER)
    assert (ROOT / "figures" / "speed" / "scan.md").read_text() == report(SCAN)


# ------------------------------------------------------------------ bounds
# How far the step Jacobian's eigenvalues lie from the unit circle at initialization
# (figures/claims.json, dynamics_spectra): the rows type a bound ("within 1e-4 of the unit
# circle") or the measured distance to one digit ("on the unit circle to 4e-16").
CIRCLE = {"AntisymmetricRNN": "antisymmetric", "Lipschitz RNN": "lipschitz",
          "UnICORNN": "unicornn"}


@pytest.mark.parametrize("cell", CIRCLE)
def test_readme_row_bounds_the_recorded_distance_to_the_unit_circle(cell):
    import re
    distance = entry("dynamics_spectra", "at initialization every eigenvalue")["numbers"][
        CIRCLE[cell]]
    text = row(cell)
    bound = re.search(r"within (\S+) of the unit circle", text)
    if bound:          # a bound that holds, and not one ten times looser than it needs
        typed = float(bound.group(1))
        assert distance <= typed < 10 * distance, (
            f"README's {cell} row says within {typed:g} of the unit circle; the record "
            f"measures {distance:.3g}")
    else:
        assert f"on the unit circle to {sci(distance)}" in text, (
            f"README's {cell} row no longer quotes figures/claims.json; the record supports: "
            f"on the unit circle to {sci(distance)}")


RUNTIMES = json.loads((ROOT / "figures" / "speed" / "runtimes.json").read_text())


def test_the_notebook_times_the_book_quotes_are_the_recorded_ones():
    """"Under two minutes" and the longest notebook's time are read from the record
    scripts/readme_times.py wrote, which must hold every notebook."""
    record = RUNTIMES["notebooks"]
    seconds = record["seconds"]
    assert sorted(seconds) == sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert max(seconds.values()) < 120, "the book says every notebook runs in under two minutes"
    longest = max(seconds, key=seconds.get)
    index = (ROOT / "book" / "index.md").read_text()
    machine = record["machine"].split(",")[0]           # "2-core AMD EPYC, Python 3.x"
    quoted = f"the longest, {longest}, took {seconds[longest]:.0f} s on a {machine}"
    assert quoted in " ".join(index.split()), quoted
    for page in ("index.md", "install.md", "figures.md"):
        text = " ".join((ROOT / "book" / page).read_text().split())
        assert "under two minutes" in text and "figures/speed/runtimes.md" in text, page
    together = f"about {sum(seconds.values()) / 60:.0f} minutes together"   # the first build
    assert together in " ".join((ROOT / "book" / "install.md").read_text().split()), together


def test_the_instructors_grading_times_are_the_recorded_notebook_times():
    """The assignments table's "runs in (s)" column is each notebook's recorded time (it
    said "minutes" for notebooks that take 9 s)."""
    seconds = RUNTIMES["notebooks"]["seconds"]
    page = (ROOT / "book" / "instructors.md").read_text()
    rows = dict(re.findall(r"^\| `(\w+)` \|.*\| (\d+) \|$", page, re.MULTILINE))
    assert sorted(rows) == sorted(seconds)
    assert {k: int(v) for k, v in rows.items()} == {k: round(v) for k, v in seconds.items()}


@pytest.mark.parametrize("job", ["figures", "tests"])
def test_the_waits_readme_and_the_install_page_quote_are_the_recorded_ones(job):
    """README's (and the install page's) minutes for its two commands are those of the
    last timed run (scripts/readme_times.py: each command as README shows it, in a fresh
    clone, install included), which must have exited 0."""
    record = RUNTIMES[job]
    assert record["rc"] == 0, f"the recorded {job} run exited {record['rc']}"
    assert f"```bash\n{record['command']}\n```" in README, "README shows another command"
    minutes = round(record["seconds"] / 60)
    machine = record["machine"].split(",")[0]
    quoted = {"figures": f"took {minutes} minutes from a fresh clone, install included, on a "
                         f"{machine} doing nothing else: `figures/speed/runtimes.md`",
              "tests": f"the last run took {minutes} minutes from a fresh clone, install "
                       f"included: `figures/speed/runtimes.md`"}[job]
    for page in (README, (ROOT / "book" / "install.md").read_text()):
        assert quoted in " ".join(page.split()), quoted
