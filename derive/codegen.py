"""Standalone NumPy or JAX source code for a derived formula, and an operation count.

`generate(expr, given)` lowers a SymPy matrix expression (the nodes of `derive.expr` and the
SymPy matrix algebra that `derive.evaluate` evaluates) to a small array program and prints it
as one Python function that needs NumPy (or JAX) alone:

- common subexpressions are computed once: the program is a DAG built by hash-consing, and a
  node used twice becomes a local variable;
- matrix products stay products (``@``), associated by a matrix-chain search over the
  symbolic sizes; ``diag(v) M`` becomes ``v[:, None] * M`` and ``M diag(v)`` ``M * v[None, :]``;
  ``1ᵀM`` becomes a column sum;
- ``A⁻¹B`` becomes ``solve(A, B)`` (``BA⁻¹`` a solve with Aᵀ); an inverse is formed only where
  it stands alone;
- vectors are 1-D arrays in and out, as in ``Derivation.function``: a column vector result is
  returned 1-D, a 1×1 or scalar result 0-d, a 1×n result as a (1, n) array.

Anything else raises `UnsupportedError` naming the node. Identifiers in the source come from
the given symbol names, sanitized into Python identifiers (`InputError` when that fails);
nothing is ever passed to ``eval``/``exec``. `load_function` imports the source from a file
with importlib.
"""

from __future__ import annotations

import hashlib
import importlib.util
import keyword
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalMatrix, DiagonalOf
from sympy.matrices.expressions.hadamard import HadamardPower, HadamardProduct
from sympy.matrices.expressions.matexpr import MatrixElement

from derive.errors import InputError, UnsupportedError
from derive.evaluate import UFUNCS, check_argument_names
from derive.expr import (
    FrechetDerivative,
    LogSumExp,
    MatrixFunction,
    MatScalar,
    PseudoInverse,
    Softmax,
    sigmoid,
    softplus,
)
from derive.model import Derivation, Given
from derive.notation.text import text

BACKENDS = ("numpy", "jax")

# Precedence of a printed fragment, as Python parses it.
ADD, MUL, UNARY, POW, ATOM = 10, 20, 30, 40, 100

# Array kinds: S a 0-d scalar; C a column vector and R a row vector (both 1-D); M a matrix;
# D a diagonal matrix held as the 1-D vector of its diagonal.
S, C, R, M, D = "S", "C", "R", "M", "D"


# --- operation counts ------------------------------------------------------------------------


def op_count(exprs: sp.Basic | Iterable[sp.Basic]) -> int:
    """The number of operations in `exprs` as a DAG: each distinct compound node once.

    Leaves (symbols, numbers, Identity, OneMatrix, ZeroMatrix) cost nothing, and neither do a
    Lambda's wrapper and variable (its body's operations count). Several expressions given
    together share their common subtrees (the gradients of one loss by each weight).
    """
    roots = [exprs] if isinstance(exprs, sp.Basic) else list(exprs)
    seen: set[sp.Basic] = set()
    count = 0
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if _is_leaf(node):
            continue
        if isinstance(node, sp.Lambda):
            stack.append(node.expr)
            continue
        count += 1
        stack.extend(node.args)
    return count


def tree_size(expr: sp.Basic) -> int:
    """The number of compound nodes of `expr` written out as a tree (no sharing)."""
    memo: dict[sp.Basic, int] = {}

    def size(node: sp.Basic) -> int:
        if node in memo:
            return memo[node]
        if _is_leaf(node):
            out = 0
        elif isinstance(node, sp.Lambda):
            out = size(node.expr)
        else:
            out = 1 + sum(size(a) for a in node.args)
        memo[node] = out
        return out

    return size(expr)


def _is_leaf(node: sp.Basic) -> bool:
    return not node.args or isinstance(
        node, (sp.MatrixSymbol, sp.Symbol, sp.Identity, sp.ZeroMatrix, sp.OneMatrix, sp.Indexed)
    )


# --- identifiers -----------------------------------------------------------------------------

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Characters of derive's symbol names that are not Python's (sigma^2, x') and their spelling.
_SPELL = {"^": "_", "'": "_prime", ".": "_", "{": "", "}": ""}
# Names the generated module itself uses; a symbol called so is renamed.
_RESERVED = {"np", "jnp", "jax", "special", "result"}


def identifier(name: str) -> str:
    """A Python identifier for a symbol name: W_1 stays, sigma^2 becomes sigma_2, lambda lambda_.

    Raises `InputError` for a name that does not become an ASCII identifier.
    """
    out = "".join(_SPELL.get(c, c) for c in name)
    if not _IDENT.match(out):
        raise InputError(f"the symbol name {name!r} cannot be made a Python identifier")
    if keyword.iskeyword(out) or keyword.issoftkeyword(out) or out in _RESERVED:
        out += "_"
    return out


# --- the array program: hash-consed nodes ----------------------------------------------------


@dataclass(eq=False, frozen=True)
class Node:
    """One operation of the generated program. Nodes are interned: equal means identical.

    `template` is the Python text with ``{0}``, ``{1}`` … for the arguments, `prec` its
    precedence and `needs` the least precedence each argument may have unparenthesized.
    A `transparent` node prints as its argument (a transposed vector is the same 1-D array).
    """

    op: str
    args: tuple[Node, ...]
    kind: str
    key: Any
    template: str
    prec: int
    needs: tuple[int, ...]
    transparent: bool = False


class _Program:
    """The interning table and what the module needs besides the function (helpers, imports)."""

    def __init__(self, backend: str) -> None:
        if backend not in BACKENDS:
            raise InputError(f"unknown backend {backend!r}; use 'numpy' or 'jax'")
        self.backend = backend
        self.xp = "np" if backend == "numpy" else "jnp"
        self.table: dict[tuple, Node] = {}
        self.helpers: set[str] = set()
        self.special = False
        #: the program calls a matrix exponential (expm, sinm, …, L_f): import one
        self.expm = False
        self.dims: set[str] = set()

    def node(
        self,
        op: str,
        args: tuple[Node, ...],
        kind: str,
        template: str,
        prec: int = ATOM,
        needs: tuple[int, ...] | None = None,
        key: Any = None,
        transparent: bool = False,
    ) -> Node:
        k = (op, tuple(id(a) for a in args), kind, key)
        found = self.table.get(k)
        if found is None:
            found = Node(
                op,
                args,
                kind,
                key,
                template.replace("xp.", self.xp + "."),
                prec,
                needs if needs is not None else (0,) * len(args),
                transparent,
            )
            self.table[k] = found
        return found

    # -- leaves --------------------------------------------------------------------------------
    def arg(self, name: str, kind: str) -> Node:
        return self.node("arg", (), kind, name, key=name)

    def dim(self, name: str) -> Node:
        self.dims.add(name)
        return self.node("dim", (), S, "", key=("dim", name))

    def const(self, value: sp.Basic | float | int) -> Node:
        if isinstance(value, sp.Basic):
            if value.is_Integer:
                value = int(value)
            elif value.is_Number or isinstance(value, sp.NumberSymbol):
                if not value.is_finite:
                    raise UnsupportedError("code generation of an infinite number")
                value = float(value)
            else:  # pragma: no cover - callers pass numbers only
                raise UnsupportedError(f"code generation of {value}")
        text = repr(value)
        return self.node("const", (), S, text, UNARY if value < 0 else ATOM, key=text)

    def is_const(self, n: Node, value: float | None = None) -> bool:
        return n.op == "const" and (value is None or float(n.template) == value)

    # -- scalar and entrywise arithmetic -----------------------------------------------------
    def neg(self, a: Node) -> Node:
        if a.op == "neg":
            return a.args[0]
        if a.op == "const":
            return self.const(-_num(a))
        # -(x.T @ v), not -x.T @ v: Python's unary minus binds tighter than @ and would
        # negate the whole matrix before the product
        return self.node("neg", (a,), a.kind, "-{0}", UNARY, (UNARY,))

    def add(self, terms: list[tuple[int, Node]]) -> Node:
        """Σ sign·term, with a − for negative terms; D terms beside M terms are made full."""
        flat: list[tuple[int, Node]] = []
        for sign, t in terms:
            if t.op == "neg":
                sign, t = -sign, t.args[0]
            elif t.op == "const" and _num(t) < 0:
                sign, t = -sign, self.const(-_num(t))
            flat.append((sign, t))
        kinds = {t.kind for _, t in flat}
        if any(t.op != "ones" and t.kind in (C, R, M) for _, t in flat):
            # 𝟏 beside a vector or matrix of its shape is the number 1, broadcast.
            flat = [(s, self.const(1) if t.op == "ones" else t) for s, t in flat]
        if D in kinds and kinds - {D, S}:
            flat = [(s, self.full(t)) for s, t in flat]
        kind = _widest(t.kind for _, t in flat)
        if len(flat) == 1:
            sign, t = flat[0]
            return t if sign > 0 else self.neg(t)
        flat.sort(key=lambda st: -st[0])  # a positive term first: a − b rather than −b + a
        parts, needs = [], []
        for i, (sign, _) in enumerate(flat):
            if i == 0:
                parts.append("{0}" if sign > 0 else "-{0}")
                needs.append(ADD if sign > 0 else UNARY)  # -(X @ v), as in `neg`
            else:
                parts.append(f" {'+' if sign > 0 else '-'} {{{i}}}")
                needs.append(ADD + 1 if sign > 0 else MUL)
        return self.node(
            "add",
            tuple(t for _, t in flat),
            kind,
            "".join(parts),
            ADD,
            tuple(needs),
            key=tuple(s for s, _ in flat),
        )

    def mul(self, factors: list[Node], kind: str | None = None) -> Node:
        """The entrywise (or scalar) product; constants first, 1 dropped, −1 as a sign.

        A diagonal beside a full matrix is made full, unless `kind` says what the product
        is (diag(v)·x is the vector v ∘ x).
        """
        sign = 1
        consts, rest = [], []
        for f in factors:
            if f.op == "neg":
                sign, f = -sign, f.args[0]
            if f.op == "const":
                v = _num(f)
                if v < 0:
                    sign, v = -sign, -v
                if v != 1:
                    consts.append(self.const(v))
            else:
                rest.append(f)
        args = consts + rest
        if not args:
            out = self.const(1)
        elif len(args) == 1:
            out = args[0]
        else:
            kinds = {a.kind for a in args}
            if kind is None and D in kinds and kinds - {D, S}:
                args = [self.full(a) for a in args]
            template = " * ".join(f"{{{i}}}" for i in range(len(args)))
            needs = (MUL,) + (MUL + 1,) * (len(args) - 1)
            kind = kind or _widest(a.kind for a in args)
            out = self.node("mul", tuple(args), kind, template, MUL, needs)
        return self.neg(out) if sign < 0 else out

    def div(self, a: Node, b: Node) -> Node:
        return self.node("div", (a, b), _widest((a.kind, b.kind)), "{0} / {1}", MUL, (MUL, MUL + 1))

    def pow(self, a: Node, k: sp.Basic) -> Node:
        if k == -1:
            return self.div(self.const(1), a)
        if k == sp.S.Half:
            return self.call("sqrt", a)
        if k == 1:
            return a
        if k.is_Integer:
            return self.node("pow", (a,), a.kind, f"{{0}} ** {int(k)}", POW, (ATOM,), key=int(k))
        raise UnsupportedError(f"code generation of a power {k}")

    def power(self, a: Node, e: Node) -> Node:
        kind = _widest((a.kind, e.kind))
        return self.node("power", (a, e), kind, "{0} ** {1}", POW, (ATOM, POW))

    def call(self, fn: str, *args: Node, kind: str | None = None) -> Node:
        """xp.fn(args…); the result has the kind of the widest argument unless told."""
        kind = kind or _widest(a.kind for a in args)
        inner = ", ".join(f"{{{i}}}" for i in range(len(args)))
        return self.node("call", tuple(args), kind, f"xp.{fn}({inner})", key=fn)

    def fmt(
        self,
        op: str,
        args: tuple[Node, ...],
        kind: str,
        template: str,
        prec: int = ATOM,
        needs: tuple[int, ...] | None = None,
    ) -> Node:
        return self.node(op, args, kind, template, prec, needs, key=template)

    def helper(self, name: str, a: Node, kind: str) -> Node:
        self.helpers.add(name)
        return self.node("helper", (a,), kind, f"{name}({{0}})", key=name)

    # -- matrices --------------------------------------------------------------------------------
    def T(self, a: Node) -> Node:  # noqa: N802 - the transpose
        if a.kind in (S, D):
            return a
        if a.op == "T" or (a.op == "vecT"):
            return a.args[0]
        if a.kind == M:
            return self.node("T", (a,), M, "{0}.T", ATOM, (ATOM,))
        return self.node("vecT", (a,), R if a.kind == C else C, "{0}", transparent=True)

    def full(self, a: Node) -> Node:
        """A diagonal (kind D) as the full matrix; other kinds unchanged."""
        if a.kind != D:
            return a
        if a.op == "eye":
            return self.fmt("eye_full", a.args, M, "xp.eye({0})")
        return self.call("diag", a, kind=M)

    def matmul(self, a: Node, b: Node) -> Node:
        """The matrix product a·b by the kinds of a and b (see the module doc)."""
        if a.op == "eye":
            return b
        if b.op == "eye":
            return a
        if S in (a.kind, b.kind) or (a.kind == D and b.kind == D):
            return self.mul([a, b])
        if a.kind == D:
            if b.kind == C:
                return self.mul([a, b], kind=C)
            return self.fmt("rowscale", (a, b), M, "{0}[:, None] * {1}", MUL, (ATOM, MUL + 1))
        if b.kind == D:
            if a.kind == R:
                return self.mul([a, b], kind=R)
            return self.fmt("colscale", (a, b), M, "{0} * {1}[None, :]", MUL, (MUL, ATOM))
        if a.op == "ones" and a.kind == R:  # 1ᵀB: column sums
            if b.kind == C:
                return self.call("sum", b, kind=S)
            return self.fmt("colsum", (b,), R, "xp.sum({0}, axis=0)")
        if b.op == "ones" and b.kind == C:  # A1: row sums
            if a.kind == R:
                return self.call("sum", a, kind=S)
            return self.fmt("rowsum", (a,), C, "xp.sum({0}, axis=1)")
        if a.kind == C and b.kind == R:
            return self.call("outer", a, b, kind=M)
        kind = {(M, M): M, (M, C): C, (R, M): R, (R, C): S}.get((a.kind, b.kind))
        if kind is None:
            raise UnsupportedError(f"code generation of a product of kinds {a.kind}·{b.kind}")
        return self.node("matmul", (a, b), kind, "{0} @ {1}", MUL, (MUL, MUL + 1))

    def solve(self, a: Node, b: Node) -> Node:
        """a⁻¹b without forming a⁻¹."""
        if a.kind == S:
            return self.div(b, a)
        if a.kind == D:
            return self.matmul(self.node("recip", (a,), D, "1 / {0}", MUL, (MUL + 1,)), b)
        b = self.full(b)
        if b.kind == R:  # a 1×n right side only when a is 1×1, handled above
            raise UnsupportedError("code generation of a solve with a row vector")
        return self.fmt("solve", (a, b), b.kind, "xp.linalg.solve({0}, {1})")

    def inv(self, a: Node) -> Node:
        if a.kind == S:
            return self.div(self.const(1), a)
        if a.kind == D:
            return self.node("recip", (a,), D, "1 / {0}", MUL, (MUL + 1,))
        return self.fmt("inv", (a,), M, "xp.linalg.inv({0})")


def _num(n: Node) -> float | int:
    v = float(n.template)
    return int(v) if v.is_integer() and "." not in n.template else v


def _widest(kinds: Iterable[str]) -> str:
    ks = set(kinds)
    for k in (M, D, C, R):
        if k in ks:
            return k
    return S


def _kind_of(shape: tuple) -> str:
    rows, cols = shape
    if rows == 1 and cols == 1:
        return S
    if cols == 1:
        return C
    if rows == 1:
        return R
    return M


# --- lowering SymPy to the program ------------------------------------------------------------


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


class _Lowering:
    """Turns a SymPy expression into program nodes (memoized by node and bound variables)."""

    def __init__(self, prog: _Program, args: Mapping[str, tuple[str, str]], dims: set[str]):
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
            return self(as_definition())
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
        out = None
        for a in e.args:
            v = self._as2d(self(a), a.shape)
            out = v if out is None else p.call("kron", out, v, kind=M)
        kind = _kind_of(e.shape)
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
        kind = _kind_of(e.shape)
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
        kind = _kind_of(e.shape)
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
        indexed = [x for x in sp.preorder_traversal(e.function) if isinstance(x, sp.Indexed)]
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


# --- printing the program ---------------------------------------------------------------------

_HELPERS = {
    "_matrix_function": (
        "def _matrix_function(fn, a):\n"
        '    """f(A), f = exp, sin, cos, sinh or cosh, through the matrix exponential:\n'
        "    cos A and sin A are blocks of exp([[0, A], [-A, 0]]), cosh A and sinh A of\n"
        '    exp([[0, A], [A, 0]])."""\n'
        '    if fn == "exp":\n'
        "        return _expm(a)\n"
        "    n = a.shape[0]\n"
        "    z = xp.zeros_like(a)\n"
        '    s = -1.0 if fn in ("sin", "cos") else 1.0\n'
        "    big = _expm(xp.block([[z, a], [s * a, z]]))\n"
        '    return big[:n, :n] if fn in ("cos", "cosh") else big[:n, n:]\n'
    ),
    "_frechet": (
        "def _frechet(fn, x, e):\n"
        '    """L_f(X, E), the Fréchet derivative: the upper-right block of f([[X, E], [0, X]]),\n'
        '    with E scaled to unit size (L is linear in E) against overflow."""\n'
        "    n = x.shape[0]\n"
        "    s = xp.max(xp.abs(e))\n"
        "    s = xp.where(s > 0, s, 1.0)\n"
        "    big = _matrix_function(fn, xp.block([[x, e / s], [xp.zeros_like(x), x]]))\n"
        "    return s * big[:n, n:]\n"
    ),
    "_softmax": (
        "def _softmax(z):\n"
        '    """softmax(z) = exp(z) / Σ exp(z), shifted by max(z) against overflow."""\n'
        "    e = xp.exp(z - xp.max(z))\n"
        "    return e / xp.sum(e)\n"
    ),
    "_logsumexp": (
        "def _logsumexp(z):\n"
        '    """lse(z) = log Σ exp(z), shifted by max(z) against overflow."""\n'
        "    top = xp.max(z)\n"
        "    return top + xp.log(xp.sum(xp.exp(z - top)))\n"
    ),
}


def _order(root: Node) -> list[Node]:
    """The nodes below root, each after its arguments (iterative: programs can be deep)."""
    out: list[Node] = []
    seen: set[int] = set()
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        n, done = stack.pop()
        if done:
            out.append(n)
            continue
        if id(n) in seen:
            continue
        seen.add(id(n))
        stack.append((n, True))
        stack.extend((a, False) for a in reversed(n.args))
    return out


def _print_program(root: Node, names: dict[int, str]) -> tuple[list[tuple[str, str]], str]:
    """(assignments, returned expression): a node used twice becomes a local (CSE)."""
    order = _order(root)
    uses: dict[int, int] = {id(n): 0 for n in order}
    for n in order:
        for a in n.args:
            uses[id(a)] += 1
    for n in reversed(order):  # parents first: a transparent node passes its uses down
        if n.transparent and uses[id(n)] > 1:
            uses[id(n.args[0])] += uses[id(n)] - 1
    local: set[int] = {
        id(n)
        for n in order
        if uses[id(n)] > 1 and n.op not in ("arg", "dim", "const") and not n.transparent
    }
    counter = 0
    taken = set(names.values())
    text: dict[int, tuple[str, int]] = {}
    lines: list[tuple[str, str]] = []
    for n in order:
        if n.op in ("arg", "dim"):
            text[id(n)] = (names[id(n)], ATOM)
            continue
        if n.transparent:
            text[id(n)] = text[id(n.args[0])]
            continue
        parts = []
        for a, need in zip(n.args, n.needs, strict=True):
            s, prec = text[id(a)]
            parts.append(s if prec >= need else f"({s})")
        rendered = n.template.format(*parts)
        if id(n) in local and n is not root:
            while f"t{counter}" in taken:
                counter += 1
            name = f"t{counter}"
            counter += 1
            lines.append((name, rendered))
            text[id(n)] = (name, ATOM)
        else:
            text[id(n)] = (rendered, n.prec)
    return lines, text[id(root)][0]


def _shape_words(shape: tuple, kind: str) -> str:
    dims = ", ".join(str(d) for d in shape)
    return {
        "scalar": "scalar",
        "vector": f"vector ({dims},)",
        "matrix": f"matrix ({dims})",
    }[kind]


def _doc_escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def generate(
    expr: sp.Basic,
    given: tuple[Given, ...],
    *,
    backend: str = "numpy",
    name: str = "f",
    formula: str | None = None,
) -> str:
    """Python source of a module defining ``def name(<args>)`` that computes `expr`.

    The arguments are the given symbols that `expr` reads (and any needed only for a size),
    in the order of `given`; vectors are taken and returned as 1-D arrays. `formula` (default:
    `expr` in Unicode text) goes in the docstring with the argument shapes. Raises
    `UnsupportedError` for a node it cannot lower, `InputError` for a bad name or backend.
    """
    from derive.evaluate import names_used

    prog = _Program(backend)
    fn_name = identifier(name)
    by_name = {g.name: g for g in given}
    dim_names = {str(d) for g in given for d in g.shape if isinstance(d, str)}
    used = names_used(expr) - dim_names
    unknown = used - set(by_name)
    if unknown:
        raise InputError(
            f"the expression uses {', '.join(sorted(unknown))}, not among the given symbols"
        )
    idents: dict[str, str] = {}
    for g in given:
        ident = identifier(g.name)
        if ident in idents.values():
            raise InputError(f"two symbols become the Python name {ident!r}; rename one")
        idents[g.name] = ident
    args = {g.name: (idents[g.name], _given_kind(g)) for g in given}
    low = _Lowering(prog, args, dim_names)
    low.given_shapes = {g.name: tuple(str(d) for d in g.shape) for g in given}
    root = low(expr)
    out_kind = _kind_of(expr.shape) if getattr(expr, "is_Matrix", False) else S
    root = prog.full(root) if out_kind == M or root.kind == D else root

    # Which arguments: those read, then a carrier for each size not read off them.
    params = [g for g in given if g.name in used]
    carriers: dict[str, str] = {}
    prog.dims = {n.key[1] for n in _order(root) if n.op == "dim"}
    for dim in sorted(prog.dims):
        for g in params + [g for g in given if g not in params]:
            if dim in [str(d) for d in g.shape]:
                if g not in params:
                    params.append(g)
                carriers[dim] = f"{idents[g.name]}.shape[{[str(d) for d in g.shape].index(dim)}]"
                break
        else:
            raise InputError(f"no given symbol has the dimension {dim}")
    params.sort(key=lambda g: [x.name for x in given].index(g.name))

    taken = {idents[g.name] for g in given} | _RESERVED
    names: dict[int, str] = {}
    dim_idents: dict[str, str] = {}
    for dim in sorted(prog.dims):
        ident = identifier(dim)
        while ident in taken:
            ident += "_"
        taken.add(ident)
        dim_idents[dim] = ident
    for n in _order(root):
        if n.op == "arg":
            names[id(n)] = n.key
        elif n.op == "dim":
            names[id(n)] = dim_idents[n.key[1]]
    lines, result = _print_program(root, names)

    xp = prog.xp
    head = ["import numpy as np"] if backend == "numpy" else ["import jax.numpy as jnp"]
    if prog.special:
        head.append(
            "from scipy import special" if backend == "numpy" else "from jax.scipy import special"
        )
    if prog.expm:
        head.append(
            "from scipy.linalg import expm as _expm"
            if backend == "numpy"
            else "from jax.scipy.linalg import expm as _expm"
        )
    formula = formula if formula is not None else text(expr)
    arg_doc = [f"        {idents[g.name]}: {_shape_words(g.shape, g.kind)}" for g in params] or [
        "        (none)"
    ]
    out_doc = {
        S: "a scalar (0-d array)",
        C: f"a vector of shape ({expr.shape[0] if out_kind != S else ''},)",
        R: f"an array of shape (1, {expr.shape[1] if out_kind != S else ''})",
        M: f"a matrix of shape ({', '.join(map(str, getattr(expr, 'shape', ())))})",
    }[out_kind]
    body = [
        f"def {fn_name}({', '.join(idents[g.name] for g in params)}):",
        '    """' + _doc_escape(formula),
        "",
        "    Arguments (vectors as 1-D arrays):",
        *[_doc_escape(a) for a in arg_doc],
        f"    Returns {out_doc}.",
        '    """',
    ]
    convert = "np.asarray({0}, dtype=np.float64)" if backend == "numpy" else "jnp.asarray({0})"
    for g in params:
        ident = idents[g.name]
        value = convert.format(ident)
        if g.kind == "vector":
            value = f"{xp}.reshape({value}, (-1,))"
        body.append(f"    {ident} = {value}")
    for dim in sorted(prog.dims):
        body.append(f"    {dim_idents[dim]} = {carriers[dim]}")
    body += [f"    {lhs} = {rhs}" for lhs, rhs in lines]
    if out_kind == R:
        result = f"{xp}.reshape({result}, (1, -1))"
    elif out_kind == S:
        result = f"{xp}.asarray({result})"
    body.append(f"    return {result}")
    library = "NumPy" if backend == "numpy" else "JAX"
    if backend == "numpy" and (prog.special or prog.expm):
        library = "NumPy and SciPy"
    module = [
        f'"""{fn_name}: generated by derive; needs {library} only."""',
        "",
        *head,
        "",
    ]
    for h in sorted(prog.helpers):
        module += ["", _HELPERS[h].replace("xp.", xp + ".")]
    module += ["", *body, ""]
    return "\n".join(module)


def _given_kind(g: Given) -> str:
    if g.kind == "scalar":
        return S
    if g.kind == "vector":
        return C
    rows, cols = g.shape
    return _kind_of(
        (
            sp.Integer(rows) if isinstance(rows, int) else rows,
            sp.Integer(cols) if isinstance(cols, int) else cols,
        )
    )


# --- loading generated source -----------------------------------------------------------------


def _cache_dir() -> str:
    """A private directory for generated modules: ~/.cache/derive/codegen, else a temp dir."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "derive", "codegen")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        if os.access(path, os.W_OK):
            return path
    except OSError:
        pass
    return tempfile.mkdtemp(prefix="derive-codegen-")


def load_function(source: str, name: str) -> Callable[..., Any]:
    """The function `name` of a generated module, imported from a file by importlib.

    The file is named by the SHA-256 of the source and read back before it is imported, so a
    stale or altered file is rewritten rather than run.
    """
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:24]
    path = os.path.join(_cache_dir(), f"derive_{digest}.py")
    try:
        with open(path, encoding="utf-8") as fh:
            current = fh.read()
    except OSError:
        current = None
    if current != source:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(source)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(f"derive_generated_{digest}", path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py path always has one
        raise InputError(f"cannot import the generated module {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def compile_function(
    expr: sp.Basic,
    given: tuple[Given, ...],
    backend: str = "numpy",
    name: str = "f",
    formula: str | None = None,
) -> Callable[..., Any]:
    """A callable ``f(**arrays)`` of `expr` built from generated source (see `generate`).

    Keyword arguments are the given symbols by name; unknown or missing names and
    inconsistent sizes raise `InputError` naming the symbol, as `derive.evaluate` does.
    """
    import numpy as np

    source = generate(expr, given, backend=backend, name=name, formula=formula)
    fn = load_function(source, identifier(name))
    params = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    by_ident = {identifier(g.name): g for g in given}
    by_name = {g.name: g for g in given}
    order = [by_ident[p].name for p in params]

    def call(**arrays: Any) -> Any:
        check_argument_names(arrays, given, order)
        _check_sizes(arrays, by_name)
        out = fn(*(arrays[n] for n in order))
        return np.asarray(out) if backend == "numpy" else out

    call.__doc__ = fn.__doc__
    call.__name__ = fn.__name__
    call.source = source  # type: ignore[attr-defined]
    return call


def _check_sizes(arrays: Mapping[str, Any], by_name: Mapping[str, Given]) -> None:
    import numpy as np

    dims: dict[str, int] = {}
    source: dict[str, str] = {}
    for name, value in arrays.items():
        g = by_name[name]
        shape = tuple(np.shape(value))
        want = g.shape
        if len(want) == 1 and len(shape) == 2 and shape[1] == 1:
            shape = shape[:1]
        if len(shape) != len(want):
            raise InputError(f"{name} should be a {g.kind} of shape {want} but has shape {shape}")
        for entry, size in zip(want, shape, strict=True):
            if isinstance(entry, int):
                if size != entry:
                    raise InputError(f"{name} has shape {shape}, expected {want}")
            elif entry in dims and dims[entry] != size:
                raise InputError(
                    f"{name} has {entry} = {size}, but {source[entry]} has {entry} = {dims[entry]}"
                )
            else:
                dims[entry] = size
                source.setdefault(entry, name)


# --- derivations --------------------------------------------------------------------------------


def result_expression(d: Derivation) -> sp.Basic:
    """The derivation's main result with its named definitions (δ := p − y) written in."""
    expr = d.result
    for symbol, definition in reversed(d.definitions):
        expr = expr.xreplace({symbol: definition})
    return expr


def default_name(d: Derivation) -> str:
    """grad_w, hessian_w, jacobian_x for derivative results; the result's symbol otherwise."""
    from derive.expr import GradientOf, HessianOf, JacobianOf

    lhs = d.results[0][0]
    for cls, prefix in ((GradientOf, "grad"), (HessianOf, "hessian"), (JacobianOf, "jacobian")):
        if isinstance(lhs, cls):
            return f"{prefix}_{identifier(str(lhs.args[1]))}"
    if isinstance(lhs, (sp.Symbol, sp.MatrixSymbol)):
        return identifier(lhs.name)
    return "result"


def _formula(d: Derivation) -> str:
    lhs, rhs = d.results[0]
    lines = [f"{text(lhs)} = {text(rhs)}"]
    lines += [f"    where {text(s)} = {text(e)}" for s, e in d.definitions]
    check = d.verification.summary() if d.verification else "not checked numerically"
    return "\n".join([*lines, "", f"    derive: {check}."])


def derivation_source(d: Derivation, backend: str = "numpy", name: str | None = None) -> str:
    """`generate` for a derivation's main result, named by `default_name` unless told."""
    return generate(
        result_expression(d),
        d.given,
        backend=backend,
        name=name or default_name(d),
        formula=_formula(d),
    )


def derivation_function(d: Derivation, backend: str = "numpy") -> Callable[..., Any]:
    """`compile_function` for a derivation's main result.

    A result the code generator cannot lower (an `UnsupportedError`) is evaluated node by
    node by `derive.evaluate` instead, which raises if it cannot either.
    """
    expr = result_expression(d)
    try:
        return compile_function(
            expr, d.given, backend=backend, name=default_name(d), formula=_formula(d)
        )
    except UnsupportedError:
        from derive.evaluate import compile_function as evaluator

        return evaluator(expr, d.given, backend=backend)
