"""Sweeps: grids of training runs on dask.distributed, resumable, gathered into one table.

``run_sweep(spec, out)`` (``verify.sweep.driver``) runs a sweep file
(``verify.sweep.spec``) point by point (``verify.sweep.grid``) in run
directories exactly as ``sharpgen train`` writes them (``verify.sweep.runs``)
and returns the results table (``verify.sweep.table``); ``sharpgen sweep`` is
its command line. In a sweep folder a run id stands for one config
(``verify.sweep.identity``): sweeps that agree share runs, one that disagrees
is refused (``RunIdentityError``). The shipped sweep files are listed by ``verify.sweep.catalog``.

The names below load on first use, so importing this package (as
``sharpgen --help`` does) pulls in neither torch nor dask.
"""
from sharpgen.numerics.lazy import lazy_exports

_TABLE = {"run_sweep": "driver", "collect_table": "driver", "expand": "grid", "GridPoint": "grid",
          "SweepSpec": "spec", "load_spec": "spec", "parse_spec": "spec", "study_names": "catalog",
          "RunIdentityError": "identity"}
__all__ = sorted(_TABLE)
__getattr__, __dir__ = lazy_exports(__name__, _TABLE)
