#!/usr/bin/env bash
# The GPU check, one script: minigrad's CuPy kernels and training steps against the CPU, the op
# registry on the GPU, then the GPU benchmarks against PyTorch CUDA.  Needs CuPy, Numba and
# PyTorch (CUDA); run from the repository root.  Results land in $OUT (default gpu-results/).
set -u
OUT=${OUT:-gpu-results}
mkdir -p "$OUT"
export PYTHONPATH=$PWD PYTHONUNBUFFERED=1
python3 - <<'PY' 2>&1 | tee "$OUT/env.txt"
import cupy, numba, numpy, torch, minigrad
print("cupy", cupy.__version__, "numba", numba.__version__, "numpy", numpy.__version__, "torch", torch.__version__)
print("gpu", cupy.cuda.runtime.getDeviceProperties(0)["name"].decode(), "minigrad sees cuda:", minigrad.cuda.is_available())
PY
echo "== GPU kernels and training steps (tests/test_gpu.py) =="
timeout "${T_GPU:-200}" python3 -m pytest -q -p no:cacheprovider tests/test_gpu.py ${GPU_EXTRA_TESTS:-} 2>&1 | tee "$OUT/test_gpu.txt" | tail -15
echo "== benchmarks on cuda =="
timeout "${T_BENCH:-240}" python3 -m benchmarks --device cuda --repeats 10 --rounds 1 --json "$OUT/bench_cuda.json" ${BENCH_NAMES:-} \
    2>&1 | tee "$OUT/bench_cuda.txt" | tail -25
echo "== the op registry on cuda (tests/test_ops.py, quick profile) =="
MINIGRAD_TEST_DEVICE=cuda HYPOTHESIS_PROFILE=quick timeout "${T_OPS:-240}" python3 -m pytest -q -p no:cacheprovider \
    tests/test_ops.py 2>&1 | tee "$OUT/test_ops_cuda.txt" | tail -15
