"""Step engines: how the trainer takes a chunk of optimizer steps (docs/paper.md §6-§7).

1-SAM is millions of one-sample steps, so per-step overhead decides what can
be checked. Backends:

* ``generic`` (:mod:`.generic`) — autograd through ``numerics.optim.sam`` on a
  ``Net``: every architecture, and the reference the fused steps are tested
  against (to 1e-12 in float64);
* ``torch`` (:mod:`.torch_fused`) — hand-derived fused steps in torch for every
  architecture, any device and batch size;
* ``c`` (:mod:`.c`) — the same formulas as compiled batch-1 loops
  (``sam_steps.c``, ``deep_steps.c``, ``sim_bn_steps.c``) on CPU, mini-batches in torch;
* ``triton`` (:mod:`.gpu`) — one GPU launch steps every replica through many
  steps, each replica's weights kept on chip (depth-2 nobias/bias/sim_ln, batch 1).

:func:`resolve_backend` (:mod:`.backends`) decides once per run what a config's ``backend``
means on a device; :class:`ReplicaEngine` (:mod:`.replicas`) steps many runs ("replicas") in
one call on that backend and reports a replica whose values go non-finite;
:class:`TrainingDiverged` (:mod:`.diverged`) is the one exception a diverged run raises.
"""
from sharpgen.numerics.lazy import lazy_exports

_TABLE = {"BACKENDS": "backends", "fused_supported": "backends", "triton_supported": "backends",
          "resolve_backend": "backends", "ReplicaEngine": "replicas", "TrainingDiverged": "diverged"}
__all__ = sorted(_TABLE)
__getattr__, __dir__ = lazy_exports(__name__, _TABLE)
