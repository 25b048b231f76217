"""theory.symbols: the symbols d and k of theory's results, and ``subs`` by name on its result types."""
from __future__ import annotations

import pytest
import sympy as sp

from sharpgen.theory import d, k
from sharpgen.theory.constructions import generalizing, generalizing_symbolic
from sharpgen.theory.minimum import min_sharpness_xor
from sharpgen.theory.symbols import substitution


def test_exported_symbols_are_the_ones_results_use():
    assert d.is_integer and d.is_positive and k.is_positive
    assert min_sharpness_xor("bias").value.free_symbols == {d}
    assert generalizing_symbolic("nobias").d is d
    assert generalizing("sim_bn", 3).free_symbols == {k}
    assert generalizing_symbolic("sim_bn").free_symbols == {d, k}
    # the plain value substitutes with the exported symbol (and only with it: sympy's own rule)
    value = min_sharpness_xor("bias").value
    assert value.subs(d, 30) == 4 * sp.sqrt(31)
    assert value.subs("d", 30) == value


@pytest.mark.parametrize("spelling", [
    lambda m: m.subs(d, 30), lambda m: m.subs("d", 30), lambda m: m.subs({"d": 30}), lambda m: m.subs(d=30),
    lambda m: m.subs([("d", 30)]), lambda m: m.subs(sp.Symbol("d"), 30), lambda m: m.subs({d: 30}),
])
def test_min_sharpness_subs_accepts_every_spelling(spelling):
    assert spelling(min_sharpness_xor("bias")).value == 4 * sp.sqrt(31)
    assert spelling(min_sharpness_xor("nobias", depth=2)).value == 4 * sp.sqrt(30)


def test_min_sharpness_subs_recomputes_at_a_concrete_d():
    # sim_bn's infimum is attained only at d = 2 (one tail): the flag follows d
    assert min_sharpness_xor("sim_bn").attained is False
    assert min_sharpness_xor("sim_bn").subs(d=2) == min_sharpness_xor("sim_bn", 2)
    assert min_sharpness_xor("sim_bn").subs(d=2).attained is True
    with pytest.raises(ValueError, match=r"^d: expected an integer >= 2, got 1$"):
        min_sharpness_xor("bias").subs(d=1)
    # d mapped to an expression stays a plain substitution
    n = sp.Symbol("n", positive=True)
    assert min_sharpness_xor("bias").subs(d, 2 * n).value == 4 * sp.sqrt(2 * n + 1)


def test_min_sharpness_subs_with_symbolic_eps():
    eps = sp.Symbol("epsilon", positive=True)
    m = min_sharpness_xor("sim_ln", eps=eps)
    assert m.subs({"d": 3, "epsilon": 8}).value == 2 * sp.Min(1, sp.Rational(1, 2))
    assert m.subs(epsilon=1).subs(d=3).value == 2


def test_params_and_xor_network_subs_by_name():
    p = generalizing("sim_bn", 2)
    assert p.subs("k", 3) == p.subs(k, 3) == p.subs(k=3) == generalizing("sim_bn", 2, scale=3)
    net = generalizing_symbolic("sim_bn")
    assert net.subs(k=2, d=4).params(4) == generalizing("sim_bn", 4, scale=2)
    assert net.subs(d=4).d == 4 and net.subs(k=2).d is d
    with pytest.raises(ValueError, match=r"^d: expected an integer >= 2"):
        net.subs(d=sp.Rational(5, 2))


def test_unknown_and_ambiguous_names_are_errors():
    with pytest.raises(ValueError, match=r"^n: no free symbol of that name; the free symbols are \['d'\]$"):
        min_sharpness_xor("bias").subs(n=3)
    with pytest.raises(ValueError, match=r"^q: no free symbol"):
        generalizing("sim_bn", 2).subs("q", 1)
    plain = sp.Symbol("d")
    with pytest.raises(ValueError, match=r"^d: ambiguous"):
        substitution({d, plain}, "d", 1)
    # our own names may be absent from a value (a number has no d): nothing to do
    assert min_sharpness_xor("sim_bn").subs(k=5).value == 8
    assert substitution(set(), d=3) == {}
    with pytest.raises(ValueError, match=r"^subs: expected"):
        substitution({d}, "d", 3, 4)
