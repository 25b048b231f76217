"""Sweeps: grids of training runs on dask.distributed, resumable, gathered into one table.

``run_sweep(spec, out)`` (``verify.sweep.driver``) runs a sweep file
(``verify.sweep.spec``) point by point (``verify.sweep.grid``) in run
directories exactly as ``sharpgen train`` writes them (``verify.sweep.runs``)
and returns the results table (``verify.sweep.table``); ``sharpgen sweep`` is
its command line. The shipped sweep files are listed by ``verify.sweep.catalog``.

The names below load on first use, so importing this package (as
``sharpgen --help`` does) pulls in neither torch nor dask.
"""
from __future__ import annotations

import importlib

_EXPORTS = {"run_sweep": "driver", "collect_table": "driver", "expand": "grid", "GridPoint": "grid",
            "SweepSpec": "spec", "load_spec": "spec", "parse_spec": "spec", "study_names": "catalog"}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
