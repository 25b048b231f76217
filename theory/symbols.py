"""The symbols of theory's symbolic results, and substitution by name.

``d`` is the input dimension (docs/paper.md §1), a positive integer; ``k`` is
the first-layer scale of C6 (docs/paper.md §4), positive. They carry those
assumptions, so sympy treats ``Symbol("d")`` (no assumptions) as a different
symbol and ``expr.subs("d", 30)`` silently changes nothing. Substitute with
these very objects (``from sharpgen.theory import d``), or through the
``subs`` of theory's results (``MinSharpness``, ``Params``, ``XorNetwork``),
which also accept names: ``min_sharpness_xor("bias").subs("d", 30)``.

>>> expr = 4 * sp.sqrt(d + 1)
>>> expr.subs("d", 3), expr.subs(d, 3), expr.subs(substitution(expr.free_symbols, "d", 3))
(4*sqrt(d + 1), 8, 8)
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping

import sympy as sp

d = sp.Symbol("d", positive=True, integer=True)
k = sp.Symbol("k", positive=True)


def _pairs(args, kwargs) -> list:
    """The (old, new) pairs of sympy's ``subs(old, new)``, ``subs(mapping)``, ``subs(pairs)``, plus ``name=value``."""
    if len(args) == 2:
        pairs = [tuple(args)]
    elif len(args) == 1 and isinstance(args[0], Mapping):
        pairs = list(args[0].items())
    elif len(args) == 1 and isinstance(args[0], Iterable) and not isinstance(args[0], str):
        pairs = [tuple(p) for p in args[0]]
    elif not args:
        pairs = []
    else:
        raise ValueError(f"subs: expected (old, new), a mapping or (old, new) pairs, got {args!r}")
    return pairs + list(kwargs.items())


def substitution(free_symbols, *args, **kwargs) -> dict:
    """The substitution ``subs(*args, **kwargs)`` means, with names resolved to ``free_symbols``.

    A key that is a string, or a Symbol that is not itself free but shares its name
    with a free symbol (``Symbol("d")`` for our ``d``), stands for the free symbol of
    that name. A name that matches none is an error unless it is one of theory's
    own symbols (``d``, ``k``), which a numeric value may simply not contain.

    >>> sorted(substitution({d, k}, k=2, d=5).items(), key=str)
    [(d, 5), (k, 2)]
    >>> substitution({d}, "n", 3)
    Traceback (most recent call last):
    ...
    ValueError: n: no free symbol of that name; the free symbols are ['d']
    """
    by_name: dict[str, list] = {}
    for s in free_symbols:
        by_name.setdefault(s.name, []).append(s)
    out = {}
    for old, new in _pairs(args, kwargs):
        if isinstance(old, sp.Symbol) and (old in free_symbols or old.name not in by_name):
            key = old
        elif isinstance(old, (str, sp.Symbol)):
            key = _by_name(old if isinstance(old, str) else old.name, by_name)
        else:
            key = old
        if key is not None:
            out[key] = new
    return out


def _by_name(name: str, by_name: dict):
    matches = by_name.get(name, [])
    if len(matches) > 1:
        raise ValueError(f"{name}: ambiguous, several free symbols have that name ({matches})")
    if matches:
        return matches[0]
    if name in (d.name, k.name):
        return None
    raise ValueError(f"{name}: no free symbol of that name; the free symbols are {sorted(by_name)}")
