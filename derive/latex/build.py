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

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

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
    sigmoid,
    softplus,
    transpose,
)
from derive.latex import parser as P
from derive.notation.text import text
from derive.simplify import tidy

SCALAR_FUNCTIONS = {
    "log": sp.log,
    "exp": sp.exp,
    "tanh": sp.tanh,
    "sin": sp.sin,
    "cos": sp.cos,
    "sqrt": sp.sqrt,
    "sigma": sigmoid,
    "softplus": softplus,
    "sign": sp.sign,
}

#: \operatorname{expm}(X) and friends: the matrix function f(X) = Σₖ cₖXᵏ (SciPy's names)
MATRIX_FUNCTION_NAMES = {
    "expm": "exp",
    "sinm": "sin",
    "cosm": "cos",
    "sinhm": "sinh",
    "coshm": "cosh",
}

# A number written with powers (10^{10^{10}}) is computed exactly by SymPy; beyond this many
# decimal digits the computation would take minutes and the value means nothing to a loss.
MAX_DIGITS = 1000

_T = sp.Symbol("t", real=True)


def _dim_symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, positive=True)


def _entrywise_power(base: sp.Basic, exp: sp.Expr) -> sp.Basic:
    return elementwise(sp.Lambda(_T, _T**exp), base)


class Builder:
    def __init__(self, shapes: Mapping[str, tuple], assume: Mapping[str, tuple[str, ...]]):
        self.assume = assume
        self.dims: dict[str, sp.Symbol] = {}
        self.syms: dict[str, sp.Basic] = {}
        self.fresh: set[sp.Symbol] = set()
        self.subst: dict[sp.Symbol, sp.Expr] = {}
        # the length of each undeclared lower-case vector, by the name it was taken from
        self.vector_length: dict[sp.Symbol, str] = {}
        # the width p of undeclared data x whose rows x_i a sum reads (1 unless used as vectors)
        self.sample_width: set[sp.Symbol] = set()
        # > 0 while building what is applied entrywise (function arguments, Hadamard factors)
        self.entrywise = 0
        for name, shape in shapes.items():
            if not isinstance(name, str) or not isinstance(shape, tuple | list):
                raise InputError(f"a shape maps a name to a tuple, got {name!r}: {shape!r}")
            if not (name.isascii() and name.replace("_", "").isalnum()):
                raise InputError(f"a shape for {name!r}, which is not a name")
            self.syms[name] = self._declared(name, tuple(shape))

    # --- dimensions -----------------------------------------------------------------------
    def _dim(self, d: int | str) -> sp.Expr:
        if isinstance(d, bool) or not isinstance(d, int | str):
            raise InputError(f"a dimension is a name or a positive number, got {d!r}")
        if isinstance(d, str) and d.isascii() and d.isdigit():
            d = int(d)
        if isinstance(d, int):
            if d < 1:
                raise InputError(f"a dimension must be positive, got {d}")
            return sp.Integer(d)
        if not (d.isascii() and d.isidentifier()):
            raise InputError(f"a dimension name must be a plain identifier, got {d!r}")
        return self.dims.setdefault(d, _dim_symbol(d))

    def _fresh(self) -> sp.Symbol:
        # Named d1, d2, … like the dimensions build() leaves free, but never equal to a
        # declared one (a round trip declares d1 and d2 themselves).
        k = len(self.fresh) + 1
        while f"d{k}" in self.dims or _dim_symbol(f"d{k}") in self.fresh:
            k += 1
        s = _dim_symbol(f"d{k}")
        self.fresh.add(s)
        return s

    def resolve(self, e: sp.Basic) -> sp.Basic:
        return e.xreplace(self.subst) if self.subst else e

    def is_fresh(self, d: sp.Expr) -> bool:
        return self.resolve(d) in self.fresh

    def unify(self, a: sp.Expr, b: sp.Expr, why: str | Callable[[], str]) -> None:
        """Make the dimensions a and b equal, binding a fresh one; `why` (or why()) is the
        message if they cannot be: a callable, so that no message is printed in vain."""
        a, b = self.resolve(a), self.resolve(b)
        if a == b:
            return
        if a in self.fresh:
            a, b = b, a
        if b not in self.fresh:
            raise ShapeError(why if isinstance(why, str) else why())
        if a == 1 and b in self.vector_length:
            name = self.vector_length[b]
            raise ShapeError(
                f"{why if isinstance(why, str) else why()}; {name} is taken to be a vector "
                f"(an undeclared lower-case name): declare {name} a scalar if it is one"
            )
        if a in self.fresh and b in self.vector_length:
            self.vector_length.setdefault(a, self.vector_length[b])
        # The width of data rows x_i is settled once it is tied to anything else.
        self.sample_width.discard(a)
        self.sample_width.discard(b)
        self.subst = {k: v.xreplace({b: a}) for k, v in self.subst.items()}
        self.subst[b] = a

    # --- symbols ----------------------------------------------------------------------------
    def _declared(self, name: str, shape: tuple) -> sp.Basic:
        if len(shape) == 0:
            return self._scalar(name)
        if len(shape) == 1:
            return sp.MatrixSymbol(name, self._dim(shape[0]), 1)
        if len(shape) == 2:
            return sp.MatrixSymbol(name, self._dim(shape[0]), self._dim(shape[1]))
        raise ShapeError(f"{name}: a shape has at most two dimensions, got {shape}")

    def _scalar(self, name: str) -> sp.Symbol:
        kinds = set(self.assume.get(name, ()))
        return (
            sp.Symbol(name, positive=True)
            if kinds & {"positive", "unit"}
            else sp.Symbol(name, real=True)
        )

    def name(self, name: str) -> sp.Basic:
        if name in self.syms:
            return self.resolve(self.syms[name])
        if name in self.dims:
            return self.dims[name]
        if name == "pi":
            return sp.pi
        if name == "I":
            n = self._fresh()
            return sp.Identity(n)
        head = name.split("_")[0]
        if head in P.GREEK and head[0].islower():
            sym = self._scalar(name)
        elif head[0].isupper():
            sym = sp.MatrixSymbol(name, self._fresh(), self._fresh())
        else:
            n = self._fresh()
            self.vector_length[n] = name
            sym = sp.MatrixSymbol(name, n, 1)
        self.syms[name] = sym
        return sym

    # --- arithmetic -------------------------------------------------------------------------
    @staticmethod
    def _shape(e: sp.Basic) -> str:
        if not is_matrix(e):
            return "a scalar"
        return f"{e.shape[0]}x{e.shape[1]}"

    def _show(self, e: sp.Basic) -> str:
        e = self.resolve(e)
        shown = text(e)
        if len(shown) > 60:  # a message is one line; the shape is what matters
            shown = shown[:57] + "..."
        return f"{shown} ({self._shape(e)})"

    def mul(self, a: sp.Basic, b: sp.Basic) -> sp.Basic:
        return self.product([a, b])

    def product(self, values: list[sp.Basic]) -> sp.Basic:
        """The product of `values` in order: scalars commute, matrices must conform.

        A 1×1 product met by a factor of more than one row is a scalar (xᵀy z). The product
        is built once at the end, flat: a product of a thousand factors must neither nest a
        thousand deep nor be re-validated by SymPy a thousand times.
        """
        scalars: list[sp.Expr] = []
        mats: list[sp.Basic] = []
        for v in values:
            v = self.resolve(v)
            parts = v.args if isinstance(v, sp.MatMul) else (v,)
            for f in parts:
                if not is_matrix(f):
                    scalars.append(f)
                    continue
                if not mats:
                    mats.append(f)
                    continue
                rows, cols = self.resolve(mats[0].shape[0]), self.resolve(mats[-1].shape[1])
                if (rows, cols) == (1, 1) and f.shape[0] != 1:
                    scalars.append(MatScalar(self._matmul(mats)))
                    mats = [f]
                    continue
                if tuple(f.shape) == (1, 1) and cols != 1:
                    scalars.append(MatScalar(f))
                    continue

                def why(left=tuple(mats), f=f) -> str:
                    shown = self._show(self._matmul(list(left)))
                    return f"the product {shown} times {self._show(f)} does not conform"

                lone = mats[0] if len(mats) == 1 else None
                if (
                    cols == 1
                    and isinstance(lone, sp.MatrixSymbol)
                    and self.resolve(lone.shape[0]) in self.vector_length
                    and self.is_fresh(f.shape[0])
                ):  # c x with c undeclared: c is the scalar meant, not x
                    raise ShapeError(
                        f"{why()}: two column vectors; {lone.name} is taken to be a vector (an "
                        f"undeclared lower-case name): declare {lone.name} a scalar if it is one"
                    )
                self.unify(cols, f.shape[0], why)
                mats.append(f)
        coeff = sp.Mul(*scalars)
        if not mats:
            return coeff
        mats = [self.resolve(m) for m in mats]
        return (
            sp.MatMul(*([coeff] if coeff != 1 else []), *mats)
            if coeff != 1 or len(mats) > 1
            else mats[0]
        )

    def _matmul(self, mats: list[sp.Basic]) -> sp.Basic:
        mats = [self.resolve(m) for m in mats]
        return mats[0] if len(mats) == 1 else sp.MatMul(*mats)

    def _is_vector(self, m: sp.Basic) -> bool:
        return m.shape[1] == 1 or m.shape[0] == 1

    def broadcast(self, s: sp.Expr, m: sp.Basic) -> sp.Basic:
        """The scalar s as a matrix of the shape of m, every entry s (s 𝟏 for a vector)."""
        rows, cols = m.shape
        if cols == 1:
            return sp.MatMul(s, sp.OneMatrix(rows, 1))
        if rows == 1:
            return sp.MatMul(s, sp.OneMatrix(1, cols))
        return sp.MatMul(s, sp.OneMatrix(rows, 1), sp.OneMatrix(1, cols))

    def add(self, a: sp.Basic, b: sp.Basic) -> sp.Basic:
        return self.total([a, b])

    def total(self, values: list[sp.Basic]) -> sp.Basic:
        """The sum of `values` in order; matrices must agree in shape, 1×1 ones are scalars,
        and scalars added to a vector (or, entrywise, a matrix) are added to every entry."""
        terms: list[sp.Basic] = []
        mats: list[sp.Basic] = []
        for v in values:
            v = self.resolve(v)
            for t in v.args if isinstance(v, sp.MatAdd) else (v,):
                if is_matrix(t) and tuple(t.shape) == (1, 1):  # xᵀy is a number here
                    t = MatScalar(t)
                if is_matrix(t):
                    if mats:

                        def why(a=mats[0], b=t) -> str:
                            return (
                                f"the sum of {self._show(a)} and {self._show(b)}: the shapes differ"
                            )

                        self.unify(mats[0].shape[0], t.shape[0], why)
                        self.unify(mats[0].shape[1], t.shape[1], why)
                    mats.append(t)
                terms.append(t)
        if not mats:
            return sp.Add(*terms)
        m = self.resolve(mats[0])
        if tuple(m.shape) == (1, 1):  # became 1×1 by unification after all
            return sp.Add(*[MatScalar(t) if is_matrix(t) else t for t in map(self.resolve, terms)])
        scalars = [t for t in terms if not is_matrix(t)]
        if scalars and not (self._is_vector(m) or self.entrywise):
            raise ShapeError(
                f"cannot add the scalar {self._show(sp.Add(*scalars))} and the matrix "
                f"{self._show(m)} (add s I for the diagonal, or write it inside an entrywise "
                "function for every entry)"
            )
        # 1 + e^{-x}: a scalar added to a vector is added to every entry.
        out = [self.resolve(t) if is_matrix(t) else self.broadcast(t, m) for t in terms]
        return out[0] if len(out) == 1 else sp.MatAdd(*out)

    def neg(self, a: sp.Basic) -> sp.Basic:
        return sp.MatMul(-1, a) if is_matrix(a) else -a

    def elementwise_op(self, op: str, factors: list[sp.Basic]) -> sp.Basic:
        if op == "otimes":
            out = factors[0]
            for f in factors[1:]:
                out, f = self.resolve(out), self.resolve(f)
                both = is_matrix(out) and is_matrix(f)
                out = sp.KroneckerProduct(out, f) if both else self.mul(out, f)
            return out
        scalars: list[sp.Expr] = []
        mats: list[sp.Basic] = []
        for v in factors:
            v = self.resolve(v)
            for f in v.args if isinstance(v, sp.HadamardProduct) else (v,):
                if not is_matrix(f):
                    scalars.append(f)
                    continue
                if mats:

                    def why(a=mats[0], b=f) -> str:
                        return (
                            f"the Hadamard product of {self._show(a)} and {self._show(b)}: "
                            "the shapes differ"
                        )

                    self.unify(mats[0].shape[0], f.shape[0], why)
                    self.unify(mats[0].shape[1], f.shape[1], why)
                mats.append(f)
        if not mats:
            return sp.Mul(*scalars)
        mats = [self.resolve(m) for m in mats]
        out = mats[0] if len(mats) == 1 else sp.HadamardProduct(*mats)
        return self.mul(sp.Mul(*scalars), out) if scalars else out

    def scalar_of(self, e: sp.Basic, what: str) -> sp.Expr:
        e = self.resolve(e)
        if not is_matrix(e):
            return e
        if tuple(e.shape) == (1, 1):
            return MatScalar(e)
        raise ShapeError(f"{what} must be a scalar, but {self._show(e)} is not")

    def square(self, e: sp.Basic, what: str) -> sp.Basic:
        self.unify(
            e.shape[0], e.shape[1], lambda: f"{what} needs a square matrix, got {self._show(e)}"
        )
        return self.resolve(e)

    def number_power(self, base: sp.Expr, exp: sp.Expr) -> sp.Expr:
        """base**exp for numbers, refused when the exact value would be astronomically long."""
        b, x = abs(base), abs(exp)
        if b not in (0, 1) and x > 1:
            try:
                digits = float(x) * abs(math.log10(float(b)))
            except (OverflowError, ValueError, TypeError):
                digits = math.inf
            if not digits <= MAX_DIGITS:
                raise InputError(f"the number {base}^{exp} has more than {MAX_DIGITS} digits")
        return sp.Pow(base, exp)

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
        return _entrywise_power(base, exp)

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


# --- sums over an index: terms for every i at once --------------------------------------------


@dataclass(frozen=True)
class Each:
    """The terms t_i of a sum over i, for every i at once: row i of the n×p matrix `m` is t_i
    (transposed when `orient` is "col", so that t_i is a p-vector). Width 1: scalar terms."""

    m: sp.Basic
    orient: str = "col"

    @property
    def width(self) -> sp.Expr:
        return self.m.shape[1]

    def resolved(self, b: Builder) -> Each:
        return Each(b.resolve(self.m), self.orient)


class Lifter:
    """The body of a sum over i as `Each` (terms that depend on i) or an expression (not).

    x_i is entry i of a vector x, or row i of a matrix x (declared, or an undeclared x whose
    x_i is used as a vector, as in wᵀx_i; otherwise it is a vector). Products of terms follow
    the matrix product of each term: wᵀx_i for every i is X w, y_i x_iᵀw is y ⊙ (X w).
    """

    def __init__(self, b: Builder, index: str) -> None:
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
            return self.times(num, Each(_entrywise_power(den.m, -1)))
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
        return Each(_entrywise_power(base.m, exp))

    def _HadamardPower(self, node: P.HadamardPower) -> Each:
        if self.depends(node.exp):
            raise UnsupportedError(f"an exponent that depends on {self.index}")
        base = self.lift(node.base)
        exp = self.b.scalar_of(self.b.build(node.exp), "an exponent")
        return Each(_entrywise_power(base.m, exp), base.orient)

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
    return e.xreplace({s: _dim_symbol(next(names)) for s in seen})
