"""Exact second-order forward-mode derivatives: the ``Jet`` (docs/paper.md §3, method of F1).

Tr ∇²L needs only the Hessian's diagonal: for each scalar parameter θ_k alone,
the first and second derivatives along t = θ_k. A ``Jet`` carries a value with
its d/dt and d²/dt² as exact sympy scalars; ``theory.architectures.evaluate``
runs the very forward pass of ``forward`` on jets, so the chain rule is applied
exactly, branch by branch (``choose``).
"""
from __future__ import annotations

import sympy as sp


class Jet:
    """A truncated Taylor expansion v + d t + (dd/2) t², exact sympy components.

    Arithmetic follows the chain rule to second order (d²/dt² in ``dd``).

    >>> t = Jet(sp.Integer(3), 1)
    >>> j = (t * t + 1).sqrt()        # sqrt(t² + 1) at t = 3
    >>> j.value, j.d, j.dd
    (sqrt(10), 3*sqrt(10)/10, sqrt(10)/100)
    """

    __slots__ = ("value", "d", "dd")

    def __init__(self, value, d=0, dd=0):
        self.value, self.d, self.dd = sp.sympify(value), sp.sympify(d), sp.sympify(dd)

    def __repr__(self) -> str:
        return f"Jet({self.value}, {self.d}, {self.dd})"

    def _latex(self, printer) -> str:
        """``sympy.latex(jet)``: the expansion v + d t + (dd/2) t² in the symbol t.

        >>> print(sp.latex(Jet(sp.sqrt(2), 3, 4)))
        2 t^{2} + 3 t + \\sqrt{2}
        """
        t = sp.Symbol("t")
        return printer._print(self.value + self.d * t + self.dd / 2 * t ** 2)

    @staticmethod
    def lift(z) -> "Jet":
        return z if isinstance(z, Jet) else Jet(z)

    def __add__(self, other):
        o = Jet.lift(other)
        return Jet(self.value + o.value, self.d + o.d, self.dd + o.dd)

    __radd__ = __add__

    def __neg__(self):
        return Jet(-self.value, -self.d, -self.dd)

    def __sub__(self, other):
        return self + (-Jet.lift(other))

    def __rsub__(self, other):
        return Jet.lift(other) + (-self)

    def __mul__(self, other):
        o = Jet.lift(other)
        return Jet(self.value * o.value, self.value * o.d + self.d * o.value,
                   self.value * o.dd + 2 * self.d * o.d + self.dd * o.value)

    __rmul__ = __mul__

    def _apply(self, f0, f1, f2) -> "Jet":
        """φ(self) given φ, φ', φ'' at the value."""
        return Jet(f0, f1 * self.d, f1 * self.dd + f2 * self.d ** 2)

    def __pow__(self, r):
        r = sp.sympify(r)
        v = self.value
        return self._apply(v ** r, r * v ** (r - 1), r * (r - 1) * v ** (r - 2))

    def __truediv__(self, other):
        return self * Jet.lift(other) ** -1

    def __rtruediv__(self, other):
        return Jet.lift(other) * self ** -1

    def sqrt(self):
        return self ** sp.Rational(1, 2)

    def exp(self):
        e = sp.exp(self.value)
        return self._apply(e, e, e)

    def log(self):
        v = self.value
        return self._apply(sp.log(v), 1 / v, -1 / v ** 2)

    @staticmethod
    def choose(cond, a, b) -> "Jet":
        """Component-wise ``Piecewise((a, cond), (b, True))`` (cond undecided)."""
        a, b = Jet.lift(a), Jet.lift(b)
        return Jet(*[sp.Piecewise((x, cond), (y, True)) for x, y in
                     ((a.value, b.value), (a.d, b.d), (a.dd, b.dd))])
