"""What the trained evidence's judges share (``verify.ledger.trained`` and ``verify.ledger.trained_figures``):
the levels fixed from the paper's words (what each reads: ``trained``'s module docstring), the
``TrainedCheck`` an entry's judge is registered as, the per-seed table of a group's runs and the outcome
built from a criterion and its pass rule (``verify.ledger.rates``).

Which profiles an entry's trained evidence runs in is decided here, in one place
(``TrainedCheck.skip_reason``): in any other profile its runs are not trained and its row is
``not run``, with the profiles that run it and their measured cost.

>>> check = TrainedCheck(("g",), judge=None, profiles=("rates", "paper"), cost="30 runs, 120 s")
>>> check.skip_reason("rates"), check.skip_reason("quick")
('', 'not run in the quick profile: runs in --profile rates and --profile paper (30 runs, 120 s)')
>>> TrainedCheck(("g",), judge=None).skip_reason("quick")
''
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from sharpgen.verify.ledger.approached import describe_run
from sharpgen.verify.ledger.outcome import Outcome
from sharpgen.verify.ledger.rates import WILSON_RULE, SeedRate

GENERALIZES = 0.02
MEMORIZES = 0.15
SIM_LN_LOW = 0.10
FLAT_TOL = 0.05
NOBIAS_FACTOR = 1.5
HEAD_OVER_REST = 5.0
PATH_NORM_FACTOR = 2.0
C3_PATH_NORM = 2 * math.sqrt(2)
COLLAPSED_MEAN_ABS_F = 0.1   # docs/scenarios.md: a collapsed net has mean |f| < 0.1 on the training set
COLLAPSED_TRAIN_LOSS = 0.8   # ... and training loss > 0.8 (f ≡ 0 gives 1)
CUBE_DATA = ("xor", "condition1")  # the data on {-1, 1}^d, where ``approached.describe_run`` applies


@dataclass(frozen=True)
class TrainedCheck:
    """Which run groups an entry judges, how, and what its figure plots (column, reference line);
    ``profiles``: the profiles it runs in (None: every one), ``cost``: what its runs cost where
    measured, said in the ``not run`` row of any other profile."""

    groups: tuple[str, ...]
    judge: Callable
    column: str = "trace"
    reference: str = "theory_min"
    profiles: tuple[str, ...] | None = None
    cost: str = ""

    def skip_reason(self, profile_name: str) -> str:
        """Why the entry's trained evidence does not run in profile ``profile_name`` ("" when it runs)."""
        if self.profiles is None or profile_name in self.profiles:
            return ""
        cost = f" ({self.cost})" if self.cost else ""
        return (f"not run in the {profile_name} profile: runs in "
                f"{' and '.join(f'--profile {p}' for p in self.profiles)}{cost}")


def seed_table(records, extra=lambda r: {}) -> list[dict]:
    rows = []
    for r in records:
        f = r.final
        num = lambda key: math.nan if f.get(key) is None else float(f[key])  # a diverged run has no numbers
        row = {"group": r.spec.group, "seed": r.spec.config.seed, "status": r.status, "epoch": f.get("epoch"),
               "test_error": num("test_error"), "trace": num("trace"), "trace_gn": num("trace_gn"),
               "theory_min": num("theory_min"), "train_loss": num("train_loss"), "run": r.run_dir.name}
        row.update(extra(r))
        # which flattest minimizer it approached is read on the cube (unseen cube points, ±x1 ± x2); not off it
        row["approached"] = describe_run(r) if r.status == "done" and r.spec.config.data in CUBE_DATA else {}
        rows.append(row)
    return rows


def ratio_to(row, column="trace") -> float:
    value, best = row.get(column, math.nan), row.get("theory_min", math.nan)
    return value / best if best else math.nan


def trained_outcome(ok, detail, seeds, worst, what, records, rate: SeedRate | None = None, **numbers) -> Outcome:
    """The entry's outcome: ``ok`` for its parts other than ``rate`` (the per-seed criterion, judged by its
    pass rule, ``verify.ledger.rates``); under the rate rule a rate short of it is "not reproduced"."""
    expected = all(r.spec.expected for r in records)
    reason = next((r.spec.reason for r in records if r.spec.reason), "")
    if rate is None:
        return Outcome(ok, detail, worst, what, dict(numbers, seeds=seeds), expected=expected, reason=reason)
    if rate.rule == WILSON_RULE and ok and not rate.passed:
        expected, reason = False, rate.shortfall()
    return Outcome(ok and rate.passed, f"{detail}; {rate.text()} (pass rule: {rate.rule})", worst, what,
                   dict(numbers, **rate.numbers(), seeds=seeds), expected=expected, reason=reason)


def all_done(records) -> bool:
    return bool(records) and all(r.status == "done" for r in records)


def finished(row) -> bool:
    return row["status"] == "done"


def fmt_values(values) -> str:
    return "[" + ", ".join("nan" if v is None or v != v else f"{v:.4g}" for v in values) + "]"


def first_config(records, name):
    return getattr(records[0].spec.config, name) if records else "?"
