"""Evidence kind 3: trained 1-SAM runs (and the GD + weight-decay baseline) judged against theory.

The thresholds were fixed from the paper and the ledger's statements before any run was looked
at, and are never tuned to a result; every seed must meet them (a claim that does not reproduce
is reported failing, with its numbers). The theory minimum of each run is exact for its own
training set (``theory_min`` in metrics.csv).

* ``nobias`` (Fig. 1, Thm 3.1): test zero-one error <= ``GENERALIZES`` and Tr <= ``NOBIAS_FACTOR``
  x 4 sqrt(d) (1-SAM approximately reaches the bound, §6 of the paper; the factor leaves room for
  a finite schedule while excluding the GD + weight-decay baseline, several times sharper).
* ``bias`` (Fig. 4, Thm 4.1): |Tr / 4 sqrt(d+1) − 1| <= ``FLAT_TOL`` while test error >=
  ``MEMORIZES`` (flattest, yet memorizing); GD + weight decay: test error <= ``GENERALIZES`` and Tr
  above both 1-SAM's (same seed) and (1 + ``FLAT_TOL``) x the minimum.
* ``sim_ln`` (Fig. 6, Thm 5.1): the interpolation part of Tr (``trace_gn``, Lemma 4.1) within
  ``FLAT_TOL`` of its minimum 2 while test error <= ``SIM_LN_LOW``. The paper shows near-perfect
  generalization without a number; 0.10 is a fifth of chance (0.5) and far from the memorizing
  C4's 1 − n/2^d; each seed's error against ``GENERALIZES`` is reported beside it.
* ``sim_bn`` (Fig. 2, Thm 3.2): test error <= ``GENERALIZES`` and each of the four largest
  first-layer neurons has min(|W1_j[1]|, |W1_j[2]|) >= ``HEAD_OVER_REST`` x ||W1_j[3:d]||, the four
  covering the sign patterns of ±x1 ± x2, judged on the reproducing protocol (``fig2a-repro``).
  Figure 2a's protocol as printed is run beside it and what it does (diverged, collapsed to
  f ≈ 0 by docs/scenarios.md's criteria, or neither) is recorded as a measured erratum; it
  does not change the entry's status.
* Thm 3.1 (rate Õ(d/n)): the seed-mean test error at n = 100 is at most that at n = 30 (d = 30),
  and every n = 100 seed generalizes. Lemma 3.1 (path norm <= C independent of d, under Thm 3.1's
  n = Ω(d log d)): a trained ``nobias`` net whose training set has a dead direction (u·x_i < 0 for
  every i, found by an LP and certified exactly) is outside the lemma's setting and reported as
  condition not met; every other has path norm <= ``PATH_NORM_FACTOR`` x C3's 2 sqrt(2).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from sharpgen.numerics.runs.train import make_dataset
from sharpgen.theory.dead_directions import dead_direction
from sharpgen.verify.ledger.approached import describe_run
from sharpgen.verify.ledger.outcome import Erratum, Outcome

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


@dataclass(frozen=True)
class TrainedCheck:
    """Which run groups an entry judges, how, and what its figure plots (column, reference line)."""

    groups: tuple[str, ...]
    judge: Callable
    column: str = "trace"
    reference: str = "theory_min"


def _seed_table(records, extra=lambda r: {}) -> list[dict]:
    rows = []
    for r in records:
        f = r.final
        num = lambda key: math.nan if f.get(key) is None else float(f[key])  # a diverged run has no numbers
        row = {"group": r.spec.group, "seed": r.spec.config.seed, "status": r.status, "epoch": f.get("epoch"),
               "test_error": num("test_error"), "trace": num("trace"), "trace_gn": num("trace_gn"),
               "theory_min": num("theory_min"), "train_loss": num("train_loss"), "run": r.run_dir.name}
        row.update(extra(r))
        row["approached"] = describe_run(r) if r.status == "done" else {}
        rows.append(row)
    return rows


def _ratio(row, column="trace") -> float:
    value, best = row.get(column, math.nan), row.get("theory_min", math.nan)
    return value / best if best else math.nan


def _outcome(ok, detail, seeds, worst, what, records, **numbers) -> Outcome:
    expected = all(r.spec.expected for r in records)
    reason = next((r.spec.reason for r in records if r.spec.reason), "")
    return Outcome(ok, detail, worst, what, dict(numbers, seeds=seeds), expected=expected, reason=reason)


def _done(records) -> bool:
    return bool(records) and all(r.status == "done" for r in records)


def judge_nobias(groups) -> Outcome:
    recs = groups["nobias-sam"]
    seeds = _seed_table(recs)
    ok = _done(recs) and all(s["test_error"] <= GENERALIZES and _ratio(s) <= NOBIAS_FACTOR for s in seeds)
    worst = max((_ratio(s) - 1 for s in seeds), default=math.nan)
    return _outcome(ok, f"1-SAM nobias: test error {_fmt(s['test_error'] for s in seeds)} (<= {GENERALIZES}), "
                        f"Tr/4sqrt(d) {_fmt(_ratio(s) for s in seeds)} (<= {NOBIAS_FACTOR})",
                    seeds, worst, "max over seeds of Tr/min - 1", recs,
                    thresholds={"test_error_max": GENERALIZES, "trace_over_min_max": NOBIAS_FACTOR})


def judge_bias(groups) -> Outcome:
    sam, gd = groups["bias-sam"], groups["bias-gd"]
    s_rows, g_rows = _seed_table(sam), _seed_table(gd)
    sam_trace = {s["seed"]: s["trace"] for s in s_rows}
    ok_sam = all(abs(_ratio(s) - 1) <= FLAT_TOL and s["test_error"] >= MEMORIZES for s in s_rows)
    ok_gd = all(g["test_error"] <= GENERALIZES and g["trace"] > (1 + FLAT_TOL) * g["theory_min"]
                and g["trace"] > sam_trace.get(g["seed"], math.inf) for g in g_rows)
    worst = max((abs(_ratio(s) - 1) for s in s_rows), default=math.nan)
    return _outcome(_done(sam) and _done(gd) and ok_sam and ok_gd,
                    f"1-SAM bias: Tr/4sqrt(d+1) {_fmt(_ratio(s) for s in s_rows)} (within {FLAT_TOL}), test error "
                    f"{_fmt(s['test_error'] for s in s_rows)} (>= {MEMORIZES}); GD+wd: test error "
                    f"{_fmt(g['test_error'] for g in g_rows)} (<= {GENERALIZES}), Tr/min {_fmt(_ratio(g) for g in g_rows)}",
                    s_rows + g_rows, worst, "max over 1-SAM seeds of |Tr/min - 1|", sam + gd,
                    thresholds={"flat_tolerance": FLAT_TOL, "sam_test_error_min": MEMORIZES,
                                "gd_test_error_max": GENERALIZES})


def judge_sim_ln(groups) -> Outcome:
    recs = groups["sim_ln-sam"]
    seeds = _seed_table(recs)
    ok = _done(recs) and all(abs(_ratio(s, "trace_gn") - 1) <= FLAT_TOL and s["test_error"] <= SIM_LN_LOW
                             for s in seeds)
    worst = max((abs(_ratio(s, "trace_gn") - 1) for s in seeds), default=math.nan)
    return _outcome(ok, f"1-SAM sim_ln: interpolation part of Tr / 2 {_fmt(_ratio(s, 'trace_gn') for s in seeds)} "
                        f"(within {FLAT_TOL}), test error {_fmt(s['test_error'] for s in seeds)} (<= {SIM_LN_LOW}; "
                        f"<= {GENERALIZES} on {sum(s['test_error'] <= GENERALIZES for s in seeds)}/{len(seeds)} seeds)",
                    seeds, worst, "max over seeds of |trace_gn/min - 1|", recs,
                    thresholds={"flat_tolerance": FLAT_TOL, "test_error_max": SIM_LN_LOW})


def _aligned(s) -> bool:
    a = s["approached"]
    return bool(a) and a["top4_sign_patterns"] == 4 and min(a["top4_head_over_rest"]) >= HEAD_OVER_REST


def judge_sim_bn(groups, *, generalization: bool = True) -> Outcome:
    recs = groups["sim_bn-sam"]
    seeds = _seed_table(recs)
    ok = _done(recs) and all(_aligned(s) and (not generalization or s["test_error"] <= GENERALIZES) for s in seeds)
    worst = max((s["test_error"] for s in seeds), default=math.nan)
    heads = [min(s["approached"].get("top4_head_over_rest", [math.nan])) for s in seeds]
    return _outcome(ok, f"1-SAM sim_bn ({recs[0].spec.preset if recs else '?'}, d={_cfg(recs, 'd')}, "
                        f"n={_cfg(recs, 'n')}, width {_cfg(recs, 'width')}): test error "
                        f"{_fmt(s['test_error'] for s in seeds)}{f' (<= {GENERALIZES})' if generalization else ''}, "
                        f"top-4 min |W1[1,2]| / ||W1[3:]|| {_fmt(heads)} (>= {HEAD_OVER_REST}), sign patterns "
                        f"{[s['approached'].get('top4_sign_patterns') for s in seeds]} (4)",
                    seeds, worst, "max over seeds of the test error", recs,
                    thresholds={"test_error_max": GENERALIZES, "head_over_rest_min": HEAD_OVER_REST})


def printed_fig2a(records) -> Erratum | None:
    """What Figure 2a's protocol as printed did here, per seed: diverged (and after which epoch) or
    collapsed to f ≈ 0 (docs/scenarios.md's criteria) or neither, with the final numbers."""
    if not records:
        return None
    outcomes = []
    for r in records:
        f = r.final
        if r.status == "diverged":
            outcomes.append(f"seed {r.spec.config.seed}: diverged after epoch {f.get('epoch', 0):g}")
            continue
        mean_f, loss = f.get("diag_mean_abs_f", math.nan), f.get("train_loss", math.nan)
        collapsed = mean_f < COLLAPSED_MEAN_ABS_F and loss > COLLAPSED_TRAIN_LOSS
        outcomes.append(f"seed {r.spec.config.seed}: {'collapsed' if collapsed else 'neither diverged nor collapsed'} "
                        f"(mean |f| {mean_f:.3g}, training loss {loss:.3g}, test error {f.get('test_error', math.nan):.3g})")
    cfg = records[0].spec.config
    phases = "; ".join(f"lr {p.lr:g}, ρ {p.rho:g}" for p in cfg.phases)
    return Erratum("Figure 2a protocol (fig2a as printed)",
                   f"1-SAM on sim_bn, {phases}, γ starting at {cfg.init_gamma:g} (PyTorch's BatchNorm default; the "
                   f"paper states none), width {cfg.width}: generalizes (Fig. 2)",
                   "; ".join(outcomes) + "; the ledger judges fig2a-repro instead (γ from 0.5, phase-2 ρ 0.55; "
                   "docs/scenarios.md)", basis="measured")


def judge_table1_sim_bn(groups) -> Outcome:
    outcome = judge_sim_bn(groups)
    deviation = printed_fig2a(groups.get("sim_bn-printed", []))
    if deviation is not None:
        outcome.errata.append(deviation)
    return outcome


def judge_thm_3_2(groups) -> Outcome:
    return judge_sim_bn(groups, generalization=False)


def judge_thm_3_1(groups) -> Outcome:
    big, small = groups["nobias-sam"], groups["nobias-sam-n30"]
    b_rows, s_rows = _seed_table(big), _seed_table(small)
    mean = lambda rows: sum(r["test_error"] for r in rows) / len(rows) if rows else math.nan
    ok = _done(big) and _done(small) and mean(b_rows) <= mean(s_rows) and all(
        r["test_error"] <= GENERALIZES for r in b_rows)
    return _outcome(ok, f"nobias 1-SAM test error: n=30 {_fmt(r['test_error'] for r in s_rows)} (mean "
                        f"{mean(s_rows):.4f}), n=100 {_fmt(r['test_error'] for r in b_rows)} (mean {mean(b_rows):.4f}); "
                        f"Tr/4sqrt(d) n=30 {_fmt(_ratio(r) for r in s_rows)}, n=100 {_fmt(_ratio(r) for r in b_rows)}",
                    s_rows + b_rows, max(0.0, mean(b_rows) - mean(s_rows)),
                    "mean error at n=100 minus at n=30 (positive: no decrease)", big + small,
                    mean_error_n30=mean(s_rows), mean_error_n100=mean(b_rows))


def _dead_direction_exists(record) -> bool:
    """Whether the run's training set admits u with u·x_i < 0 for every i (exact certificate,
    ``theory.dead_directions``): where it does, Lemma 3.1's setting is not met."""
    X = make_dataset(record.spec.config).X
    return dead_direction([[int(v) for v in row] for row in X.tolist()]) is not None


def judge_lemma_3_1(groups) -> Outcome:
    """Lemma 3.1 holds "under the setting of Theorem 3.1" (n = Ω(d log(d/δ))). A training set with a
    dead direction (u·x_i < 0 on every x_i) is outside it: a neuron along u adds any path norm at no
    cost in fit or Tr, so no C can hold there; those runs are reported as "condition not met" with
    their numbers. The runs inside it are held to ``PATH_NORM_FACTOR`` x C3's 2 sqrt(2) (a constant
    of the ledger's: the lemma states only that some absolute C exists)."""
    recs = groups["nobias-sam"] + groups["nobias-sam-n30"]
    seeds = _seed_table(recs, extra=lambda r: {"path_norm": float(r.final.get("diag_path_norm") or math.nan),
                                               "dead_direction": _dead_direction_exists(r)})
    bound = PATH_NORM_FACTOR * C3_PATH_NORM
    inside = [s for s in seeds if not s["dead_direction"]]
    ok = _done(recs) and bool(inside) and all(s["path_norm"] <= bound for s in inside)
    worst = max((s["path_norm"] / C3_PATH_NORM for s in inside), default=math.nan)
    per_n = "; ".join(f"{'n=30' if g.endswith('-n30') else 'n=100'} {_fmt(s['path_norm'] for s in seeds if s['group'] == g)}"
                      f" (dead direction on {sum(s['dead_direction'] for s in seeds if s['group'] == g)} of "
                      f"{sum(s['group'] == g for s in seeds)} training sets)" for g in ("nobias-sam", "nobias-sam-n30"))
    return _outcome(ok, f"path norm of trained nobias nets: {per_n}; held to <= {bound:.3f} = {PATH_NORM_FACTOR} x "
                        f"C3's 2 sqrt(2) where no dead direction exists; condition not met (n < d log d) on "
                        f"the {len(seeds) - len(inside)} with one",
                    seeds, worst, "max over runs inside the lemma's setting of path norm / C3's 2 sqrt(2)", recs,
                    bound=bound, condition_not_met=len(seeds) - len(inside))


TRAINED = {
    "table1-nobias": TrainedCheck(("nobias-sam",), judge_nobias),
    "table1-bias": TrainedCheck(("bias-sam", "bias-gd"), judge_bias),
    "table1-sim_ln": TrainedCheck(("sim_ln-sam",), judge_sim_ln, column="trace_gn"),
    "table1-sim_bn": TrainedCheck(("sim_bn-sam", "sim_bn-printed"), judge_table1_sim_bn),
    "thm-3.2": TrainedCheck(("sim_bn-sam",), judge_thm_3_2),
    "thm-3.1": TrainedCheck(("nobias-sam-n30", "nobias-sam"), judge_thm_3_1),
    "lemma-3.1": TrainedCheck(("nobias-sam-n30", "nobias-sam"), judge_lemma_3_1, column="diag_path_norm",
                              reference="c3_path_norm"),
}


def _fmt(values) -> str:
    return "[" + ", ".join("nan" if v is None or v != v else f"{v:.4g}" for v in values) + "]"


def _cfg(records, name):
    return getattr(records[0].spec.config, name) if records else "?"
