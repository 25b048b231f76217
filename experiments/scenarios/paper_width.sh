#!/bin/sh
# fig2a-repro at the paper's size (d = 30, n = 100, width 500) through `sharpgen train` with the fused sim_bn
# engine (docs/scenarios.md). Written as fig2a + the fig2a-repro changes (init_gamma 0.5, 2000 test points,
# phase-2 rho 0.55), so it runs on any sharpgen that has the init_gamma field.
#   paper_width.sh OUT "PHASES" SEED...
root=$1; phases=$2; shift 2
for s in "$@"; do
    out="$root/s$s"
    if grep -q '"status": "done"' "$out/summary.json" 2>/dev/null; then continue; fi
    nice -n 10 sharpgen train --preset fig2a --init-gamma 0.5 --n-test 2000 --phases "$phases" --seed "$s" \
        --no-theory --progress off --out "$out" 2>&1 | tail -1
done
