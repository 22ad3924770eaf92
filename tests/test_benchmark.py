"""Smoke test of the benchmark script at tiny sizes (it is a script, not a timed test)."""
import rnnzoo
from rnnzoo import benchmark


def test_benchmark_times_every_registered_cell():
    rows = benchmark.benchmark(T=3, B=2, D=4, H=5, repeat=1, compare_torch=False)
    assert [r["cell"] for r in rows] == rnnzoo.available()
    for r in rows:
        assert r["rnnzoo_ms"] > 0 and r["torch_ms"] is None and r["ratio"] is None


def test_benchmark_script_prints_a_table(capsys):
    rows = benchmark.main(["--T", "3", "--B", "2", "--D", "4", "--H", "5", "--repeat", "1",
                           "--cells", "gru,lstm", "--dtype", "float64"])
    out = capsys.readouterr().out
    assert "rnnzoo/torch" in out and "gru" in out and "lstm" in out
    assert [r["cell"] for r in rows] == ["gru", "lstm"]
    assert all(r["dtype"] == "float64" for r in rows)
    try:
        import torch  # noqa: F401
    except ImportError:
        return
    assert all(r["torch_ms"] > 0 and r["ratio"] > 0 for r in rows)
