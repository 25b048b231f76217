"""The ``torch`` backend: hand-derived SAM / SGD steps in torch for every fused architecture of
docs/paper.md §2, any device and batch size (the reference they are tested against is the
autograd path, :mod:`sharpgen.numerics.engine.generic`, to 1e-12 in float64).

* :mod:`.shallow` — depth-2 nobias, bias (relu or softplus) and sim_ln; the shared pieces
  (:func:`~.shallow.kernel_targets`, :func:`~.shallow.dloss`, :func:`~.shallow.ascent_scale`,
  :func:`~.shallow.minibatches`);
* :mod:`.deep` — bias of depth >= 3; :mod:`.sim_bn` — sim_bn;
* :mod:`.single` — one replica's steps on any of them (:func:`~.single.torch_run_`);
* :mod:`.batched` — many replicas in each torch call (``torch.func.vmap``, :func:`~.batched.batched_run_`).
"""
from sharpgen.numerics.lazy import lazy_exports

_TABLE = {"ascent_scale": "shallow", "kernel_targets": "shallow", "minibatches": "shallow", "torch_step_": "shallow",
          "deep_step_": "deep", "bn_step_": "sim_bn", "torch_run_": "single", "batched_run_": "batched"}
__all__ = sorted(_TABLE)
__getattr__, __dir__ = lazy_exports(__name__, _TABLE)
