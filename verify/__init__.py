"""The bridge between ``theory`` and ``numerics``: the ledger of the paper's
claims, their checks, and the ``sharpgen`` command line.

* :mod:`.ledger` — the ledger and ``sharpgen verify``; :mod:`.plots` — the figures;
  :mod:`.sweep` — grids of runs on Dask; :mod:`.search` — ``sharpgen search``: the flattest-set search
  checked against theory, certified and saved; :mod:`.strategies` — hypothesis strategies that generate
  the paper's objects (training sets, interpolating networks, constructions);
  :mod:`.theory_min` — the exact minimum sharpness of a run's own training set; :mod:`.bench` —
  ``sharpgen bench``; :mod:`.cli` — the command line.

Submodules load on first use (``sharpgen --help`` imports neither torch nor sympy).
"""
from sharpgen.numerics.lazy import lazy_exports

__all__ = ["ledger", "plots", "sweep", "search", "strategies", "theory_min", "bench", "cli"]
__getattr__, __dir__ = lazy_exports(__name__, {name: "" for name in __all__})
