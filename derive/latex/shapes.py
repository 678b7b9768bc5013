"""Names and shapes: the symbols a formula names, their dimensions found by unification, and
the arithmetic (products, sums, Hadamard products) that checks shapes as it builds them.

`Shapes` holds what is known while one formula is read. `derive.latex.build.Builder` adds the
reading of the syntax tree, and `derive.latex.sums` the terms of a sum over an index.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import sympy as sp

from derive.errors import InputError, ShapeError
from derive.expr import MatScalar, elementwise, is_matrix, relu, sigmoid, softplus
from derive.latex import parser as P
from derive.notation.text import text

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
    "cosh": sp.cosh,
    "sinh": sp.sinh,
    "relu": relu,
    "abs": sp.Abs,
}

# A number written with powers (10^{10^{10}}) is computed exactly by SymPy; beyond this many
# decimal digits the computation would take minutes and the value means nothing to a loss.
MAX_DIGITS = 1000

_T = sp.Symbol("t", real=True)


def dim_symbol(name: str) -> sp.Symbol:
    return sp.Symbol(name, integer=True, positive=True)


def entrywise_power(base: sp.Basic, exp: sp.Expr) -> sp.Basic:
    return elementwise(sp.Lambda(_T, _T**exp), base)


class Shapes:
    """The symbols, dimensions and shape-checked arithmetic of one formula being read."""

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
        # where each symbol's kind came from: "given", or the convention that made it
        self.source: dict[str, str] = {}
        # names written in bold somewhere (\mathbf, \boldsymbol): vectors, or upper-case matrices
        self.bold: set[str] = set()
        # names that are scalars only by the convention for lower-case Greek letters
        self.convention_scalars: set[str] = set()
        # the fresh dimensions of each undeclared upper-case matrix, by its name
        self.matrix_dims: dict[sp.Symbol, str] = {}
        for name, shape in shapes.items():
            if not isinstance(name, str) or not isinstance(shape, tuple | list):
                raise InputError(f"a shape maps a name to a tuple, got {name!r}: {shape!r}")
            if not (
                name.isascii()
                and name.replace("_", "").replace("^(", "").replace(")", "").isalnum()
            ):
                raise InputError(f"a shape for {name!r}, which is not a name")
            self.syms[name] = self._declared(name, tuple(shape))
            self.source[name] = "given"

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
        return self.dims.setdefault(d, dim_symbol(d))

    def _fresh(self) -> sp.Symbol:
        # Named d1, d2, … like the dimensions build() leaves free, but never equal to a
        # declared one (a round trip declares d1 and d2 themselves).
        k = len(self.fresh) + 1
        while f"d{k}" in self.dims or dim_symbol(f"d{k}") in self.fresh:
            k += 1
        s = dim_symbol(f"d{k}")
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
                f"(an undeclared lower-case name): declare {name} a scalar if it is one "
                f"(--shape {name}=)"
            )
        if a == 1 and b in self.matrix_dims:
            name = self.matrix_dims[b]
            raise ShapeError(
                f"{name} is read as a matrix (an undeclared upper-case name) but this formula "
                f"only makes sense if it is a vector or a number; its shape is not guessed: "
                f"declare it (--shape {name}=n for a vector, --shape {name}= for a number)"
            )
        if a in self.fresh and b in self.vector_length:
            self.vector_length.setdefault(a, self.vector_length[b])
        if a in self.fresh and b in self.matrix_dims:
            self.matrix_dims.setdefault(a, self.matrix_dims[b])
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
        head = name.split("_")[0].split("^")[0]
        bold = name in self.bold
        if head in P.GREEK and head[0].islower() and not bold:
            sym = self._scalar(name)
            self.convention_scalars.add(name)
            self.source[name] = "convention: a lower-case Greek letter is a scalar"
        elif head[0].isupper():
            rows, cols = self._fresh(), self._fresh()
            self.matrix_dims[rows] = self.matrix_dims[cols] = name
            sym = sp.MatrixSymbol(name, rows, cols)
            self.source[name] = "convention: an upper-case letter is a matrix"
        else:
            n = self._fresh()
            self.vector_length[n] = name
            sym = sp.MatrixSymbol(name, n, 1)
            self.source[name] = (
                "convention: a bold letter is a vector"
                if bold
                else "convention: a lower-case Latin letter is a vector"
            )
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
        guessed = sorted(
            s.name
            for t in scalars
            for s in t.free_symbols
            if isinstance(s, sp.Symbol) and s.name in self.convention_scalars
        )
        if guessed:  # x − μ: a vector μ written without bold, or a scalar for every entry?
            name = guessed[0]
            raise ShapeError(
                f"{name} is added to every entry of {self._show(m)}, but {name} is a scalar "
                f"only by convention (an undeclared lower-case Greek letter); if {name} is a "
                f"vector, write it in bold or declare --shape {name}=n; if it is a number added "
                f"to every entry, declare --shape {name}="
            )
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

    def build(self, node: object) -> sp.Basic:
        """The value of a node of the syntax tree: `derive.latex.build.Builder` reads the tree
        (declared here for `derive.latex.sums`, which lifts the terms of a sum over it)."""
        raise NotImplementedError
