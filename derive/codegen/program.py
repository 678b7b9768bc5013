"""The array program: interned (hash-consed) nodes that print as Python array expressions.

`Program` builds the nodes and simplifies as it goes (a product with the identity, a diagonal
times a matrix as a row or column scaling, 1ᵀM as a column sum, a solve instead of an
inverse); each node has a kind (below) and a template with the precedence its arguments need.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sympy as sp

from derive.errors import InputError, UnsupportedError

BACKENDS = ("numpy", "jax")

# Precedence of a printed fragment, as Python parses it.
ADD, MUL, UNARY, POW, ATOM = 10, 20, 30, 40, 100

# Array kinds: S a 0-d scalar; C a column vector and R a row vector (both 1-D); M a matrix;
# D a diagonal matrix held as the 1-D vector of its diagonal.
S, C, R, M, D = "S", "C", "R", "M", "D"


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


class Program:
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
        fused = self._diag_minus_outer(flat)
        if fused is not None:
            return fused
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

    def _diag_minus_outer(self, flat: list[tuple[int, Node]]) -> Node | None:
        """diag(d) − u vᵀ (a Hessian of log Σ exp, softmax) in one pass over its entries, not
        a diagonal matrix and an outer product subtracted; None for any other sum."""
        if len(flat) != 2:
            return None
        (s1, a), (s2, b) = sorted(flat, key=lambda st: -st[0])
        if not (s1 > 0 > s2 and a.kind == D and b.op == "call" and b.key == "outer"):
            return None
        self.helpers.add("_diag_minus_outer")
        return self.fmt("diag_minus_outer", (a, *b.args), M, "_diag_minus_outer({0}, {1}, {2})")

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
        if a.op == "neg":  # −a/b as −(a/b): a sum then writes x − a/b, not −a/b + x
            return self.neg(self.div(a.args[0], b))
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

    def commutation(self, m: Node, n: Node) -> Node:
        """K_mn, the mn × mn permutation matrix with K_mn vec(A) = vec(Aᵀ), formed densely;
        `matmul` applies it as an index permutation instead."""
        return self.fmt(
            "commutation", (m, n), M, "xp.eye({0} * {1})[{2}]".replace("{2}", _PERM.format(0, 1))
        )

    def _permutation(self, k: Node, transposed: bool = False) -> Node:
        """The index permutation p of K_mn (K v = v[p]), or of K_mnᵀ = K_nm."""
        m, n = k.args if not transposed else reversed(k.args)
        return self.fmt("kperm", (m, n), C, _PERM.format(0, 1))

    def matmul(self, a: Node, b: Node) -> Node:
        """The matrix product a·b by the kinds of a and b (see the package doc)."""
        if b.op == "commutation":  # A K_mn = A[:, p] for p the permutation of K_nm
            a = self.full(a)
            index = "{0}[:, {1}]" if a.kind == M else "{0}[{1}]"
            return self.fmt(
                "permcols", (a, self._permutation(b, True)), a.kind, index, ATOM, (ATOM, 0)
            )
        if a.op == "commutation":  # K_mn B = B[p]
            b = self.full(b)
            return self.fmt(
                "permrows", (b, self._permutation(a)), b.kind, "{0}[{1}]", ATOM, (ATOM, 0)
            )
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
        if a.op == "T" and a.kind == M and b.kind == C:
            # Aᵀv as vᵀA: XLA otherwise lays out the transpose of A before the product (some
            # 15 times slower at n = 1024); NumPy calls the same gemv either way
            return self.T(self.matmul(self.T(b), a.args[0]))
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


#: the permutation p of K_mn, m = {0} and n = {1}: (K_mn v)[j + n·i] = v[i + m·j]
_PERM = "xp.arange({{{0}}} * {{{1}}}).reshape(({{{1}}}, {{{0}}})).T.reshape(-1)"


def _num(n: Node) -> float | int:
    v = float(n.template)
    return int(v) if v.is_integer() and "." not in n.template else v


def _widest(kinds: Iterable[str]) -> str:
    ks = set(kinds)
    for k in (M, D, C, R):
        if k in ks:
            return k
    return S


def kind_of(shape: tuple) -> str:
    rows, cols = shape
    if rows == 1 and cols == 1:
        return S
    if cols == 1:
        return C
    if rows == 1:
        return R
    return M
