"""Figure 3: a memorizing ``bias`` network on unit-circle data in 2-D (docs/paper.md §4 C1, Thm 4.1, Prop 4.1).

Two panels on the same training set (the run's own, ``data="circle"``):

- left, the exact construction C1 (``theory.constructions.memorizing``): neuron i
  fires only on a thin cap around training point x_i, so f = 0 on most of the circle;
- right, the trained 1-SAM ``bias`` net of the run directory.

Each panel shows the training points (filled: y = +1, open: y = −1), every
neuron's active region {x : W1_j x + b1_j > 0} inside the drawing box (green:
output weight > 0, purple: < 0), the region where no neuron fires (grey: there f = 0,
an error by docs/paper.md §1) and, on the circle, the arcs where f = 0 (thick black).
Regions are exact polygons: a half-plane clipped to the box, and the zero region
as the box clipped by every half-plane W1_j x + b1_j ≤ 0 (a convex polygon).

>>> import numpy as np
>>> clip_polygon(box_polygon(1.0), np.array([1.0, 0.0]), 0.0).tolist()   # x >= 0 inside [-1, 1]^2
[[0.0, -1.0], [1.0, -1.0], [1.0, 1.0], [0.0, 1.0]]
>>> zero_region(np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0.0, 0.0]), 1.0).tolist()  # x <= 0 and y <= 0
[[-1.0, -1.0], [0.0, -1.0], [0.0, 0.0], [-1.0, 0.0]]
"""
from __future__ import annotations

import math

import numpy as np
import sympy as sp
from matplotlib.collections import LineCollection
from matplotlib.patches import Polygon

from sharpgen.numerics.nets.params import from_params, model_to_params
from sharpgen.numerics.nets.sharpness import trace_hessian
from sharpgen.numerics.runs.train import make_dataset
from sharpgen.theory.constructions import memorizing
from sharpgen.verify.plots import style
from sharpgen.verify.plots.rundata import final, load_model, theory_minimum

BOX = 1.5          # half-width of the drawing box
ARC_SAMPLES = 2880  # angles at which f is evaluated on the unit circle


def box_polygon(half: float) -> np.ndarray:
    """The square [-half, half]^2, counter-clockwise."""
    return np.array([[-half, -half], [half, -half], [half, half], [-half, half]], dtype=float)


def clip_polygon(poly: np.ndarray, a: np.ndarray, c: float) -> np.ndarray:
    """The part of convex polygon ``poly`` where a·x + c ≥ 0 (one Sutherland–Hodgman step)."""
    out = []
    for k in range(len(poly)):
        p, q = poly[k], poly[(k + 1) % len(poly)]
        fp, fq = float(a @ p + c), float(a @ q + c)
        if fp >= 0:
            out.append(p)
        if (fp >= 0) != (fq >= 0):
            out.append(p + fp / (fp - fq) * (q - p))
    return np.array(out, dtype=float).reshape(-1, 2)


def active_region(w: np.ndarray, b: float, half: float = BOX) -> np.ndarray:
    """Where one neuron fires inside the box: {x : w·x + b ≥ 0} (its boundary has measure zero)."""
    return clip_polygon(box_polygon(half), np.asarray(w, dtype=float), float(b))


def zero_region(W1: np.ndarray, b1: np.ndarray, half: float = BOX) -> np.ndarray:
    """Where no neuron fires inside the box: the box clipped by every W1_j x + b1_j ≤ 0."""
    poly = box_polygon(half)
    for w, b in zip(np.asarray(W1, dtype=float), np.asarray(b1, dtype=float)):
        poly = clip_polygon(poly, -w, -b)
        if not len(poly):
            break
    return poly


def circle_arcs(W1, b1, samples: int = ARC_SAMPLES) -> tuple[np.ndarray, np.ndarray]:
    """Points of the unit circle and, at each, whether no neuron fires (f = 0 exactly)."""
    angle = np.linspace(0.0, 2 * math.pi, samples, endpoint=False)
    pts = np.stack([np.cos(angle), np.sin(angle)], axis=1)
    silent = (pts @ W1.T + b1 <= 0).all(axis=1)
    return pts, silent


def construction_params(X: np.ndarray, Y: np.ndarray) -> dict:
    """C1 (Thm 4.1) on the training set, exact then converted to float64 arrays."""


    exact = lambda v: sp.Rational(repr(float(v)))
    p = memorizing("bias", [[exact(v) for v in row] for row in X], [exact(v) for v in Y])
    to = lambda M: np.array([float(v) for v in M], dtype=float)
    return {"W1": to(p.W1).reshape(p.W1.shape), "b1": to(p.b1), "W2": to(p.W2)}


def _draw_regions(ax, W1, b1, W2) -> None:
    zero = zero_region(W1, b1)
    if len(zero):
        ax.add_patch(Polygon(zero, closed=True, facecolor=style.ZERO_REGION_COLOUR, edgecolor="#888888",
                             linewidth=0, alpha=0.6, hatch="////", gid="zero_region"))
    regions = [(j, active_region(w, b), v) for j, (w, b, v) in enumerate(zip(W1, b1, W2))]
    regions = [(j, r, v) for j, r, v in regions if len(r) and v != 0]
    # Many overlapping regions (a trained net) would saturate: keep the total ink about constant.
    alpha = min(0.15, 2.0 / max(1, len(regions)))
    for j, region, v in regions:
        colour = style.LABEL_COLOURS[1 if v > 0 else -1]
        ax.add_patch(Polygon(region, closed=True, facecolor=colour, edgecolor="none", alpha=alpha,
                             gid=f"neuron:{j}"))
        ax.add_patch(Polygon(region, closed=True, fill=False, edgecolor=colour, alpha=0.5, linewidth=0.3))


def _draw_circle(ax, W1, b1) -> float:
    pts, silent = circle_arcs(W1, b1)
    ax.add_patch(Polygon(pts, closed=True, fill=False, edgecolor="#777777", linewidth=0.5))
    nxt = np.roll(pts, -1, axis=0)
    segs = [[p, q] for p, q, s in zip(pts, nxt, silent) if s]
    if segs:
        ax.add_collection(LineCollection(segs, colors="black", linewidths=1.8, gid="zero_arc"))
    return float(silent.mean())


def draw_panel(ax, params: dict, X: np.ndarray, Y: np.ndarray, title: str) -> dict:
    """One panel; returns what it shows in numbers (fraction of the circle where f = 0)."""
    W1, b1, W2 = (np.asarray(params[k], dtype=float) for k in ("W1", "b1", "W2"))
    _draw_regions(ax, W1, b1, W2)
    zero_arc = _draw_circle(ax, W1, b1)
    for y, face in ((1.0, style.LABEL_COLOURS[1]), (-1.0, "white")):
        sel = Y == y
        ax.plot(X[sel, 0], X[sel, 1], linestyle="none", marker="o", markersize=3.2, markerfacecolor=face,
                markeredgecolor="black", markeredgewidth=0.6, gid=f"train_points:{int(y):+d}")
    ax.set_xlim(-BOX, BOX)
    ax.set_ylim(-BOX, BOX)
    ax.set_aspect("equal")
    ax.set_xlabel("x[1]")
    ax.set_ylabel("x[2]")
    ax.set_title(f"{title}\nf = 0 on {100 * zero_arc:.0f}% of the circle", fontsize=6.5)
    return {"zero_arc": zero_arc}


def draw_circle_figure(run) -> "matplotlib.figure.Figure":
    """Figure 3 for a ``bias`` run on ``circle`` data: C1 on its training set beside the trained net."""

    cfg = run.config
    if cfg.arch != "bias" or cfg.data != "circle" or cfg.depth != 2 or cfg.activation != "relu":
        raise ValueError(f"run_dir: Figure 3 needs a depth-2 relu 'bias' run on 'circle' data, got {cfg.arch} "
                         f"(depth {cfg.depth}, {cfg.activation}) on {cfg.data!r} in {run.path}")
    data = make_dataset(cfg)
    X, Y = data.X.numpy(), data.Y.numpy()
    mem = construction_params(X, Y)
    mem_net = from_params("bias", mem)
    mem_tr = trace_hessian(mem_net, data.X, data.Y)
    mem_err = float((data.Y_test * mem_net(data.X_test).detach() <= 0).double().mean())
    trained = {k: v.numpy() for k, v in vars(model_to_params(load_model(run))).items() if k in ("W1", "b1", "W2")}
    tmin = theory_minimum(run)
    tmin_text = "n/a" if tmin is None else f"{tmin:.4g}"
    with style.context():
        fig = style.new_figure(style.COLUMN_WIDTH, 2.15)
        fig.set_layout_engine("constrained")
        left, right = fig.subplots(1, 2)
        draw_panel(left, mem, X, Y, f"C1 (exact, Thm 4.1): Tr∇²L = {mem_tr:.4g}\nmin {tmin_text}, "
                                    f"test error {mem_err:.2f}")
        draw_panel(right, trained, X, Y, f"trained 1-SAM: Tr∇²L = {final(run, 'trace'):.4g}\nmin {tmin_text}, "
                                         f"test error {final(run, 'test_error'):.2f}")
        style.add_caption(fig, f"Figure 3. {style.setting_label(cfg)}; n={cfg.n}, width={cfg.width}, "
                               f"{cfg.total_epochs:g} epochs; {style.seeds_text([cfg.seed])}. Green/purple: active "
                               "region of a neuron with output weight >0/<0; grey: no neuron fires (f = 0); "
                               "thick black arcs: f = 0 on the circle.")
    return fig
