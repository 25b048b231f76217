"""Numerical side of sharpgen (torch; never imports sympy), by job:

* :mod:`.nets` — the paper's networks as torch modules and pure functions: forward passes,
  parameters in the shared layout (W1, b1, W2, gamma), initialization, data, losses, the exact
  closed-form sharpness Tr ∇²L and the diagnostics of a trained net;
* :mod:`.optim` — SAM (the two-step optimizer, 1-SAM when the batch is one sample) and ASAM,
  for any model;
* :mod:`.engine` — the fused step kernels that take many optimizer steps per call, for many
  replicas at once (C loops on CPU, torch anywhere, Triton on GPU);
* :mod:`.runs` — a training run: its config and presets, schedule, run directory, checkpoints,
  resume, interrupts, progress, limits and metrics;
* :mod:`.search` — search inside the flattest set: the least Tr ∇²L over interpolators
  (``flattest``) and the near-flattest net violating a claim most (``adversary``);
* :mod:`.validate` and :mod:`.device` — the checks of user input and the choice of device.

Nothing is imported until a name is used, so the command line's argument checks stay fast.

>>> from sharpgen import numerics
>>> numerics.nets.build("nobias", d=3, width=4).W1.shape
torch.Size([4, 3])
"""
from sharpgen.numerics.lazy import lazy_exports

__all__ = ["nets", "optim", "engine", "runs", "search", "validate", "device"]
__getattr__, __dir__ = lazy_exports(__name__, {name: "" for name in __all__})
