"""The one exception a diverging run raises, from the kernel that sees a non-finite value up to
the command line (docs/training.md: a diverged run is recorded, not retried)."""
from __future__ import annotations

__all__ = ["TrainingDiverged"]


class TrainingDiverged(RuntimeError):
    """A non-finite value appeared in a run; one object from the engine that saw it to the caller.

    ``what``: why, in words ("non-finite output at step 3 of this chunk"); ``value``: which value
    went non-finite ("output", "parameters", ...; None where the raiser does not say); ``step``:
    the step of the engine call at which it did (None where the backend checks only at the end of
    the call). The trainer adds where in the run it happened with :meth:`locate` (``epochs``,
    ``phase``, ``lr``, ``rho``, ``kept``: the sentence naming the last good checkpoint), and the
    message then names all of it; the object itself is what the trainer records and raises.

    >>> err = TrainingDiverged.non_finite("output", step=3)
    >>> str(err), err.value, err.step
    ('non-finite output at step 3 of this chunk', 'output', 3)
    >>> str(err.locate(epochs=(10, 12), phase=1, lr=0.1, rho=0.05, kept="Checkpoint 10 kept."))
    'training diverged in epochs [10, 12) (phase 1: lr=0.1, rho=0.05): non-finite output at step 3 of this chunk. Checkpoint 10 kept.'
    """

    def __init__(self, what: str, *, value: str | None = None, step: int | None = None):
        super().__init__(what)
        self.what, self.value, self.step = what, value, step
        self.epochs: tuple[int, int] | None = None
        self.phase: int | None = None
        self.lr = self.rho = None
        self.kept: str | None = None

    @classmethod
    def non_finite(cls, value: str, *, step: int | None = None) -> "TrainingDiverged":
        """``value`` ("output" or "parameters") went non-finite, at ``step`` of the engine call if known."""
        where = "" if step is None else f" at step {step} of this chunk"
        return cls(f"non-finite {value}{where}", value=value, step=step)

    def locate(self, *, epochs: tuple[int, int], phase: int, lr: float, rho: float,
               kept: str) -> "TrainingDiverged":
        """This same object, now saying where in the run it happened: the engine call stepping
        epochs [epochs[0], epochs[1]) of phase ``phase`` (its ``lr``, ``rho``), and ``kept``."""
        self.epochs, self.phase, self.lr, self.rho, self.kept = tuple(epochs), phase, lr, rho, kept
        return self

    def __str__(self) -> str:
        if self.epochs is None:
            return self.what
        first, end = self.epochs
        return (f"training diverged in epochs [{first}, {end}) (phase {self.phase}: lr={self.lr}, rho={self.rho}): "
                f"{self.what}. {self.kept}")
