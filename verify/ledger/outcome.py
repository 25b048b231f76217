"""What one piece of evidence for a ledger entry found: status, the worst discrepancy as a number,
its numbers, the errata (paper's value beside the exact one) and, for a failed property, the
shrunk counterexample in full.

Statuses: ``pass``; ``fail`` (a claim that should hold does not: ``sharpgen verify`` exits 1);
``not reproduced`` (a trained claim the ledger declares, before running, cannot be expected at
this profile, with the reason; it is reported with its numbers and does not change the exit
status); ``condition not met`` (the case checked lies outside the result's stated conditions,
named in ``unmet_condition``: reported with its numbers, never a failure, whatever it found; the
exit status does not change); ``not run`` (kind or entry not selected).

>>> o = Outcome(True, "Tr = 8 = min", worst=0.0, worst_what="|Tr - min|")
>>> o.status, Outcome(False, "x", expected=False).status, Outcome(False, "x", unmet_condition="n < d").status
('pass', 'not reproduced', 'condition not met')
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

PASS, FAIL, NOT_REPRODUCED, NOT_RUN = "pass", "fail", "not reproduced", "not run"
CONDITION_NOT_MET = "condition not met"
STATUS_ORDER = (FAIL, NOT_REPRODUCED, CONDITION_NOT_MET, PASS, NOT_RUN)  # worst first


@dataclass(frozen=True)
class Erratum:
    """Where the paper as printed and our computation differ (docs/paper.md §8): both values.
    ``basis``: "exact" (sympy) or "measured" (a printed training protocol run as printed)."""

    claim: str
    paper: str
    exact: str
    basis: str = "exact"


@dataclass
class Outcome:
    """One check's result. ``worst``: the largest discrepancy found (>= 0; NaN when none applies),
    ``worst_what`` says what it measures; ``numbers``: every number behind the verdict; ``expected``
    False with ``reason``: not expected at this profile; ``unmet_condition``: the stated condition
    of the result that the checked case does not meet (empty: all met)."""

    passed: bool
    detail: str
    worst: float = math.nan
    worst_what: str = ""
    numbers: dict = field(default_factory=dict)
    errata: list[Erratum] = field(default_factory=list)
    counterexample: dict | None = None
    expected: bool = True
    reason: str = ""
    unmet_condition: str = ""

    def __post_init__(self):
        self.passed = bool(self.passed)
        self.worst = float(self.worst)

    @property
    def status(self) -> str:
        if self.unmet_condition:
            return CONDITION_NOT_MET
        if self.passed:
            return PASS
        return FAIL if self.expected else NOT_REPRODUCED

    def to_json(self) -> dict:
        out = asdict(self)
        out["status"] = self.status
        return jsonable(out)


def worst_status(statuses) -> str:
    """The worst of several statuses (fail > not reproduced > condition not met > pass > not run).

    >>> worst_status(["pass", "not reproduced"]), worst_status(["condition not met", "pass"]), worst_status([])
    ('not reproduced', 'condition not met', 'not run')
    """
    statuses = list(statuses)
    for s in STATUS_ORDER:
        if s in statuses:
            return s
    return NOT_RUN


def jsonable(value):
    """Numbers stay numbers (NaN and inf become None, as JSON has neither); tuples become lists.

    >>> jsonable({"a": (1.0, float("nan")), "b": 2})
    {'a': [1.0, None], 'b': 2}
    """
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (bool, int, str)) or value is None:
        return value
    return str(value)


def max_finite(values, default: float = 0.0) -> float:
    """The largest finite value (``default`` when there is none).

    >>> max_finite([0.5, float("nan"), 2.0]), max_finite([])
    (2.0, 0.0)
    """
    finite = [float(v) for v in values if math.isfinite(float(v))]
    return max(finite) if finite else default
