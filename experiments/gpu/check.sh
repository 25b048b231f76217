#!/usr/bin/env bash
# The GPU checks in one script, for a machine with a CUDA device and sharpgen installed
# (pip install -e '.[test,triton]'): the CUDA tests, the search on cuda against the CPU, and
# `sharpgen bench --device cuda` beside the CPU engine, every result under $OUT (default ./gpu-out).
# Written for the day a GPU is lent; not yet run (no device was lent to the tasks that wrote it).
set -euo pipefail
OUT=${OUT:-gpu-out}
mkdir -p "$OUT"
python - <<'PY' | tee "$OUT/device.txt"
import torch
print(torch.__version__, torch.version.cuda, torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no cuda")
PY
# CUDA paths: training on cuda equals the CPU, the search's device handling, the fallbacks
python -m pytest -q tests/numerics/test_fast_fallback.py tests/numerics/test_numerics_models.py -k "cuda or device" \
    2>&1 | tee "$OUT/pytest-cuda.txt"
python -m pytest -q tests/numerics/test_train.py tests/numerics/test_search.py -k "cuda or device" \
    2>&1 | tee -a "$OUT/pytest-cuda.txt"
# the search on cuda against the same search on the CPU (same starts: drawn on the CPU and moved)
python - <<'PY' 2>&1 | tee "$OUT/search-cuda.txt"
import time, torch
from sharpgen.numerics.nets import xor_dataset
from sharpgen.numerics.search import Problem, Schedule, flattest
data = xor_dataset(8, 40, seed=11)
for device in ("cpu", "cuda"):
    start = time.perf_counter()
    res = flattest(Problem("bias", data.X, data.Y, width=64, device=device), starts=64, schedule=Schedule(iterations=200))
    print(device, res.best_trace, res.spread(), f"{time.perf_counter() - start:.1f} s")
PY
sharpgen bench --device cuda --json > "$OUT/bench-cuda.json"
sharpgen bench --device cpu --cases nobias,bias,sim_ln --json > "$OUT/bench-cpu.json"
echo "done: $OUT"
