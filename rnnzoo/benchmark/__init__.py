"""Speed, measured fairly: ``python -m rnnzoo bench``.

    python -m rnnzoo bench                        # every cell, the 3 standard shapes
    python -m rnnzoo bench --cells lstm,gru --pairs 5 --shapes 100/64/256
    python -m rnnzoo bench --scaling              # cost against T and against H
    python -m rnnzoo bench --backend cupy         # on the GPU, against cuDNN (:mod:`.gpu`)
    python -m rnnzoo bench --scan                 # the linear scan's forms and the revival
                                                  # cells against gru (:mod:`.scan`)

Every measurement (one cell, one shape, forward + backward or forward only, one library)
runs in its own fresh Python process (:mod:`.worker`), best of ``--repeat`` after a
warm-up. For ``rnn``, ``lstm`` and ``gru`` the same measurement of ``torch.nn.RNN/LSTM/GRU``
on the CPU (same weights, torch's default threads) follows at once when PyTorch is
installed, the two libraries alternating which goes first; ``--pairs`` such pairs are
made, as whole passes spread over the run, and the table gives the median ratio with its
[min–max]. Each rnnzoo run also times the cell's own matrix products alone
(:mod:`.gemms`), in turns with the cell in the same process: cell / GEMMs is how far the
cell is from the floor NumPy can approach, a number that needs no other library.

Outputs: the markdown tables (printed, and written to ``figures/speed/bench.md``), a bar
chart ``figures/speed/bench.png`` and the rows as ``figures/speed/bench.json``;
``--scaling`` writes ``figures/speed/bench_scaling.png``; ``--scan`` writes
``figures/speed/scan.md`` and ``scan.json`` (one process, one BLAS thread, the contenders
taking turns: its own method, described in :mod:`.scan`).
Timings move with the machine's load: compare ratios measured within one run.
"""
# The measurements live here; the command line that runs them and writes the files is
# rnnzoo.cli.bench (this docstring is its --help).
from .fair import SHAPES, fair_benchmark, torch_installed
from .report import bar_chart, markdown_table
from .timing import MODES, time_interleaved

__all__ = ["fair_benchmark", "markdown_table", "bar_chart", "time_interleaved", "SHAPES",
           "MODES", "torch_installed"]
