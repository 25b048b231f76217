"""The ``c`` backend: the fused SAM / SGD steps as compiled C loops, batch 1, on CPU (docs/paper.md §6-§7).

Three loop families cover every fused architecture of docs/paper.md §2: ``sam_steps.c``
(depth-2 nobias, bias with relu or softplus, sim_ln), ``deep_steps.c`` (bias of depth >= 3)
and ``sim_bn_steps.c`` (sim_bn), sharing ``steps_common.h``; MSE or logistic loss, float64 or
float32. :mod:`.loops` compiles them once per machine and dtype, caches the library and calls
it through ctypes (:func:`~.loops.load_c_kernel`, :class:`~.loops.CKernel`); mini-batch
phases run the torch formulas of :mod:`sharpgen.numerics.engine.torch_fused` instead.
"""
from sharpgen.numerics.lazy import lazy_exports

_TABLE = {name: "loops" for name in ("CKernel", "c_available", "compile_c_kernel", "find_compiler", "kernel_family",
                                     "load_c_kernel")}
__all__ = sorted(_TABLE)
__getattr__, __dir__ = lazy_exports(__name__, _TABLE)
