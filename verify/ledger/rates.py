"""Seed-dependent trained claims as rates: the fraction of seeds that meet a claim's per-seed criterion,
its 95% Wilson score interval, and the pass rule that turns the two into a verdict.

Two pass rules, chosen by how many seeds a group ran (``pass_rule``):

* ``ALL_SEEDS`` (fewer than ``RATE_MIN_SEEDS`` seeds: the quick and paper profiles): every seed meets
  the criterion; otherwise the claim fails.
* ``WILSON_RULE`` (``RATE_MIN_SEEDS`` seeds or more: the rates profile): the 95% Wilson lower bound of
  the success rate is >= ``RATE_LOW_MIN``, i.e. the outcome holds on most seeds, with confidence (at
  n = 10: 9 or 10 of 10); otherwise the claim is "not reproduced", reported with its numbers.

>>> r = SeedRate(9, 10, "test error <= 0.02")
>>> r.rule, r.passed, r.text()
('wilson_low >= 0.5', True, '9/10 seeds meet test error <= 0.02 (rate 0.900, 95% Wilson [0.596, 0.982])')
>>> SeedRate(8, 10, "x").passed, SeedRate(3, 3, "x").passed, SeedRate(2, 3, "x").passed
(False, True, False)
"""
from __future__ import annotations

import math
from dataclasses import dataclass

RATE_MIN_SEEDS = 10   # from this many seeds on, a claim is judged by its rate (the rates profile runs 10)
RATE_LOW_MIN = 0.5    # the Wilson lower bound a claim of an outcome must reach: it holds on most seeds
ALL_SEEDS = "all seeds"
WILSON_RULE = f"wilson_low >= {RATE_LOW_MIN:g}"
RULE_TEXT = {
    ALL_SEEDS: "pass when every seed meets the criterion; otherwise fail",
    WILSON_RULE: (f"pass when the 95% Wilson lower bound of the fraction of seeds meeting the criterion is >= "
                  f"{RATE_LOW_MIN:g} (the outcome holds on most seeds, with confidence; at n = 10: >= 9 of 10); "
                  f"otherwise not reproduced. Fixed from the paper's words before the evaluation seeds ran"),
}


def wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (low, high) for ``k`` successes in ``n`` trials at normal quantile ``z``
    (1.96: 95%): center (p + z²/2n) / (1 + z²/n), half-width z sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n),
    p = k/n. With n = 0 nothing is known: (0, 1).

    By hand, k = 9, n = 10: center 1.09208 / 1.38416 = 0.78898, half-width 0.267338 / 1.38416 = 0.19314.

    >>> [round(v, 4) for v in wilson(9, 10)]
    [0.5958, 0.9821]
    >>> wilson(0, 10)[0], wilson(10, 10)[1], wilson(0, 0)
    (0.0, 1.0, (0.0, 1.0))
    """
    if n < 0 or not 0 <= k <= max(n, 0):
        raise ValueError(f"wilson: expected 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return 0.0, 1.0
    p, z2 = k / n, z * z
    denom = 1 + z2 / n
    center = (p + z2 / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
    return (0.0 if k == 0 else max(0.0, center - half)), (1.0 if k == n else min(1.0, center + half))


def pass_rule(n: int) -> str:
    """The pass rule for a group of ``n`` seeds: ``WILSON_RULE`` from ``RATE_MIN_SEEDS`` on, else ``ALL_SEEDS``.

    >>> pass_rule(3), pass_rule(5), pass_rule(10)
    ('all seeds', 'all seeds', 'wilson_low >= 0.5')
    """
    return WILSON_RULE if n >= RATE_MIN_SEEDS else ALL_SEEDS


@dataclass(frozen=True)
class SeedRate:
    """``k`` of ``n`` seeds meet ``criterion`` (the per-seed condition, in words); ``paper``: the paper's
    sentence the criterion and the rule read."""

    k: int
    n: int
    criterion: str
    paper: str = ""

    @property
    def rate(self) -> float:
        return self.k / self.n if self.n else math.nan

    @property
    def interval(self) -> tuple[float, float]:
        return wilson(self.k, self.n)

    @property
    def rule(self) -> str:
        return pass_rule(self.n)

    @property
    def passed(self) -> bool:
        if self.rule == WILSON_RULE:
            return self.interval[0] >= RATE_LOW_MIN
        return self.n > 0 and self.k == self.n

    def text(self) -> str:
        low, high = self.interval
        return (f"{self.k}/{self.n} seeds meet {self.criterion} (rate {self.rate:.3f}, 95% Wilson "
                f"[{low:.3f}, {high:.3f}])")

    def numbers(self) -> dict:
        """The numbers report.json carries for the rate (``rate``, ``k``, ``n``, ``wilson_low``, ...)."""
        low, high = self.interval
        return {"rate": self.rate, "k": self.k, "n": self.n, "wilson_low": low, "wilson_high": high,
                "criterion": self.criterion, "pass_rule": f"{self.rule}: {RULE_TEXT[self.rule]}",
                "paper": self.paper}

    def shortfall(self) -> str:
        """Why the rate rule is not met, in one sentence (the reason of a "not reproduced" outcome)."""
        return (f"{self.text()}: the 95% Wilson lower bound {self.interval[0]:.3f} is below {RATE_LOW_MIN:g}, "
                f"the pass rule fixed from the paper's words before the evaluation seeds ran")


def seed_rate(successes, criterion: str, paper: str = "") -> SeedRate:
    """The ``SeedRate`` of per-seed outcomes ``successes`` (one bool per seed).

    >>> seed_rate([True, False, True], "x").k
    2
    """
    successes = [bool(s) for s in successes]
    return SeedRate(sum(successes), len(successes), criterion, paper)
