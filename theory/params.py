"""The parameter layout shared by ``theory`` (sympy) and ``numerics`` (torch).

Names follow docs/paper.md §2: ``W1`` (m x d), ``b1`` (m), ``W2`` (m), ``gamma`` (m),
and for an MLP of depth D the square hidden layers ``middle[k]`` (m x m),
which are the paper's W_{k+2}. ``W2`` is always the *output* layer (the
paper's W_D), so a two-layer network has ``middle == ()``.

Here every field is a sympy ``Matrix``; vectors are m x 1 columns. The torch
side (``numerics.params.Params``) holds the same fields as tensors, vectors
flat. Either side converts the other with ``from_arrays``, which only needs
``.tolist()`` on each field, so neither package imports the other's library.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

import sympy as sp

from sharpgen.theory.data import is_real_entry

FIELDS = ("W1", "b1", "W2", "gamma", "middle")


def _as_matrix(name: str, value, exact: bool) -> sp.Matrix:
    if isinstance(value, sp.MatrixBase):
        return sp.Matrix(value)
    rows = value.tolist() if hasattr(value, "tolist") else value
    try:
        mat = sp.Matrix(rows)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}: cannot read as a matrix ({err})") from None
    if exact:
        # Rational(float) is the float's exact binary value: no rounding.
        return mat.applyfunc(lambda v: sp.Rational(v) if isinstance(v, (float, sp.Float)) else sp.sympify(v))
    return mat


def _check_finite(name: str, mat: sp.Matrix) -> None:
    """Entries must be finite reals or expressions in symbols (not nan, ±oo, zoo, I)."""
    for i in range(mat.rows):
        for j in range(mat.cols):
            if not is_real_entry(mat[i, j], symbolic=True):
                raise ValueError(f"{name}: expected finite real numbers or symbols, "
                                 f"got {mat[i, j]} at entry ({i}, {j})")


def _column(name: str, value, exact: bool) -> sp.Matrix:
    mat = _as_matrix(name, value, exact)
    if mat.rows == 1 and mat.cols != 1:
        mat = mat.T
    return mat


@dataclass(frozen=True)
class Params:
    """Network parameters as sympy matrices, layout of docs/paper.md §2.

    ``b1`` is ``None`` for ``nobias``; ``gamma`` is set only for ``sim_bn``.

    >>> import sympy as sp
    >>> p = Params(W1=sp.Matrix([[1, 0], [0, 1]]), b1=sp.Matrix([0, -1]), W2=sp.Matrix([1, 1]))
    >>> p.width, p.d, p.depth
    (2, 2, 2)
    >>> Params(W1=sp.ones(2, 3), W2=sp.ones(3, 1))
    Traceback (most recent call last):
    ...
    ValueError: W2: expected shape (2, 1) (width of W1), got (3, 1)

    Entries are finite real numbers or expressions in symbols; nan, ±oo, zoo and
    non-real numbers are refused, naming the field:

    >>> Params(W1=sp.Matrix([[1, sp.nan]]), W2=sp.ones(1, 1))
    Traceback (most recent call last):
    ...
    ValueError: W1: expected finite real numbers or symbols, got nan at entry (0, 1)
    """

    W1: sp.Matrix
    W2: sp.Matrix
    b1: sp.Matrix | None = None
    gamma: sp.Matrix | None = None
    middle: tuple[sp.Matrix, ...] = ()

    def __post_init__(self):
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "middle":
                object.__setattr__(self, "middle", tuple(sp.Matrix(w) for w in value))
            elif value is not None and not isinstance(value, sp.MatrixBase):
                raise ValueError(f"{f.name}: expected a sympy Matrix, got {type(value).__name__}")
        m = self.W1.rows
        if m < 1 or self.W1.cols < 1:
            raise ValueError(f"W1: expected a non-empty (width, d) matrix, got {self.W1.shape}")
        for name in ("W2", "b1", "gamma"):
            value = getattr(self, name)
            if value is not None and value.shape != (m, 1):
                raise ValueError(f"{name}: expected shape ({m}, 1) (width of W1), got {value.shape}")
        for k, w in enumerate(self.middle):
            if w.shape != (m, m):
                raise ValueError(f"middle[{k}]: expected shape ({m}, {m}), got {w.shape}")
        for name in ("W1", "b1", "W2", "gamma"):
            if getattr(self, name) is not None:
                _check_finite(name, getattr(self, name))
        for k, w in enumerate(self.middle):
            _check_finite(f"middle[{k}]", w)

    @property
    def width(self) -> int:
        return self.W1.rows

    @property
    def d(self) -> int:
        return self.W1.cols

    @property
    def depth(self) -> int:
        return len(self.middle) + 2

    @property
    def first_layer(self) -> sp.Matrix:
        """W1' = [W1 | b1] (docs/paper.md §1), or W1 when there is no bias."""
        return self.W1 if self.b1 is None else self.W1.row_join(self.b1)

    def items(self):
        """(name, matrix) pairs of the fields that are set, middle layers as ``middle.k``."""
        for name in ("W1", "b1"):
            if getattr(self, name) is not None:
                yield name, getattr(self, name)
        for k, w in enumerate(self.middle):
            yield f"middle.{k}", w
        yield "W2", self.W2
        if self.gamma is not None:
            yield "gamma", self.gamma

    def subs(self, *args, **kwargs) -> "Params":
        """Substitute into every field (e.g. a construction's free ``d`` or ``scale``)."""
        def sub(v):
            return None if v is None else v.subs(*args, **kwargs)
        return Params(W1=sub(self.W1), W2=sub(self.W2), b1=sub(self.b1), gamma=sub(self.gamma),
                      middle=tuple(sub(w) for w in self.middle))

    @classmethod
    def from_arrays(cls, source, *, exact: bool = True) -> "Params":
        """Build from anything with the shared field names whose values have ``.tolist()``.

        ``source`` may be a ``numerics.params.Params``, a mapping, or an object
        with attributes W1, b1, W2, gamma, middle. With ``exact=True`` floats
        become their exact rational values.

        >>> import numpy as np
        >>> Params.from_arrays({"W1": np.eye(2), "W2": np.array([0.5, -1.0])}).W2.T
        Matrix([[1/2, -1]])
        """
        get = source.get if isinstance(source, dict) else (lambda k, default=None: getattr(source, k, default))
        if get("W1") is None or get("W2") is None:
            raise ValueError("source: needs at least W1 and W2")
        opt = {k: (None if get(k) is None else _column(k, get(k), exact)) for k in ("b1", "gamma")}
        middle = tuple(_as_matrix(f"middle[{k}]", w, exact) for k, w in enumerate(get("middle") or ()))
        return cls(W1=_as_matrix("W1", get("W1"), exact), W2=_column("W2", get("W2"), exact),
                   middle=middle, **opt)
