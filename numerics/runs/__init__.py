"""A training run and its directory: what ``sharpgen train`` and every caller of it share.

* what to train: :class:`TrainConfig` and its :class:`Phase` schedule (:mod:`.config`), the
  paper's settings as presets (:func:`get_preset`, :mod:`.presets`), when each phase and
  evaluation falls (:mod:`.schedule`);
* training: :func:`train` (one run) and :func:`train_many` (many runs stepped together through
  the multi-replica engine, :mod:`.replica_runs`);
* the run directory: what it holds and its one status vocabulary (done, diverged, interrupted,
  failed, missing), read by :func:`read_run` (:mod:`.state`); its lock (:mod:`.rundir`),
  ``config.json``, ``metrics.csv`` (:mod:`.metrics_csv`), ``checkpoint.pt`` (:mod:`.checkpoint`),
  ``summary.json``, written atomically as strict JSON (:mod:`.atomic`), resumed (:mod:`.resume`)
  after an interrupt (:mod:`.interrupt`), with progress (:mod:`.progress`) and up-front limits
  (:mod:`.limits`).

Names are imported on first use: ``TrainConfig`` and the presets load without torch.

>>> from sharpgen.numerics.runs import TrainConfig
>>> TrainConfig(arch="bias", d=3, n=4, width=8).arch
'bias'
"""
from sharpgen.numerics.lazy import lazy_exports

_TABLE = {
    "TrainConfig": "config", "Phase": "config", "parse_phases": "config", "config_digest": "config",
    "PRESETS": "presets", "get_preset": "presets", "preset_names": "presets",
    "train": "train", "train_many": "train", "TrainResult": "train", "evaluate": "train", "make_dataset": "train",
    "RunDirError": "rundir", "RunDirBusy": "rundir", "locked": "rundir",
    "load_checkpoint": "checkpoint", "read_config": "checkpoint",
    "TrainingInterrupted": "interrupt",
    "read_run": "state", "RunState": "state", "RunFileError": "state", "read_metrics": "state",
    "read_summary": "state", "number": "state", "DONE": "state", "DIVERGED": "state", "INTERRUPTED": "state",
    "FAILED": "state", "MISSING": "state", "STATUSES": "state", "FINISHED": "state",
    "SCENARIOS": "presets", "Scenario": "presets", "strict_json": "atomic",
}
__all__ = sorted(_TABLE)
__getattr__, __dir__ = lazy_exports(__name__, _TABLE)
