#!/bin/sh
# Evaluation seeds (100-102, never used in tuning) of the frozen fig2a-repro preset, through `sharpgen train`
# (docs/scenarios.md): the quick schedule as shipped (width 64, 500 + 1000 epochs).
# A finished run is skipped and an interrupted one resumed. Run from the repository root.
set -e
run() {  # run OUT ARGS...: one sharpgen train run into OUT
    out=$1; shift
    if grep -q '"status": "done"' "$out/summary.json" 2>/dev/null; then return; fi
    if [ -f "$out/checkpoint.pt" ]; then set -- "$@" --resume; fi
    nice -n 10 sharpgen train "$@" --no-theory --progress off --out "$out"
}
root=${1:-runs/scenarios}
for s in 100 101 102; do
    run "$root/eval-fig2a-repro-quick/s$s" --preset fig2a-repro --quick --seed "$s"
done
