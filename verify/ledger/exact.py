"""Evidence kind 1: exact (sympy) checks of the ledger entries; ``EXACT`` maps entry id -> check.

Every check recomputes its numbers on seeded random training sets drawn from the hypercube
(``exact_tools.training_sets``) and returns an ``Outcome``; where the paper's printed statement
differs from the exact value, the outcome carries an ``Erratum`` with both values. ``EXACT`` is the
registry, merged from the part modules ``exact_mlp`` (relu MLP entries: F1-F4, C1-C3, Prop A.1),
``exact_norm`` (sim_bn, sim_ln, logistic loss), ``concentration`` (Lemmas A.7-A.10) and ``prop_a2``, as ``properties.PROPERTIES`` is for the properties.
"""
from __future__ import annotations

from sharpgen.verify.ledger import concentration, exact_mlp, exact_norm, prop_a2

# entry id -> its check; each part module holds those of its entries
EXACT = {**exact_mlp.EXACT, **exact_norm.EXACT, **concentration.EXACT, "prop-A.2": prop_a2.check_prop_a_2}
