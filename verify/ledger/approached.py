"""Which flattest minimizer a trained net approached: the memorizing one (C1/C4: a neuron per training
point, nothing fires off the training set) or the generalizing one (C2/C3/C5/C6: four neurons reading
±x1 ± x2).

Measured on the run's final parameters (its checkpoint) and training set:

* ``zero_fraction``: fraction of unseen cube points where no first-layer neuron fires (f = 0 there,
  an error): about 1 for C1/C4, 0 for the generalizing nets;
* per-neuron activation counts on the training inputs: dead neurons, neurons firing on exactly one
  training point (Def 4.2's memorization), the largest count;
* the four neurons of largest ||W1_j||: cosine of W1_j with the nearest (±1, ±1, 0, ..., 0)/sqrt(2),
  the ratio min(|W1_j[1]|, |W1_j[2]|) / ||W1_j[3:d]||, and whether they cover the four sign patterns.

``verdict`` names the construction the numbers point to; the cut-offs (zero fraction >= 0.5 and a
majority of live neurons firing on one point: memorizing; zero fraction <= 0.05 and top-4 cosines
>= 0.9: generalizing) describe, they do not judge a claim.
"""
from __future__ import annotations

import math

import torch

from sharpgen.numerics.runs.checkpoint import load_checkpoint
from sharpgen.numerics.nets.diagnostics import activation_counts, top_neurons, zero_fraction
from sharpgen.numerics.nets.params import from_params
from sharpgen.numerics.runs.train import make_dataset


def _alignment(net) -> dict:
    top = top_neurons(net, k=min(4, net.width))
    w1, w2, rest = top["w1"], top["w2"], top["rest"]
    norm = torch.sqrt(w1 ** 2 + w2 ** 2 + rest ** 2).clamp_min(1e-300)
    head = torch.minimum(w1.abs(), w2.abs())
    patterns = {(int(torch.sign(a)), int(torch.sign(b))) for a, b in zip(w1, w2) if a != 0 and b != 0}
    return {"top4_cosine": ((w1.abs() + w2.abs()) / (math.sqrt(2) * norm)).tolist(),
            "top4_head_over_rest": (head / rest.clamp_min(1e-300)).tolist(), "top4_sign_patterns": len(patterns),
            "top4_w1": w1.tolist(), "top4_w2": w2.tolist(), "top4_rest": rest.tolist()}


def final_net(record):
    """(the run's last checkpointed network in float64, the run's dataset), or None without a checkpoint."""
    state = load_checkpoint(record.run_dir)
    if state is None:
        return None
    config = record.spec.config
    params = {k: v.to(torch.float64) for k, v in state["params"].items()}
    data = make_dataset(config)
    net = from_params(config.arch, params, eps=config.eps, activation=config.activation,
                      X_train=data.X if config.arch == "sim_bn" else None)
    return net, data


def describe_run(record) -> dict:
    """The numbers above for a finished run (empty when it has no checkpoint)."""
    found = final_net(record)
    if found is None:
        return {}
    net, data = found
    counts = activation_counts(net, data.X)
    live = counts[counts > 0]
    out = {"zero_fraction": zero_fraction(net, data.X), "dead_neurons": int((counts == 0).sum()),
           "one_point_neurons": int((counts == 1).sum()), "live_neurons": int(live.numel()),
           "max_active": int(counts.max()), "median_active_live": float(live.median()) if live.numel() else 0.0}
    out.update(_alignment(net))
    out["verdict"] = verdict(out)
    return out


def verdict(m: dict) -> str:
    """'memorizing (C1/C4-like)', 'generalizing (C2/C3/C5/C6-like)' or 'neither' from ``describe_run``'s numbers.

    >>> verdict({"zero_fraction": 0.97, "one_point_neurons": 80, "live_neurons": 100, "top4_cosine": [0.2] * 4})
    'memorizing (C1/C4-like)'
    """
    if m["zero_fraction"] >= 0.5 and m["one_point_neurons"] > m["live_neurons"] / 2:
        return "memorizing (C1/C4-like)"
    if m["zero_fraction"] <= 0.05 and min(m["top4_cosine"]) >= 0.9:
        return "generalizing (C2/C3/C5/C6-like)"
    return "neither"
