#!/usr/bin/env bash
# On a machine with an NVIDIA GPU, CuPy and (optionally) PyTorch CUDA: the `gpu` tests, `minidl bench` on
# every backend, the CPU/GPU parity check and where a GPU step's time goes. Results go to $OUT (default
# gpu-results/):
#     bash benchmarks/gpu_checks.sh [pytest args...]      (BENCH_ARGS="--rounds 5": more for minidl bench)
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-gpu-results}"
mkdir -p "$OUT"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" MPLBACKEND=Agg PYTHONUNBUFFERED=1
py="${PYTHON:-python3}"

{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  $py -c "import sys, numpy, cupy; print('python', sys.version.split()[0], 'numpy', numpy.__version__, 'cupy', cupy.__version__)"
  $py -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"
  nproc; } 2>&1 | tee "$OUT/env.txt"

echo "== pytest -m gpu"
timeout "${TEST_SECONDS:-330}" $py -m pytest -m gpu -q -p no:cacheprovider "$@" 2>&1 | tee "$OUT/gpu_tests.log" | tail -60

echo "== minidl bench"
timeout "${BENCH_SECONDS:-240}" $py -m minidl bench --batch-sizes ${BATCHES:-64 256 1024 4096} ${BENCH_ARGS:-} --out "$OUT/bench" 2>&1 | tail -40

echo "== minidl parity"
for model in lenet mlp; do timeout 60 $py -m minidl parity --model "$model"; done 2>&1 | tee "$OUT/parity.txt"

echo "== profiles"
{ timeout 60 $py benchmarks/profile_step.py --model lenet --batch 256 --device cuda --steps 200
  timeout 60 $py benchmarks/profile_step.py --model mlp --batch 4096 --device cuda --steps 200; } 2>&1 | tee "$OUT/profile.txt"
