"""Sums over an index: the terms of ``\\sum_i`` (or ``\\prod_i``) for every i at once.

The body of the sum becomes `Each`, a matrix whose row i is the term for i, by following the
matrix product of each term: wᵀx_i for every i is X w, y_i x_iᵀw is y ⊙ (X w). The Builder then
adds the rows up (1ᵀ… or Vᵀ𝟏) or multiplies them (det diag(…)).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.errors import InputError, ShapeError, UnsupportedError
from derive.expr import MatScalar, elementwise, is_matrix, transpose
from derive.latex import parser as P
from derive.latex.shapes import SCALAR_FUNCTIONS, Shapes, entrywise_power


@dataclass(frozen=True)
class Each:
    """The terms t_i of a sum over i, for every i at once: row i of the n×p matrix `m` is t_i
    (transposed when `orient` is "col", so that t_i is a p-vector). Width 1: scalar terms."""

    m: sp.Basic
    orient: str = "col"

    @property
    def width(self) -> sp.Expr:
        return self.m.shape[1]

    def resolved(self, b: Shapes) -> Each:
        return Each(b.resolve(self.m), self.orient)


class Lifter:
    """The body of a sum over i as `Each` (terms that depend on i) or an expression (not).

    x_i is entry i of a vector x, or row i of a matrix x (declared, or an undeclared x whose
    x_i is used as a vector, as in wᵀx_i; otherwise it is a vector). Products of terms follow
    the matrix product of each term: wᵀx_i for every i is X w, y_i x_iᵀw is y ⊙ (X w).
    """

    def __init__(self, b: Shapes, index: str) -> None:
        self.b = b
        self.index = index

    def depends(self, node: object) -> bool:
        if isinstance(node, P.Indexed):
            return node.index == self.index
        if isinstance(node, P.Reduce):  # a sum over j inside may still read x_i
            return self.depends(node.body)
        if isinstance(node, tuple):
            return any(self.depends(a) for a in node)
        if hasattr(node, "__dataclass_fields__"):
            return any(self.depends(getattr(node, f)) for f in node.__dataclass_fields__)
        return False

    def lift(self, node: object) -> sp.Basic | Each:
        if not self.depends(node):
            return self.b.build(node)
        method = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise UnsupportedError(
                f"{type(node).__name__.lower()} of terms that depend on {self.index} "
                f"inside a sum over {self.index}"
            )
        out = method(node)
        return out.resolved(self.b) if isinstance(out, Each) else out

    # leaves and helpers
    def _Indexed(self, node: P.Indexed) -> Each:
        b = self.b
        if node.index != self.index:
            raise UnsupportedError(f"{node.base}_{node.index} inside a sum over {self.index}")
        if node.base not in b.syms and node.base[0].islower():
            width = b._fresh()
            b.sample_width.add(width)
            b.syms[node.base] = sp.MatrixSymbol(node.base, b._fresh(), width)
        v = b.name(node.base)
        if not is_matrix(v):
            raise ShapeError(f"{node.base}_{node.index}: {node.base} is a scalar, not a vector")
        return Each(v)

    def scalar(self, e: Each, what: str) -> Each:
        """e, whose terms must be numbers (width 1)."""
        self.b.unify(
            e.width,
            sp.S.One,
            lambda: f"{what} needs numbers, but the terms {self.b._show(e.m)} are not",
        )
        return e.resolved(self.b)

    def as_each(self, v: sp.Basic | Each, like: Each) -> Each:
        """A term that does not depend on i, repeated for every i, in the form of `like`."""
        b = self.b
        if isinstance(v, Each):
            return v
        like = like.resolved(b)
        rows = like.m.shape[0]
        if not is_matrix(v):
            if b.is_fresh(like.width):
                like = self.scalar(like, "adding a number")
            if like.width == 1:
                return Each(sp.MatMul(v, sp.OneMatrix(rows, 1)))
            return Each(sp.MatMul(v, sp.OneMatrix(rows, 1), sp.OneMatrix(1, like.width)))
        if tuple(v.shape) == (1, 1):
            return self.as_each(MatScalar(v), like)
        if v.shape[1] == 1:  # the column c for every i: row i is cᵀ
            return Each(sp.MatMul(sp.OneMatrix(rows, 1), transpose(v)), "col")
        if v.shape[0] == 1:
            return Each(sp.MatMul(sp.OneMatrix(rows, 1), v), "row")
        raise UnsupportedError(f"a matrix {b._show(v)} added to the terms of a sum")

    def combine(self, parts: list, op: str) -> sp.Basic | Each:
        """Terms added (op "add") or multiplied entrywise (op "odot") over i."""
        b = self.b
        eaches = [p for p in parts if isinstance(p, Each)]
        like = eaches[0]
        out: Each | None = None
        for p in parts:
            e = self.as_each(p, like)
            if out is None:
                out = e
                continue
            if out.orient != e.orient and 1 not in (out.width, e.width):
                raise ShapeError(f"a row and a column term inside a sum over {self.index}")
            if op == "add":
                m = b.add(out.m, e.m)
            else:
                m = b.elementwise_op("odot", [out.m, e.m])
            out = Each(b.resolve(m), out.orient if out.width != 1 else e.orient)
        return out

    # the tree
    def _Add(self, node: P.Add) -> Each:
        return self.combine([self.lift(t) for t in node.terms], "add")

    def _Elementwise(self, node: P.Elementwise) -> Each:
        if node.op != "odot":
            raise UnsupportedError(f"a Kronecker product inside a sum over {self.index}")
        return self.combine([self.lift(f) for f in node.factors], "odot")

    def _Neg(self, node: P.Neg) -> Each:
        e = self.lift(node.arg)
        return Each(sp.MatMul(-1, e.m), e.orient)

    def _Transpose(self, node: P.Transpose) -> Each:
        e = self.lift(node.arg)
        return Each(e.m, "row" if e.orient == "col" else "col")

    def _Mul(self, node: P.Mul) -> sp.Basic | Each:
        """Numbers (y_i, 2, λ) aside, the rest multiplied in order, then the numbers.

        x_i of unknown width is a vector when it is transposed or follows a vector or matrix
        factor (wᵀx_i, x_iᵀA x_i), otherwise a number (y_i in y_i wᵀx_i): y ⊙ (X w).
        """
        b = self.b
        numbers: list[sp.Basic | Each] = []
        acc: sp.Basic | Each | None = None
        for f in node.factors:
            v = self.lift(f)
            if isinstance(v, Each):
                if b.is_fresh(v.width):
                    follows = acc is not None and (isinstance(acc, Each) or is_matrix(acc))
                    if not (v.orient == "row" or follows):
                        v = self.scalar(v, "a product")
                if v.width == 1:
                    numbers.append(v)
                    continue
            elif not is_matrix(v) or tuple(v.shape) == (1, 1):
                numbers.append(v)
                continue
            acc = v if acc is None else self.times(acc, v)
        lead: sp.Basic | Each | None = None
        for n in numbers:  # in the order written
            lead = n if lead is None else self.times(lead, n)
        if acc is None or lead is None:
            return lead if acc is None else acc
        return self.times(lead, acc)

    def times(self, a: sp.Basic | Each, c: sp.Basic | Each) -> sp.Basic | Each:
        """The product of two factors for every i, each multiplied as matrices are."""
        b = self.b
        if not isinstance(a, Each) and not isinstance(c, Each):
            return b.mul(a, c)
        if not isinstance(a, Each):
            return self._const_times(a, c)
        if not isinstance(c, Each):
            return self._times_const(a, c)
        # two terms that depend on i: a number times anything, or a row times a column
        if a.width != 1 and c.width != 1 and a.orient == "row" and c.orient == "col":
            b.unify(a.width, c.width, lambda: f"the product {b._show(a.m)} · {b._show(c.m)}")
            a, c = a.resolved(b), c.resolved(b)
            inner = b.elementwise_op("odot", [a.m, c.m])
            return Each(sp.MatMul(inner, sp.OneMatrix(a.width, 1)))
        if a.width != 1 and b.is_fresh(a.width):
            a = self.scalar(a, "a product")  # y_i x_i: the first factor is the number
        elif c.width != 1 and b.is_fresh(c.width):
            c = self.scalar(c, "a product")
        if a.width == 1:
            return self._scale(a, c)
        if c.width == 1:
            return self._scale(c, a)
        raise UnsupportedError(f"an outer product of terms inside a sum over {self.index}")

    def _scale(self, s: Each, e: Each) -> Each:
        """s_i e_i for numbers s_i."""
        b = self.b
        b.unify(s.m.shape[0], e.m.shape[0], "the terms of one sum have different counts")
        s, e = s.resolved(b), e.resolved(b)
        if e.width == 1:
            return Each(b.elementwise_op("odot", [s.m, e.m]))
        wide = sp.MatMul(s.m, sp.OneMatrix(1, e.width))
        return Each(b.elementwise_op("odot", [wide, e.m]), e.orient)

    def _const_times(self, k: sp.Basic, e: Each) -> Each:
        """K e_i for every i, K not depending on i."""
        b = self.b
        if not is_matrix(k) or tuple(k.shape) == (1, 1):
            k = MatScalar(k) if is_matrix(k) else k
            return Each(sp.MatMul(k, e.m), e.orient)
        if e.width == 1 or (b.is_fresh(e.width) and k.shape[1] == 1):
            e = self.scalar(e, "a product")
            return self._scale_const(e, k)
        if e.orient != "col":
            raise UnsupportedError(f"an outer product of terms inside a sum over {self.index}")
        b.unify(
            k.shape[1],
            e.width,
            lambda: f"the product {b._show(k)} times {b._show(e.m)} (row i) does not conform",
        )
        k, e = b.resolve(k), e.resolved(b)
        out = Each(b.mul(e.m, transpose(k)))  # row i is (K e_i)ᵀ = e_iᵀ Kᵀ
        return out if out.width != 1 else Each(out.m)

    def _times_const(self, e: Each, k: sp.Basic) -> Each:
        """e_i K for every i."""
        b = self.b
        if not is_matrix(k) or tuple(k.shape) == (1, 1):
            k = MatScalar(k) if is_matrix(k) else k
            return Each(sp.MatMul(k, e.m), e.orient)
        if e.width == 1 or (b.is_fresh(e.width) and k.shape[0] == 1):
            e = self.scalar(e, "a product")
            return self._scale_const(e, k)
        if e.orient != "row":
            raise UnsupportedError(f"an outer product of terms inside a sum over {self.index}")
        b.unify(
            e.width,
            k.shape[0],
            lambda: f"the product {b._show(e.m)} (row i) times {b._show(k)} does not conform",
        )
        e, k = e.resolved(b), b.resolve(k)
        return Each(b.mul(e.m, k), "row")

    def _scale_const(self, s: Each, k: sp.Basic) -> Each:
        """s_i K for numbers s_i and a vector K."""
        if k.shape[1] == 1:
            return Each(sp.MatMul(s.m, transpose(k)), "col")
        if k.shape[0] == 1:
            return Each(sp.MatMul(s.m, k), "row")
        raise UnsupportedError(f"a matrix times the terms of a sum over {self.index}")

    def _Frac(self, node: P.Frac) -> sp.Basic | Each:
        num, den = self.lift(node.num), self.lift(node.den)
        if isinstance(den, Each):
            den = self.scalar(den, "a denominator")
            return self.times(num, Each(entrywise_power(den.m, -1)))
        den = self.b.scalar_of(den, "a denominator")
        if den == 0:
            raise InputError("division by zero")
        return self.times(num, sp.Pow(den, -1))

    def _Power(self, node: P.Power) -> Each:
        if isinstance(node.base, P.Norm) and node.base.p in ("2", "F") and node.exp == P.Num("2"):
            return self._squared_norm(self.lift(node.base.arg))
        if self.depends(node.exp):
            raise UnsupportedError(f"an exponent that depends on {self.index}")
        base = self.scalar(self.lift(node.base), "a power")
        exp = self.b.scalar_of(self.b.build(node.exp), "an exponent")
        return Each(entrywise_power(base.m, exp))

    def _HadamardPower(self, node: P.HadamardPower) -> Each:
        if self.depends(node.exp):
            raise UnsupportedError(f"an exponent that depends on {self.index}")
        base = self.lift(node.base)
        exp = self.b.scalar_of(self.b.build(node.exp), "an exponent")
        return Each(entrywise_power(base.m, exp), base.orient)

    def _squared_norm(self, e: Each) -> Each:
        """‖e_i‖² for every i: the row sums of e ⊙ e."""
        sq = self.b.elementwise_op("odot", [e.m, e.m])
        return Each(sp.MatMul(sq, sp.OneMatrix(e.width, 1)))

    def _Norm(self, node: P.Norm) -> Each:
        e = self.lift(node.arg)
        if node.p == "1":
            rows = elementwise(sp.Abs, e.m)
            return Each(sp.MatMul(rows, sp.OneMatrix(e.width, 1)))
        return Each(elementwise(sp.sqrt, self._squared_norm(e).m))

    def _Bars(self, node: P.Bars) -> Each:
        e = self.lift(node.arg)
        return Each(elementwise(sp.Abs, e.m), e.orient)

    def _Call(self, node: P.Call) -> Each:
        if node.fn not in SCALAR_FUNCTIONS:
            raise UnsupportedError(f"{node.fn} of terms that depend on {self.index} in a sum")
        e = self.lift(node.arg)
        out = Each(elementwise(SCALAR_FUNCTIONS[node.fn], e.m), e.orient)
        if node.base is not None:
            base = self.b.scalar_of(self.b.build(node.base), "the base of a logarithm")
            if base.is_number and (base <= 0 or base == 1):
                raise InputError(f"a logarithm to the base {base}")
            return Each(sp.MatMul(1 / sp.log(base), out.m), out.orient)
        return out

    def _Reduce(self, node: P.Reduce) -> Each:
        raise UnsupportedError(f"a sum or product over {node.index} inside a sum over {self.index}")
