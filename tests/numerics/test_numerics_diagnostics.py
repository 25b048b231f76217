"""numerics.diagnostics on the paper's constructions: memorizing vs generalizing networks."""
from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings, strategies as st

from sharpgen.numerics.nets.data import Dataset, cube, xor_dataset
from sharpgen.numerics.nets.diagnostics import (activation_counts, column_norms, diagnose, lemma31_terms, path_norm,
                                                top_neurons, zero_fraction)
from sharpgen.numerics.nets.initialization import build
from sharpgen.numerics.nets.params import from_params
from sharpgen.theory import constructions as C


def _memorizing(data):
    return from_params("bias", C.memorizing("bias", data.X.long().tolist(), data.Y.long().tolist()))


def test_memorizing_network_diagnostics():
    # C1 (Thm 4.1, Prop 4.1): each neuron fires on one training point, f = 0 on every unseen cube point.
    data = xor_dataset(6, 12, n_test=100, seed=0)
    net = _memorizing(data)
    assert activation_counts(net, data.X).tolist() == [1] * 12
    assert zero_fraction(net, data.X) == 1.0
    bound = 4 * math.sqrt(7)
    out = diagnose(net, data, theory_min=bound)
    assert out["train_loss"] < 1e-25 and out["train_error"] == 0.0
    assert out["test_error"] == 1.0 and out["one_point_neurons"] == 12 and out["dead_neurons"] == 0
    assert abs(out["sharpness_gap"]) < 1e-9 * bound
    assert out["zero_fraction"] == 1.0


def test_generalizing_network_diagnostics():
    # C2 (Prop 4.2): also flattest, but f = x[1] x[2] on the whole cube.
    data = xor_dataset(6, 12, n_test=100, seed=0)
    net = from_params("bias", C.generalizing("bias", 6))
    out = diagnose(net, data, theory_min=4 * math.sqrt(7))
    assert out["test_error"] == 0.0 and out["test_loss"] < 1e-25 and out["zero_fraction"] == 0.0
    assert abs(out["sharpness_gap"]) < 1e-8
    r = 7 ** 0.25
    assert out["col_norm_1"] == pytest.approx(2 * r, rel=1e-14) and out["col_norm_rest_max"] == 0.0
    assert abs(out["top1_w1"]) == pytest.approx(r, rel=1e-14) and out["top1_rest"] == 0.0


def test_top_neurons_and_column_norms_of_sim_bn_family():
    # C6 (Thm 3.2's shape, Figure 2b): four neurons ±k x[1] ± k x[2], nothing on the other coordinates.
    net = from_params("sim_bn", C.generalizing("sim_bn", 5, scale=3))
    top = top_neurons(net, k=4)
    assert sorted(zip(top["w1"].tolist(), top["w2"].tolist())) == [(-3.0, -3.0), (-3.0, 3.0), (3.0, -3.0), (3.0, 3.0)]
    assert torch.equal(top["rest"], torch.zeros(4, dtype=torch.float64))
    assert column_norms(net).tolist() == [6.0, 6.0, 0.0, 0.0, 0.0]


def test_top_neurons_orders_by_first_layer_norm():
    net = from_params("nobias", {"W1": [[1.0, 0.0, 0.0], [0.0, 0.0, 5.0], [2.0, 2.0, 0.0]], "W2": [1.0, 1.0, 1.0]})
    top = top_neurons(net, k=2)
    assert top["index"].tolist() == [1, 2] and top["rest"].tolist() == [5.0, 0.0]
    with pytest.raises(ValueError, match=r"^k: expected an integer in \[1, 3\]"):
        top_neurons(net, k=4)


def test_path_norm_matches_explicit_sum():
    net = build("bias", 4, 5, seed=0)
    W1p = torch.cat([net.W1, net.b1[:, None]], dim=1).detach()
    expected = sum(float(W1p[j].norm() * net.W2[j].detach().abs()) for j in range(5))
    assert path_norm(net) == pytest.approx(expected, rel=1e-14)
    deep = build("bias", 4, 3, depth=3, seed=0)
    W1p = torch.cat([deep.W1, deep.b1[:, None]], dim=1).detach()
    M, W2 = deep.middle[0].detach(), deep.W2.detach()
    paths = sum(float(W2[a].abs() * M[a, b].abs() * W1p[b].norm()) for a in range(3) for b in range(3))
    assert path_norm(deep) == pytest.approx(paths, rel=1e-14)


def test_zero_fraction_samples_large_cubes_reproducibly():
    data = xor_dataset(18, 10, seed=0)
    net = _memorizing(data)
    a = zero_fraction(net, data.X, samples=500, seed=1)
    assert a == 1.0 and a == zero_fraction(net, data.X, samples=500, seed=1)
    dense = build("bias", 18, 50, seed=0)
    assert 0.0 <= zero_fraction(dense, data.X, samples=300, seed=2) < 1.0


def test_zero_fraction_is_zero_for_softplus():
    data = xor_dataset(4, 5, seed=0)
    assert zero_fraction(build("bias", 4, 3, activation="softplus", seed=0), data.X) == 0.0


def test_diagnose_is_a_flat_dict_of_floats_for_every_architecture():
    data = xor_dataset(5, 10, n_test=20, seed=1)
    keys = None
    for arch, hyper in (("nobias", {}), ("bias", {"depth": 3}), ("sim_ln", {"eps": 1e-3}), ("sim_bn", {})):
        net = build(arch, 5, 6, seed=0, **hyper)
        out = diagnose(net, data)
        assert all(isinstance(v, float) for v in out.values())
        assert math.isnan(out["sharpness_gap"]) and math.isfinite(out["sharpness"])
        keys = keys or set(out)
        assert set(out) == keys


def test_diagnose_with_empty_test_set_and_continuous_data():
    net = build("bias", 2, 3, seed=0)
    full = xor_dataset(2, 4, seed=0)
    out = diagnose(net, full)
    assert math.isnan(out["test_loss"]) and math.isnan(out["zero_fraction"])
    ball = Dataset([[0.5, 0.2], [0.1, -0.3]], [0.3, -0.2], [[0.0, 1.0]], [-1.0])
    assert math.isnan(diagnose(net, ball)["zero_fraction"])


def test_diagnostics_reject_bad_input():
    net = build("bias", 3, 2, seed=0)
    with pytest.raises(ValueError, match="^data: expected a numerics.data.Dataset"):
        diagnose(net, (1, 2))
    with pytest.raises(ValueError, match="^data: expected inputs of dimension 3"):
        diagnose(net, xor_dataset(4, 3, seed=0))
    with pytest.raises(ValueError, match=r"^X_train: expected cube points"):
        zero_fraction(net, [[0.5, 1.0, 1.0]])
    with pytest.raises(ValueError, match="^model: expected a numerics.models.Net"):
        path_norm("net")
    with pytest.raises(ValueError, match=r"^X: expected shape \(n >= 1, 3\)"):
        activation_counts(net, [[1.0, 1.0]])


def test_an_evaluation_computes_the_trace_once(monkeypatch, tmp_path):
    # issue 8: evaluate used to compute Tr ∇²L and then diagnose computed it again
    from sharpgen.numerics.nets import diagnostics
    from sharpgen.numerics.nets import sharpness
    from sharpgen.numerics.runs.config import Phase, TrainConfig
    from sharpgen.numerics.runs.train import evaluate, make_dataset
    calls = []
    real = sharpness._terms
    monkeypatch.setattr(sharpness, "_terms", lambda *a: (calls.append(1), real(*a))[1])
    cfg = TrainConfig(arch="bias", d=5, n=10, n_test=8, width=6, phases=(Phase(0.01, epochs=1),))
    data = make_dataset(cfg)
    net = build("bias", 5, 6, seed=0)
    row = evaluate(net, data, cfg, theory_min=2.0)
    assert len(calls) == 1
    assert row["trace"] == diagnostics.diagnose(net, data)["sharpness"]
    assert row["trace_gn"] == row["trace"] and "diag_sharpness" not in row and "diag_sharpness_gn" not in row


@given(st.integers(2, 6), st.integers(1, 12), st.integers(1, 8), st.integers(0, 10 ** 6))
@settings(max_examples=60, deadline=None)
def test_lemma_3_1_terms_hold_the_am_gm_step_and_the_path_norm_bound(d, n, width, seed):
    net = build("nobias", d, width, seed=seed)
    gen = torch.Generator().manual_seed(seed)
    X = torch.randint(0, 2, (n, d), generator=gen).double() * 2 - 1      # cube points: one norm √d
    t = lemma31_terms(net, X)
    # independent: Tr_gn = (2/n) Σ ||∇θ f(x_i)||² by autograd, one point at a time
    grads = []
    for x in X:
        net.zero_grad()
        net(x[None]).sum().backward()
        grads.append(sum(float((p.grad ** 2).sum()) for p in net.parameters()))
    assert t.trace_gn == pytest.approx(2 * sum(grads) / n, rel=1e-12, abs=1e-15)
    assert t.activation_mass <= t.trace_gn * (1 + 1e-12) + 1e-15
    assert t.path_norm <= t.path_norm_bound * (1 + 1e-12) + 1e-15


def _unseen_reference(X_train, samples, seed):
    """The unseen cube points as first written (Python tuples): the vectorized version must equal it."""
    d = X_train.shape[1]
    seen = {tuple(r) for r in X_train.round().long().tolist()}
    if d <= 14:
        rows = [r for r in cube(d).long().tolist() if tuple(r) not in seen]
    else:
        gen, rows = torch.Generator().manual_seed(seed), []
        while len(rows) < samples:
            draw = (2 * torch.randint(0, 2, (samples, d), generator=gen) - 1).tolist()
            rows += [r for r in draw if tuple(r) not in seen][: samples - len(rows)]
    return torch.tensor(rows, dtype=X_train.dtype).reshape(-1, d)


@pytest.mark.parametrize("d, n, seed", [(3, 8, 0), (5, 7, 1), (14, 40, 2), (20, 100, 3), (30, 100, 4), (70, 10, 5)])
def test_unseen_cube_points_are_those_of_the_tuple_version(d, n, seed):
    from sharpgen.numerics.nets import diagnostics
    X = xor_dataset(d, min(n, 2 ** d), seed=seed).X
    if d == 20:  # a sampled cube with many training points among the draws: the filter matters
        X = torch.cat([X, 2 * torch.randint(0, 2, (300, d), generator=torch.Generator().manual_seed(9)) - 1.0])
    got, want = diagnostics._unseen_cube_points(X, 512, seed), _unseen_reference(X, 512, seed)
    assert got.dtype == want.dtype and torch.equal(got, want)
