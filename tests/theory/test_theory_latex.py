"""sympy.latex on every kind of object theory returns prints its mathematics, never a repr in \\mathtt{\\text{...}}."""
from __future__ import annotations

import pytest
import sympy as sp

from sharpgen.theory import bounds, checks, constructions, data, generalization, losses, minimum
from sharpgen.theory.jets import Jet
from sharpgen.theory.prop_a1 import prop_a1_network
from sharpgen.theory.sharpness import trace_hessian

X3 = data.hypercube(3)[[0, 3, 5, 6], :]

CASES = {
    "XorNetwork (C2, symbolic d)": (lambda: constructions.generalizing_symbolic("bias"),
                                    [r"\operatorname{relu}", r"\sqrt[4]{d + 1}", "W_{1}", "b_{1}", "W_{2}"]),
    "XorNetwork (C6)": (lambda: constructions.generalizing_symbolic("sim_bn"), [r"\gamma", "a_{j}", "k"]),
    "XorNetwork (C5)": (lambda: constructions.generalizing_symbolic("sim_ln", eps=1), [r"\varepsilon", r"\max"]),
    "Params (C1)": (lambda: constructions.memorizing("bias", X3, data.xor_labels(X3)), ["W_{1}", "b_{1}", r"\sqrt"]),
    "Params (Prop A.1)": (lambda: prop_a1_network([[1, 1], [1, -1]], [1, 0], 2), ["W_{2}", r"\sqrt[4]{3}"]),
    "bias_scales": (lambda: constructions.bias_scales(2, 1), [r"\sqrt{2}"]),
    "MinSharpness": (lambda: minimum.min_sharpness_xor("bias"), [r"4 \sqrt{d + 1}"]),
    "F3 bound": (lambda: bounds.bias_bound(X3, data.xor_labels(X3)), ["8"]),
    "trace": (lambda: trace_hessian("bias", constructions.generalizing("bias", 3, scale=sp.Symbol("s", positive=True)),
                                    X3, data.xor_labels(X3), method="jets"), ["s"]),
    "population_errors": (lambda: generalization.population_errors("bias", constructions.generalizing("bias", 3), 3),
                          ["0"]),
    "rademacher_bound": (lambda: generalization.rademacher_bound(2 * sp.sqrt(2), 30, 100), [r"\sqrt"]),
    "condition1_set": (lambda: data.condition1_set(3), [r"\begin{matrix}"]),
    "logistic minimizer": (lambda: losses.paper_logistic_minimizer(1, sp.Rational(1, 5)), [r"\log{\left(2 \right)}"]),
    "checks": (lambda: checks.check_eps(sp.Rational(1, 10)), [r"\frac{1}{10}"]),
    "Jet": (lambda: Jet(sp.sqrt(2), 3, 4), ["t^{2}", r"\sqrt{2}"]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_latex_prints_the_mathematics(name):
    make, expected = CASES[name]
    text = sp.latex(make())
    assert r"\mathtt{\text{" not in text and "object at 0x" not in text
    for symbol in expected:
        assert symbol in text, (symbol, text)
