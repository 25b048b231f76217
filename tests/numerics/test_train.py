"""The trainer (numerics.train): config validation and round trip, resume equality,
divergence handling, backends agreeing, atomic files."""
import json
import math
import os
import stat

import pytest
import torch

from sharpgen.numerics.runs import checkpoint as ckpt
from sharpgen.numerics.runs import train as T
from sharpgen.numerics.engine.c import loops as c_kernel
from sharpgen.numerics.engine.torch_fused import shallow as torch_steps
from sharpgen.numerics.runs.config import Phase, TrainConfig, format_phases, parse_phases
from sharpgen.numerics.engine.diverged import TrainingDiverged
from sharpgen.numerics.engine.replicas import ReplicaEngine
from sharpgen.numerics.runs.metrics_csv import append_csv_row as T_append, read_csv, write_csv as T_write
from sharpgen.numerics.runs.rundir import RunDirError
from sharpgen.numerics.runs.schedule import evaluation_epochs
from sharpgen.numerics.runs.train import train

SMALL = dict(arch="bias", d=6, n=16, n_test=20, width=16, eval_every=5, eval_log_points=0, seed=3)


def small(**kw) -> TrainConfig:
    base = dict(SMALL, phases=(Phase(0.05, 0.05, 1, 0.0, 10), Phase(0.05, 0.1, 1, 0.01, 10)))
    base.update(kw)
    return TrainConfig(**base)


def test_config_json_round_trip():
    cfg = small(arch="sim_ln", eps=1e-3, loss="logistic", p=0.2, project_radius=10.0, data_seed=9,
                init_scale_first_layer=0.01, checkpoint_every=7, dtype="float32", backend="torch")
    text = json.dumps(cfg.to_dict())
    assert TrainConfig.from_dict(json.loads(text)) == cfg
    assert TrainConfig.from_dict({"phases": "0.01,0.05,1,0,1e5"}).phases == (Phase(0.01, 0.05, 1, 0.0, 100000),)
    assert format_phases(parse_phases(format_phases(cfg.phases))) == format_phases(cfg.phases)
    with pytest.raises(ValueError, match="^config"):
        TrainConfig.from_dict({"widht": 3})


INVALID = [
    ("arch", dict(arch="resnet")), ("d", dict(d=1)), ("n", dict(n=0)), ("n_test", dict(n_test=0)),
    ("width", dict(width=0)), ("depth", dict(depth=1)), ("depth", dict(arch="nobias", depth=3)),
    ("activation", dict(activation="tanh")), ("activation", dict(arch="nobias", activation="softplus")),
    ("eps", dict(arch="sim_ln")), ("eps", dict(arch="sim_ln", eps=-1.0)), ("loss", dict(loss="hinge")),
    ("p", dict(loss="logistic")), ("p", dict(loss="logistic", p=0.7)), ("p", dict(p=0.1)),
    ("data", dict(data="mnist")), ("data_seed", dict(data_seed=1.5)),
    ("init_scale_first_layer", dict(init_scale_first_layer=0.0)), ("optimizer", dict(optimizer="adam")),
    ("phases", dict(phases=())), ("phases[0].lr", dict(phases=(Phase(-0.1),))),
    ("phases[0].rho", dict(phases=(Phase(0.1, rho=-1.0),))),
    ("phases[0].batch", dict(phases=(Phase(0.1, batch=3),))),
    ("phases[0].weight_decay", dict(phases=(Phase(0.1, weight_decay=-1.0),))),
    ("phases[0].epochs", dict(phases=(Phase(0.1, epochs=0),))),
    ("phases[0].label_noise", dict(phases=(Phase(0.1, label_noise=-1.0),))),
    ("phases[0].rho", dict(optimizer="sgd", phases=(Phase(0.1, rho=0.1),))),
    ("optimizer", dict(phases=(Phase(0.1, label_noise=0.1),))),
    ("project_radius", dict(project_radius=0.0)), ("eval_every", dict(eval_every=0)),
    ("checkpoint_every", dict(checkpoint_every=0)), ("seed", dict(seed="x")), ("seed", dict(seed=-1)), ("data_seed", dict(data_seed=-2)), ("dtype", dict(dtype="float16")),
    ("device", dict(device="")), ("backend", dict(backend="jax")), ("backend", dict(backend="")),
]


@pytest.mark.parametrize("field,change", INVALID, ids=[f"{f}-{i}" for i, (f, _) in enumerate(INVALID)])
def test_invalid_field_raises_naming_it(field, change):
    with pytest.raises(ValueError) as err:
        small(**change).validate()
    assert str(err.value).startswith(field), str(err.value)


def test_parse_phases_rejects():
    for text, name in (("", "phases"), ("0.1,0,1,0", "phases[0]"), ("0.1,0,1.5,0,10", "phases[0]"),
                       ("0.1,0,1,0,10; a,b,c,d,e", "phases[1]")):
        with pytest.raises(ValueError, match=r"^" + name.replace("[", r"\[").replace("]", r"\]")):
            parse_phases(text)


def _read(run_dir):
    """metrics.csv without its wall-clock column (the only one a resumed run may differ in), and the parameters."""
    lines = (run_dir / "metrics.csv").read_text().splitlines()
    at = lines[0].split(",").index("wall_s")
    text = "\n".join(",".join(c for j, c in enumerate(line.split(",")) if j != at) for line in lines)
    return text, ckpt.load_checkpoint(run_dir)["params"]


class _Kill(Exception):
    pass


def _killed(monkeypatch, cfg, run_dir, at_call: int, **kw):
    """Run ``cfg`` in ``run_dir`` and "kill" it in engine call ``at_call`` (after 7 of its steps)."""
    original, calls = ReplicaEngine.run, {"n": 0}

    def dying(self, orders, targets, phases):
        calls["n"] += 1
        if calls["n"] == at_call:
            original(self, [o[:7] for o in orders], [t[:7] for t in targets], phases)  # some steps, then the kill
            raise _Kill()
        return original(self, orders, targets, phases)

    monkeypatch.setattr(ReplicaEngine, "run", dying)
    with pytest.raises(_Kill):
        train(cfg, run_dir, **kw)
    monkeypatch.setattr(ReplicaEngine, "run", original)


BACKENDS = ["generic", "torch"] + (["c"] if c_kernel.c_available() else [])


@pytest.mark.parametrize("backend", BACKENDS)
def test_resume_after_kill_equals_uninterrupted_run(tmp_path, monkeypatch, backend):
    # evaluations at 0, 1, 2, 4, 5, 6, 8, 10, 13, 15, 20 (every 5 and 8 log-spaced), checkpoints every 5;
    # each engine call runs the epochs from one evaluation to the next
    cfg = small(backend=backend, checkpoint_every=5, eval_log_points=8)
    grid = evaluation_epochs(cfg)
    assert grid == (0, 1, 2, 4, 5, 6, 8, 10, 13, 15, 20)
    full = train(cfg, tmp_path / "full", theory_min=4.0)
    # killed in the chunk [13, 15): row 13 is appended, the last checkpoint is 10
    _killed(monkeypatch, cfg, tmp_path / "cut", grid.index(13) + 1, theory_min=4.0)
    assert ckpt.load_checkpoint(tmp_path / "cut")["epoch"] == 10
    assert [r["epoch"] for r in read_csv(tmp_path / "cut" / "metrics.csv")][-2:] == [10, 13]  # ahead of it
    with pytest.raises(ValueError, match="^run_dir"):
        train(cfg, tmp_path / "cut", theory_min=4.0)
    resumed = train(cfg, tmp_path / "cut", theory_min=4.0, resume=True)
    text_full, params_full = _read(tmp_path / "full")
    text_cut, params_cut = _read(tmp_path / "cut")
    assert text_full == text_cut  # row 13 once, every number as in the uninterrupted run
    for k in params_full:
        assert torch.equal(params_full[k], params_cut[k])
    assert tuple(r["epoch"] for r in resumed.rows) == grid
    assert resumed.rows[-1]["step"] == 20 * 16
    assert full.rows[-1]["train_loss"] < full.rows[0]["train_loss"]


def test_resume_label_noise_and_full_batch(tmp_path, monkeypatch):
    cfg = small(optimizer="label_noise_sgd", backend="auto",
                phases=(Phase(0.05, 0.0, 16, 0.0, 5), Phase(0.05, 0.0, 4, 0.0, 5, label_noise=0.3),
                        Phase(0.05, 0.0, 1, 0.0, 10, label_noise=0.1)))
    train(cfg, tmp_path / "full")
    _killed(monkeypatch, cfg, tmp_path / "cut", 4)
    train(cfg, tmp_path / "cut", resume=True)
    assert _read(tmp_path / "full")[0] == _read(tmp_path / "cut")[0]


def test_same_config_same_numbers_and_seed_matters(tmp_path):
    a = train(small(), tmp_path / "a")
    b = train(small(), tmp_path / "b")
    c = train(small(seed=4), tmp_path / "c")
    assert _read(tmp_path / "a")[0] == _read(tmp_path / "b")[0]
    assert a.rows[-1]["train_loss"] != c.rows[-1]["train_loss"]
    saved = json.loads((tmp_path / "a" / "config.json").read_text())
    assert TrainConfig.from_dict(saved["config"]) == small()


def test_resume_with_other_config_is_refused(tmp_path):
    train(small(), tmp_path / "r")
    with pytest.raises(ValueError, match="^config"):
        train(small(seed=5), tmp_path / "r", resume=True)


def test_divergence_stops_with_message_and_keeps_checkpoint(tmp_path):
    cfg = small(phases=(Phase(0.01, 0.0, 1, 0.0, 5), Phase(1e6, 0.0, 1, 0.0, 10)))
    with pytest.raises(TrainingDiverged, match="last good checkpoint \\(epoch 5\\)") as err:
        train(cfg, tmp_path / "d")
    # the engine's own object, located in the run, is what the caller gets and what summary.json says
    assert err.value.epochs is not None and err.value.value is not None
    assert json.loads((tmp_path / "d" / "summary.json").read_text())["message"] == str(err.value)
    state = ckpt.load_checkpoint(tmp_path / "d")
    assert state["epoch"] == 5
    assert all(bool(torch.isfinite(v).all()) for v in state["params"].values())
    assert json.loads((tmp_path / "d" / "summary.json").read_text())["status"] == "diverged"
    assert not any(p.name.endswith(".tmp") for p in (tmp_path / "d").iterdir())


@pytest.mark.parametrize("arch,extra", [("nobias", {}), ("bias", dict(loss="logistic", p=0.2)),
                                        ("sim_ln", dict(eps=1e-3, project_radius=3.0)),
                                        ("bias", dict(activation="softplus"))])
def test_fused_and_generic_training_agree(tmp_path, arch, extra):
    # The torch backend is also the CUDA path: agreement here is what CPU/CUDA agreement rests on.
    rows = {}
    for backend in BACKENDS:
        rows[backend] = train(small(arch=arch, backend=backend, **extra), tmp_path / backend).rows
    for backend in BACKENDS[1:]:
        for r0, r1 in zip(rows["generic"], rows[backend]):
            for key in ("train_loss", "test_loss", "trace"):
                assert r1[key] == pytest.approx(r0[key], rel=1e-9, abs=1e-12), (backend, key)
            assert r1["test_error"] == r0["test_error"]


def test_sim_bn_and_depth3_run_fused_and_agree_with_generic(tmp_path):
    for name, cfg in (("bn", small(arch="sim_bn")), ("deep", small(depth=3))):
        result = train(cfg, tmp_path / name)
        fused = "c" if c_kernel.c_available() else "torch"
        assert result.backends == (fused, fused)
        assert result.rows[-1]["train_loss"] < result.rows[0]["train_loss"]
        ref = train(cfg.replace(backend="generic"), tmp_path / (name + "-generic"))
        for got, want in zip(result.rows, ref.rows):
            assert got["train_loss"] == pytest.approx(want["train_loss"], rel=1e-9, abs=1e-12)
            assert got["trace"] == pytest.approx(want["trace"], rel=1e-9)


def test_float32_runs_and_is_evaluated_in_float64(tmp_path):
    r64 = train(small(), tmp_path / "64").rows[-1]
    r32 = train(small(dtype="float32"), tmp_path / "32").rows[-1]
    assert r32["train_loss"] == pytest.approx(r64["train_loss"], rel=1e-3)
    assert r32["train_loss"] != r64["train_loss"]


def test_metrics_columns(tmp_path):
    rows = train(small(), tmp_path / "m", theory_min=2.0).rows
    on_disk = read_csv(tmp_path / "m" / "metrics.csv")
    assert len(on_disk) == len(rows) == 5
    last = on_disk[-1]
    assert list(last)[:len(T.METRIC_COLUMNS)] == T.METRIC_COLUMNS
    assert last["theory_min"] == 2.0
    assert last["gap"] == pytest.approx(last["trace"] - 2.0, rel=1e-15)
    assert last["rel_gap"] == pytest.approx((last["trace"] - 2.0) / 2.0, rel=1e-15)
    assert 0.0 <= last["test_error"] <= 1.0 and math.isfinite(last["trace"])
    # F1: for a relu MLP the residual term vanishes a.e., so Tr = its Gauss-Newton part at any θ.
    assert last["trace_gn"] == pytest.approx(last["trace"], rel=1e-10)
    assert last["rel_gap_gn"] == pytest.approx((last["trace_gn"] - 2.0) / 2.0, rel=1e-12)
    assert any(k.startswith("diag_") for k in last)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here")
def test_cuda_matches_cpu(tmp_path):
    cpu = train(small(backend="torch"), tmp_path / "cpu").rows[-1]
    gpu = train(small(backend="torch", device="cuda"), tmp_path / "gpu").rows[-1]
    for key in ("train_loss", "test_loss", "trace"):
        assert gpu[key] == pytest.approx(cpu[key], rel=1e-9)


# ------------------------------------------------------------------ review fixes

MORE_INVALID = [
    # the logistic loss needs labels in {-1, +1}: not Figure 7's ball data (y = |x1| - |x2|)
    ("loss", dict(loss="logistic", p=0.2, data="ball")),
    # condition1's training set has exactly 4 (d - 1) points
    ("n", dict(data="condition1", d=4, n=100)),
    ("n", dict(arch="sim_bn", data="condition1", d=4, n=11)),
    # eps is the sim_ln floor only
    ("eps", dict(arch="bias", eps=0.1)), ("eps", dict(arch="nobias", eps=1e-3)),
    # eps that rounds to 0 in the dtype, and a nan eps
    ("eps", dict(arch="sim_ln", eps=1e-50, dtype="float32")), ("eps", dict(arch="sim_ln", eps=float("nan"))),
    ("device", dict(device="foo")), ("device", dict(device="tpu")),
]


@pytest.mark.parametrize("field,change", MORE_INVALID, ids=[f"{f}-{i}" for i, (f, _) in enumerate(MORE_INVALID)])
def test_more_invalid_fields_raise_naming_them(field, change):
    with pytest.raises(ValueError) as err:
        small(**change).validate()
    assert str(err.value).startswith(field + ":"), str(err.value)


def test_messages_state_the_allowed_values():
    with pytest.raises(ValueError, match=r"^eps: only sim_ln uses eps, got 0.1 for arch 'bias'"):
        small(eps=0.1).validate()
    with pytest.raises(ValueError, match=r"^n: expected 4\*\(d-1\) = 12 for data 'condition1'"):
        small(arch="sim_bn", data="condition1", d=4, n=100).validate()
    with pytest.raises(ValueError, match=r"^device: expected one of \('cpu', 'cuda', 'auto'\), got 'foo'"):
        small(device="foo").validate()
    # what is allowed still is
    small(arch="sim_bn", data="condition1", d=4, n=12, phases=(Phase(0.05, 0.05, 1, 0.0, 1),)).validate()
    small(loss="logistic", p=0.2, data="circle", d=2).validate()
    small(arch="sim_ln", eps=1e-30, dtype="float32").validate()


def test_setup_failure_leaves_nothing_on_disk(tmp_path, monkeypatch):
    def broken(*a, **k):
        raise ValueError("Y: simulated failure of the first evaluation")

    monkeypatch.setattr(T, "_row", broken)
    with pytest.raises(ValueError, match="^Y"):
        train(small(), tmp_path / "new" / "run")
    assert not (tmp_path / "new" / "run").exists()
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="^Y"):
        train(small(), tmp_path / "empty")
    assert list((tmp_path / "empty").iterdir()) == []
    monkeypatch.undo()
    # the failed attempts do not block a real run in the same folders
    assert train(small(), tmp_path / "empty").rows[-1]["epoch"] == 20
    assert train(small(), tmp_path / "new" / "run").rows[-1]["epoch"] == 20


def test_failure_while_writing_the_first_files_removes_them(tmp_path, monkeypatch):
    def broken(*a, **k):
        raise OSError("disk full (simulated)")

    monkeypatch.setattr(T, "_save", broken)
    with pytest.raises(RunDirError, match="^run_dir: cannot write .*: disk full \\(simulated\\); free space"):
        train(small(), tmp_path / "r")
    assert not (tmp_path / "r").exists()
    (tmp_path / "e").mkdir()
    with pytest.raises(RunDirError):
        train(small(), tmp_path / "e")
    assert list((tmp_path / "e").iterdir()) == []


def test_condition1_and_sim_ln_tiny_eps_train(tmp_path):
    cfg = small(arch="sim_bn", data="condition1", d=4, n=12, width=8, phases=(Phase(0.05, 0.05, 1, 0.0, 2),),
                eval_every=1)
    assert train(cfg, tmp_path / "c1").rows[-1]["epoch"] == 2
    # eps whose square underflows: dead layers must not turn the run into NaN
    for dtype, eps in (("float64", 1e-200), ("float32", 1e-30)):
        cfg = small(arch="sim_ln", eps=eps, dtype=dtype, init_scale_first_layer=0.01,
                    phases=(Phase(0.01, 0.05, 1, 0.0, 2),), eval_every=1)
        res = train(cfg, tmp_path / f"ln-{dtype}")
        assert all(math.isfinite(r["train_loss"]) for r in res.rows)


# ------------------------------------------------------------------ issue 8: logging, backends, files

def test_metrics_are_appended_not_rewritten(tmp_path, monkeypatch):
    writes, appends = [], []
    monkeypatch.setattr(T, "write_csv", lambda *a: (writes.append(a), T_write(*a)))
    monkeypatch.setattr(T, "append_csv_row", lambda *a: (appends.append(a), T_append(*a)))
    rows = train(small(eval_log_points=6), tmp_path / "a").rows
    assert len(writes) == 1 and len(writes[0][2]) == 1  # the header and row 0, once
    assert len(appends) == len(rows) - 1 == len(evaluation_epochs(small(eval_log_points=6))) - 1
    assert [r["epoch"] for r in read_csv(tmp_path / "a" / "metrics.csv")] == [r["epoch"] for r in rows]


def test_wall_clock_column_is_cumulative_across_resumes(tmp_path, monkeypatch):
    cfg = small(checkpoint_every=5)
    _killed(monkeypatch, cfg, tmp_path / "r", 3)
    saved = ckpt.load_checkpoint(tmp_path / "r")
    assert saved["epoch"] == 10 and saved["wall_s"] > 0
    train(cfg, tmp_path / "r", resume=True)
    walls = [r["wall_s"] for r in read_csv(tmp_path / "r" / "metrics.csv")]
    assert walls == sorted(walls) and walls[-1] >= saved["wall_s"]
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["wall_s"] >= saved["wall_s"] + summary["wall_s_this_session"] * 0.99
    assert [s["start_epoch"] for s in summary["sessions"]] == [0, 10]


def test_a_partly_written_last_row_is_dropped_on_resume(tmp_path, monkeypatch):
    cfg = small(checkpoint_every=10)
    train(cfg, tmp_path / "full")
    _killed(monkeypatch, cfg, tmp_path / "cut", 4)  # after the rows at 5, 10 and 15, checkpoint at 10
    with open(tmp_path / "cut" / "metrics.csv", "a") as fh:
        fh.write("17,272,0.1,1,0.05")  # a kill in the middle of an append
    train(cfg, tmp_path / "cut", resume=True)
    assert _read(tmp_path / "cut")[0] == _read(tmp_path / "full")[0]


@pytest.mark.skipif("c" not in BACKENDS, reason="no C compiler here")
def test_backend_of_each_phase_is_recorded_truthfully(tmp_path, monkeypatch):
    # backend c runs batch-1 phases in the C loop; the full-batch phase runs the torch formulas
    cfg = small(backend="c", phases=(Phase(0.05, 0.0, 16, 0.0, 5), Phase(0.05, 0.05, 1, 0.0, 5)))
    used = []
    kernel_cls = c_kernel.CKernel
    c_steps, torch_steps_ = kernel_cls.steps_, torch_steps.torch_steps_
    monkeypatch.setattr(kernel_cls, "steps_", lambda self, *a, **k: (used.append("c"), c_steps(self, *a, **k))[1])
    monkeypatch.setattr(torch_steps, "torch_steps_", lambda *a, **k: (used.append("torch"), torch_steps_(*a, **k))[1])
    result = train(cfg, tmp_path / "b")
    assert result.backends == ("torch", "c") == T.phase_backends("c", cfg)
    assert used[0] == "torch" and used[-1] == "c" and sorted(set(used)) == ["c", "torch"]
    resolved = json.loads((tmp_path / "b" / "config.json").read_text())["resolved"]
    assert (resolved["backends"], resolved["device"]) == (["torch", "c"], "cpu")
    assert json.loads((tmp_path / "b" / "summary.json").read_text())["backends"] == ["torch", "c"]


def test_progress_lines_one_per_evaluation_when_not_a_terminal(tmp_path, capsys):
    rows = train(small(), tmp_path / "p", progress="lines").rows
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == len(rows) - 1  # epoch 0 is logged before the run starts moving
    assert lines[-1].startswith("p epoch 20/20 (100.0%)  phase 2/2 (")
    for key in ("train_loss", "test_error", "Tr", "elapsed", "eta"):
        assert key in lines[-1]
    train(small(), tmp_path / "q", progress="off")
    assert capsys.readouterr().err == ""
    with pytest.raises(ValueError, match="^progress: expected one of \\('bar', 'lines', 'off'\\)"):
        train(small(), tmp_path / "bad", progress="on")
    assert not (tmp_path / "bad").exists()


def test_run_files_get_the_umask_mode(tmp_path):
    old = os.umask(0o022)
    try:
        train(small(), tmp_path / "u")
    finally:
        os.umask(old)
    for name in ("config.json", "metrics.csv", "checkpoint.pt", "summary.json"):
        assert stat.S_IMODE(os.stat(tmp_path / "u" / name).st_mode) == 0o644, name


def test_columns_are_the_same_without_a_theory_minimum(tmp_path):
    train(small(), tmp_path / "t", theory_min=2.0)
    train(small(), tmp_path / "n")
    header = lambda name: (tmp_path / name / "metrics.csv").read_text().splitlines()[0]
    assert header("t") == header("n") and header("n").startswith(",".join(T.METRIC_COLUMNS) + ",diag_")
    last = read_csv(tmp_path / "n" / "metrics.csv")[-1]
    assert (last["theory_min"], last["gap"], last["rel_gap"], last["rel_gap_gn"]) == (None, None, None, None)


def test_data_passed_in_must_be_the_runs(tmp_path):
    cfg = small()
    with pytest.raises(ValueError, match="^data: expected the run's dataset"):
        train(cfg, tmp_path / "x", data=T.make_dataset(small(n=8)))
    assert not (tmp_path / "x").exists()
    built = T.make_dataset(cfg)
    assert _rows_equal(train(cfg, tmp_path / "given", data=built).rows, train(cfg, tmp_path / "own").rows)


def _rows_equal(a, b):
    drop = lambda rows: [{k: v for k, v in r.items() if k != "wall_s"} for r in rows]
    return drop(a) == drop(b)
