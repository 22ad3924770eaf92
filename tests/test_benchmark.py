"""Smoke test of the benchmark script at tiny sizes (it is a script, not a timed test)."""
import rnnzoo
from rnnzoo import benchmark


def test_benchmark_times_every_registered_cell():
    rows = benchmark.benchmark(T=3, B=2, D=4, H=5, repeat=1, compare_torch=False)
    assert [r["cell"] for r in rows] == rnnzoo.available()
    for r in rows:
        assert r["rnnzoo_ms"] > 0 and r["torch_ms"] is None and r["ratio"] is None


def test_benchmark_script_prints_a_table(capsys):
    from rnnzoo.__main__ import main
    status = main(["bench", "--T", "3", "--B", "2", "--D", "4", "--H", "5", "--repeat", "1",
                   "--cells", "gru,lstm", "--dtype", "float64"])
    assert status == 0
    out = capsys.readouterr().out
    assert "rnnzoo/torch" in out and "float64" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("gru", "lstm"))]
    assert [r[0] for r in rows] == ["gru", "lstm"]
    assert all(float(r[1]) > 0 for r in rows)
    try:
        import torch  # noqa: F401
    except ImportError:
        return
    assert all(float(r[2]) > 0 and float(r[3].rstrip("x")) > 0 for r in rows)
