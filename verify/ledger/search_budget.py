"""What one search check may spend and how near-flattest is read: shared by ``verify.ledger.search`` and
the part modules whose checks search (``condition2``), so each decision has one home.

>>> from sharpgen.verify.ledger.profiles import PROFILES
>>> starts_for(PROFILES["quick"]), schedule_for(PROFILES["paper"]).iterations
(6, 400)
"""
from __future__ import annotations

import torch

from sharpgen.numerics.search import Problem, Schedule
from sharpgen.verify.search.certify import certify

KAPPA = 0.01        # near-flattest: Tr <= (1 + KAPPA) x the infimum


def starts_for(profile) -> int:
    """Random starts per search: 6 in the quick and rates profiles, 24 in paper."""
    return 6 if profile.name != "paper" else 24


def schedule_for(profile, arch: str = "") -> Schedule:
    """250 iterations per descent in the quick and rates profiles (the ledger's budget), 400 in paper and
    for sim_bn (whose infimum is approached only as the first layer grows, which takes longer)."""
    return Schedule(iterations=400 if profile.name == "paper" or arch == "sim_bn" else 250)


def certificate(problem: Problem, theta: torch.Tensor) -> dict:
    """``verify.search.certify``'s independent re-check (float64 autograd Hessian; exact sympy where
    small), as plain data with its verdict under ``"ok"``."""
    return certify(problem, theta).to_dict()
