"""Issue 13, class 6, on the numerics side: sizes that cannot be served are refused up front with the limit
and the reason (no endless sampling loop, no raw allocation failure)."""
import time

import pytest

from sharpgen.numerics.nets import data as D
from sharpgen.numerics.runs import limits
from sharpgen.numerics.runs import train as T
from sharpgen.numerics.runs.config import Phase, TrainConfig
from sharpgen.numerics.runs.train import train

SMALL = dict(arch="bias", d=6, n=16, n_test=20, width=12, eval_every=5, eval_log_points=0,
             phases=(Phase(0.05, 0.05, 1, 0.0, 4),))


@pytest.mark.parametrize("make", [
    lambda: D.xor_dataset(21, 2 ** 21 - 10, n_test=1000),   # once: an endless loop after validation
    lambda: D.xor_dataset(21, 2 ** 20, n_test=1),
    lambda: TrainConfig(d=21, n=2 ** 20, n_test=1000).validate(),
    lambda: TrainConfig(arch="sim_bn", data="condition1", d=21, n=80, n_test=2 ** 20).validate(),
])
def test_cube_samples_that_cannot_be_drawn_are_refused_at_once(make):
    start = time.monotonic()
    with pytest.raises(ValueError, match="^n: expected n \\+ n_test <= 2\\^\\(d-1\\) = 1048576 for cube data with "
                                         "d = 21 > 20 \\(distinct points are drawn by rejection sampling"):
        make()
    assert time.monotonic() - start < 1.0


def test_cube_samples_at_the_limit_are_drawn_distinct(monkeypatch):
    # the sampler's limit, scaled down (enumeration up to d = 8, not 20) so the test is quick
    monkeypatch.setattr(limits, "CUBE_LIMIT", 8)
    monkeypatch.setattr(D, "CUBE_LIMIT", 8)
    data = D.xor_dataset(9, 2 ** 7, n_test=2 ** 7, seed=1)  # exactly half the cube of d = 9
    points = {tuple(r) for r in data.X.long().tolist()} | {tuple(r) for r in data.X_test.long().tolist()}
    assert len(points) == 2 ** 8
    with pytest.raises(ValueError, match="^n: expected n \\+ n_test <= 2\\^\\(d-1\\) = 256 for cube data with d = 9 > 8"):
        D.xor_dataset(9, 2 ** 7, n_test=2 ** 7 + 1)


def test_a_run_larger_than_memory_is_refused_before_anything(tmp_path):
    cfg = TrainConfig(**SMALL).replace(width=10 ** 9)
    with pytest.raises(ValueError, match="^width: a run of this size needs about .* GiB \\(9e\\+09 parameters; "
                                         "activations of width 1000000000 .*more than this machine's .*; lower width"):
        train(cfg, tmp_path / "r")
    assert not (tmp_path / "r").exists()
    with pytest.raises(ValueError, match="^width: a run of this size"):
        T.make_dataset(cfg)


def test_the_memory_estimate_bounds_what_a_run_measured():
    # measured on the 2-core development CPU (peak RSS over the process before the run, float64):
    # width 500: 54 MiB, width 5000: 351 MiB, depth 3 width 2000: 284 MiB
    for width, depth, measured in ((500, 2, 54), (5000, 2, 351), (2000, 3, 284)):
        cfg = TrainConfig(width=width, depth=depth)
        assert limits.estimated_bytes(cfg) >= measured * 2 ** 20


def test_an_allocation_failure_is_a_clear_error(tmp_path, monkeypatch):
    def failing(*a, **k):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory: "
                           "you tried to allocate 80000000000 bytes. Error code 12 (Cannot allocate memory)")

    monkeypatch.setattr(T, "build", failing)
    with pytest.raises(ValueError, match="^memory: this machine ran out of memory while building the data and the "
                                         "network \\(\\[enforce fail .*\\); lower width, n or n_test$"):
        train(TrainConfig(**SMALL), tmp_path / "r")
    assert not (tmp_path / "r").exists()


def test_sizes_are_refused_up_front_with_the_limit_and_the_reason():
    import time
    import torch
    from sharpgen.numerics.nets.initialization import build
    from sharpgen.numerics.optim.sam import project_first_layer_
    from sharpgen.theory.data import CONDITION1_MAX_D, condition1_set
    start = time.monotonic()
    with pytest.raises(ValueError, match=r"^width: a network of d = 30, width 1000000000, .* lower width$"):
        build("bias", 30, 10 ** 9)
    with pytest.raises(ValueError, match=rf"^d: expected at most {CONDITION1_MAX_D} "):
        condition1_set(10 ** 6)
    with pytest.raises(ValueError, match=r"^tails: expected at most 1024 tails"):
        condition1_set(30, tails=[(1,) * 28] * 2000)
    assert time.monotonic() - start < 2  # refused before anything large is built
    W1, b1 = torch.ones(2, 2, dtype=torch.float64), torch.ones(2, dtype=torch.float64)
    for bad in (-1.0, 0.0, float("nan")):
        with pytest.raises(ValueError, match="^radius: expected a finite number > 0"):
            project_first_layer_(W1, b1, bad)
    assert bool((W1 == 1).all())  # untouched
