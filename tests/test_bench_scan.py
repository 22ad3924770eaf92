"""The scan benchmark's tables name cells that exist, its command lines (``python -m rnnzoo
bench --scan`` and the module's own) refuse bad input and keep what they measured, and the
committed run (figures/speed/scan.json) supports the choices the code makes from it (the
timings themselves are not tested: benchmarks assert no speed)."""
import json
import pathlib

import pytest

from rnnzoo.__main__ import main
from rnnzoo.benchmark import scan
from rnnzoo.core.scan import AUTO

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("table", sorted(scan.TABLES))
def test_every_table_times_every_cell_it_names(table):
    cells = scan.TABLES[table]
    best, gemm = scan.time_cells(cells, shape=(3, 2, 8), repeat=1, clock="cpu")
    assert set(best) == set(gemm) == set(cells)
    assert all(t > 0 for t in best.values())


def test_a_bad_repeat_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        scan.main(["--memories", "--repeat", "0"])
    assert exit_info.value.code == 2
    assert "--repeat must be >= 1; got 0" in capsys.readouterr().err


def test_the_scaling_table_doubles_each_size_alone():
    best = scan.time_scaling(base={"T": 3, "B": 2, "heads": 2, "d": 2}, repeat=1)
    assert set(best) == {(c, w) for c in scan.SCALING_CELLS
                         for w in ("base", "T", "B", "heads", "d")}


# ------------------------------------------------------------------ the committed run
SCAN = json.loads((ROOT / "figures" / "speed" / "scan.json").read_text())["tables"]


def test_the_committed_forms_table_supports_autos_choice_on_numpy():
    """core/scan.py's AUTO picks the loop on NumPy because it wins at every T and dtype."""
    assert AUTO["numpy"] == "loop"
    slower = [(dtype, T, form) for dtype, by_T in SCAN["forms"]["ms"].items()
              for T, ms in by_T.items() for form in ms if ms[form] < ms["loop"]]
    assert not slower, f"the loop is not the fastest form in figures/speed/scan.md: {slower}"
    assert {(d, int(T)) for d, by_T in SCAN["forms"]["ms"].items() for T in by_T} == {
        (d, T) for d in ("float32", "float64") for T in scan.SCAN_T}


def test_the_committed_revival_table_supports_s4ds_default_mode():
    """s4d.py: the convolution mode (the default) is several times faster than the
    recurrent one."""
    ms = SCAN["revival"]["ms"]
    assert ms["s4d (recurrent)"] >= 3 * ms["s4d"], ms


# ------------------------------------------------------------------ bench --scan
@pytest.fixture
def tiny(monkeypatch):
    """The cells' tables at T, B, H = 3, 2, 8, best of 1: the command's logic, fast."""
    real = scan.time_cells
    monkeypatch.setattr(scan, "time_cells",
                        lambda cells, repeat, clock: real(cells, shape=(3, 2, 8), repeat=1,
                                                          clock=clock))


def test_bench_scan_writes_the_tables_it_measured_and_keeps_the_others(tmp_path, tiny,
                                                                      capsys):
    assert main(["bench", "--scan", "dynamics", "--out", str(tmp_path)]) == 0
    first = json.loads((tmp_path / "scan.json").read_text())["tables"]
    assert list(first) == ["dynamics"] and set(first["dynamics"]["ms"]) == set(scan.DYNAMICS)
    assert main(["bench", "--scan", "cells", "--out", str(tmp_path)]) == 0
    both = json.loads((tmp_path / "scan.json").read_text())["tables"]
    assert list(both) == ["cells", "dynamics"]             # the report's order
    assert both["dynamics"] == first["dynamics"]             # kept, not re-measured
    md = (tmp_path / "scan.md").read_text()
    assert md == scan.report(both) and "## cells" in md and "## dynamics" in md
    assert "| lmu |" in md and "| minlstm |" in md
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["--scan", "nope"], "--scan: unknown table(s) ['nope']; available: forms, cells"),
    (["--scan", "--cells", "lstm"], "it does not take --cells"),
    (["--scan", "cells", "--dtype", "float64", "--threads", "2"],
     "it does not take --threads, --dtype"),
    (["--scan", "cells", "--backend", "cupy"], "it does not take --backend"),
    (["--scan", "cells", "--pairs", "3"], "it does not take --pairs"),    # its default, typed
])
def test_bench_scan_refuses_what_it_would_ignore(argv, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", *argv, "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_bench_scan_refuses_a_foreign_scan_json_before_measuring(tmp_path, capsys,
                                                                 monkeypatch):
    (tmp_path / "scan.json").write_text('{"rows": []}')
    monkeypatch.setattr(scan, "measure", lambda *a: pytest.fail("measured anyway"))
    with pytest.raises(SystemExit):
        main(["bench", "--scan", "cells", "--out", str(tmp_path)])
    assert "is not a scan.json this command wrote (KeyError" in capsys.readouterr().err


@pytest.mark.parametrize("tables", ['[1]', '"cells"', '{"cells": [1]}'])
def test_bench_scan_refuses_tables_it_could_not_merge_into_before_measuring(
        tables, tmp_path, capsys, monkeypatch):
    """A "tables" that is not {table: {...}} passed report() (which reads only the names it
    knows) and failed in the merge after measuring, losing the rows."""
    (tmp_path / "scan.json").write_text('{"tables": %s}' % tables)
    monkeypatch.setattr(scan, "measure", lambda *a: pytest.fail("measured anyway"))
    with pytest.raises(SystemExit):
        main(["bench", "--scan", "cells", "--out", str(tmp_path)])
    assert ('is not a scan.json this command wrote (TypeError: "tables" must map each '
            'table to its numbers') in capsys.readouterr().err


def test_bench_scan_keeps_a_measurement_it_cannot_write(tmp_path, tiny, monkeypatch, capsys):
    from rnnzoo.cli import bench

    def fail(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(bench.Path, "write_text", fail)
    assert main(["bench", "--scan", "dynamics", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "could not write scan.md, scan.json" in err and "No space left" in err
    kept = err.split("its rows are in ")[1].strip()
    assert set(json.loads(pathlib.Path(kept).read_text())["tables"]) == {"dynamics"}
    pathlib.Path(kept).unlink()
