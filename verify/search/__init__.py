"""The verify side of the search inside the flattest set (``numerics.search``, docs/search.md).

* :mod:`.certify` — ``certify(problem, theta)``: an independent float64 autograd Hessian and an exact
  sympy re-check of a found net's Tr ∇²L and interpolation;
* :mod:`.store` — ``save``/``load`` of a found net and its report (net.json, report.json, report.md),
  and the saved net as an exact ``theory`` net or a ``numerics`` ``Net``;
* :mod:`.run` — ``search(spec)``: flattest, the comparison with theory's minimum (``BelowMinimum``),
  the adversary, the certificate; what ``sharpgen search`` runs.

>>> from sharpgen.verify.search import SearchSpec
>>> SearchSpec("bias", 4, [[1.0, 1.0]], [1.0], kind="maybe")
Traceback (most recent call last):
...
ValueError: kind: expected one of ('flattest', 'adversary'), got 'maybe'
"""
from sharpgen.numerics.lazy import lazy_exports

_NAMES = {
    "Certificate": "certify", "Part": "certify",
    "save": "store", "load": "store", "load_report": "store", "theory_params": "store", "net_of": "store",
    "is_saved": "store",
    "SearchSpec": "run", "SearchOutcome": "run", "search": "run", "BelowMinimum": "run", "SearchFailed": "run",
    "evaluation_points": "run", "make_target": "run", "theory_minimum": "run",
    "certify": "", "store": "", "run": "",  # the modules (``certify.certify`` is the function)
}
__all__ = list(_NAMES)
__getattr__, __dir__ = lazy_exports(__name__, _NAMES)
