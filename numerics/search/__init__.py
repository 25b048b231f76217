"""Search inside the flattest set (docs/search.md): the least Tr ∇²L over interpolating nets, and the
net in the near-flattest set that violates a claim most.

* :class:`Problem` — one architecture and width on one training set, parameters as flat float64
  vectors, the exact F1 sharpness (closed form, differentiable, batched over starts), on the device
  it resolves once (``device="cpu" | "cuda" | "auto"``);
* :func:`flattest` — minimize Tr ∇²L over {f(x_i) = t_i} from many random starts together;
* :func:`adversary` — maximize a :class:`Target` over {f(x_i) = t_i, Tr ∇²L <= bound};
* :func:`least` — the least value over unit directions of an average over the inputs (Lemmas A.5, A.6);
* :mod:`targets` — the conclusions of the paper's "for all flattest" statements as numbers;
* :class:`Schedule`, :class:`SearchResult`, ``FEASIBLE`` (1e-10, the residual a reported net reaches).

Comparing with theory's exact minima and certifying a net independently is ``sharpgen.verify.search``.

>>> from sharpgen.numerics.search import Problem, flattest, Schedule
>>> from sharpgen.numerics.nets import cube, xor_labels
>>> X = cube(3)[:4]
>>> res = flattest(Problem("bias", X, xor_labels(X), width=6), starts=4, schedule=Schedule(iterations=100))
>>> round(res.best_trace, 3)   # F3: (4/n) Σ ||x_i'|| |y_i| = 8
8.0
"""
from sharpgen.numerics.lazy import lazy_exports

_NAMES = {
    "Problem": "problem", "interpolation_targets": "problem",
    "Schedule": "method", "FEASIBLE": "method", "descend": "method", "restore": "method",
    "SearchResult": "minimum", "flattest": "minimum", "feasible_starts": "minimum",
    "adversary": "violation", "Target": "targets", "targets": "",
    "least": "directions", "Least": "directions",
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
