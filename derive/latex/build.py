"""Give the syntax tree its meaning: symbols with kinds and shapes, matrix expressions.

Conventions (README, "LaTeX input"): declared shapes win; otherwise an upper-case name is a
matrix, a lower-case Latin name a column vector, a lower-case Greek name a scalar, and a
declared dimension name (the n in n/2) is that dimension. Unknown dimensions are fresh and
found by unification over products, sums and function arguments; two different declared
dimensions that must agree are an error naming both sides. An undeclared lower-case name is a
vector, so it never silently shrinks to length 1 (``c x`` with c undeclared is an error that
says to declare c a scalar). Scalar functions of a vector or matrix apply entrywise, and a
scalar added to a vector (or, inside an entrywise function or a Hadamard product, to a
matrix) is added to every entry: ``\\log(1 + e^{-Xw})``. ``\\sum_i`` over the entries x_i of
a vector becomes 1ᵀ(…); over the rows of a matrix (samples x_i ∈ ℝᵖ, as in
``\\sum_i \\log(1 + e^{-y_i w^\\top x_i})``) it becomes the same over matrix products
(``X w``); ``\\prod_i`` of positive or negative terms is det(diag(…)), their exact product.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf

from derive.errors import InputError, ShapeError, UnsupportedError
from derive.expr import (
    ExtremeEigenvalue,
    LogSumExp,
    MatrixFunction,
    MatScalar,
    PseudoInverse,
    Softmax,
    elementwise,
    is_matrix,
    transpose,
)
from derive.latex import parser as P
from derive.latex.shapes import SCALAR_FUNCTIONS, Shapes, dim_symbol, entrywise_power
from derive.latex.sums import Each, Lifter
from derive.simplify import tidy

#: \operatorname{expm}(X) and friends: the matrix function f(X) = Σₖ cₖXᵏ (SciPy's names)
MATRIX_FUNCTION_NAMES = {
    "expm": "exp",
    "sinm": "sin",
    "cosm": "cos",
    "sinhm": "sinh",
    "coshm": "cosh",
}


class Builder(Shapes):
    """The meaning of each node of the syntax tree, built with the shape-checked arithmetic."""

    # --- the tree ---------------------------------------------------------------------------
    def build(self, node: object) -> sp.Basic:
        method = getattr(self, "_" + type(node).__name__)
        return method(node)

    def build_entrywise(self, node: object) -> sp.Basic:
        self.entrywise += 1
        try:
            return self.build(node)
        finally:
            self.entrywise -= 1

    def _Num(self, node: P.Num) -> sp.Basic:
        return sp.Rational(node.text)

    def _Name(self, node: P.Name) -> sp.Basic:
        return self.name(node.name)

    def _Ones(self, node: P.Ones) -> sp.Basic:
        return sp.OneMatrix(self._fresh(), 1)

    def _Indexed(self, node: P.Indexed) -> sp.Basic:
        raise UnsupportedError(
            f"{node.base}_{node.index} outside a sum over {node.index}",
            "write the sum, or use vector notation",
        )

    def _Neg(self, node: P.Neg) -> sp.Basic:
        return self.neg(self.build(node.arg))

    def _Apply(self, node: P.Apply) -> sp.Basic:
        if node.name in self.syms:  # a declared symbol: f (x + y) is a product after all
            return self.product([self.name(node.name), self.build(node.arg)])
        raise UnsupportedError(
            f"the undefined function {node.name}(·)",
            f"write it out with known functions, or declare {node.name} if it is a factor",
        )

    def _Add(self, node: P.Add) -> sp.Basic:
        return self.total([self.build(t) for t in node.terms])

    def _Mul(self, node: P.Mul) -> sp.Basic:
        return self.product([self.build(f) for f in node.factors])

    def _Elementwise(self, node: P.Elementwise) -> sp.Basic:
        if node.op == "odot":
            return self.elementwise_op("odot", [self.build_entrywise(f) for f in node.factors])
        return self.elementwise_op(node.op, [self.build(f) for f in node.factors])

    def _Frac(self, node: P.Frac) -> sp.Basic:
        num = self.build(node.num)
        den = self.scalar_of(self.build(node.den), "a denominator")
        if den == 0:
            raise InputError("division by zero")
        return self.mul(num, sp.Pow(den, -1))

    def _Power(self, node: P.Power) -> sp.Basic:
        base = self.resolve(self.build(node.base))
        if is_matrix(base) and node.exp == P.Name("H") and "H" not in self.syms:
            raise UnsupportedError(
                f"the conjugate transpose {base}^H (Cookbook (45)): derive works over the reals",
                "for a real matrix, X^H is X^\\top",
            )
        exp = self.scalar_of(self.build(node.exp), "an exponent")
        if not is_matrix(base):
            if base.is_number and exp.is_number:
                return self.number_power(base, exp)
            return sp.Pow(base, exp)
        if tuple(base.shape) == (1, 1):
            return sp.Pow(MatScalar(base), exp)
        if base.shape[1] == 1 or base.shape[0] == 1:
            raise ShapeError(
                f"a power of the vector {self._show(base)}: write \\|x\\|^2 or x^\\top x, "
                "x^{\\circ 2} for every entry squared, or a sum over entries"
            )
        if exp.is_Integer and exp > 0:
            return sp.MatPow(self.square(base, "a matrix power"), exp)
        raise UnsupportedError(f"the matrix power {self._show(base)}^{exp}")

    def _HadamardPower(self, node: P.HadamardPower) -> sp.Basic:
        base = self.resolve(self.build_entrywise(node.base))
        exp = self.scalar_of(self.build(node.exp), "an exponent")
        if not is_matrix(base):
            if base.is_number and exp.is_number:
                return self.number_power(base, exp)
            return sp.Pow(base, exp)
        return entrywise_power(base, exp)

    def _Transpose(self, node: P.Transpose) -> sp.Basic:
        a = self.build(node.arg)
        return sp.Transpose(a) if is_matrix(a) else a

    def _Inverse(self, node: P.Inverse) -> sp.Basic:
        a = self.resolve(self.build(node.arg))
        if not is_matrix(a):
            if a == 0:
                raise InputError("division by zero")
            return sp.Pow(a, -1)
        if tuple(a.shape) == (1, 1):
            return sp.Pow(MatScalar(a), -1)
        return sp.Inverse(self.square(a, "an inverse"))

    def _PseudoInverse(self, node: P.PseudoInverse) -> sp.Basic:
        a = self.resolve(self.build(node.arg))
        if not is_matrix(a) or a.shape[0] == 1 or a.shape[1] == 1:
            raise UnsupportedError(
                f"the pseudo-inverse of {self._show(a)}", "it is taken of a matrix here"
            )
        return PseudoInverse(a)

    def _Call(self, node: P.Call) -> sp.Basic:
        fn = node.fn
        if fn in SCALAR_FUNCTIONS:
            arg = self.resolve(self.build_entrywise(node.arg))
            f = SCALAR_FUNCTIONS[fn]
            if is_matrix(arg) and tuple(arg.shape) == (1, 1):
                arg = MatScalar(arg)
            out = elementwise(f, arg) if is_matrix(arg) else f(arg)
            if node.base is not None:
                base = self.scalar_of(self.build(node.base), "the base of a logarithm")
                if base.is_number and (base <= 0 or base == 1):
                    raise InputError(f"a logarithm to the base {base}")
                out = self.mul(out, 1 / sp.log(base))
            return out
        arg = self.resolve(self.build(node.arg))
        if fn == "det":
            return sp.Determinant(self.square(self._matrix(arg, "det"), "det"))
        if fn == "tr":
            return sp.Trace(self.square(self._matrix(arg, "tr"), "the trace"))
        if fn == "softmax":
            return Softmax(self._column(arg, "softmax"))
        if fn == "lse":
            return LogSumExp(self._column(arg, "log-sum-exp"))
        if fn in MATRIX_FUNCTION_NAMES:
            square = self.square(self._matrix(arg, fn), f"the matrix function {fn}")
            return MatrixFunction(square, MATRIX_FUNCTION_NAMES[fn])
        if fn in ("lambda_max", "lambda_min"):
            square = self.square(self._matrix(arg, "an eigenvalue"), "an eigenvalue")
            return ExtremeEigenvalue(square, fn.removeprefix("lambda_"))
        if fn == "diag":
            arg = self._matrix(arg, "diag")
            if arg.shape[1] == 1:
                return DiagMatrix(arg)
            return DiagonalOf(self.square(arg, "diag"))
        raise UnsupportedError(f"the function {fn}")  # pragma: no cover - parser limits names

    def _matrix(self, arg: sp.Basic, fn: str) -> sp.Basic:
        if not is_matrix(arg):
            raise ShapeError(f"{fn} takes a matrix, got the scalar {self._show(arg)}")
        return arg

    def _column(self, arg: sp.Basic, fn: str) -> sp.Basic:
        arg = self._matrix(arg, fn)
        self.unify(
            arg.shape[1], sp.S.One, lambda: f"{fn} takes a column vector, got {self._show(arg)}"
        )
        return self.resolve(arg)

    def _Norm(self, node: P.Norm) -> sp.Basic:
        v = self.resolve(self.build(node.arg))
        if not is_matrix(v):
            return sp.Abs(v)
        vector = v.shape[1] == 1 or v.shape[0] == 1
        col = v if v.shape[1] == 1 else sp.Transpose(v)
        if node.p == "2" and vector:
            return sp.sqrt(MatScalar(sp.MatMul(sp.Transpose(col), col)))
        if node.p == "1" and vector:
            ones = sp.OneMatrix(1, col.shape[0])
            return MatScalar(sp.MatMul(ones, elementwise(sp.Abs, col)))
        if node.p == "F":
            return sp.sqrt(sp.Trace(sp.MatMul(sp.Transpose(v), v)))
        raise UnsupportedError(f"the {node.p}-norm of the matrix {self._show(v)}")

    def _Bars(self, node: P.Bars) -> sp.Basic:
        a = self.resolve(self.build(node.arg))
        if not is_matrix(a):
            return sp.Abs(a)
        if tuple(a.shape) == (1, 1):
            return sp.Abs(MatScalar(a))
        if self._is_vector(a):  # |x| of a vector: every entry's absolute value
            return elementwise(sp.Abs, a)
        return sp.Determinant(self.square(a, "|X| (the determinant)"))

    def dimension(self, node: object, what: str) -> sp.Expr:
        """A limit such as n, 10 or n - 1 read as a size: names are dimensions here."""
        if isinstance(node, P.Num):
            return sp.Rational(node.text)
        if isinstance(node, P.Name) and node.name not in self.syms:
            return self._dim(node.name)
        if isinstance(node, P.Add):
            return sp.Add(*[self.dimension(t, what) for t in node.terms])
        if isinstance(node, P.Neg):
            return -self.dimension(node.arg, what)
        return self.scalar_of(self.build(node), what)

    def _Reduce(self, node: P.Reduce) -> sp.Basic:
        length = None
        if node.upper is not None:
            length = self.dimension(node.upper, "the upper limit of a sum")
            lower = sp.S.One if node.lower is None else self.dimension(node.lower, "a limit")
            if lower not in (0, 1):
                raise UnsupportedError(f"a sum from {node.index} = {lower}", "start at 1 or 0")
            length = length + 1 - lower
            if length.is_number and (not length.is_Integer or length < 1):
                raise InputError(f"a sum over {node.index} of {length} terms")
        elif node.lower is not None:
            raise UnsupportedError(f"a sum from {node.index} = … with no upper limit")
        lifted = Lifter(self, node.index).lift(node.body)
        if not isinstance(lifted, Each):
            if length is None:
                raise UnsupportedError(
                    f"a sum over {node.index} whose terms do not depend on {node.index}"
                )
            if is_matrix(lifted):
                raise UnsupportedError(f"a sum or product over {node.index} of a constant matrix")
            if node.op == "prod":
                return self.number_power(lifted, length) if lifted.is_number else lifted**length
            return length * lifted
        if length is not None:
            if length.is_Integer or length in self.dims.values() or self.is_fresh(length):
                self.unify(
                    lifted.m.shape[0],
                    length,
                    lambda: f"a sum up to {length} over {self._show(lifted.m)}: the lengths differ",
                )
            else:
                raise UnsupportedError(
                    f"a sum over {node.index} up to {length}",
                    "an upper limit is a dimension: a number, or a name not declared a scalar",
                )
        lifted = lifted.resolved(self)
        if self.is_fresh(lifted.width):  # x_i used only as numbers: entries of a vector
            self.unify(lifted.width, sp.S.One, "the terms of a sum are numbers")
            lifted = lifted.resolved(self)
        m = lifted.m
        if lifted.width == 1:
            if node.op == "prod":
                return sp.Determinant(DiagMatrix(m))  # det diag(v) = ∏ v_i, exactly
            return MatScalar(sp.MatMul(sp.OneMatrix(1, m.shape[0]), m))
        if node.op == "prod":
            raise UnsupportedError(f"a product over {node.index} of vectors")
        total = sp.MatMul(transpose(m), sp.OneMatrix(m.shape[0], 1))  # ∑ v_i = Vᵀ𝟏
        return total if lifted.orient == "col" else transpose(total)


def _finite(e: sp.Basic) -> None:
    """Refuse 1/0, log 0 and the like: SymPy would carry zoo or nan into the derivation."""
    bad = e.atoms(sp.zoo.func, sp.nan.func, sp.oo.func, sp.S.NegativeInfinity.func)
    if bad:
        raise InputError("the expression is undefined (a division by zero, or the log of 0)")


def build(tree: object, shapes: Mapping[str, tuple], assume: Mapping[str, tuple[str, ...]]):
    """The expression a parsed tree denotes; 1×1 results become scalars."""
    b = Builder(shapes, assume)
    for node in _walk(tree):  # n in \sum_{i=1}^n is a dimension wherever else n is written
        if isinstance(node, P.Reduce) and isinstance(node.upper, P.Name):
            if node.upper.name not in b.syms:
                b._dim(node.upper.name)
    e = b.resolve(b.build(tree))
    for w in sorted(b.sample_width, key=str):  # data rows read only as numbers: a vector
        if b.is_fresh(w):
            b.unify(w, sp.S.One, "data rows read as numbers")
    e = b.resolve(e)
    if is_matrix(e) and tuple(e.shape) == (1, 1):
        e = MatScalar(e)
    _finite(e)
    e = tidy(b.resolve(e))
    _finite(e)
    return _renumber(e, b)


def _walk(tree: object):
    """Every node of a syntax tree (iteratively: trees are at most MAX_DEPTH deep anyway)."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, tuple):
            stack.extend(node)
        elif hasattr(node, "__dataclass_fields__"):
            stack.extend(getattr(node, f) for f in node.__dataclass_fields__)


def _renumber(e: sp.Basic, b: Builder) -> sp.Basic:
    """Name the dimensions left free d1, d2, … in order of first appearance."""
    seen: list[sp.Symbol] = []
    for node in sp.preorder_traversal(e):
        if isinstance(node, sp.Symbol) and node in b.fresh and node not in seen:
            seen.append(node)
    # Dimension symbols sit in shapes, which free_symbols does not list: collect them all.
    taken = {
        node.name
        for node in sp.preorder_traversal(e)
        if isinstance(node, sp.Symbol) and node not in b.fresh
    }
    names = (f"d{k}" for k in range(1, 10_000) if f"d{k}" not in taken)
    return e.xreplace({s: dim_symbol(next(names)) for s in seen})
