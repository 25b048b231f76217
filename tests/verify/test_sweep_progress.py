"""Sweep progress (verify.sweep.progress): the ETA model and the status line."""
import io

from sharpgen.numerics.runs.config import TrainConfig, parse_phases
from sharpgen.verify.sweep.progress import EtaModel, SweepProgress, run_steps, step_kind

FUSED = TrainConfig(arch="nobias", n=10, phases=parse_phases("0.1,0.05,1,0,3; 0.1,0,5,0,2"))  # 30 + 4 steps
GENERIC = TrainConfig(arch="bias", n=10, optimizer="asam", phases=parse_phases("0.1,0.05,1,0,2"))  # 20 steps


def test_run_steps_counts_every_phase():
    assert run_steps(FUSED) == 34 and run_steps(GENERIC) == 20


def test_step_kinds():
    one = TrainConfig(arch="sim_bn", n=10, phases=parse_phases("0.1,0.05,1,0,3"))
    assert [step_kind(c) for c in (FUSED, GENERIC, one)] == ["nobias mini-batch", "bias generic", "sim_bn one-sample"]


def test_eta_weighs_steps_by_the_measured_rate_of_each_engine_kind():
    model = EtaModel()
    assert model.eta([FUSED], 1) is None
    model.add(FUSED, wall_s=3.4, steps=34)  # 0.1 s per fused step
    assert model.eta([FUSED, FUSED], 2) == (3.4, True)
    seconds, exact = model.eta([FUSED, GENERIC], 1)
    assert (round(seconds, 12), exact) == (3.4, False)  # generic not measured yet: a lower bound
    model.add(GENERIC, wall_s=20.0, steps=20)  # 1 s per generic step
    assert model.eta([FUSED, GENERIC], 1) == (3.4 + 20.0, True)


def test_skipped_runs_teach_nothing():
    model = EtaModel()
    model.add(FUSED, wall_s=0.0, steps=0)
    assert model.eta([FUSED], 1) is None


def test_log_lines_only_when_the_counts_change():
    stream = io.StringIO()
    bar = SweepProgress(3, stream=stream, enabled=True, log_every=3600)
    bar.update(done=0, running=2, failed=0)
    bar.update(done=0, running=2, failed=0, eta=(10.0, True))  # same counts: no new line
    bar.update(done=1, running=1, failed=1, eta=(70.0, False))
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("sweep: 0/3 done, 2 running, 0 failed, 1 missing") and lines[0].endswith("eta --:--")
    assert lines[1].startswith("sweep: 1/3 done, 1 running, 1 failed, 0 missing") and lines[1].endswith("eta >01:10")


def test_disabled_progress_writes_nothing():
    stream = io.StringIO()
    SweepProgress(3, stream=stream, enabled=False).update(done=1, running=0, failed=0, force=True)
    assert stream.getvalue() == ""
