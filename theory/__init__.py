"""Exact, symbolic side of sharpgen (sympy only; never imports torch).

The paper's identities, bounds and constructions (docs/paper.md §3-§4), exactly.
A five-line tour: a memorizing C1 net is as flat as the bound F3, which is
4 sqrt(d + 1) on P_xor; ``d`` is the very symbol the results use.

>>> from sharpgen.theory import d, hypercube, xor_labels, memorizing, trace_hessian, min_sharpness_xor
>>> X = hypercube(3)[[0, 3, 5, 6], :]; Y = xor_labels(X)
>>> trace_hessian("bias", memorizing("bias", X, Y), X, Y)   # C1 on 4 points: exact Tr ∇²L
8
>>> m = min_sharpness_xor("bias"); m.value                    # F3 on P_xor, d symbolic
4*sqrt(d + 1)
>>> m.subs(d, 3) == 8, m.subs("d", 3).value, float(m.subs(d=30))
(True, 8, 22.271057451320086)

Modules: ``params`` (the layout shared with numerics), ``data``, ``architectures``
(forward pass), ``sharpness`` (exact Tr ∇²L, F1/F2), ``bounds`` (F3-F6),
``minimum`` (exact minimum sharpness), ``constructions`` (C1-C6), ``prop_a1`` (Prop A.1, eq. 16),
``generalization`` (population errors, Lemma 3.1), ``losses`` (MSE, F7),
``counterexamples`` (Thm 3.2's ∀i against C6 plus a cancelling pair),
``symbols`` (``d``, ``k``), ``checks`` (argument validation), ``exact`` (canonical forms, the one exact
equality ``same``), ``jets``.
"""
from sharpgen.theory.symbols import d, k
from sharpgen.theory.params import Params
from sharpgen.theory.data import condition1_set, hypercube, xor_labels
from sharpgen.theory.architectures import ARCHITECTURES, forward
from sharpgen.theory.sharpness import trace_hessian
from sharpgen.theory.minimum import MinSharpness, min_sharpness, min_sharpness_xor
from sharpgen.theory.constructions import generalizing, generalizing_symbolic, memorizing
from sharpgen.theory.generalization import population_errors
from sharpgen.theory.prop_a1 import prop_a1_network
from sharpgen.theory.counterexamples import (off_axis_ratios, thm32_counterexample, thm32_erratum, thm32_trace,
                                             thm32_witness)

__all__ = ["d", "k", "Params", "hypercube", "xor_labels", "condition1_set", "ARCHITECTURES", "forward",
           "trace_hessian", "MinSharpness", "min_sharpness", "min_sharpness_xor", "memorizing", "generalizing",
           "generalizing_symbolic", "population_errors", "prop_a1_network", "thm32_counterexample", "thm32_trace",
           "thm32_witness", "thm32_erratum", "off_axis_ratios"]
