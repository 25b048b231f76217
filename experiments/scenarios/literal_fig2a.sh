#!/bin/sh
# fig2a as printed, phase 1 at the paper's size (width 500), 3 epochs, gamma_0 in {1, 0.7, 0.5}, seeds 0 and 1,
# through `sharpgen train` (docs/scenarios.md). gamma_0 = 1 is expected to stop with "training diverged".
# Then the literal quick preset with --init-gamma 0.5: phase 1 (300 epochs), then rho = 1 (100 epochs).
root=${1:-runs/scenarios}
for g in 1.0 0.7 0.5; do
    for s in 0 1; do
        nice -n 10 sharpgen train --preset fig2a --phases "0.005,0.1,1,0,3" --init-gamma "$g" --seed "$s" \
            --eval-every 1 --n-test 2000 --no-theory --progress off --out "$root/literal-phase1/g$g-s$s" 2>&1 | tail -1
    done
done
nice -n 10 sharpgen train --preset fig2a --quick --init-gamma 0.5 --seed 0 --n-test 2000 --no-theory --progress off \
    --out "$root/literal-quick-g0.5/s0" 2>&1 | tail -1
