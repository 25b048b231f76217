"""Search evidence for the "for all" statements on training sets and κ that hypothesis draws.

The ledger's seeded adversaries (``verify.ledger.search``) each run on one training set at κ = 1%.
Here hypothesis (``verify.ledger.properties.run_property``, seeded by ``--seed``) draws the training
set from the public strategies of ``sharpgen.verify.strategies`` (Condition-1 sets of d = 3, 4; P_xor
cube samples of several d and n), the width and the near-flattest slack κ, and the adversary
(``numerics.search.adversary``), told the statement's conclusion only, maximizes its violation over
{interpolating, Tr ∇²L <= (1 + κ) × infimum}. Each statement's threshold is fixed here before any run.

A violation is a certified net (``verify.search.certify``: an independent float64 autograd Hessian) that
breaks the conclusion on a genuine net (for a neuron: alive, no pre-activation at 0, so it depends on no
0/0 or relu'(0) convention). Hypothesis shrinks it towards the smallest d, set, width and κ (within a
call budget, ``search_budget.forall_calls``) and the shrunk case is kept in the report with its training
set and parameters. What a violation means is the statement's own quantifier (``Claim.quantifier``):

* ``"every interpolator"`` (Lemma A.1's ||γ ⊙ W2||₁ >= 2): a counterexample; an erratum found at run time;
* ``"some kappa"`` (Thm 3.2: for each ε *some* κ > 0 works): a violation at a drawn κ shows only that κ
  must be smaller; it is reported, never listed as a contradiction (the limit κ -> 0 is the exact family
  ``theory.counterexamples``, the entry's exact evidence);
* ``"proof bound"`` (Lemma 3.1's proof: path norm <= Tr / (4 sqrt(d) G) by AM-GM): an exact consequence,
  so a violation is a bug in theory or numerics: the check fails.

>>> sorted(CLAIMS)
['lemma-3.1', 'lemma-A.1', 'table1-sim_bn', 'thm-3.2']
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import torch
from hypothesis import strategies as st

from sharpgen.numerics.nets.data import cube, xor_labels
from sharpgen.numerics.nets.diagnostics import lemma31_terms
from sharpgen.numerics.search import Problem, SearchResult, adversary, targets
from sharpgen.verify import strategies as S
from sharpgen.verify.ledger.checks import Measure, Property
from sharpgen.verify.ledger.outcome import Erratum, Outcome
from sharpgen.verify.ledger.properties import run_property
from sharpgen.verify.ledger.search_budget import (certificate, forall_calls, forall_examples, schedule_for,
                                                 search_seed, starts_for)
from sharpgen.verify.ledger.search_drawn import as_tensor, condition1_xy, recorded, xor_sets
from sharpgen.verify.search.run import BELOW, SearchSpec, theory_minimum

KAPPAS = (0.005, 0.01, 0.02)  # relative slack; hypothesis shrinks towards the first, the strongest case
WIDTHS = (4, 6, 8)            # "any width m": shrinks towards the narrowest
LOOSE = 3.0                   # "every interpolator" claims: Tr <= (1 + 3) x infimum keeps the starts' region
RATIO = 0.5                   # Thm 3.2's ε for the weights: ||W1_i[3:d]|| > RATIO ||W1_i|| violates it
SUP_EPS = 0.5                 # Thm 3.2's ε for the function: max_cube |x1 x2 - f(x)| > SUP_EPS violates it
QUANTIFIERS = ("every interpolator", "some kappa", "proof bound")


def violating_neuron(problem: Problem, theta: torch.Tensor) -> dict:
    """The neuron with the largest ||W1_i[3:d]|| / ||W1_i|| and what shows it is a genuine neuron: its a_i
    (> 0: alive), how many training points it fires on, its least |pre-activation| there (> 0: no
    relu'(0) enters) and its output weight W2_i γ_i."""
    p = problem.unflatten(theta)
    row = p["W1"].norm(dim=1)
    ratio = torch.where(row > 0, p["W1"][:, 2:].norm(dim=1) / torch.where(row > 0, row, 1.0), -1.0)
    j = int(ratio.argmax())
    z = problem.X @ p["W1"][j] + p["b1"][j]
    return {"neuron": j, "ratio": float(ratio[j]), "row_norm": float(row[j]),
            "a": float(torch.relu(z).pow(2).mean().sqrt()), "fires_on": int((z > 0).sum()),
            "least_abs_preactivation": float(z.abs().min()), "output_weight": float(p["W2"][j] * p["gamma"][j])}


@dataclass(frozen=True)
class Claim:
    """One "for all" statement for the adversary. ``sets`` draws (X, Y) as exact sympy matrices;
    ``target(X)`` is the conclusion as a ``numerics.search.Target``; ``witness(problem, result)`` reads the
    search's result as {"violates", "value", "margin" (> 0 when violated), "convention"}; ``kappas``: the
    slacks drawn (empty: the claim is about every interpolator, bound ``LOOSE``); ``quantifier``: one of
    ``QUANTIFIERS``; ``quote``: the printed text it reads."""

    ref: str
    arch: str
    conclusion: str
    sets: st.SearchStrategy
    target: Callable[[torch.Tensor], targets.Target]
    witness: Callable[[Problem, SearchResult], dict]
    quantifier: str
    quote: str
    kappas: tuple = KAPPAS
    widths: tuple = WIDTHS

    def examples(self) -> st.SearchStrategy:
        """((X, Y), width, κ or None) as hypothesis draws them."""
        kappa = st.sampled_from(self.kappas) if self.kappas else st.none()
        return st.tuples(self.sets, st.sampled_from(self.widths), kappa)


def _weights_witness(problem: Problem, res: SearchResult) -> dict:
    who = violating_neuron(problem, res.best_theta)
    genuine = who["a"] > 0 and who["least_abs_preactivation"] > 0
    return {"violates": who["ratio"] > RATIO and genuine, "value": who["ratio"], "margin": who["ratio"] - RATIO,
            "neuron": who, "convention": (f"none: the neuron fires on {who['fires_on']} training points, a_i = "
                                          f"{who['a']:.3g} > 0 (no 0/0), least |pre-activation| "
                                          f"{who['least_abs_preactivation']:.3g} > 0 (no relu'(0))")}


def _sup_witness(problem: Problem, res: SearchResult) -> dict:
    err = float(res.values[res.best])
    return {"violates": err > SUP_EPS, "value": err, "margin": err - SUP_EPS,
            "convention": "none: a function of the net's outputs on the cube"}


def _mass_witness(problem: Problem, res: SearchResult) -> dict:
    mass = -float(res.values[res.best])  # the target is -||γ ⊙ W2||₁
    return {"violates": mass < 2 * (1 - BELOW), "value": mass, "margin": 2 - mass,
            "convention": "none: γ ⊙ W2 of the shared layout, any neuron (dead ones add 0 to the mass)"}


def _proof_bound_witness(problem: Problem, res: SearchResult) -> dict:
    """Lemma 3.1's proof bound on every feasible end point: path norm / (Tr_gn / (4 sqrt(d) G)) <= 1."""
    ratios = [lemma31_terms(problem.net(t), problem.X) for t, ok in zip(res.theta, res.feasible) if ok]
    worst = max(t.path_norm / t.path_norm_bound for t in ratios)
    return {"violates": worst > 1 + 1e-9, "value": worst, "margin": worst - 1,
            "path_norm": float(res.values[res.best]), "convention": "none: AM-GM on the closed-form trace"}


def _sup_error(X: torch.Tensor) -> targets.Target:
    C = cube(X.shape[1])
    return targets.sup_error(C, xor_labels(C))


_THM32 = ("Theorem 3.2 ... there exists constant κ > 0, such that for any width-m 2-MLP-Sim-BN ... "
          "Tr ∇²L(θ) ≤ κ + inf Tr ∇²L(θ'), it holds that ∀x ∈ {−1, 1}^d, |x[1]x[2] − f_θ(x)| ≤ ε and that "
          "∀i ∈ [m], ∥W1,i[3 : d]∥2 ≤ ε∥W1,i∥2.")
CLAIMS = {
    "thm-3.2": Claim("Thm 3.2", "sim_bn", "every near-flattest net's rows satisfy ||W1_i[3:d]|| <= ε ||W1_i||",
                     condition1_xy(dims=(3, 4)), lambda X: targets.off_coordinates((0, 1)), _weights_witness,
                     "some kappa", _THM32),
    "table1-sim_bn": Claim("Thm 3.2", "sim_bn", "every near-flattest net has |x1 x2 - f(x)| <= ε on the cube",
                           condition1_xy(dims=(3, 4)), _sup_error, _sup_witness, "some kappa", _THM32),
    "lemma-A.1": Claim("Lemma A.1", "sim_bn", "every interpolator has ||γ ⊙ W2||₁ >= 2",
                       condition1_xy(dims=(3, 4)), lambda X: targets.output_mass(), _mass_witness,
                       "every interpolator", "This then implies Σ_j |(γ ⊙ W2)[j]| ≥ n/(n/2) = 2.", kappas=()),
    "lemma-3.1": Claim("Lemma 3.1", "nobias", "path norm <= Tr_gn / (4 sqrt(d) G) on every net (the proof's AM-GM)",
                       xor_sets(S.cube_subsets(dims=(3, 4), min_n=2, max_n=8)), lambda X: targets.path_norm(),
                       _proof_bound_witness, "proof bound", "arg min_{L(θ)=0} Tr ∇²L(θ) ⊆ Θ_C", widths=(6, 8)),
}


def _searched(claim: Claim, problem: Problem, bound: float, profile) -> SearchResult:
    return adversary(problem, claim.target(problem.X), bound, starts=starts_for(profile), seed=search_seed(profile),
                     schedule=schedule_for(profile), flat_schedule=schedule_for(profile, claim.arch))


def _check(claim: Claim, profile):
    def check(example) -> Measure:
        (Xs, Ys), width, kappa = example
        X, Y = as_tensor(Xs), as_tensor(Ys).flatten()
        infimum = theory_minimum(SearchSpec(claim.arch, width, X, Y)).value
        base = {"d": X.shape[1], "n": len(Y), "width": width, "kappa": kappa, "infimum": infimum, "reached": False}
        if infimum is None:
            return Measure(True, 0.0, base)
        problem = Problem(claim.arch, X, Y, width=width)
        bound = infimum * (1 + (LOOSE if kappa is None else kappa))
        res = _searched(claim, problem, bound, profile)
        if res.best is None:  # no start inside the set: nothing found, nothing refuted
            return Measure(True, 0.0, dict(base, bound=bound))
        witness, cert = claim.witness(problem, res), certificate(problem, res.best_theta)
        values = dict(base, bound=bound, reached=True, trace=res.best_trace, witness=witness,
                      certificate_ok=cert["ok"], below_infimum=res.best_trace < infimum * (1 - BELOW))
        if values["below_infimum"] or not cert["ok"]:  # a bug in theory or numerics, never a verdict on the claim
            return Measure(False, math.inf, values)
        if witness["violates"]:
            values.update(violation=True, X=X.tolist(), Y=Y.tolist(),
                          params={k: v.tolist() for k, v in problem.unflatten(res.best_theta).items()})
            return Measure(False, witness["margin"], values)
        return Measure(True, max(witness["margin"], 0.0), values)
    return check


def _erratum(claim: Claim, v: dict) -> Erratum:
    w = v["witness"]
    where = f"d = {v['d']}, n = {v['n']}, width {v['width']}"
    return Erratum(claim.ref, claim.conclusion,
                   f"the adversary found a certified interpolator with Tr = {v['trace']:.6g} <= {v['bound']:.6g} "
                   f"({where}) and value {w['value']:.6g}", basis="search", kind="error", where="statement",
                   quote=claim.quote, reading="as printed", convention=w["convention"],
                   printed_value=claim.conclusion, other_value=f"{w['value']:.6g} at {where}")


def drawn_forall(entry_id: str, profile) -> Outcome:
    """The adversary against ``CLAIMS[entry_id]`` on ``forall_examples(profile)`` drawn (set, width, κ)."""
    claim = CLAIMS[entry_id]
    recording, seen = recorded(_check(claim, profile))
    prop = Property(entry_id, f"{claim.ref}: {claim.conclusion}", claim.conclusion, claim.examples, recording,
                    "violation margin")
    examples = forall_examples(profile)
    out = run_property(prop, examples=examples, seed=profile.seed, max_calls=forall_calls(profile))
    reached = [v for v in seen if v.get("reached")]
    out.numbers.update(sets=len(seen), reached=len(reached), quantifier=claim.quantifier,
                       kappas=[v.get("kappa") for v in seen], widths=[v.get("width") for v in seen],
                       sizes=[(v.get("d"), v.get("n")) for v in seen], values=[v["witness"]["value"] for v in reached])
    found = (out.counterexample or {}).get("values", {})
    if out.passed:
        out.detail = (f"{claim.ref} against the adversary on {len(seen)} drawn (set, width, κ): no violation "
                      f"({len(reached)} reached the near-flattest set)")
        return out
    if not found.get("violation"):  # a crash, a net below the infimum or a failed certificate: a bug
        return out
    return _violation_outcome(claim, found, out)


def _violation_outcome(claim: Claim, found: dict, out: Outcome) -> Outcome:
    shown = (f"{claim.ref}: the adversary's shrunk case d = {found['d']}, n = {found['n']}, width {found['width']}, "
             f"κ = {found['kappa']}: value {found['witness']['value']:.6g} at Tr = {found['trace']:.6g} <= "
             f"{found['bound']:.6g}, certified (against: {claim.conclusion})")
    if claim.quantifier == "proof bound":
        out.detail = f"{shown}: an exact consequence failed (a bug in theory or numerics)"
        return out
    out.passed = True
    if claim.quantifier == "every interpolator":
        out.detail, out.errata = shown, [_erratum(claim, found)]
        return out
    out.detail = (f"{shown}; κ is existential in the statement, so a violation at this κ shows only that κ must "
                  "be smaller (the limit κ -> 0 is the exact family's, exact evidence)")
    return out
