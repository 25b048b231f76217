"""Prop A.2's witness (eq. 17): as printed it does not interpolate; the reading that does is flattest
(Tr = F3, against numerics' trace and against autograd) and errs by a constant, so the entry is not
reproduced, with an erratum on the proof."""
import torch

from sharpgen.numerics.nets.params import from_params
from sharpgen.numerics.nets.sharpness import trace_hessian
from sharpgen.verify.ledger import prop_a2 as A
from sharpgen.verify.ledger.profiles import PROFILES


def test_the_chord_reading_interpolates_one_neuron_per_point_at_the_minimum():
    m = A._measure(16, 5, printed=False)
    assert m["residual"] < 1e-10 and m["firing_min"] == m["firing_max"] == 1
    assert abs(m["trace"] - m["F3"]) < 1e-9 * m["F3"]


def test_the_trace_agrees_with_the_full_autograd_hessian():
    V = A.circle_points(8, 2)
    y = A.labels(V)
    net = from_params("bias", A.construction(V, y, printed=False))
    names, params = zip(*net.named_parameters())
    loss = lambda *ps: ((torch.func.functional_call(net, dict(zip(names, ps)), (V,)) - y) ** 2).mean()
    H = torch.autograd.functional.hessian(loss, tuple(p.detach() for p in params))
    full = sum(float(torch.diagonal(H[i][i].reshape(p.numel(), p.numel())).sum()) for i, p in enumerate(params))
    exact = float(trace_hessian(net, V, y))
    assert abs(full - exact) < 1e-8 * exact


def test_as_printed_it_does_not_interpolate_and_the_entry_is_not_reproduced():
    printed = A._measure(16, 5, printed=True)
    assert printed["residual"] > 1 and printed["firing_max"] > 1
    out = A.check_prop_a_2(PROFILES["quick"])
    assert out.status == "not reproduced" and out.errata[0].where == "proof" and not out.contradictions
    assert out.numbers["chord_reading"][-1]["population_mse"] > 0.1   # label variance is 1/2: no O(δ²)
