"""The one exception a diverging run raises, from the kernel that sees a non-finite value up to
the command line (docs/training.md: a diverged run is recorded, not retried)."""
from __future__ import annotations

__all__ = ["TrainingDiverged"]


class TrainingDiverged(RuntimeError):
    """A non-finite value appeared; the message names the epoch range and the last good checkpoint."""
