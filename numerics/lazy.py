"""Package faces that import nothing until a name is used.

``sharpgen --help`` and the CLI's argument checks import ``sharpgen.numerics.runs.config`` and
``sharpgen.numerics.validate``; Python imports every package ``__init__`` on the way, so those
faces must not pull in torch. :func:`lazy_exports` gives a package the PEP 562 ``__getattr__``
that imports a public name's module on first use.

>>> getattr_, dir_ = lazy_exports("sharpgen.numerics.runs", {"TrainConfig": "config"})
>>> getattr_("TrainConfig").__name__
'TrainConfig'
"""
from __future__ import annotations

import importlib

__all__ = ["lazy_exports"]


def lazy_exports(package: str, table: dict[str, str]):
    """``(__getattr__, __dir__)`` for ``package``: ``table`` maps a public name to the submodule
    (relative to ``package``) that defines it; a submodule's own name maps to ``""``."""
    def __getattr__(name: str):
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        if table[name] == "":
            return importlib.import_module(f"{package}.{name}")
        return getattr(importlib.import_module(f"{package}.{table[name]}"), name)

    def __dir__():
        return sorted(table)
    return __getattr__, __dir__
