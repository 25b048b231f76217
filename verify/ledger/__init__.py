"""The ledger of the paper's results and the three kinds of evidence ``sharpgen verify`` gathers for them.

``entries`` (the ledger itself: id, reference, statement, evidence kinds), ``exact`` (sympy),
``properties`` (hypothesis, run by ``sharpgen verify`` itself), ``trained`` (1-SAM and baseline
runs judged against theory), ``runner`` (runs entries by kind, yields rows of the live table),
``report`` (report.md, report.json). See docs/paper.md for the statements in full.

Names load on first use.
"""
from sharpgen.numerics.lazy import lazy_exports

_TABLE = {"Entry": "entries", "ENTRIES": "entries", "KINDS": "entries", "entry": "entries", "select": "entries",
          "known_keys": "entries", "Options": "command", "run_verify": "command", "PROFILES": "profiles"}
__all__ = sorted(_TABLE)
__getattr__, __dir__ = lazy_exports(__name__, _TABLE)
