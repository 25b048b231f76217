"""theory.params: the shared layout, printed and LaTeX-rendered as matrices."""
from __future__ import annotations

import pytest
import sympy as sp

from sharpgen.theory.constructions import generalizing, memorizing
from sharpgen.theory.data import hypercube, xor_labels
from sharpgen.theory.params import Params

@pytest.mark.parametrize("params", [
    generalizing("bias", 3), generalizing("sim_bn", 2), generalizing("nobias", 4),
    memorizing("bias", hypercube(3)[:3, :], xor_labels(hypercube(3)[:3, :]), depth=3),
    Params(W1=sp.Matrix([[1, 2]]), W2=sp.Matrix([3])),
], ids=["C2", "C6", "C3", "C1-depth3", "width1"])
def test_repr_prints_every_field_as_a_matrix(params):
    text = repr(params)
    for name, mat in params.items():
        if mat.cols == 1:  # a column on one line, as the Matrix call that builds it
            assert "Matrix([" + ", ".join(sp.sstr(v) for v in mat) + "])" in text
        else:  # sympy's aligned rows, indented under the field name
            assert sp.sstr(mat).replace("\n", "\n        ") in text
    lines = text.splitlines()
    assert lines[0] == "Params(" and lines[1].startswith("    W1=Matrix([")
    # one matrix row per line, rows aligned: every row of W1 has the same length
    rows = [line for line in lines if line.startswith("        [")]
    assert len(rows) == (params.width if params.width > 1 else 0) + sum(w.rows for w in params.middle)
    assert len({len(r.rstrip("]),")) for r in rows[:params.width]}) <= 1
    assert str(params) == text


def test_repr_shows_the_fields_that_are_set():
    text = repr(generalizing("sim_bn", 2))
    assert "gamma=Matrix([sqrt(2)/2, sqrt(2)/2, sqrt(2)/2, sqrt(2)/2])" in text and "middle" not in text
    assert "b1=" not in repr(generalizing("nobias", 2))


def test_latex_renders_matrices():
    p = memorizing("bias", hypercube(2)[:2, :], [1, -1], depth=3)
    latex = sp.latex(p)
    assert latex.startswith(r"\left(W_{1} = \left[\begin{matrix}") and latex.endswith(r"\right)")
    for part in (r"b_{1} = ", r"\mathrm{middle}_{0} = ", r"W_{2} = ", r"\end{matrix}\right]^{\top}"):
        assert part in latex
    assert latex.count(r"\begin{matrix}") == 4
    assert p._repr_latex_() == f"${latex}$"
    assert r"\gamma = " in sp.latex(generalizing("sim_bn", 2))
