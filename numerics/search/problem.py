"""A search problem: one architecture and width on one training set, its parameters as a flat vector.

The flattest set of docs/paper.md §3 is {θ : f_θ(x_i) = t_i for every i} with the least Tr ∇²L,
where t_i is the output the loss is minimized at: y_i for MSE, γ_p y_i for the logistic loss with
label smoothing p (Thm A.2, with the weight 1 − p on the true label that ``numerics.nets.losses``
uses; γ_p = ln((1 − p)/p)). Tr ∇²L is the exact F1 with its closed-form per-sample terms
(``numerics.nets.sharpness.sample_terms``):

    Tr ∇²L(θ) = (1/n) Σ_i ℓ''(f_i) ||∇θ f(x_i)||² + (1/n) Σ_i ℓ'(f_i) Tr ∇²θ f(x_i),

differentiable in θ and evaluated for many parameter vectors at once (``torch.func.vmap``), so
the searches in this package run their random starts together. Everything is float64.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch
from torch.func import jacrev, vmap

from sharpgen.numerics.device import resolve_device
from sharpgen.numerics.nets.data import check_labels, check_points
from sharpgen.numerics.nets.functional import forward
from sharpgen.numerics.nets.initialization import build
from sharpgen.numerics.nets.losses import loss_derivatives
from sharpgen.numerics.nets.models import Net
from sharpgen.numerics.nets.params import from_params
from sharpgen.numerics.nets.sharpness import sample_terms
from sharpgen.numerics.validate import DEVICES, check_choice, check_hyper, check_int, check_loss


def interpolation_targets(loss: str, Y: torch.Tensor, p=None) -> torch.Tensor:
    """The outputs t_i at which the per-sample loss is least: y_i (MSE), γ_p y_i (logistic, Thm A.2).

    >>> interpolation_targets("logistic", torch.tensor([1.0, -1.0], dtype=torch.float64), 0.2).tolist()
    [1.3862943611198906, -1.3862943611198906]
    """
    name, p = check_loss(loss, p)
    return Y if name == "mse" else math.log((1 - p) / p) * Y


@dataclass(frozen=True)
class Problem:
    """Interpolating nets of one architecture and width on (X, Y), parameters as flat float64 vectors.

    Parameters
    ==========
    arch, width, depth, activation, eps : the network (docs/paper.md §2), validated as ``build`` does.
    X, Y : the training set, X (n, d) and labels (n,) (±1 for the logistic loss).
    loss, p : "mse" or "logistic" with label smoothing p.
    device : "cpu", "cuda" or "auto" (``numerics.device.resolve_device``: "cuda" without a GPU falls back to
        the CPU with a warning), resolved once here; every tensor of a search lives there, and the random
        starts are drawn on the CPU and moved, so they are the same on every device.

    Examples
    ========
    >>> import torch
    >>> prob = Problem("bias", torch.tensor([[1.0, 1.0], [-1.0, 1.0]]), torch.tensor([1.0, -1.0]), width=2)
    >>> prob.size, prob.names
    (8, ('W1', 'b1', 'W2'))
    >>> theta = prob.starts(3, seed=0)
    >>> prob.sharpness(theta).shape, prob.residuals(theta).shape
    (torch.Size([3]), torch.Size([3, 2]))
    """

    arch: str
    X: torch.Tensor
    Y: torch.Tensor
    width: int
    depth: int = 2
    activation: str = "relu"
    eps: float | None = None
    loss: str = "mse"
    p: float | None = None
    device: str | torch.device = "cpu"
    shapes: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        if not isinstance(self.device, torch.device):
            check_choice("device", self.device, DEVICES)
        device = self.device if isinstance(self.device, torch.device) else resolve_device(self.device)
        object.__setattr__(self, "device", device)
        X = check_points("X", self.X).to(device=device, dtype=torch.float64)
        object.__setattr__(self, "X", X)
        object.__setattr__(self, "Y", check_labels("Y", self.Y, X.shape[0]).to(device=device, dtype=torch.float64))
        check_int("width", self.width, 1)
        check_hyper(self.arch, depth=self.depth, activation=self.activation, eps=self.eps)
        check_loss(self.loss, self.p)
        template = build(self.arch, X.shape[1], self.width, depth=self.depth, activation=self.activation,
                         eps=self.eps, seed=0)
        object.__setattr__(self, "shapes", {k: tuple(v.shape) for k, v in template.named_parameters()})

    # ------------------------------------------------------------ layout
    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.shapes)

    @property
    def size(self) -> int:
        """P, the number of parameters."""
        return sum(math.prod(s) for s in self.shapes.values())

    @property
    def targets(self) -> torch.Tensor:
        """t_i, the outputs an interpolator takes on the training inputs (see the module docstring)."""
        return interpolation_targets(self.loss, self.Y, self.p)

    def unflatten(self, theta: torch.Tensor) -> dict:
        """The parameter dict (shared names) of one flat vector θ (P,)."""
        out, k = {}, 0
        for name, shape in self.shapes.items():
            size = math.prod(shape)
            out[name] = theta[k:k + size].reshape(shape)
            k += size
        return out

    def flatten(self, params) -> torch.Tensor:
        """θ (P,) of a parameter dict, a ``Net`` or a ``Params`` (any layout ``from_params`` reads)."""
        net = params if isinstance(params, Net) else from_params(self.arch, params, activation=self.activation,
                                                                 eps=self.eps)
        got = dict(net.named_parameters())
        return torch.cat([got[k].detach().reshape(-1).to(device=self.device, dtype=torch.float64)
                          for k in self.shapes])

    def starts(self, count: int, seed: int = 0) -> torch.Tensor:
        """``count`` random starts (count, P): the PyTorch-default initialisation (``build``) of seeds
        seed, seed + 1, ..., each scaled by a factor drawn log-uniformly in [1/3, 3] so the starts cover
        several norms (the search does not assume where the flattest nets are)."""
        check_int("count", count, 1)
        gen = torch.Generator().manual_seed(seed)
        rows = []
        for k in range(count):
            net = build(self.arch, self.X.shape[1], self.width, depth=self.depth, activation=self.activation,
                        eps=self.eps, seed=seed + k)
            scale = math.exp((torch.rand((), generator=gen, dtype=torch.float64).item() * 2 - 1) * math.log(3))
            rows.append(self.flatten(net) * scale)
        return torch.stack(rows)

    def net(self, theta: torch.Tensor) -> Net:
        """A float64 ``Net`` holding θ (P,), with the training inputs registered."""
        params = {k: v.detach().clone() for k, v in self.unflatten(theta).items()}
        net = Net(self.arch, params, depth=self.depth, activation=self.activation, eps=self.eps)
        return net.set_training_inputs(self.X)

    # ------------------------------------------------------------ one θ (vmapped below)
    def output_of(self, theta: torch.Tensor, X: torch.Tensor, smoothing: float | None = None) -> torch.Tensor:
        """f_θ(x) (n_X,) of one θ (P,) on the rows of X (on this problem's device); with ``smoothing`` T the
        relu's gate softened as in ``numerics.nets.functional.forward`` (the adversary's surrogates)."""
        return forward(self.arch, self.unflatten(theta), X, activation=self.activation, eps=self.eps,
                       X_train=self.X, smoothing=smoothing)

    def _sharpness(self, theta: torch.Tensor, step=None) -> torch.Tensor:
        params = self.unflatten(theta)
        out = forward(self.arch, params, self.X, activation=self.activation, eps=self.eps, X_train=self.X)
        d1, d2 = loss_derivatives(self.loss, out, self.Y, self.p)
        terms = sample_terms(self.arch, params, self.X, activation=self.activation, eps=self.eps, X_train=self.X,
                             step=step)
        return (d2 * terms.grad_sq).mean() + (d1 * terms.hess_trace).mean()

    # ------------------------------------------------------------ batched: θ (R, P)
    def outputs(self, theta: torch.Tensor, X: torch.Tensor | None = None) -> torch.Tensor:
        """f_θ(x) (R, n_X) for every start and every row of X (default: the training inputs)."""
        X = self.X if X is None else X
        return vmap(lambda t: self.output_of(t, X))(theta)

    def residuals(self, theta: torch.Tensor) -> torch.Tensor:
        """f_θ(x_i) − t_i (R, n)."""
        return self.outputs(theta) - self.targets

    def sharpness(self, theta: torch.Tensor, smoothing: float | None = None) -> torch.Tensor:
        """The exact Tr ∇²L (R,) of F1 (module docstring), differentiable in θ; with ``smoothing`` T > 0
        the relu' = 1[z > 0] in it replaced by sigmoid(z/T) (a surrogate that tends to Tr as T → 0 off
        z = 0, and whose gradient sees a neuron switching on or off, where the exact Tr jumps)."""
        step = None if smoothing is None else (lambda z: torch.sigmoid(z / smoothing))
        return self.sharpness_with_step(theta, step)

    def sharpness_with_step(self, theta: torch.Tensor, step) -> torch.Tensor:
        """Tr ∇²L (R,) with relu' replaced by ``step(z)`` (``None``: the exact 1[z > 0]; see
        ``numerics.nets.sharpness.sample_terms``)."""
        return vmap(lambda t: self._sharpness(t, step))(theta)

    def jacobian(self, theta: torch.Tensor) -> torch.Tensor:
        """∂f_θ(x_i)/∂θ (R, n, P) on the training inputs."""
        return vmap(jacrev(lambda t: self.output_of(t, self.X)))(theta)
