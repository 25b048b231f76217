"""What one piece of evidence for a ledger entry found: status, the worst discrepancy as a number,
its numbers, the errata (paper's value beside the exact one) and, for a failed property, the
shrunk counterexample in full.

Statuses: ``pass``; ``fail`` (a claim that should hold does not: ``sharpgen verify`` exits 1);
``not reproduced`` (a trained claim the ledger declares, before running, cannot be expected at
this profile, with the reason; it is reported with its numbers and does not change the exit
status); ``contradicted`` (the check passed, but the result's statement as printed is false under
every reasonable reading: an erratum of kind ``error`` on the statement itself, not on a constant
of its proof; reported with both values, the exit status does not change); ``condition not met``
(the case checked lies outside the result's stated conditions, named in ``unmet_condition``:
reported with its numbers, never a failure, whatever it found; the exit status does not change);
``not run`` (kind or entry not selected, or evidence that runs in other profiles only: ``not_run`` says
which, and what it costs).

>>> o = Outcome(True, "Tr = 8 = min", worst=0.0, worst_what="|Tr - min|")
>>> o.status, Outcome(False, "x", expected=False).status, Outcome(False, "x", unmet_condition="n < d").status
('pass', 'not reproduced', 'condition not met')
>>> Outcome(True, "runs in --profile rates", not_run="runs in --profile rates").status
'not run'
"""
from __future__ import annotations

import math
from dataclasses import KW_ONLY, asdict, dataclass, field

PASS, FAIL, NOT_REPRODUCED, NOT_RUN = "pass", "fail", "not reproduced", "not run"
CONDITION_NOT_MET, CONTRADICTED = "condition not met", "contradicted"
STATUS_ORDER = (FAIL, CONTRADICTED, NOT_REPRODUCED, CONDITION_NOT_MET, PASS, NOT_RUN)  # worst first

# What an erratum is: ``error`` (false under every reasonable reading of the printed text),
# ``ambiguous typesetting`` (one reading of the printed symbols is right), ``inconsistency`` (two of
# the paper's own statements disagree; each is right under its convention), ``measured`` (a printed
# training protocol run as printed).
ERROR, AMBIGUOUS, INCONSISTENCY, MEASURED = "error", "ambiguous typesetting", "inconsistency", "measured"
ERRATUM_KINDS = (ERROR, AMBIGUOUS, INCONSISTENCY, MEASURED)
# Which printed text an erratum reads: the result's statement, a construction or constant of its
# proof, or the experiment's protocol. Only an ``error`` on the ``statement`` contradicts the result.
ERRATUM_WHERE = ("statement", "proof", "protocol")


@dataclass(frozen=True)
class Erratum:
    """Where the paper as printed and our computation differ (docs/conventions.md "Errata"): both values.

    ``claim``: which result; ``paper`` / ``exact``: what the printed text gives and what the exact
    computation (or, ``basis="measured"``, the run) gives, in full. ``kind``: one of ``ERRATUM_KINDS``;
    ``where``: one of ``ERRATUM_WHERE``; ``quote``: the printed text read (short); ``reading``: the
    reading taken and why; ``convention``: the convention the values depend on ("none" if none);
    ``printed_value`` / ``other_value``: the value under the printed reading and under the alternative
    reading (or the exact value).

    >>> e = Erratum("Lemma A.13", "Tr = 25/4 S", "Tr = 4/25 S", kind="error", where="statement",
    ...             quote="Tr = 1/(p(1-p)) (1/n) sum ||grad f||^2", reading="as printed", convention="none",
    ...             printed_value="25/4", other_value="4/25")
    >>> e.contradicts_statement, e.kind
    (True, 'error')
    """

    claim: str
    paper: str
    exact: str
    basis: str = "exact"
    _: KW_ONLY
    kind: str
    where: str
    quote: str
    reading: str
    convention: str
    printed_value: str
    other_value: str

    def __post_init__(self):
        if self.kind not in ERRATUM_KINDS:
            raise ValueError(f"kind: expected one of {ERRATUM_KINDS}, got {self.kind!r}")
        if self.where not in ERRATUM_WHERE:
            raise ValueError(f"where: expected one of {ERRATUM_WHERE}, got {self.where!r}")
        empty = [name for name in ("quote", "reading", "convention", "printed_value", "other_value")
                 if not str(getattr(self, name)).strip()]
        if empty:
            raise ValueError(f"{empty[0]}: an erratum states it (write 'none' for no convention)")

    @property
    def contradicts_statement(self) -> bool:
        """An ``error`` in the result's statement itself: the result as printed is contradicted."""
        return self.kind == ERROR and self.where == "statement"


@dataclass
class Outcome:
    """One check's result. ``worst``: the largest discrepancy found (>= 0; NaN when none applies),
    ``worst_what`` says what it measures; ``numbers``: every number behind the verdict; ``expected``
    False with ``reason``: not expected at this profile; ``unmet_condition``: the stated condition
    of the result that the checked case does not meet (empty: all met); ``not_run``: why the evidence
    did not run in this profile (empty: it ran)."""

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
    not_run: str = ""

    def __post_init__(self):
        self.passed = bool(self.passed)
        self.worst = float(self.worst)

    @property
    def status(self) -> str:
        if self.not_run:
            return NOT_RUN
        if self.unmet_condition:
            return CONDITION_NOT_MET
        if self.passed:
            return CONTRADICTED if self.contradictions else PASS
        return FAIL if self.expected else NOT_REPRODUCED

    @property
    def contradictions(self) -> list[Erratum]:
        """The errata that contradict the result's statement as printed (``Erratum.contradicts_statement``)."""
        return [e for e in self.errata if e.contradicts_statement]

    def to_json(self) -> dict:
        out = asdict(self)
        out["status"] = self.status
        return jsonable(out)


def worst_status(statuses) -> str:
    """The worst of several statuses (fail > contradicted > not reproduced > condition not met > pass > not run).

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
