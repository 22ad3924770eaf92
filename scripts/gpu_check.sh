#!/usr/bin/env bash
# The GPU checks of issue 14, in one call on a lent GPU machine (see the device tool):
# the CuPy test suite, then every cell timed on CuPy and rnn/lstm/gru against cuDNN.
# Logs and tables go to $OUT (default ./gpu_out). Run from the repository root:
#     bash scripts/gpu_check.sh
set -u
OUT=${OUT:-gpu_out}
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm --format=csv
python3 -c "import sys, numpy, cupy, torch; print(sys.version.split()[0], 'numpy', numpy.__version__, 'cupy', cupy.__version__, 'torch', torch.__version__, 'cuda', torch.cuda.is_available())"
echo "== CuPy tests"
timeout "${TEST_TIMEOUT:-240}" python3 -m pytest tests/test_cupy.py -q -p no:cacheprovider \
    -o addopts="" -n 8 -ra > "$OUT/cupy_tests.log" 2>&1
echo "pytest exit code $?"
grep -E "passed|failed|error" "$OUT/cupy_tests.log" | tail -40
echo "== lstm against cuDNN at T=100, B=64, H=512"
timeout 120 python3 -m rnnzoo bench --backend cupy --cells rnn,lstm,gru --shapes 100/64/512 \
    --modes fb f --repeat 20 --no-files 2>&1 | tail -9
echo "== every cell on CuPy"
timeout "${BENCH_TIMEOUT:-300}" python3 -m rnnzoo bench --backend cupy --modes fb --repeat 7 \
    --out "$OUT" > "$OUT/bench_gpu.log" 2>&1
echo "bench exit code $?"
tail -70 "$OUT/bench_gpu.log"
