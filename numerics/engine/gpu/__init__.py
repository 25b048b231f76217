"""The ``triton`` backend: one GPU launch steps every replica through many batch-1 SAM / SGD
steps, each replica's weights held on chip (docs/paper.md §6-§7).

The kernel (:mod:`.kernel`, needs the optional ``triton`` package) covers depth-2 nobias, bias
(relu or softplus) and sim_ln nets with MSE or logistic loss; :mod:`.steps` launches it
(:func:`~.steps.launch`, :func:`~.steps.triton_run_`) and runs every other case (sim_bn,
depth >= 3, mini-batch phases) with the torch formulas. :mod:`.steps` and this package import
without triton (names load on first use); :func:`~.steps.triton_available` says whether it is installed.
"""
from sharpgen.numerics.lazy import lazy_exports

_TABLE = {"launch": "steps", "triton_available": "steps", "triton_run_": "steps"}
__all__ = sorted(_TABLE)
__getattr__, __dir__ = lazy_exports(__name__, _TABLE)
