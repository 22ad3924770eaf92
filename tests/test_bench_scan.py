"""The scan benchmark's tables name cells that exist, and its command line refuses a bad
--repeat (the timings themselves are not tested: benchmarks assert no speed)."""
import pytest

from rnnzoo.benchmark import scan


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
