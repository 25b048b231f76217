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

from dataclasses import dataclass

import sympy as sp

from sharpgen.theory.checks import check_entries, to_exact
from sharpgen.theory.symbols import substitution


def _as_matrix(name: str, value, exact: bool) -> sp.Matrix:
    if isinstance(value, sp.MatrixBase):
        return sp.Matrix(value)
    rows = value.tolist() if hasattr(value, "tolist") else value
    try:
        mat = sp.Matrix(rows)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}: cannot read as a matrix ({err})") from None
    return mat.applyfunc(lambda v: to_exact(sp.sympify(v))) if exact else mat


def _column(name: str, value, exact: bool) -> sp.Matrix:
    mat = _as_matrix(name, value, exact)
    if mat.rows == 1 and mat.cols != 1:
        mat = mat.T
    return mat


def _str_field(value) -> str:
    """A column as ``Matrix([a, b])`` (one line; it builds the same column), a matrix as
    sympy's aligned rows, a tuple of matrices as a tuple, anything else as its repr."""
    if isinstance(value, tuple):
        return "(" + ", ".join(_str_field(w) for w in value) + ",)"
    if not isinstance(value, sp.MatrixBase):
        return repr(value)
    if value.cols == 1:
        return "Matrix([" + ", ".join(sp.sstr(v) for v in value) + "])"
    return sp.sstr(value)


def fields_repr(cls: str, pairs) -> str:
    """``cls(`` then one ``name=value`` per line (matrix rows aligned and indented) ``)``: the repr of
    ``Params`` and ``constructions.XorNetwork``, readable in a terminal."""
    lines = [f"    {name}=" + _str_field(value).replace("\n", "\n        ") for name, value in pairs]
    return f"{cls}(\n" + ",\n".join(lines) + ")"


def check_is_params(params) -> "Params":
    """``params`` if it is a ``Params``, else ValueError naming the argument."""
    if not isinstance(params, Params):
        raise ValueError(f"params: expected a theory.params.Params, got {type(params).__name__}")
    return params


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
        object.__setattr__(self, "middle", tuple(sp.Matrix(w) for w in self.middle))
        for name in ("W1", "b1", "W2", "gamma"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, sp.MatrixBase):
                raise ValueError(f"{name}: expected a sympy Matrix, got {type(value).__name__}")
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
        for name, mat in self.items():
            name = f"middle[{name[7:]}]" if name.startswith("middle.") else name
            check_entries(mat, name, "finite real numbers or symbols", symbolic=True, by_row=False)

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

    @property
    def free_symbols(self) -> set:
        """The free symbols of all fields (e.g. C6's scale ``k``).

        >>> from sharpgen.theory.constructions import generalizing
        >>> generalizing("sim_bn", 3).free_symbols
        {k}
        """
        return set().union(*[mat.free_symbols for _, mat in self.items()])

    def subs(self, *args, **kwargs) -> "Params":
        """Substitute into every field, as sympy's ``subs``; names resolve to the free symbols.

        ``p.subs(k, 3)``, ``p.subs("k", 3)``, ``p.subs({"k": 3})`` and ``p.subs(k=3)`` all
        replace C6's scale ``k`` (which carries assumptions, so sympy alone would not
        match ``"k"``; see ``theory.symbols``).

        >>> from sharpgen.theory.constructions import generalizing
        >>> generalizing("sim_bn", 2).subs(k=3).W1.T
        Matrix([
        [3,  3, -3, -3],
        [3, -3,  3, -3]])
        """
        mapping = substitution(self.free_symbols, *args, **kwargs)

        def sub(v):
            return None if v is None else v.subs(mapping)
        return Params(W1=sub(self.W1), W2=sub(self.W2), b1=sub(self.b1), gamma=sub(self.gamma),
                      middle=tuple(sub(w) for w in self.middle))

    def _fields_set(self):
        """(keyword, value) of the fields that are set, in ``items`` order, ``middle`` as one tuple."""
        out = [(name, getattr(self, name)) for name in ("W1", "b1") if getattr(self, name) is not None]
        if self.middle:
            out.append(("middle", self.middle))
        out += [(name, getattr(self, name)) for name in ("W2", "gamma") if getattr(self, name) is not None]
        return out

    def __repr__(self) -> str:
        """One field per line, as sympy prints it: matrices with their rows aligned, columns on one line.

        >>> Params(W1=sp.Matrix([[1, -2], [3, 4]]), b1=sp.Matrix([0, -1]), W2=sp.Matrix([sp.sqrt(2), 1]))
        Params(
            W1=Matrix([
                [1, -2],
                [3,  4]]),
            b1=Matrix([0, -1]),
            W2=Matrix([sqrt(2), 1]))
        """
        return fields_repr("Params", self._fields_set())

    def _latex(self, printer) -> str:
        """``sympy.latex(params)``: the fields as matrices, columns written as transposed rows.

        >>> print(sp.latex(Params(W1=sp.Matrix([[1, 2]]), W2=sp.Matrix([3]))))
        \\left(W_{1} = \\left[\\begin{matrix}1 & 2\\end{matrix}\\right],\\; W_{2} = \\left[\\begin{matrix}3\\end{matrix}\\right]^{\\top}\\right)
        """
        names = {"W1": "W_{1}", "b1": "b_{1}", "W2": "W_{2}", "gamma": "\\gamma"}
        parts = []
        for name, mat in self.items():
            label = f"\\mathrm{{middle}}_{{{name[7:]}}}" if name.startswith("middle.") else names[name]
            body = printer._print(mat.T) + "^{\\top}" if mat.cols == 1 else printer._print(mat)
            parts.append(f"{label} = {body}")
        return "\\left(" + ",\\; ".join(parts) + "\\right)"

    def _repr_latex_(self) -> str:
        """Jupyter's rendering: ``$`` + ``sympy.latex(self)`` + ``$``."""
        return f"${sp.latex(self)}$"

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
        opt = {key: (None if get(key) is None else _column(key, get(key), exact)) for key in ("b1", "gamma")}
        middle = tuple(_as_matrix(f"middle[{i}]", w, exact) for i, w in enumerate(get("middle") or ()))
        return cls(W1=_as_matrix("W1", get("W1"), exact), W2=_column("W2", get("W2"), exact),
                   middle=middle, **opt)
