"""Prop A.2 (Appendix A.3.2): on the unit circle, a flattest width-n `bias` net with small error.

The statement: labels y = f(x) depending only on x[1:2], L-Lipschitz, x[1:2] uniform on the unit
circle, ||x|| = R; for δ in (0, 1/20) and n = Ω(log(1/δ)/δ), with probability 1 − δ some flattest
width-n interpolator has generalization error O(δ²). The proof's witness, eq. (17), sorts the
points v_j by angle, takes z_j the midpoint of the arc v_{j−1} v_j and w_j the unit normal of the
chord z_j z_{j+1}, and sets W1_j = r w_j / (w_j·z_j), b1_j = r (−w_j·v_j + w_j·z_j) / (w_j·z_j),
W2_j = y_j / r with r² = |y_j| sqrt(R² + 1).

Checked here (float64; d = 2, R = 1, labels y = x[1] + 1/2, which is 1-Lipschitz and takes both
signs; points uniform on the circle from seeds ``profile.seed`` + 31 onward):

* **as printed**, (17) must interpolate: max |f(v_i) − y_i| is reported with the number of neurons
  that fire at each training point (the proof's f(x) = y_1 w_1·(v − v_1 + z_1)/(w_1·z_1) on arc
  z_1 z_2 takes only neuron 1 to fire there);
* **the reading under which it does**, each neuron zero on its chord and r at its own point
  (W1_j = r w_j / (w_j·(v_j − z_j)), b1_j = −r w_j·z_j / (w_j·(v_j − z_j))): one neuron fires per
  point, Tr equals the minimum F3 = (4/n) Σ ||x_i'|| |y_i| to ``REL`` (flattest), and its population
  mean squared error on the circle (``GRID`` angles) at n = 16, 64, 256 is compared with the
  statement's O(δ²): with δ about log(n)/n it should fall about tenfold per fourfold n.

Neither reading supports the conclusion, so the entry is "not reproduced" (no flattest witness with
error O(δ²) was found) with an erratum on the proof; the statement itself is not contradicted,
since no argument here rules out every flattest net (docs/conventions.md, Prop A.2).
"""
from __future__ import annotations

import math

import torch

from sharpgen.numerics.nets.params import from_params
from sharpgen.numerics.nets.sharpness import trace_hessian
from sharpgen.verify.ledger.outcome import ERROR, Erratum, Outcome

SIZES = (16, 64, 256)
GRID = 20000
REL = 1e-9
SEED_OFFSET = 31


def circle_points(n: int, seed: int) -> torch.Tensor:
    """n points uniform on the unit circle, sorted by angle, float64 (n, 2)."""
    angle = torch.sort(2 * math.pi * torch.rand(n, generator=torch.Generator().manual_seed(seed),
                                                dtype=torch.float64)).values
    return torch.stack([angle.cos(), angle.sin()], dim=1)


def labels(V: torch.Tensor) -> torch.Tensor:
    """y = x[1] + 1/2: 1-Lipschitz, both signs on the circle."""
    return V[:, 0] + 0.5


def construction(V: torch.Tensor, y: torch.Tensor, *, printed: bool) -> dict:
    """Eq. (17)'s parameters (R = 1) as printed, or under the chord reading (module docstring), for
    points V sorted by angle (``circle_points``)."""
    angle = torch.remainder(torch.atan2(V[:, 1], V[:, 0]), 2 * math.pi)  # V sorted by angle in [0, 2π)
    previous = torch.roll(angle, 1)
    previous[0] -= 2 * math.pi
    mid = (previous + angle) / 2
    Z = torch.stack([mid.cos(), mid.sin()], dim=1)
    chord = torch.roll(Z, -1, dims=0) - Z
    W = torch.stack([chord[:, 1], -chord[:, 0]], dim=1)
    W = W / W.norm(dim=1, keepdim=True)
    W = W * torch.sign((W * V).sum(1))[:, None]  # the normal pointing to v_j's side of its chord
    r = (y.abs() * math.sqrt(2)).sqrt()
    wz, wv = (W * Z).sum(1), (W * V).sum(1)
    scale = wz if printed else wv - wz
    b1 = r * (wz - wv) / wz if printed else -r * wz / scale
    return {"W1": r[:, None] * W / scale[:, None], "b1": b1, "W2": y / r}


def _measure(n: int, seed: int, printed: bool) -> dict:
    V = circle_points(n, seed)
    y = labels(V)
    net = from_params("bias", construction(V, y, printed=printed))
    grid = torch.linspace(0, 2 * math.pi, GRID + 1, dtype=torch.float64)[:-1]
    P = torch.stack([grid.cos(), grid.sin()], dim=1)
    with torch.no_grad():
        residual = float((net(V) - y).abs().max())
        firing = (V @ net.W1.T + net.b1 > 0).sum(1)
        mse = float(((net(P) - labels(P)) ** 2).mean())
    f3 = float(4 / n * (math.sqrt(2) * y.abs()).sum())
    return {"n": n, "residual": residual, "firing_max": int(firing.max()), "firing_min": int(firing.min()),
            "trace": float(trace_hessian(net, V, y)), "F3": f3, "population_mse": mse}


def check_prop_a_2(profile) -> Outcome:
    """Prop A.2 (module docstring): the printed witness and its interpolating reading."""
    seed = profile.seed + SEED_OFFSET
    printed = _measure(SIZES[0], seed, printed=True)
    chord = [_measure(n, seed + k, printed=False) for k, n in enumerate(SIZES)]
    flattest = all(m["residual"] <= 1e-9 and abs(m["trace"] - m["F3"]) <= REL * m["F3"] for m in chord)
    mse = [m["population_mse"] for m in chord]
    erratum = Erratum(
        "Prop A.2 (eq. 17)", "eq. (17) interpolates, is flattest, and errs by O(δ²) on the circle",
        f"as printed it does not interpolate (n = {printed['n']}: max |f(v_i) − y_i| = {printed['residual']:.3g}, "
        f"{printed['firing_min']}-{printed['firing_max']} neurons fire at each point); the reading zero on each "
        f"chord interpolates at Tr = F3 but its population MSE is {', '.join(f'{v:.3g}' for v in mse)} at "
        f"n = {', '.join(map(str, SIZES))}", kind=ERROR, where="proof",
        quote="W1,j = r[wj, ..., 0]/wj⊤zj, b1[j] = r(−wj⊤vj + wj⊤zj)/wj⊤zj, W2[j] = yj/r",
        reading="as printed, and the reading under which each neuron fires at its own point only (zero on "
                "the chord z_j z_{j+1}, r at v_j), the only one that interpolates",
        convention="none (relu'(0) plays no part: no training point lies on a chord)",
        printed_value=f"max residual {printed['residual']:.3g}",
        other_value=f"population MSE {mse[-1]:.3g} at n = {SIZES[-1]} (label variance 1/2)")
    falls = all(b <= a / 10 for a, b in zip(mse, mse[1:]))
    detail = (f"as printed: max |f(v_i) − y_i| = {printed['residual']:.3g} at n = {printed['n']} "
              f"({printed['firing_min']}-{printed['firing_max']} neurons fire per point); chord reading: "
              f"flattest (Tr = F3) {'on every n' if flattest else 'NOT on every n'}, population MSE "
              + ", ".join(f"n={m['n']}: {m['population_mse']:.3g}" for m in chord)
              + f" ({'falls' if falls else 'does not fall'} tenfold per fourfold n, as O(δ²) would)")
    return Outcome(flattest and falls, detail, mse[-1], "population MSE of the interpolating reading at the "
                   "largest n", {"printed": printed, "chord_reading": chord}, errata=[erratum],
                   expected=False, reason="no flattest witness with error O(δ²): the printed construction does "
                                          "not interpolate and the reading that does errs by a constant")
