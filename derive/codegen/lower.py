"""Lowering a SymPy matrix expression to the array program, node by node."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalMatrix, DiagonalOf
from sympy.matrices.expressions.hadamard import HadamardPower, HadamardProduct
from sympy.matrices.expressions.matexpr import MatrixElement

from derive.codegen.program import ADD, ATOM, C, D, M, Node, Program, R, S, kind_of
from derive.codegen.vec import KRON, VecLowering
from derive.distributions import Median
from derive.errors import InputError, UnsupportedError
from derive.evaluate import UFUNCS
from derive.expr import (
    FrechetDerivative,
    LogSumExp,
    MatrixFunction,
    MatScalar,
    NuclearNorm,
    PolarFactor,
    PseudoInverse,
    Softmax,
    relu,
    sigmoid,
    softplus,
    step,
)
from derive.notation.text import text


def _size_guess(e: sp.Basic) -> int:
    """A size for the matrix-chain search: an integer as is, a symbolic dimension as large."""
    return int(e) if e.is_Integer else 1000


@dataclass(frozen=True)
class _Piece:
    """A factor of a matrix product: a value, or the inverse of `node` (solved for, not formed)."""

    node: Node
    rows: sp.Basic
    cols: sp.Basic
    inverse: bool = False


class Lowering(VecLowering):
    """Turns a SymPy expression into program nodes (memoized by node and bound variables)."""

    def __init__(self, prog: Program, args: Mapping[str, tuple[str, str]], dims: set[str]):
        self.p = prog
        self.args = args  # symbol name -> (identifier, kind)
        self.dim_names = dims
        self.bound: dict[sp.Basic, Node] = {}
        self.memo: dict[tuple, Node] = {}
        self.given_shapes: dict[str, tuple[str, ...]] = {}

    def __call__(self, e: sp.Basic) -> Node:
        key = (e, tuple(sorted((str(k), id(v)) for k, v in self.bound.items())))
        found = self.memo.get(key)
        if found is None:
            found = self._lower(e)
            self.memo[key] = found
        return found

    def bind(self, var: sp.Basic, value: Node, body: sp.Basic) -> Node:
        saved = self.bound.get(var)
        self.bound[var] = value
        try:
            return self(body)
        finally:
            if saved is None:
                del self.bound[var]
            else:
                self.bound[var] = saved

    def dimension(self, e: sp.Basic) -> Node:
        """A size (n, 3, 2n) as an integer-valued program node."""
        if e.is_Integer:
            return self.p.const(e)
        if isinstance(e, sp.Symbol) and e.name in self.dim_names:
            return self.p.dim(e.name)
        return self(e)

    def _lower(self, e: sp.Basic) -> Node:
        p = self.p
        if e in self.bound:
            return self.bound[e]
        if isinstance(e, (sp.Number, sp.NumberSymbol)):
            return p.const(e)
        if isinstance(e, sp.MatrixSymbol):
            return self._symbol(e.name)
        if isinstance(e, sp.Symbol):
            if e.name in self.args:
                return self._symbol(e.name)
            if e.name in self.dim_names:
                return p.dim(e.name)
            raise InputError(f"no value given for the symbol {e.name}")
        method = getattr(self, "_" + type(e).__name__, None)
        if method is None:
            for cls, name in _BY_CLASS:
                if isinstance(e, cls):
                    method = getattr(self, name)
                    break
        if method is not None:
            return method(e)
        as_definition = getattr(e, "as_definition", None)
        if callable(as_definition):
            try:
                return self(as_definition())
            except UnsupportedError as exc:
                raise UnsupportedError(f"code generation of {text(e)}", str(exc)) from None
        raise UnsupportedError(f"code generation of {type(e).__name__}")

    def _symbol(self, name: str) -> Node:
        if name not in self.args:
            raise InputError(f"no value given for the symbol {name}")
        ident, kind = self.args[name]
        return self.p.arg(ident, kind)

    # -- scalars -------------------------------------------------------------------------------
    def _add(self, e: sp.Add) -> Node:
        return self.p.add([(1, self(a)) for a in e.args])

    def _mul(self, e: sp.Mul) -> Node:
        num, den = [], []
        for a in e.args:
            if a.is_Pow and a.exp.is_number and a.exp.is_negative:
                den.append(a.base if a.exp == -1 else sp.Pow(a.base, -a.exp))
            elif a.is_Rational and not a.is_Integer and a.p in (1, -1):
                num.append(sp.Integer(a.p))
                den.append(sp.Integer(a.q))
            else:
                num.append(a)
        top = self.p.mul([self(a) for a in num])
        if not den:
            return top
        bottom = self.p.mul([self(a) for a in den])
        return self.p.div(top, bottom)

    def _pow(self, e: sp.Pow) -> Node:
        base = self(e.base)
        if e.exp.is_Integer or e.exp == sp.S.Half:
            return self.p.pow(base, e.exp)
        if e.exp == -sp.S.Half:
            return self.p.div(self.p.const(1), self.p.call("sqrt", base))
        return self.p.power(base, self(e.exp))

    def _function(self, e: sp.Function) -> Node:
        name = UFUNCS.get(type(e))
        if name is None or len(e.args) != 1:
            raise UnsupportedError(f"code generation of {type(e).__name__}")
        return self.p.call(name, self(e.args[0]))

    def _special(self, e: sp.Function) -> Node:
        self.p.special = True
        arg = self(e.args[0])
        if isinstance(e, sp.factorial):
            arg = self.p.add([(1, arg), (1, self.p.const(1))])
        fn = {sp.gamma: "gamma", sp.factorial: "gamma", sp.loggamma: "gammaln"}[type(e)]
        return self.p.fmt(fn, (arg,), arg.kind, f"special.{fn}({{0}})")

    def _sigmoid(self, e: sigmoid) -> Node:
        # σ(t) = (1 + tanh(t/2))/2: no overflow of e^{−t} for t ≪ 0, and one ufunc instead
        # of logaddexp and exp (2.3 times faster for the logistic gradient at N = 2000)
        z = self(e.args[0])
        return self.p.fmt(
            "sigmoid", (z,), z.kind, "(0.5 * xp.tanh(0.5 * ({0})) + 0.5)", ATOM, (ATOM,)
        )

    def _softplus(self, e: softplus) -> Node:
        z = self(e.args[0])
        return self.p.fmt("softplus", (z,), z.kind, "xp.logaddexp(0.0, {0})")

    def _relu(self, e: relu) -> Node:
        z = self(e.args[0])
        return self.p.fmt("relu", (z,), z.kind, "xp.maximum({0}, 0.0)")

    def _step(self, e: step) -> Node:
        z = self(e.args[0])
        return self.p.fmt("step", (z,), z.kind, "xp.where({0} > 0, 1.0, 0.0)")

    def _minmax(self, e: sp.Basic) -> Node:
        fn = "maximum" if isinstance(e, sp.Max) else "minimum"
        out = self(e.args[0])
        for a in e.args[1:]:
            out = self.p.call(fn, out, self(a))
        return out

    # -- matrix nodes --------------------------------------------------------------------------
    def _MatScalar(self, e: MatScalar) -> Node:  # noqa: N802
        v = self(e.arg)
        return self.p.full(v) if v.kind == D else v

    def _MatAdd(self, e: sp.MatAdd) -> Node:  # noqa: N802
        return self.p.add([(1, self(a)) for a in e.args])

    def _MatMul(self, e: sp.MatMul) -> Node:  # noqa: N802
        scalars = [a for a in e.args if not getattr(a, "is_Matrix", False)]
        factors = [a for a in e.args if getattr(a, "is_Matrix", False)]
        scalars, factors = self.fuse_kronecker(scalars, factors)  # (A ⊗ B)K in one pass
        return self.chain(scalars, factors, e.shape)

    def chain(self, scalars: list[sp.Basic], factors: list[sp.Basic], shape: tuple) -> Node:
        """c · F₁F₂…Fₖ, distributing over a sum that holds an inverse so that it can be solved."""
        for i, f in enumerate(factors):
            if isinstance(f, sp.MatAdd) and any(_has_inverse_factor(t) for t in f.args):
                terms = []
                for t in f.args:
                    ts, tf = _split_product(t)
                    terms.append(
                        (1, self.chain(scalars + ts, factors[:i] + tf + factors[i + 1 :], shape))
                    )
                return self.p.add(terms)
        pieces: list[_Piece] = []
        coef = [self(s) for s in scalars]
        for f in factors:
            pieces.extend(self.pieces(f))
        if not pieces:
            value = self(sp.Identity(shape[0]))
        else:
            value = self.product(pieces)
        return self.p.mul([*coef, value]) if coef else value

    def pieces(self, f: sp.Basic) -> list[_Piece]:
        """A product factor as pieces: an inverse to solve with, or a value."""
        rows, cols = f.shape
        if isinstance(f, sp.MatMul):
            ss = [a for a in f.args if not getattr(a, "is_Matrix", False)]
            out = [q for a in f.args if getattr(a, "is_Matrix", False) for q in self.pieces(a)]
            if ss:
                out.append(_Piece(self.p.mul([self(s) for s in ss]), sp.S.One, sp.S.One))
            return out
        if isinstance(f, sp.Identity):
            return []
        if isinstance(f, sp.Inverse):  # sympy's Inverse is a MatPow; this test goes first
            return [self._inverse_piece(self(f.arg), rows, cols)]
        if isinstance(f, sp.Transpose) and isinstance(f.arg, sp.Inverse):
            return [self._inverse_piece(self.p.T(self(f.arg.arg)), rows, cols)]
        if isinstance(f, sp.MatPow) and f.exp.is_Integer and 0 < abs(int(f.exp)) <= 8:
            base = self(f.base)
            if int(f.exp) > 0:
                return [_Piece(base, rows, cols)] * int(f.exp)
            return [self._inverse_piece(base, rows, cols)] * -int(f.exp)
        return [_Piece(self(f), rows, cols)]

    def _inverse_piece(self, a: Node, rows: sp.Basic, cols: sp.Basic) -> _Piece:
        if a.kind in (S, D):  # the inverse is entrywise: no solve needed
            return _Piece(self.p.inv(a), rows, cols)
        return _Piece(a, rows, cols, inverse=True)

    def product(self, pieces: list[_Piece]) -> Node:
        """The product of the pieces; an inverse becomes a solve against its neighbours."""
        p = self.p
        for k in range(len(pieces) - 1):
            if pieces[k].cols == 1 and pieces[k + 1].rows == 1 and len(pieces) > 2:
                # A column times a row: an outer product of two separately solved halves.
                return p.matmul(self.product(pieces[: k + 1]), self.product(pieces[k + 1 :]))
        at = next((i for i, q in enumerate(pieces) if q.inverse), None)
        if at is None:
            return self.associate(pieces)
        left, a, right = pieces[:at], pieces[at].node, pieces[at + 1 :]
        if not left and not right:
            return p.inv(a)
        if right:
            r = self.product(right)
            if left:
                l_ = self.associate(left)
                if l_.kind == R and r.kind != C:  # xᵀA⁻¹B: solve Aᵀ against x, not against B
                    return p.matmul(p.T(p.solve(p.T(a), p.T(l_))), r)
            s = p.solve(a, r)
            if not left:
                return s
            return self.associate([*left, _Piece(s, pieces[at].rows, right[-1].cols)])
        l_ = self.associate(left)  # B A⁻¹ = (A⁻ᵀ Bᵀ)ᵀ
        return p.T(p.solve(p.T(a), p.T(p.full(l_))))

    def associate(self, pieces: list[_Piece]) -> Node:
        """A product without inverses, in the cheapest order by a matrix-chain search.

        Diagonal factors multiply their neighbours entrywise (cost of the result's size);
        scalars (1×1 factors) are pulled out.
        """
        p = self.p
        scal = [q.node for q in pieces if q.node.kind == S]
        rest = [q for q in pieces if q.node.kind != S]
        merged: list[_Piece] = []
        for q in rest:  # adjacent diagonals are one diagonal
            if merged and q.node.kind == D and merged[-1].node.kind == D:
                last = merged.pop()
                q = _Piece(p.matmul(last.node, q.node), last.rows, q.cols)
            merged.append(q)
        if not merged:
            return p.mul(scal) if scal else p.const(1)
        n = len(merged)
        dims = [_size_guess(merged[0].rows)] + [_size_guess(q.cols) for q in merged]
        diag = [q.node.kind == D for q in merged]
        cost = [[0] * n for _ in range(n)]
        split = [[0] * n for _ in range(n)]
        isdiag = [[diag[i] if i == j else False for j in range(n)] for i in range(n)]
        for length in range(2, n + 1):
            for i in range(n - length + 1):
                j = i + length - 1
                best, arg = None, i
                for k in range(i, j):
                    step = dims[i] * dims[j + 1]
                    if not (isdiag[i][k] or isdiag[k + 1][j]):
                        step *= dims[k + 1]
                    c = cost[i][k] + cost[k + 1][j] + step
                    if best is None or c < best:
                        best, arg = c, k
                cost[i][j], split[i][j] = best, arg
                isdiag[i][j] = isdiag[i][arg] and isdiag[arg + 1][j]

        def build(i: int, j: int) -> Node:
            if i == j:
                return merged[i].node
            k = split[i][j]
            return p.matmul(build(i, k), build(k + 1, j))

        value = build(0, n - 1)
        return p.mul([*scal, value]) if scal else value

    def _Transpose(self, e: sp.Transpose) -> Node:  # noqa: N802
        return self.p.T(self(e.arg))

    def _Inverse(self, e: sp.Inverse) -> Node:  # noqa: N802
        return self.p.inv(self(e.arg))

    def _MatPow(self, e: sp.MatPow) -> Node:  # noqa: N802
        if not e.exp.is_Integer:
            raise UnsupportedError("code generation of MatPow", "non-integer power")
        k = int(e.exp)
        if abs(k) <= 8:
            return self.chain([], [e], e.shape)
        base = self(e.base)
        if k < 0:
            base, k = self.p.inv(base), -k
        base = self.p.full(base)
        if base.kind == S:
            return self.p.pow(base, sp.Integer(k))
        return self.p.fmt("matrix_power", (base,), M, f"xp.linalg.matrix_power({{0}}, {k})")

    def _Trace(self, e: sp.Trace) -> Node:  # noqa: N802
        a = self(e.arg)
        if a.kind == S:
            return a
        if a.kind == D:
            return self.p.call("sum", a, kind=S)
        if a.op == "matmul" and a.args[0].kind == M and a.args[1].kind == M:
            # tr(PQ) = Σ (P ∘ Qᵀ): no n×n product formed.
            return self.p.call("sum", self.p.mul([a.args[0], self.p.T(a.args[1])]), kind=S)
        return self.p.call("trace", a, kind=S)

    def _Determinant(self, e: sp.Determinant) -> Node:  # noqa: N802
        a = self(e.arg)
        if a.kind == S:
            return a
        if a.kind == D:
            return self.p.call("prod", a, kind=S)
        return self.p.fmt("det", (a,), S, "xp.linalg.det({0})")

    def _HadamardProduct(self, e: HadamardProduct) -> Node:  # noqa: N802
        factors = [self.p.full(self(a)) for a in e.args if not isinstance(a, sp.OneMatrix)]
        if not factors:
            return self(sp.OneMatrix(*e.shape))
        return self.p.mul(factors)

    def _HadamardPower(self, e: HadamardPower) -> Node:  # noqa: N802
        base = self.p.full(self(e.base))
        if e.exp.is_Integer:
            return self.p.pow(base, e.exp)
        return self.p.power(base, self.p.full(self(e.exp)))

    def _KroneckerProduct(self, e: sp.KroneckerProduct) -> Node:  # noqa: N802
        p = self.p
        out, cols = None, sp.S.One
        for a in e.args:
            v = self._as2d(self(a), a.shape)
            cols = cols * a.shape[1]
            if out is not None:  # A ⊗ B by broadcasting, each entry written once (KRON)
                out = p.fmt("kron", (out, v, self.dimension(cols)), M, KRON, ATOM, (ATOM, ATOM, 0))
            else:
                out = v
        kind = kind_of(e.shape)
        if kind == M:
            return out
        if kind == S:
            return p.fmt("item", (out,), S, "{0}[0, 0]", ATOM, (ATOM,))
        return p.fmt("flat", (out,), kind, "xp.reshape({0}, (-1,))")

    def _as2d(self, v: Node, shape: tuple) -> Node:
        v = self.p.full(v)
        if v.kind == C:
            return self.p.fmt("col2d", (v,), M, "{0}[:, None]", ATOM, (ATOM,))
        if v.kind == R:
            return self.p.fmt("row2d", (v,), M, "{0}[None, :]", ATOM, (ATOM,))
        if v.kind == S:
            return self.p.fmt("s2d", (v,), M, "xp.reshape({0}, (1, 1))")
        return v

    def _ElementwiseApplyFunction(self, e: ElementwiseApplyFunction) -> Node:  # noqa: N802
        arg = self.p.full(self(e.expr))
        (var,) = e.function.variables
        body = e.function.expr
        if var not in body.free_symbols:  # a constant function: the shape comes from arg
            return self.p.call("full_like", arg, self(body), kind=arg.kind)
        return self.bind(var, arg, body)

    def _Identity(self, e: sp.Identity) -> Node:  # noqa: N802
        n = self.dimension(e.rows)
        return self.p.fmt("eye", (n,), D, "xp.ones({0})")

    def _filled(self, e: sp.Basic, fn: str) -> Node:
        kind = kind_of(e.shape)
        if kind == S:
            return self.p.const(1 if fn == "ones" else 0)
        if kind in (C, R):
            size = self.dimension(e.rows if kind == C else e.cols)
            return self.p.fmt(fn, (size,), kind, f"xp.{fn}({{0}})")
        rows, cols = self.dimension(e.rows), self.dimension(e.cols)
        return self.p.fmt(fn, (rows, cols), M, f"xp.{fn}(({{0}}, {{1}}))")

    def _OneMatrix(self, e: sp.OneMatrix) -> Node:  # noqa: N802
        return self._filled(e, "ones")

    def _ZeroMatrix(self, e: sp.ZeroMatrix) -> Node:  # noqa: N802
        return self._filled(e, "zeros")

    def _DiagMatrix(self, e: DiagMatrix) -> Node:  # noqa: N802
        v = self(e.args[0])
        if v.kind == S:
            return v
        return self.p.node("diagvec", (v,), D, "{0}", transparent=True)

    def _DiagonalOf(self, e: DiagonalOf) -> Node:  # noqa: N802
        a = self(e.args[0])
        if a.kind == D:
            return self.p.node("diagvec", (a,), C, "{0}", transparent=True)
        return self.p.call("diagonal", a, kind=C)

    def _DiagonalMatrix(self, e: DiagonalMatrix) -> Node:  # noqa: N802
        a = self(e.args[0])
        if a.kind == D:
            return a
        return self.p.call("diagonal", a, kind=D)

    def _ImmutableDenseMatrix(self, e: sp.ImmutableDenseMatrix) -> Node:  # noqa: N802
        kind = kind_of(e.shape)
        cells = [self(e[i, j]) for i in range(e.rows) for j in range(e.cols)]
        if kind == S:
            return cells[0]
        if kind in (C, R):
            inner = ", ".join(f"{{{i}}}" for i in range(len(cells)))
            return self.p.fmt("array", tuple(cells), kind, f"xp.array([{inner}])")
        rows = []
        for i in range(e.rows):
            rows.append("[" + ", ".join(f"{{{i * e.cols + j}}}" for j in range(e.cols)) + "]")
        return self.p.fmt("array", tuple(cells), M, f"xp.array([{', '.join(rows)}])")

    def _MatrixElement(self, e: MatrixElement) -> Node:  # noqa: N802
        if not (e.i.is_Integer and e.j.is_Integer):
            raise UnsupportedError("code generation of a matrix entry at a symbolic position")
        a = self.p.full(self(e.parent))
        i, j = int(e.i), int(e.j)
        index = {M: f"[{i}, {j}]", C: f"[{i}]", R: f"[{j}]", S: ""}[a.kind]
        if not index:
            return a
        return self.p.fmt("entry", (a,), S, "{0}" + index, ATOM, (ATOM,))

    def _NuclearNorm(self, e: NuclearNorm) -> Node:  # noqa: N802
        x = self.p.full(self(e.arg))
        return self.p.fmt("nuclear", (x,), S, "xp.linalg.svd({0}, compute_uv=False).sum()")

    def _PolarFactor(self, e: PolarFactor) -> Node:  # noqa: N802
        x = self.p.full(self(e.arg))
        # U Vᵀ of the thin SVD: the product of the first and last factors svd returns
        svd = "xp.linalg.svd({0}, full_matrices=False)"
        return self.p.fmt("polar", (x,), M, f"(lambda u, s, vh: u @ vh)(*{svd})")

    def _PseudoInverse(self, e: PseudoInverse) -> Node:  # noqa: N802
        return self.p.fmt("pinv", (self.p.full(self(e.arg)),), M, "xp.linalg.pinv({0})")

    def _MatrixFunction(self, e: MatrixFunction) -> Node:  # noqa: N802
        self.p.expm = True
        self.p.helpers.add("_matrix_function")
        a = self.p.full(self(e.arg))
        return self.p.fmt("matfun", (a,), M, f'_matrix_function("{e.fn}", {{0}})')

    def _FrechetDerivative(self, e: FrechetDerivative) -> Node:  # noqa: N802
        self.p.expm = True
        self.p.helpers.update(("_matrix_function", "_frechet"))
        x, d = self.p.full(self(e.arg)), self.p.full(self(e.direction))
        return self.p.fmt("frechet", (x, d), M, f'_frechet("{e.fn}", {{0}}, {{1}})')

    def _Softmax(self, e: Softmax) -> Node:  # noqa: N802
        return self.p.helper("_softmax", self(e.arg), C)

    def _LogSumExp(self, e: LogSumExp) -> Node:  # noqa: N802
        return self.p.helper("_logsumexp", self(e.arg), S)

    def _Median(self, e: Median) -> Node:  # noqa: N802
        """median(x₁, …, xₙ) of a whole given n-vector: xp.median (the midpoint for even n)."""
        name = e.data.label.name
        if not (isinstance(e.count, sp.Symbol) and self.given_shapes.get(name) == (e.count.name,)):
            raise UnsupportedError(
                f"code generation of {text(e)}", "only the median of a whole n-vector"
            )
        return self.p.call("median", self._symbol(name), kind=S)

    # -- sums and products over the entries of data vectors ------------------------------------
    def _reduce(self, e: sp.Basic) -> Node:
        """Σᵢ or ∏ᵢ over i = 1..n of a body reading whole n-vectors xᵢ: one vectorized pass."""
        if len(e.limits) != 1:
            raise UnsupportedError(f"code generation of a multiple {type(e).__name__}")
        var, lo, hi = e.limits[0]
        if lo != 1 or not (isinstance(hi, sp.Symbol) and hi.name in self.dim_names):
            raise UnsupportedError(
                f"code generation of a {type(e).__name__} from {lo} to {hi}",
                "only over all entries, i = 1..n",
            )
        outer = [v for v in self.bound if isinstance(v, sp.Symbol)]
        if outer and e.function.has(*outer):
            # the enclosing index is bound to a whole vector: broadcasting it against this
            # one would pair entries instead of summing over every pair
            raise UnsupportedError(
                f"code generation of a {type(e).__name__} whose body reads an enclosing index"
            )
        # x_j of a sum inside the body is that sum's to check, when it is lowered
        indexed = [
            x for x in sp.preorder_traversal(e.function) if isinstance(x, sp.Indexed) and x.has(var)
        ]
        for x in indexed:
            name = x.base.label.name
            length = self.given_shapes.get(name)
            if x.indices != (var,) or length != (hi.name,):
                raise UnsupportedError(
                    f"code generation of {x} in a {type(e).__name__} over {var} = 1..{hi}",
                    "only whole n-vectors x_i are read",
                )
        for x in indexed:
            self.bound[x] = self._symbol(x.base.label.name)
        n = self.p.dim(hi.name)
        index = self.p.fmt("arange", (n,), C, "xp.arange(1, {0} + 1)", ATOM, (ADD + 1,))
        try:
            body = self.bind(var, index, e.function)
        finally:
            for x in indexed:
                self.bound.pop(x, None)
        if body.kind == S:  # the body does not depend on i
            if isinstance(e, sp.Sum):
                return self.p.mul([n, body])
            return self.p.power(body, n)
        return self.p.call("sum" if isinstance(e, sp.Sum) else "prod", body, kind=S)


_BY_CLASS: tuple[tuple[type, str], ...] = (
    (sp.Add, "_add"),
    (sp.Mul, "_mul"),
    (sp.Pow, "_pow"),
    (sigmoid, "_sigmoid"),
    (softplus, "_softplus"),
    (relu, "_relu"),
    (step, "_step"),
    (sp.gamma, "_special"),
    (sp.factorial, "_special"),
    (sp.loggamma, "_special"),
    (sp.Max, "_minmax"),
    (sp.Min, "_minmax"),
    (sp.Sum, "_reduce"),
    (sp.Product, "_reduce"),
    (sp.Inverse, "_Inverse"),
    (sp.MatPow, "_MatPow"),
    (tuple(UFUNCS), "_function"),
)


def _has_inverse_factor(t: sp.Basic) -> bool:
    _, factors = _split_product(t)
    return any(
        isinstance(f, sp.Inverse) or (isinstance(f, sp.Transpose) and isinstance(f.arg, sp.Inverse))
        for f in factors
    )


def _split_product(t: sp.Basic) -> tuple[list[sp.Basic], list[sp.Basic]]:
    """(scalar factors, matrix factors) of a term."""
    if isinstance(t, sp.MatMul):
        return (
            [a for a in t.args if not getattr(a, "is_Matrix", False)],
            [a for a in t.args if getattr(a, "is_Matrix", False)],
        )
    return [], [t]
