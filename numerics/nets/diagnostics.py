"""What a trained network looks like: the quantities the paper inspects (docs/paper.md §4-§6).

- memorization (Def 4.2, Thm 4.1, Figure 3): per-neuron activation counts on
  the training inputs, and the fraction of unseen cube points on which the
  whole first hidden layer is zero (so the output is 0: an error);
- interpretability (Thm 3.2, Figure 2b): first-layer column norms and the
  four neurons with the largest first-layer norm;
- complexity (Lemma 3.1): the path norm, and the terms of the lemma's bound on it
  (:func:`lemma31_terms`);
- collapse (docs/scenarios.md): mean |f| on the training set, and for sim_bn
  ||γ ⊙ W2||₁ (Lemma A.1: at least 2 at interpolation on a Condition-1 set)
  and Σ(γ² + W2²) (F6: Tr ∇²L ≥ 2 Σ(γ² + W2²) at interpolation); a net that
  collapses to f ≈ 0 shows all three near 0;
- flatness: Tr ∇²L and its gap to a given theoretical minimum.

``diagnose`` collects them into a flat dict of floats for logging.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import torch

from sharpgen.numerics.nets.data import Dataset, check_points, cube
from sharpgen.numerics.nets.losses import get_loss
from sharpgen.numerics.nets.functional import activation_derivatives, first_layer, first_weights, middle_layers
from sharpgen.numerics.nets.models import Net
from sharpgen.numerics.nets.sharpness import per_sample_terms, trace_parts
from sharpgen.numerics.validate import check_int, check_number

ENUMERATE_LIMIT = 14  # enumerate the cube up to 2^14 points; sample beyond


def _params(model: Net) -> dict:
    if not isinstance(model, Net):
        raise ValueError(f"model: expected a numerics.models.Net, got {type(model).__name__}")
    return {k: v.detach() for k, v in model.named_parameters()}


def _inputs(model: Net, X) -> torch.Tensor:
    return check_points("X", X, model.d).to(dtype=model.W1.dtype, device=model.W1.device)


def activation_counts(model: Net, X) -> torch.Tensor:
    """For each first-layer neuron j, the number of rows x of X with W1_j x + b1_j > 0 (Def 4.2).

    A memorizing network (Thm 4.1, C1) has every used neuron firing on exactly one training point.

    >>> from sharpgen.numerics.nets.params import from_params
    >>> net = from_params("bias", {"W1": [[1.0, 0.0], [0.0, 1.0]], "b1": [0.0, -1.5], "W2": [1.0, 1.0]})
    >>> activation_counts(net, [[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0]]).tolist()
    [2, 0]
    """
    z = first_layer(_params(model), _inputs(model, X))
    return (z > 0).sum(dim=0)


CODE_MAX_D = 62  # a cube point is coded as the int64 of its sign bits up to this d


def _codes(points: torch.Tensor) -> torch.Tensor:
    """Each ±1 row as the integer of its sign bits (bit k set where x[k] > 0), for ``torch.isin``."""
    return ((points > 0).long() << torch.arange(points.shape[1])).sum(dim=1)


def _unseen_cube_points(X_train: torch.Tensor, samples: int, seed: int) -> torch.Tensor:
    """The cube points not in ``X_train``: all of them in cube order for d <= ``ENUMERATE_LIMIT``, else
    the first ``samples`` unseen ones of uniform draws of ``samples`` rows at a time (``seed``). Rows are
    compared as sign-bit codes (vectorized: this ran at every evaluation, once 60 ms of a 140 ms one)."""
    d = X_train.shape[1]
    signs = X_train.round()
    if d > CODE_MAX_D:
        return _unseen_by_tuples(signs, samples, seed)
    seen = _codes(signs)
    if d <= ENUMERATE_LIMIT:
        points = cube(d).long()
        return points[~torch.isin(_codes(points), seen)].to(X_train.dtype).reshape(-1, d)
    gen, parts, count = torch.Generator().manual_seed(seed), [], 0
    while count < samples:
        draw = 2 * torch.randint(0, 2, (samples, d), generator=gen) - 1
        fresh = draw[~torch.isin(_codes(draw), seen)][: samples - count]
        parts.append(fresh)
        count += len(fresh)
    return torch.cat(parts).to(X_train.dtype)


def _unseen_by_tuples(signs: torch.Tensor, samples: int, seed: int) -> torch.Tensor:
    """``_unseen_cube_points`` beyond ``CODE_MAX_D`` (sampled), comparing rows as tuples."""
    d, seen = signs.shape[1], {tuple(r) for r in signs.long().tolist()}
    gen, rows = torch.Generator().manual_seed(seed), []
    while len(rows) < samples:
        draw = (2 * torch.randint(0, 2, (samples, d), generator=gen) - 1).tolist()
        rows += [r for r in draw if tuple(r) not in seen][: samples - len(rows)]
    return torch.tensor(rows, dtype=signs.dtype).reshape(-1, d)


def zero_fraction(model: Net, X_train, *, samples: int = 4096, seed: int = 0) -> float:
    """Fraction of cube points not in ``X_train`` whose first hidden layer is entirely zero.

    There f(x) = 0 for every architecture, a zero-one error: a memorizing
    network (Prop 4.1, Figure 3) has this fraction near 1. The cube's unseen
    points are enumerated for d <= 14, else ``samples`` of them are drawn
    uniformly (with ``seed``). NaN when every cube point is a training point.

    >>> from sharpgen.numerics.nets.params import from_params
    >>> net = from_params("bias", {"W1": [[1.0, 1.0]], "b1": [-1.5], "W2": [1.0]})
    >>> zero_fraction(net, [[1.0, 1.0]])  # the other 3 points of {-1,1}^2 leave the neuron off
    1.0
    """
    params = _params(model)
    X_train = _inputs(model, X_train)
    check_int("samples", samples, 1)
    if X_train.numel() and not bool((X_train.abs() == 1).all()):
        raise ValueError("X_train: expected cube points (every entry -1 or +1)")
    unseen = _unseen_cube_points(X_train.cpu(), samples, seed).to(X_train.device)
    if unseen.shape[0] == 0:
        return float("nan")
    # addmm: one pass over the (samples, m) block instead of a product then an add (half the time here)
    z = unseen @ params["W1"].T if params.get("b1") is None else torch.addmm(params["b1"], unseen, params["W1"].T)
    if model.hyper["activation"] == "relu":  # relu(z) = 0 exactly where z <= 0: no relu pass, no bool tensor
        off = z.amax(dim=1) <= 0
    else:
        off = (activation_derivatives(model.hyper["activation"])[0](z) == 0).all(dim=1)
    return float(off.to(torch.float64).mean())


def column_norms(model: Net) -> torch.Tensor:
    """||W1[:, k]|| for every input coordinate k (Figure 2b: columns 1, 2 large, the rest small).

    >>> from sharpgen.numerics.nets.params import from_params
    >>> column_norms(from_params("nobias", {"W1": [[3.0, 0.0], [4.0, 1.0]], "W2": [1.0, 1.0]})).tolist()
    [5.0, 1.0]
    """
    return _params(model)["W1"].norm(dim=0)


def top_neurons(model: Net, k: int = 4) -> dict[str, torch.Tensor]:
    """The k neurons with the largest first-layer norm ||W1_j|| (Figure 2b's selection), largest first.

    Returns "index", "w1" (W1_j[1]), "w2" (W1_j[2]) and "rest" (||W1_j[3:d]||):
    a neuron of the Thm 3.2 solution has rest ≈ 0 and |w1| ≈ |w2|.

    >>> from sharpgen.numerics.nets.params import from_params
    >>> net = from_params("nobias", {"W1": [[1.0, 1.0, 0.0], [-3.0, 3.0, 0.1]], "W2": [1.0, 1.0]})
    >>> top = top_neurons(net, k=1)
    >>> top["index"].tolist(), top["w1"].tolist(), top["w2"].tolist()
    ([1], [-3.0], [3.0])
    """
    W1 = _params(model)["W1"]
    check_int("k", k, 1, W1.shape[0])
    index = torch.argsort(W1.norm(dim=1), descending=True, stable=True)[:k]
    rows = W1[index]
    return {"index": index, "w1": rows[:, 0], "w2": rows[:, 1], "rest": rows[:, 2:].norm(dim=1)}


def path_norm(model: Net) -> float:
    """Path norm of Lemma 3.1: Σ_j ||W1_j||₂ |W2_j| (2 layers), with W1' = [W1 | b1] when there is a bias.

    Depth D: Σ over paths, |W_D|ᵀ |W_{D-1}| ... |W_2| applied to the row norms of W1'.
    For sim_bn the output weight is W2_j γ_j (the normalisation itself is not included).

    >>> from sharpgen.numerics.nets.params import from_params
    >>> path_norm(from_params("nobias", {"W1": [[3.0, 4.0], [1.0, 0.0]], "W2": [2.0, -1.0]}))
    11.0
    """
    params = _params(model)
    mass = first_weights(params).norm(dim=1)
    for W in middle_layers(params):
        mass = W.abs() @ mass
    out = params["W2"] if params.get("gamma") is None else params["W2"] * params["gamma"]
    return float(out.abs() @ mass)


class Lemma31Terms(NamedTuple):
    """The quantities of the proof of Lemma 3.1 on a ``nobias`` net and training inputs (see
    :func:`lemma31_terms`): ``activation_mass`` ≤ ``trace_gn`` is the per-point AM-GM step,
    ``path_norm`` = Σ_j |a_j| ||w_j||, ``mean_activation`` G = Σ_j |a_j| ||w_j|| g(u_j) / path_norm,
    and ``path_norm_bound`` = trace_gn / (4 · mean ||x_i|| · G) ≥ ``path_norm`` on inputs of equal norm."""

    activation_mass: float
    trace_gn: float
    path_norm: float
    mean_activation: float
    path_norm_bound: float


def lemma31_terms(model: Net, X) -> Lemma31Terms:
    """Lemma 3.1's path-norm bound, term by term, for f(x) = Σ_j a_j relu(w_j·x) (``nobias``).

    With ∇_{a_j} f = relu(w_j·x) and ∇_{w_j} f = a_j 1[w_j·x > 0] x, AM-GM per neuron gives
    ||∇f(x)||² ≥ 2 ||x|| Σ_j |a_j| relu(w_j·x) (no relu'(0) convention enters: both sides vanish
    where w_j·x <= 0). Averaged over the training points, with Tr_gn = (2/n) Σ_i ||∇f(x_i)||² (the
    whole of Tr ∇²L at interpolation, Lemma 4.1):

        (4/n) Σ_i ||x_i|| Σ_j |a_j| relu(w_j·x_i)  <=  Tr_gn.

    On inputs of one norm R (the cube: R = √d) the left side is 4R Σ_j |a_j| ||w_j|| g(u_j), with
    u_j = w_j/||w_j|| and g(u) = (1/n) Σ_i relu(u·x_i); so the path norm is at most
    Tr_gn / (4R G), G the path-norm-weighted mean of g(u_j). A flattest net on the cube has
    Tr = 4√d (F3), hence path norm <= 1/G; where g is near its mean on every direction,
    E relu(u·x) = E|u·x|/2 >= 1/(2√2) (Khintchine, Szarek's constant) bounds 1/G by 2√2.

    >>> from sharpgen.numerics.nets.params import from_params
    >>> s = 2 ** 0.5   # |a_j| ||x|| = relu(w_j·x_j) = 2: AM-GM is tight, so the bound is attained
    >>> t = lemma31_terms(from_params("nobias", {"W1": [[1.0, 1.0], [1.0, -1.0]], "W2": [s, -s]}),
    ...                   [[1.0, 1.0], [1.0, -1.0]])
    >>> [round(v, 9) for v in (t.activation_mass, t.trace_gn, t.path_norm, t.path_norm_bound)]
    [16.0, 16.0, 4.0, 4.0]
    """
    params = _params(model)
    if model.arch != "nobias" or middle_layers(params):
        raise ValueError(f"model: Lemma 3.1 is about depth-2 nobias nets, got {model.arch} at depth "
                         f"{len(middle_layers(params)) + 2}")
    X = _inputs(model, X)
    a, W = params["W2"], params["W1"]
    active = torch.relu(X @ W.T)                                    # (n, m): relu(w_j·x_i)
    norms_x = X.norm(dim=1)
    mass = float(4 * (norms_x[:, None] * active * a.abs()).sum(dim=1).mean())
    trace_gn = float(2 * per_sample_terms(model, X).grad_sq.mean())
    row = W.norm(dim=1)
    weights = a.abs() * row
    P = float(weights.sum())
    g = (active / torch.where(row > 0, row, torch.ones_like(row))).mean(dim=0)   # g(u_j); 0 for a zero row
    G = float((weights * g).sum()) / P if P > 0 else math.nan
    bound = trace_gn / (4 * float(norms_x.mean()) * G) if G > 0 else math.inf
    return Lemma31Terms(mass, trace_gn, P, G, bound)


def output_masses(model: Net) -> dict[str, float]:
    """||γ ⊙ W2||₁ and Σ_j (γ_j² + W2_j²) of a sim_bn net (docs/paper.md §3 F6, Lemma A.1); NaN without γ.

    At interpolation F6 gives Tr ∇²L ≥ 2 Σ(γ² + W2²) ≥ 4 ||γ ⊙ W2||₁; both
    drop towards 0 when the net collapses to f ≈ 0.

    >>> from sharpgen.numerics.nets.params import from_params
    >>> net = from_params("sim_bn", {"W1": [[1.0, 0.0], [0.0, 1.0]], "b1": [0.0, 0.0], "W2": [1.0, -2.0],
    ...                              "gamma": [3.0, 0.5]})
    >>> output_masses(net)
    {'gamma_w2_l1': 4.0, 'out_sq_norm': 14.25}
    """
    params = _params(model)
    if params.get("gamma") is None:
        return {"gamma_w2_l1": math.nan, "out_sq_norm": math.nan}
    g, w = params["gamma"], params["W2"]
    return {"gamma_w2_l1": float((g * w).abs().sum()), "out_sq_norm": float((g * g + w * w).sum())}


def fit_metrics(model: Net, data: Dataset, *, loss: str = "mse", p=None) -> dict[str, float]:
    """Training and test loss and zero-one error (y f <= 0 is an error, docs/paper.md §1), and the mean |f| on the
    training inputs (a collapse to f ≈ 0 shows there); NaN on an empty test set.

    sim_bn statistics come from data.X.

    >>> from sharpgen.numerics.nets.params import from_params
    >>> from sharpgen.numerics.nets.data import Dataset
    >>> net = from_params("bias", {"W1": [[1.0, 1.0]], "b1": [-1.0], "W2": [1.0]})
    >>> fit_metrics(net, Dataset([[1.0, 1.0]], [1.0], [[-1.0, 1.0]], [-1.0]))
    {'train_loss': 0.0, 'train_error': 0.0, 'mean_abs_f': 1.0, 'test_loss': 1.0, 'test_error': 1.0}
    """
    _check_data(model, data)
    loss_fn = get_loss(loss, p)
    cast = lambda t: t.to(dtype=model.W1.dtype, device=model.W1.device)
    X, params = cast(data.X), _params(model)
    out: dict[str, float] = {}
    with torch.no_grad():
        for part, (inputs, labels) in (("train", (X, data.Y)), ("test", (data.X_test, data.Y_test))):
            Y = cast(labels)
            if Y.numel() == 0:
                out[f"{part}_loss"] = out[f"{part}_error"] = math.nan
                continue
            f = model.functional(params, cast(inputs), X)
            out[f"{part}_loss"] = float(loss_fn(f, Y))
            out[f"{part}_error"] = float((Y * f <= 0).to(torch.float64).mean())
            if part == "train":
                out["mean_abs_f"] = float(f.abs().mean())
    return out


def _check_data(model: Net, data) -> None:
    _params(model)
    if not isinstance(data, Dataset):
        raise ValueError(f"data: expected a numerics.data.Dataset, got {type(data).__name__}")
    if data.d != model.d:
        raise ValueError(f"data: expected inputs of dimension {model.d} (the model's d), got {data.d}")


def structure_metrics(model: Net, X, *, samples: int = 4096, seed: int = 0) -> dict[str, float]:
    """What the network computes with, on training inputs X: path norm, the sim_bn output masses
    (:func:`output_masses`), dead / one-point neurons
    (Def 4.2: memorization), the largest activation count, the unseen-cube zero fraction (NaN
    off the cube), the first-layer column norms and the top four neurons by ||W1_j|| (Figure 2b)."""
    X = _inputs(model, X)
    counts = activation_counts(model, X)
    cols = column_norms(model)
    on_cube = bool((X.abs() == 1).all())
    out = {"path_norm": path_norm(model), **output_masses(model), "dead_neurons": float((counts == 0).sum()),
           "one_point_neurons": float((counts == 1).sum()), "max_active": float(counts.max()),
           "zero_fraction": zero_fraction(model, X, samples=samples, seed=seed) if on_cube else math.nan,
           "col_norm_1": float(cols[0]), "col_norm_2": float(cols[1]),
           "col_norm_rest_max": float(cols[2:].max()) if cols.numel() > 2 else math.nan}
    top = top_neurons(model, k=min(4, model.width))
    for r in range(4):
        for key in ("w1", "w2", "rest"):
            out[f"top{r + 1}_{key}"] = float(top[key][r]) if r < top[key].numel() else math.nan
    return out


def diagnose(model: Net, data: Dataset, *, theory_min=None, loss: str = "mse", p=None,
             samples: int = 4096, seed: int = 0) -> dict[str, float]:
    """A flat dict of floats describing ``model`` on ``data`` (for logging), each quantity computed once.

    Keys: those of :func:`fit_metrics` (train/test loss and zero-one error),
    sharpness (exact Tr ∇²L, F1), sharpness_gn (its Gauss-Newton part
    (1/n) Σ ℓ'' ||∇θ f||², equal to it at interpolation), sharpness_gap (minus
    ``theory_min``, NaN without it), and those of :func:`structure_metrics`.
    sim_bn statistics come from data.X.

    >>> from sharpgen.numerics.nets.params import from_params
    >>> from sharpgen.numerics.nets.data import Dataset
    >>> net = from_params("bias", {"W1": [[1.0, 1.0]], "b1": [-1.0], "W2": [1.0]})
    >>> data = Dataset([[1.0, 1.0]], [1.0], [[-1.0, 1.0]], [-1.0])
    >>> out = diagnose(net, data, theory_min=8.0)
    >>> out["train_loss"], out["test_error"], out["sharpness"], out["sharpness_gap"]
    (0.0, 1.0, 8.0, 0.0)
    """
    out = fit_metrics(model, data, loss=loss, p=p)
    check_number("theory_min", theory_min, allow_none=True)
    parts = trace_parts(model, data.X, data.Y, loss, p=p)
    out.update(sharpness=parts.total, sharpness_gn=parts.gauss_newton,
               sharpness_gap=math.nan if theory_min is None else parts.total - float(theory_min))
    out.update(structure_metrics(model, data.X, samples=samples, seed=seed))
    return out
