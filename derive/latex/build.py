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

from derive.errors import AmbiguityError, InputError, ShapeError, UnsupportedError
from derive.expr import (
    ExtremeEigenvalue,
    LogSumExp,
    MatrixFunction,
    MatScalar,
    NuclearNorm,
    PseudoInverse,
    Softmax,
    elementwise,
    is_matrix,
)
from derive.latex import parser as P
from derive.latex.contract import IndexReading, Move, conversion
from derive.latex.index_form import has_index_form
from derive.latex.shapes import SCALAR_FUNCTIONS, Shapes, dim_symbol, entrywise_power
from derive.latex.sums import IndexReader
from derive.notation.text import text
from derive.simplify import tidy

#: the largest matrix power X^k read, nested powers multiplied ((X^{4})^{8} is X^32): the
#: differential of X^k has k terms (Cookbook (90)); tr(X^{100000}) ran for 7 minutes, and
#: measured on a busy machine a^T X^k b took 4 s more for k = 32 than for k = 3, 11 s for 64
MAX_MATRIX_POWER = 32

#: \operatorname{expm}(X) and friends: the matrix function f(X) = Σₖ cₖXᵏ (SciPy's names)
MATRIX_FUNCTION_NAMES = {
    "expm": "exp",
    "sinm": "sin",
    "cosm": "cos",
    "sinhm": "sinh",
    "coshm": "cosh",
}


class Builder(IndexReader, Shapes):
    """The meaning of each node of the syntax tree, built with the shape-checked arithmetic
    (sums over an index, entries and rows: `IndexReader`)."""

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
        values = [self.build(f) for f in node.factors]
        for k, (f, v) in enumerate(zip(node.factors, values, strict=True)):
            if isinstance(f, P.Bars) and isinstance(v, sp.Determinant):
                others = [w for j, w in enumerate(values) if j != k]
                if any(is_matrix(w) and tuple(self.resolve(w).shape) != (1, 1) for w in others):
                    shown = text(v.arg)
                    raise AmbiguityError(
                        f"|{shown}| among matrix factors",
                        [
                            (f"det {shown}", rf"\det {shown}"),
                            (
                                f"the absolute value of every entry of {shown}",
                                rf"\operatorname{{abs}}({shown})",
                            ),
                        ],
                    )
        return self.product(values)

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
            if exp * _power_degree(base) > MAX_MATRIX_POWER:
                raise UnsupportedError(
                    f"the matrix power {self._show(base)}^{exp}: its differential has a term "
                    f"for each power of the matrix (Cookbook (90))",
                    f"powers up to {MAX_MATRIX_POWER} are derived",
                )
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

    def _Prime(self, node: P.Prime) -> sp.Basic:
        """x' and X'X (econometrics): a transpose; on a plain scalar name, θ' could as well be
        another symbol or a derivative, so it is refused."""
        a = self.resolve(self.build(node.arg))
        if is_matrix(a):
            return sp.Transpose(a)
        if isinstance(node.arg, P.Name):
            name = text(a)
            raise InputError(
                f"{name}' is a prime on the scalar {name}: for another symbol write a "
                f"subscript or an accent ({name}_2, \\tilde{{...}}); a derivative is written on "
                "its function, as \\sigma'(t) or \\tanh'(t)"
            )
        return a

    def _Inner(self, node: P.Inner) -> sp.Basic:
        """⟨a, b⟩: aᵀb of vectors, tr(AᵀB) of matrices, ab of numbers."""
        a, b = self.resolve(self.build(node.left)), self.resolve(self.build(node.right))
        if not is_matrix(a) and not is_matrix(b):
            return a * b
        if not (is_matrix(a) and is_matrix(b)):
            raise ShapeError(
                f"the inner product of {self._show(a)} and {self._show(b)}: a number and a "
                "vector or matrix"
            )

        def why() -> str:
            return f"the inner product of {self._show(a)} and {self._show(b)}: the shapes differ"

        self.unify(a.shape[0], b.shape[0], why)
        self.unify(a.shape[1], b.shape[1], why)
        a, b = self.resolve(a), self.resolve(b)
        if a.shape[1] == 1:
            return MatScalar(sp.MatMul(sp.Transpose(a), b))
        if a.shape[0] == 1:
            return MatScalar(sp.MatMul(a, sp.Transpose(b)))
        return sp.Trace(sp.MatMul(sp.Transpose(a), b))

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
        if node.order and fn not in SCALAR_FUNCTIONS:
            raise UnsupportedError(f"the derivative {fn}' of a function of a vector or matrix")
        if fn in SCALAR_FUNCTIONS:
            arg = self.resolve(self.build_entrywise(node.arg))
            f = SCALAR_FUNCTIONS[fn]
            if node.order:
                f = derivative_of(f, node.order, fn)
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
        if node.p == "*":
            return NuclearNorm(v)
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


_T = sp.Dummy("t", real=True)


def derivative_of(f: type, order: int, name: str) -> sp.Lambda:
    """t ↦ f⁽ᵒʳᵈᵉʳ⁾(t) for a scalar function written with primes (σ'(t) = σ(t)(1 − σ(t))),
    refused where it exists only as a distribution (the ReLU's second derivative)."""
    body = sp.diff(f(_T), _T, order)
    if body.has(sp.DiracDelta, sp.Heaviside, sp.Derivative, sp.Subs):
        raise UnsupportedError(
            f"the derivative {name}{chr(39) * order}", "it is not a function (a step or a kink)"
        )
    return sp.Lambda(_T, body)


def _power_degree(e: sp.Basic) -> int:
    """The largest product of nested integer matrix powers in e: 6 for (X^{2})^{3}."""
    if isinstance(e, sp.MatPow) and e.exp.is_Integer and e.exp > 0:
        return int(e.exp) * _power_degree(e.base)
    return max([1, *(_power_degree(a) for a in e.args)])


def _finite(e: sp.Basic) -> None:
    """Refuse 1/0, log 0 and the like: SymPy would carry zoo or nan into the derivation."""
    bad = e.atoms(sp.zoo.func, sp.nan.func, sp.oo.func, sp.S.NegativeInfinity.func)
    if bad:
        raise InputError("the expression is undefined (a division by zero, or the log of 0)")


def _read_names(tree: object, b: Builder) -> None:
    """What the whole formula says about its names before any is built: which are written in
    bold (vectors), and whether a transpose written ^T meets a symbol T."""
    names = [n for n in _walk(tree) if isinstance(n, P.Name)]
    bold = {n.name for n in names if n.bold}
    plain = {n.name for n in names if not n.bold}
    for name in sorted(bold & plain):
        head = name.split("_")[0].split("^")[0]
        if head in P.GREEK and head[0].islower() and name not in b.syms:
            raise InputError(
                f"{name} is written both in bold (a vector) and plain (a scalar): write it the "
                f"same way throughout, or declare its shape (--shape {name}=n or {name}=)"
            )
    b.bold |= bold
    if "T" in plain | bold | set(b.syms) | set(b.dims) and any(
        isinstance(n, P.Transpose) and n.letter for n in _walk(tree)
    ):
        raise InputError(
            "^T is ambiguous here, because T is also a symbol of the formula (the transpose, "
            "or a power T?): write the transpose as ^\\top"
        )


def build(
    tree: object, shapes: Mapping[str, tuple], assume: Mapping[str, tuple[str, ...]]
) -> tuple[sp.Basic, dict[str, str], IndexReading | None]:
    """The expression a parsed tree denotes (1×1 results become scalars), where each of its
    symbols got its kind and shape ("given", "convention: …", "inferred: …"), and for a
    formula written with sums over indices its index form and the moves from that to the
    expression (`derive.latex.contract`); None for one in matrix notation."""
    b = Builder(shapes, assume)
    _read_names(tree, b)
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
    form, moves = (e, conversion(e)) if has_index_form(e) else (None, [])
    if moves:
        e = moves[-1].after
    _finite(e)
    e = tidy(b.resolve(e))
    _finite(e)
    names = _renaming([e, *([form] if form is not None else [])], b)
    e = e.xreplace(names)
    if form is None:
        return e, _sources(e, b), None
    moves = [Move(m.after.xreplace(names), m.rule, m.note) for m in moves]
    moves[-1] = Move(e, moves[-1].rule, moves[-1].note)  # the form the derivation starts from
    return e, _sources(e, b), IndexReading(form.xreplace(names), tuple(moves))


def _sources(e: sp.Basic, b: Builder) -> dict[str, str]:
    """Where each symbol of e got its kind: given, a convention, or inferred from a sum."""
    out = {}
    for node in sp.preorder_traversal(e):
        name = getattr(node, "name", None)
        if isinstance(node, (sp.Symbol, sp.MatrixSymbol)) and name in b.source:
            source = b.source[name]
            if source == "sample":  # x_i in a sum over i
                rows = isinstance(node, sp.MatrixSymbol) and node.shape[1] != 1
                source = (
                    "inferred: x_i in a sum over i is row i of this data matrix"
                    if rows
                    else "inferred: x_i in a sum over i is entry i of this vector"
                ).replace("x_i", f"{name}_i")
            out[name] = source
    return out


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
    return e.xreplace(_renaming([e], b))


def _renaming(exprs: list[sp.Basic], b: Builder) -> dict[sp.Symbol, sp.Symbol]:
    """d1, d2, … for the dimensions left free in `exprs`, in order of first appearance."""
    seen: list[sp.Symbol] = []
    nodes = [node for e in exprs for node in sp.preorder_traversal(e)]
    for node in nodes:
        if isinstance(node, sp.Symbol) and node in b.fresh and node not in seen:
            seen.append(node)
    # Dimension symbols sit in shapes, which free_symbols does not list: collect them all.
    taken = {node.name for node in nodes if isinstance(node, sp.Symbol) and node not in b.fresh}
    names = (f"d{k}" for k in range(1, 10_000) if f"d{k}" not in taken)
    return {s: dim_symbol(next(names)) for s in seen}
