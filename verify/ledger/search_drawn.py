"""Search evidence on training sets hypothesis draws: every exact minimum met from above on sets nobody
picked. The ledger's own search checks (``verify.ledger.search``) each run on one seeded set; here
hypothesis (``verify.ledger.properties.run_property``, seeded by ``--seed``, ``drawn_examples`` sets per
entry) draws the training sets from the public strategies of ``sharpgen.verify.strategies``: cube
samples of several d and n, extreme-point sets off the cube (rational points of spheres of random
centre and radius) and Condition-1 sets, with the labels the theorem allows.

On each set ``flattest`` runs, told the architecture and the set only. The property, fixed before any
run, is the one a search can refute: no reported net lies below the exact minimum of its set by more
than ``BELOW`` (relative; a bug in theory or numerics), and every reported net passes its independent
certificate. Coming within ``REACH`` of the minimum is measured on every set (the fraction is reported),
not judged: a search that falls short is a limit of the search. A violation is shrunk by hypothesis to
the smallest set that still shows it and kept in the report with its training set.

>>> sorted(CASES)
['lemma-A.12', 'lemma-A.3', 'thm-3.1', 'thm-4.1', 'thm-4.1-d3']
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
import torch
from hypothesis import strategies as st

from sharpgen.numerics.search import Problem, flattest
from sharpgen.verify import strategies as S
from sharpgen.verify.ledger.checks import Measure, Property
from sharpgen.verify.ledger.outcome import Outcome
from sharpgen.verify.ledger.properties import run_property
from sharpgen.verify.ledger.search_budget import REACH, certificate, drawn_examples, schedule_for, search_seed, starts_for
from sharpgen.verify.search.run import BELOW, SearchSpec, theory_minimum


@dataclass(frozen=True)
class Case:
    """What hypothesis draws for one entry: ``sets`` gives (X, Y) as exact sympy matrices; the net's
    architecture, width and hyperparameters."""

    arch: str
    sets: st.SearchStrategy
    width: int
    hyper: dict = field(default_factory=dict)


def xor_sets(draw_set):
    """(d, X) -> (X, x1 x2): cube points with the P_xor labels (``nobias``'s minimum is exact there)."""
    return draw_set.map(lambda dx: (dx[1], sp.Matrix([row[0] * row[1] for row in dx[1].tolist()])))


def condition1_xy(dims=(3,)):
    """(X, Y) of a ``strategies.condition1_sets`` draw (Condition-1 sets labelled x1 x2)."""
    return S.condition1_sets(dims=dims).map(lambda dxy: (dxy[1], dxy[2]))


@st.composite
def _labelled(draw, draw_set):
    """(d, X) -> (X, Y): labels from ``strategies.labels`` (zeros and non-unit magnitudes included)."""
    _, X = draw(draw_set)
    return X, draw(S.labels(X.rows))


CASES = {
    "thm-4.1": Case("bias", _labelled(S.extreme_sets(max_d=4, max_n=6)), 8),
    "thm-4.1-d3": Case("bias", _labelled(S.cube_subsets(dims=(2, 3), max_n=5)), 6, {"depth": 3}),
    "thm-3.1": Case("nobias", xor_sets(S.cube_subsets(dims=(3, 4), min_n=2, max_n=8)), 8),
    "lemma-A.12": Case("sim_ln", _labelled(S.extreme_sets(max_d=4, max_n=6)), 8, {"eps": 1e-3}),
    "lemma-A.3": Case("sim_bn", condition1_xy(dims=(3,)), 6),
}


def as_tensor(M: sp.Matrix) -> torch.Tensor:
    """An exact sympy matrix as a float64 tensor (the search's inputs)."""
    return torch.tensor([[float(v) for v in row] for row in M.tolist()], dtype=torch.float64)


def _check(case: Case, profile):
    def check(example) -> Measure:
        X, Y = as_tensor(example[0]), as_tensor(example[1]).flatten()
        best = theory_minimum(SearchSpec(case.arch, case.width, X, Y, **case.hyper)).value
        problem = Problem(case.arch, X, Y, width=case.width, **case.hyper)
        res = flattest(problem, starts=starts_for(profile), seed=search_seed(profile),
                       schedule=schedule_for(profile, case.arch))
        if res.best is None or best is None:
            return Measure(True, 0.0, {"found": None, "minimum": best, "n": len(Y), "reached": False})
        gap = (res.best_trace - best) / max(abs(best), 1e-300)
        cert = certificate(problem, res.best_theta)
        values = {"minimum": best, "found": res.best_trace, "relative_gap": gap, "n": len(Y), "d": X.shape[1],
                  "reached": gap <= REACH, "certificate_ok": cert["ok"], "discrepancy": max(-gap, 0.0)}
        return Measure(gap >= -BELOW and cert["ok"], max(-gap, 0.0), values)
    return check


def recorded(check):
    """(``check`` keeping each measure's values, the list they go to): what a drawn check reports beside
    its verdict."""
    seen = []

    def recording(example) -> Measure:
        m = check(example)
        seen.append(m.values)
        return m
    return recording, seen


def drawn_minimum(entry_id: str, profile) -> Outcome:
    """``flattest`` met from above on ``drawn_examples(profile)`` hypothesis-drawn sets of ``CASES[entry_id]``."""
    case = CASES[entry_id]
    recording, seen = recorded(_check(case, profile))
    prop = Property(entry_id, f"{case.arch} flattest never below the exact minimum on drawn sets",
                    "no interpolator below the exact minimum", lambda: case.sets, recording,
                    "relative depth below the exact minimum")
    out = run_property(prop, examples=drawn_examples(profile), seed=profile.seed)
    reached = sum(bool(v.get("reached")) for v in seen)
    out.numbers.update(sets=len(seen), reached=reached, reach=REACH,
                       gaps=[v.get("relative_gap") for v in seen], sizes=[v.get("n") for v in seen])
    out.detail += f"; within {REACH:.0%} of the minimum on {reached} of {len(seen)} drawn sets (measured)"
    return out
