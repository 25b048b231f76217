"""Every ``numerics`` name the ledger uses, imported here and only here.

``numerics`` is being reorganised (module names may move); the ledger reads these names
from this one module, so a move is repointed in one place. The theory minimum for a run's
training set (``theory_min_for``, sympy) lives with the ``sharpgen train`` command for now.
"""
from __future__ import annotations

from sharpgen.numerics.checkpoint import load_checkpoint, read_csv
from sharpgen.numerics.config import TrainConfig, parse_phases
from sharpgen.numerics.diagnostics import activation_counts, column_norms, path_norm, top_neurons, zero_fraction
from sharpgen.numerics.models import from_params
from sharpgen.numerics.presets import PRESETS, get_preset
from sharpgen.numerics.sharpness import gradient_norms, trace_hessian
from sharpgen.numerics.train import TrainingDiverged, make_dataset, train
from sharpgen.verify.cmd_train import theory_min_for

__all__ = ["PRESETS", "TrainConfig", "TrainingDiverged", "activation_counts", "column_norms", "from_params",
           "get_preset", "gradient_norms", "load_checkpoint", "make_dataset", "parse_phases", "path_norm",
           "read_csv", "theory_min_for", "top_neurons", "trace_hessian", "train", "zero_fraction"]
