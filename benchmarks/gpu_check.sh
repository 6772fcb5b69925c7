#!/usr/bin/env bash
# One lent GPU, one call (the `device` tool; never CI): the GPU paths' tests, then train_speed
# on PyTorch and JAX against cuDNN, and a profile of kseq's PyTorch B step. Needs keras, namex
# and optree wheels for the machine's Python in .whl/ (the machine has torch and jax, no keras).
#   run: bash benchmarks/gpu_check.sh   (outputs under $OUT, a short table last)
set -u
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 KERAS_HOME=/tmp/keras_home
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,memory.total \
    --format=csv | tee "$OUT/gpu.txt"
python3 -c "import torch, jax, keras; print('torch', torch.__version__, 'jax', jax.__version__, \
'keras', keras.__version__, jax.devices())" | tee -a "$OUT/gpu.txt"

TESTS="tests/layers/test_kernels.py tests/data/test_windows.py tests/layers/test_stacked_rnn.py"
# TF32 off, as the CPU computes float32 (docs/speed.md, 2026-11-22): the fused paths are
# compared with Keras's own at 1e-6.
KERAS_BACKEND=torch timeout 240 python3 -c "
import sys, torch, pytest
torch.backends.cudnn.allow_tf32 = False
torch.backends.cuda.matmul.allow_tf32 = False
sys.exit(pytest.main(['-q', '-p', 'no:cacheprovider'] + sys.argv[1:]))" $TESTS \
    > "$OUT/tests-torch.txt" 2>&1
echo "torch tests: $(tail -1 "$OUT/tests-torch.txt")"
JAX_DEFAULT_MATMUL_PRECISION=highest KERAS_BACKEND=jax timeout 240 \
    python3 -m pytest -q -p no:cacheprovider $TESTS > "$OUT/tests-jax.txt" 2>&1
echo "jax tests: $(tail -1 "$OUT/tests-jax.txt")"

SPEED="--repeats 3 --same-process --skip E --steps 300"
KERAS_BACKEND=torch timeout 300 python3 benchmarks/train_speed.py $SPEED \
    > "$OUT/speed-torch.txt" 2>&1
KERAS_BACKEND=jax timeout 300 python3 benchmarks/train_speed.py $SPEED \
    --steps-per-execution auto > "$OUT/speed-jax-auto.txt" 2>&1
KERAS_BACKEND=jax timeout 300 python3 benchmarks/train_speed.py $SPEED \
    --steps-per-execution 1 > "$OUT/speed-jax-1.txt" 2>&1
cp benchmarks/results/train_speed-*-gpu*.json "$OUT/" 2>/dev/null

# Where kseq's PyTorch B step spends host time (cProfile, 300 steps after warm-up).
KERAS_BACKEND=torch timeout 200 python3 -m cProfile -o /tmp/torch-b.prof \
    benchmarks/train_speed.py --one "B: kseq" --steps 300 > /dev/null 2>&1
# Only Keras's, kseq's and torch's training code: imports otherwise fill the top of the list.
python3 -c "
import pstats
stats = pstats.Stats('/tmp/torch-b.prof').sort_stats('cumtime')
stats.print_stats('keras/src/(backend/torch|trainers|layers/layer|optimizers|models)|kseq|'
                  'torch/(nn|optim|autograd)', 45)" > "$OUT/torch-b-steps.txt" 2>&1

KERAS_BACKEND=jax timeout 200 python3 benchmarks/train_speed.py $SPEED --skip A,E \
    --steps 600 --steps-per-execution 64 > "$OUT/speed-jax-64.txt" 2>&1

for f in speed-torch speed-jax-auto speed-jax-1 speed-jax-64; do
    echo "== $f"
    grep -E "^backend|^\| [AB] " "$OUT/$f.txt" || tail -5 "$OUT/$f.txt"
done
