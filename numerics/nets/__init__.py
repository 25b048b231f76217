"""The paper's networks and what is computed on them (torch, float64 by default).

Architectures (docs/conventions.md): ``nobias`` f = W2 relu(W1 x); ``bias`` f = W2 act(W1 x + b1)
at any depth; ``sim_ln`` and ``sim_bn``, the simplified LayerNorm and BatchNorm nets. One
parameter layout (W1, b1, W2, gamma) is shared with ``sharpgen.theory``.

* models and parameters: :class:`Net`, :func:`build`, :class:`Params`, :func:`from_params`,
  :func:`model_to_params`, :func:`forward`;
* data and losses: :class:`Dataset`, :func:`xor_dataset`, :func:`cube`, :func:`get_loss`;
* sharpness: :func:`trace_hessian` (closed form of Lemma 4.1, autograd or Hutchinson),
  :func:`trace_parts`;
* diagnostics of a trained net: :func:`diagnose`, :func:`path_norm`, :func:`top_neurons`.

>>> from sharpgen.numerics.nets import build, trace_hessian, xor_dataset
>>> data = xor_dataset(3, 8, seed=0)
>>> net = build("nobias", d=3, width=4, seed=0)
>>> float(trace_hessian(net, data.X, data.Y)) > 0
True
"""
from sharpgen.numerics.nets.data import (Dataset, ball_dataset, circle_dataset, condition1_dataset, cube,
                                         xor_dataset, xor_labels)
from sharpgen.numerics.nets.diagnostics import (Lemma31Terms, activation_counts, column_norms, diagnose, lemma31_terms,
                                                output_masses, path_norm, top_neurons, zero_fraction)
from sharpgen.numerics.nets.functional import forward
from sharpgen.numerics.nets.initialization import build
from sharpgen.numerics.nets.losses import LOSSES, get_loss, logistic_ls, mse
from sharpgen.numerics.nets.models import Net
from sharpgen.numerics.nets.params import Params, from_params, model_to_params
from sharpgen.numerics.nets.sharpness import (AUTOGRAD_MAX_PARAMS, METHODS, HutchinsonEstimate, TraceParts,
                                              per_sample_terms, sample_terms, trace_hessian, trace_parts)

__all__ = ["Dataset", "ball_dataset", "circle_dataset", "condition1_dataset", "cube", "xor_dataset", "xor_labels",
           "activation_counts", "column_norms", "diagnose", "Lemma31Terms", "lemma31_terms", "output_masses", "path_norm", "top_neurons",
           "zero_fraction", "forward", "build", "LOSSES", "get_loss", "logistic_ls", "mse", "Net", "Params",
           "from_params", "model_to_params", "HutchinsonEstimate", "trace_hessian", "trace_parts",
           "AUTOGRAD_MAX_PARAMS", "METHODS", "TraceParts", "per_sample_terms", "sample_terms"]
