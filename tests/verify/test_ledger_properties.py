"""Property evidence: every property holds on a few examples, a run is repeatable from its seed,
and a planted error makes the property fail with its shrunk counterexample kept in full."""
import pytest

from sharpgen.verify.ledger import checks, properties, props_mlp, props_norm
from sharpgen.verify.ledger.properties import PROPERTIES, run_entry_properties, run_property

ALL = [p for props in PROPERTIES.values() for p in props]


@pytest.mark.parametrize("prop", ALL, ids=lambda p: f"{p.entry}:{p.name}")
def test_property_holds(prop):
    out = run_property(prop, examples=8, seed=1)
    assert out.passed, (out.detail, out.counterexample)
    assert out.worst >= 0 and out.numbers["examples"] == 8


def test_same_seed_same_run():
    prop = PROPERTIES["thm-3.1"][1]
    a, b = run_property(prop, examples=15, seed=3), run_property(prop, examples=15, seed=3)
    assert (a.worst, a.numbers["calls"]) == (b.worst, b.numbers["calls"])


def test_a_wrong_numerics_trace_fails_with_a_full_counterexample(monkeypatch):
    real = props_mlp.trace_hessian

    def wrong(net, X, Y, *args, **kw):  # 1% too large for bias nets: the planted bug
        value = real(net, X, Y, *args, **kw)
        return value * 1.01 if net.arch == "bias" else value

    monkeypatch.setattr(props_mlp, "trace_hessian", wrong)
    out = run_entry_properties(PROPERTIES["lemma-4.1"], examples=60, seed=0)
    assert not out.passed
    ce = out.counterexample
    assert ce["property"] == "theory = numerics = autograd"
    example, values = ce["example"], ce["values"]
    assert example[0] == "bias"  # (arch, params, X, Y, hyper): dataset and parameters in full
    assert isinstance(example[2], list) and "W1" in example[1]
    assert values["numerics_closed_form"] != values["theory_exact"]


def test_a_wrong_constant_fails(monkeypatch):
    real = checks.min_sharpness

    def wrong(arch, X, Y, **kw):
        m = real(arch, X, Y, **kw)
        return type(m)(m.value * 101 / 100, m.attained, m.exact, m.source)

    monkeypatch.setattr(checks, "min_sharpness", wrong)
    out = run_entry_properties(PROPERTIES["thm-3.1"], examples=30, seed=0)
    assert not out.passed and out.counterexample["values"]["min"]


def test_a_broken_construction_fails(monkeypatch):
    from sharpgen.theory import constructions
    from sharpgen.theory.params import Params
    real = constructions.memorizing

    def broken(arch, X, Y, **kw):  # the first neuron's output weight 10% too large
        p = real(arch, X, Y, **kw)
        W2 = p.W2.copy()
        W2[0] = W2[0] * 11 / 10
        return Params(W1=p.W1, b1=p.b1, W2=W2, middle=p.middle)

    monkeypatch.setattr(constructions, "memorizing", broken)
    assert not run_entry_properties(PROPERTIES["thm-4.1"], examples=30, seed=0).passed
    assert not run_entry_properties(props_norm.PROPERTIES["thm-5.1"], examples=30, seed=0).passed


def test_the_registry_merges_disjoint_parts():
    parts = (props_mlp.PROPERTIES, props_norm.PROPERTIES)
    assert not set(parts[0]) & set(parts[1])
    assert properties.PROPERTIES == {**parts[0], **parts[1]} and len(PROPERTIES) == sum(map(len, parts))
    assert all(p.entry == entry for entry, props in PROPERTIES.items() for p in props)
