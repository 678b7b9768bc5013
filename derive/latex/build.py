"""Give the syntax tree its meaning: symbols with kinds and shapes, matrix expressions.

Conventions (README, "LaTeX input"): declared shapes win; otherwise an upper-case name is a
matrix, a lower-case Latin name a column vector, a lower-case Greek name a scalar, and a
declared dimension name (the n in n/2) is that dimension. Unknown dimensions are fresh and
found by unification over products, sums and function arguments; two different declared
dimensions that must agree are an error naming both sides. Scalar functions of a vector or
matrix apply entrywise; ``\\sum_i`` over entries x_i of vectors becomes 1ᵀ(…).
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf

from derive.errors import ShapeError, UnsupportedError
from derive.expr import LogSumExp, MatScalar, Softmax, elementwise, is_matrix, sigmoid, softplus
from derive.latex import parser as P
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
}


def _dim_symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, positive=True)


class Builder:
    def __init__(self, shapes: Mapping[str, tuple], assume: Mapping[str, tuple[str, ...]]):
        self.assume = assume
        self.dims: dict[str, sp.Symbol] = {}
        self.syms: dict[str, sp.Basic] = {}
        self.fresh: set[sp.Symbol] = set()
        self.subst: dict[sp.Symbol, sp.Expr] = {}
        for name, shape in shapes.items():
            self.syms[name] = self._declared(name, tuple(shape))

    # --- dimensions -----------------------------------------------------------------------
    def _dim(self, d: int | str) -> sp.Expr:
        if isinstance(d, int):
            return sp.Integer(d)
        return self.dims.setdefault(d, _dim_symbol(d))

    def _fresh(self) -> sp.Symbol:
        s = _dim_symbol(f"d{len(self.fresh) + 1}")
        self.fresh.add(s)
        return s

    def resolve(self, e: sp.Basic) -> sp.Basic:
        return e.xreplace(self.subst) if self.subst else e

    def unify(self, a: sp.Expr, b: sp.Expr, why: str) -> None:
        a, b = self.resolve(a), self.resolve(b)
        if a == b:
            return
        if a in self.fresh:
            a, b = b, a
        if b not in self.fresh:
            raise ShapeError(why)
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
            sym = sp.MatrixSymbol(name, self._fresh(), 1)
        self.syms[name] = sym
        return sym

    # --- arithmetic -------------------------------------------------------------------------
    @staticmethod
    def _shape(e: sp.Basic) -> str:
        if not is_matrix(e):
            return "a scalar"
        return f"{e.shape[0]}x{e.shape[1]}"

    def _show(self, e: sp.Basic) -> str:
        from derive.render.text import text

        return f"{text(e)} ({self._shape(self.resolve(e))})"

    def mul(self, a: sp.Basic, b: sp.Basic) -> sp.Basic:
        a, b = self.resolve(a), self.resolve(b)
        if not is_matrix(a) and not is_matrix(b):
            return a * b
        if not is_matrix(a):
            return sp.MatMul(a, b)
        if not is_matrix(b):
            return sp.MatMul(b, a)
        if tuple(a.shape) == (1, 1) and b.shape[0] != 1:
            return sp.MatMul(MatScalar(a), b)
        if tuple(b.shape) == (1, 1) and a.shape[1] != 1:
            return sp.MatMul(MatScalar(b), a)
        self.unify(
            a.shape[1],
            b.shape[0],
            f"the product {self._show(a)} times {self._show(b)} does not conform",
        )
        return sp.MatMul(self.resolve(a), self.resolve(b))

    def add(self, a: sp.Basic, b: sp.Basic) -> sp.Basic:
        a, b = self.resolve(a), self.resolve(b)
        if not is_matrix(a) and not is_matrix(b):
            return a + b
        if is_matrix(a) and is_matrix(b):
            why = f"the sum of {self._show(a)} and {self._show(b)}: the shapes differ"
            self.unify(a.shape[0], b.shape[0], why)
            self.unify(a.shape[1], b.shape[1], why)
            return sp.MatAdd(self.resolve(a), self.resolve(b))
        s, m = (a, b) if is_matrix(b) else (b, a)
        if tuple(m.shape) == (1, 1):
            return s + MatScalar(m)
        raise ShapeError(f"cannot add the scalar {self._show(s)} and the matrix {self._show(m)}")

    def neg(self, a: sp.Basic) -> sp.Basic:
        return sp.MatMul(-1, a) if is_matrix(a) else -a

    def elementwise_op(self, op: str, factors: list[sp.Basic]) -> sp.Basic:
        out = factors[0]
        for f in factors[1:]:
            out, f = self.resolve(out), self.resolve(f)
            if op == "otimes":
                out = (
                    sp.KroneckerProduct(out, f)
                    if is_matrix(out) and is_matrix(f)
                    else self.mul(out, f)
                )
                continue
            if not is_matrix(out) or not is_matrix(f):
                out = self.mul(out, f)
                continue
            why = (
                f"the Hadamard product of {self._show(out)} and {self._show(f)}: the shapes differ"
            )
            self.unify(out.shape[0], f.shape[0], why)
            self.unify(out.shape[1], f.shape[1], why)
            out = sp.HadamardProduct(self.resolve(out), self.resolve(f))
        return out

    def scalar_of(self, e: sp.Basic, what: str) -> sp.Expr:
        e = self.resolve(e)
        if not is_matrix(e):
            return e
        if tuple(e.shape) == (1, 1):
            return MatScalar(e)
        raise ShapeError(f"{what} must be a scalar, but {self._show(e)} is not")

    def square(self, e: sp.Basic, what: str) -> sp.Basic:
        self.unify(e.shape[0], e.shape[1], f"{what} needs a square matrix, got {self._show(e)}")
        return self.resolve(e)

    # --- the tree ---------------------------------------------------------------------------
    def build(self, node: object) -> sp.Basic:
        method = getattr(self, "_" + type(node).__name__)
        return method(node)

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

    def _Add(self, node: P.Add) -> sp.Basic:
        out = self.build(node.terms[0])
        for t in node.terms[1:]:
            out = self.add(out, self.build(t))
        return out

    def _Mul(self, node: P.Mul) -> sp.Basic:
        out = self.build(node.factors[0])
        for f in node.factors[1:]:
            out = self.mul(out, self.build(f))
        return out

    def _Elementwise(self, node: P.Elementwise) -> sp.Basic:
        return self.elementwise_op(node.op, [self.build(f) for f in node.factors])

    def _Frac(self, node: P.Frac) -> sp.Basic:
        num = self.build(node.num)
        den = self.scalar_of(self.build(node.den), "a denominator")
        return self.mul(num, sp.Pow(den, -1))

    def _Power(self, node: P.Power) -> sp.Basic:
        base = self.resolve(self.build(node.base))
        exp = self.scalar_of(self.build(node.exp), "an exponent")
        if not is_matrix(base):
            return sp.Pow(base, exp)
        if tuple(base.shape) == (1, 1):
            return sp.Pow(MatScalar(base), exp)
        if base.shape[1] == 1 or base.shape[0] == 1:
            raise ShapeError(
                f"a power of the vector {self._show(base)}: write \\|x\\|^2 or x^\\top x, or a "
                "sum over entries"
            )
        if exp.is_Integer and exp > 0:
            return sp.MatPow(self.square(base, "a matrix power"), exp)
        raise UnsupportedError(f"the matrix power {self._show(base)}^{exp}")

    def _Transpose(self, node: P.Transpose) -> sp.Basic:
        a = self.build(node.arg)
        return sp.Transpose(a) if is_matrix(a) else a

    def _Inverse(self, node: P.Inverse) -> sp.Basic:
        a = self.resolve(self.build(node.arg))
        if not is_matrix(a):
            return sp.Pow(a, -1)
        if tuple(a.shape) == (1, 1):
            return sp.Pow(MatScalar(a), -1)
        return sp.Inverse(self.square(a, "an inverse"))

    def _Call(self, node: P.Call) -> sp.Basic:
        arg = self.resolve(self.build(node.arg))
        fn = node.fn
        if fn in SCALAR_FUNCTIONS:
            f = SCALAR_FUNCTIONS[fn]
            if is_matrix(arg) and tuple(arg.shape) == (1, 1):
                arg = MatScalar(arg)
            out = elementwise(f, arg) if is_matrix(arg) else f(arg)
            if node.base is not None:
                base = self.scalar_of(self.build(node.base), "the base of a logarithm")
                out = self.mul(out, 1 / sp.log(base))
            return out
        if fn == "det":
            return sp.Determinant(self.square(self._matrix(arg, "det"), "det"))
        if fn == "tr":
            return sp.Trace(self.square(self._matrix(arg, "tr"), "the trace"))
        if fn == "softmax":
            return Softmax(self._column(arg, "softmax"))
        if fn == "lse":
            return LogSumExp(self._column(arg, "log-sum-exp"))
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
        self.unify(arg.shape[1], sp.S.One, f"{fn} takes a column vector, got {self._show(arg)}")
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
        if a.shape[1] == 1:
            raise UnsupportedError("|x| of a vector", "write \\|x\\| for its norm")
        return sp.Determinant(self.square(a, "|X| (the determinant)"))

    def _Reduce(self, node: P.Reduce) -> sp.Basic:
        if node.op == "prod":
            raise UnsupportedError("\\prod over the entries of a vector", "take its log: a sum")
        lifted = Lifter(self, node.index).lift(node.body)
        length = None
        if node.upper is not None:
            length = self.scalar_of(self.build(node.upper), "the upper limit of a sum")
        if not is_matrix(lifted):
            if length is None:
                raise UnsupportedError(
                    f"a sum over {node.index} whose terms do not depend on {node.index}"
                )
            return length * lifted
        lifted = self.resolve(lifted)
        if length is not None and isinstance(length, sp.Symbol):
            self.unify(lifted.shape[0], length, f"a sum up to {length} over {self._show(lifted)}")
        lifted = self.resolve(lifted)
        return MatScalar(sp.MatMul(sp.OneMatrix(1, lifted.shape[0]), lifted))


class Lifter:
    """The terms of a sum over i, as one column vector: x_i ↦ x, products ↦ ∘, f ↦ f∘."""

    def __init__(self, b: Builder, index: str) -> None:
        self.b = b
        self.index = index

    def lift(self, node: object) -> sp.Basic:
        b = self.b
        if isinstance(node, P.Indexed):
            if node.index != self.index:
                raise UnsupportedError(f"{node.base}_{node.index} inside a sum over {self.index}")
            v = b.name(node.base)
            if not is_matrix(v) or v.shape[1] != 1:
                raise ShapeError(f"{node.base}_{node.index}: {node.base} must be a column vector")
            return v
        if isinstance(node, P.Add):
            return self._combine([self.lift(t) for t in node.terms], b.add, sp.MatAdd)
        if isinstance(node, P.Neg):
            return b.neg(self.lift(node.arg))
        if isinstance(node, P.Mul):
            return self._product([self.lift(f) for f in node.factors])
        if isinstance(node, P.Frac):
            num, den = self.lift(node.num), self.lift(node.den)
            if is_matrix(den):
                den = elementwise(sp.Lambda(sp.Symbol("t"), 1 / sp.Symbol("t")), den)
                return self._product([num, den])
            return b.mul(num, sp.Pow(den, -1))
        if isinstance(node, P.Power):
            base = self.lift(node.base)
            if is_matrix(base):
                exp = b.scalar_of(b.build(node.exp), "an exponent")
                t = sp.Symbol("t")
                return elementwise(sp.Lambda(t, t**exp), base)
            return b.build(node)
        if isinstance(node, P.Call) and node.fn in SCALAR_FUNCTIONS and node.base is None:
            arg = self.lift(node.arg)
            if is_matrix(arg):
                return elementwise(SCALAR_FUNCTIONS[node.fn], arg)
            return SCALAR_FUNCTIONS[node.fn](arg)
        value = b.build(node)
        if is_matrix(value) and tuple(value.shape) != (1, 1):
            raise ShapeError(
                f"inside a sum over {self.index}, {b._show(value)} must be a scalar or indexed"
            )
        return b.scalar_of(value, "a term of the sum") if is_matrix(value) else value

    def _combine(self, parts: list[sp.Basic], scalar_add, mat_add) -> sp.Basic:
        vecs = [p for p in parts if is_matrix(p)]
        if not vecs:
            out = parts[0]
            for p in parts[1:]:
                out = scalar_add(out, p)
            return out
        n = self.b.resolve(vecs[0]).shape[0]
        lifted = [p if is_matrix(p) else sp.MatMul(p, sp.OneMatrix(n, 1)) for p in parts]
        out = lifted[0]
        for p in lifted[1:]:
            out = self.b.add(out, p)
        return out

    def _product(self, parts: list[sp.Basic]) -> sp.Basic:
        vecs = [p for p in parts if is_matrix(p)]
        scal = sp.Mul(*[p for p in parts if not is_matrix(p)])
        if not vecs:
            return scal
        out = self.b.elementwise_op("odot", vecs)
        return out if scal == 1 else sp.MatMul(scal, out)


def build(tree: object, shapes: Mapping[str, tuple], assume: Mapping[str, tuple[str, ...]]):
    """(expression, {name: symbol}) for a parsed tree; 1×1 results become scalars."""
    b = Builder(shapes, assume)
    e = b.resolve(b.build(tree))
    if is_matrix(e) and tuple(e.shape) == (1, 1):
        e = MatScalar(e)
    e = tidy(b.resolve(e))
    return _renumber(e, b)


def _renumber(e: sp.Basic, b: Builder) -> sp.Basic:
    """Name the dimensions left free d1, d2, … in order of first appearance."""
    seen: list[sp.Symbol] = []
    for node in sp.preorder_traversal(e):
        if isinstance(node, sp.Symbol) and node in b.fresh and node not in seen:
            seen.append(node)
    taken = {str(s) for s in e.free_symbols if s not in b.fresh}
    names = (f"d{k}" for k in range(1, 10_000) if f"d{k}" not in taken)
    return e.xreplace({s: _dim_symbol(next(names)) for s in seen})
