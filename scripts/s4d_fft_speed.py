"""What S4D's convolution mode gains from a 7-smooth FFT length.

The convolution mode zero-pads its FFTs to ``rnnzoo.cells.s4d.fft_length(T)``: the
smallest n >= 2T with no prime factor above 7. Padding to exactly 2T gives the same
result to round-off, but where 2T has a large prime factor (T = 1009: 2 x 1009) the FFT
of that length is several times slower. For each T this times one forward + backward of
an s4d cell (H = D = 64, 8 complex modes, B = 8, float32, one BLAS thread; best of
``--repeats``) with F = 2T and with fft_length(T), in one run, and prints the ratio:

    PYTHONPATH=$PWD python scripts/s4d_fft_speed.py --T 1000 1009 1013 2039
"""
from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

import rnnzoo
import rnnzoo.cells.s4d as s4d


def best_time(cell, x, repeats):
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        hs, _, cache = cell.forward(x)
        cell.backward(np.ones_like(hs), cache)
        best = min(best, time.perf_counter() - start)
    return best


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--T", type=int, nargs="+", default=[1000, 1009, 1013, 2039])
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    if any(T < 1 for T in args.T) or args.repeats < 1:
        p.error(f"--T and --repeats take positive integers; got --T {args.T} "
                f"--repeats {args.repeats}")
    smooth = s4d.fft_length
    print("| T | 2T | ms at 2T | fft_length | ms | 2T / fft_length |\n|---|---|---|---|---|---|")
    with threadpool_limits(1):
        for T in args.T:
            x = np.random.default_rng(0).standard_normal((T, 8, 64)).astype(np.float32)
            times = {}
            for name, length in (("2T", lambda T: 2 * T), ("smooth", smooth)):
                s4d.fft_length = length                 # what both passes of the mode read
                try:
                    cell = rnnzoo.make("s4d", 64, 64, state_size=8, seed=0, dtype=np.float32)
                    times[name] = best_time(cell, x, args.repeats)
                finally:
                    s4d.fft_length = smooth
            print(f"| {T} | {2 * T} | {1e3 * times['2T']:.1f} | {smooth(T)} | "
                  f"{1e3 * times['smooth']:.1f} | {times['2T'] / times['smooth']:.2f} |")


if __name__ == "__main__":
    main()
