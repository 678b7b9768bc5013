"""The scalar view of an entrywise expression: one entry, as a scalar expression, and back.

Sums, Hadamard products and powers, scalar multiples and elementwise functions of same-shape
matrices act entry by entry, so such an expression is a scalar expression evaluated at every
entry. `to_scalar` writes it as one (each other matrix node becomes a symbol standing for its
(i, j) entry; each scalar of a matrix, xᵀAx or 𝟏ᵀexp(z), a symbol of its own), and
`from_scalar` writes a scalar expression back in Hadamard notation:

    (𝟏 + exp(Xw))∘⁻¹ ∘ exp(Xw)   ↔   exp(e₀)/(1 + exp(e₀))   with e₀ the entry of Xw

The rules of `entrywise`, `cancel` and `sigmoid` work on this view.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from derive.expr import elementwise, is_matrix

_T = sp.Symbol("t", real=True)

#: the node types an entrywise expression is made of at its top
ENTRYWISE_NODES = (sp.MatAdd, sp.HadamardProduct, sp.HadamardPower, ElementwiseApplyFunction)


class Entries:
    """The atoms of one entrywise expression: matrix node ↔ scalar symbol for its entry."""

    def __init__(self, shape: tuple) -> None:
        self.shape = tuple(shape)
        self.symbol_of: dict[sp.Basic, sp.Dummy] = {}
        self.node_of: dict[sp.Dummy, sp.Basic] = {}
        self.scalar_node_of: dict[sp.Dummy, sp.Basic] = {}
        self._scalar_symbol_of: dict[sp.Basic, sp.Dummy] = {}

    def atom(self, node: sp.Basic) -> sp.Dummy:
        if node not in self.symbol_of:
            s = sp.Dummy(f"e{len(self.symbol_of)}", real=True)
            self.symbol_of[node] = s
            self.node_of[s] = node
        return self.symbol_of[node]

    def opaque(self, e: sp.Expr) -> sp.Expr:
        """e with each scalar of a matrix (xᵀAx, tr X, lse(z), …) as a symbol: SymPy's
        rational-function algebra must not rebuild the matrix nodes inside them."""
        reps = {}
        walk = sp.preorder_traversal(e)
        for node in walk:
            if not is_matrix(node) and any(is_matrix(a) for a in node.args):
                walk.skip()  # the outermost such scalar stands for all inside it
                if node not in self._scalar_symbol_of:
                    s = sp.Dummy(f"c{len(self.scalar_node_of)}", real=True)
                    self._scalar_symbol_of[node] = s
                    self.scalar_node_of[s] = node
                reps[node] = self._scalar_symbol_of[node]
        return e.xreplace(reps)

    def restore(self, s: sp.Basic) -> sp.Basic:
        """The scalars of matrices put back in place of their symbols."""
        return s.xreplace(self.scalar_node_of)


def coefficient(e: sp.MatMul) -> tuple[sp.Expr, list[sp.Basic]]:
    """c·A₁⋯A_k as (c, [A₁, …, A_k])."""
    scalars = [a for a in e.args if not is_matrix(a)]
    return sp.Mul(*scalars), [a for a in e.args if is_matrix(a)]


def to_scalar(e: sp.Basic, entries: Entries) -> sp.Expr:
    """The scalar expression of a generic entry of `e` (scalars are the same at every entry)."""
    if not is_matrix(e):
        return entries.opaque(e)
    if isinstance(e, sp.OneMatrix):
        return sp.S.One
    if isinstance(e, sp.ZeroMatrix):
        return sp.S.Zero
    if isinstance(e, sp.MatAdd):
        return sp.Add(*[to_scalar(a, entries) for a in e.args])
    if isinstance(e, sp.HadamardProduct):
        return sp.Mul(*[to_scalar(a, entries) for a in e.args])
    if isinstance(e, sp.HadamardPower):
        return sp.Pow(to_scalar(e.base, entries), e.exp)
    if isinstance(e, ElementwiseApplyFunction):
        return e.function(to_scalar(e.expr, entries))
    if isinstance(e, sp.MatMul):
        c, mats = coefficient(e)
        if len(mats) == 1:
            return entries.opaque(c) * to_scalar(mats[0], entries)
        if c != 1:  # (½X)w: ½ times the entry of Xw
            return entries.opaque(c) * entries.atom(sp.MatMul(*mats))
    return entries.atom(e)


def written_size(e: sp.Basic, entries: Entries) -> int:
    """The operations of e's entry as written, before SymPy evaluates anything: σ∘⁻¹ ∘ σ
    counts its product and its power (evaluated, σ⁻¹σ would already be 1)."""
    with sp.evaluate(False):
        s = to_scalar(e, entries)
    return int(sp.count_ops(s))


def _is_entry_function(e: sp.Basic) -> bool:
    return isinstance(e, sp.Function) and len(e.args) == 1


def from_scalar(s: sp.Expr, entries: Entries) -> sp.Basic | None:
    """The Hadamard form of the scalar entry expression `s`; None where it has none."""
    e = _from_scalar(s, entries)
    return None if e is None else entries.restore(e)


def _from_scalar(s: sp.Expr, entries: Entries) -> sp.Basic | None:
    shape = entries.shape
    atoms = set(entries.node_of)
    if not (s.free_symbols & atoms):
        if s == 0:
            return sp.ZeroMatrix(*shape)
        return sp.OneMatrix(*shape) if s == 1 else sp.MatMul(s, sp.OneMatrix(*shape))
    if s in atoms:
        return entries.node_of[s]
    if isinstance(s, sp.Add):
        parts = [_from_scalar(a, entries) for a in s.args]
        return None if any(p is None for p in parts) else sp.MatAdd(*parts)
    if isinstance(s, sp.Mul):
        const = [a for a in s.args if not (a.free_symbols & atoms)]
        # σ ∘ (1 − σ), as printed in textbooks: sums after the other factors
        varying = sorted(
            (a for a in s.args if a.free_symbols & atoms), key=lambda a: isinstance(a, sp.Add)
        )
        parts = [_from_scalar(a, entries) for a in varying]
        if any(p is None for p in parts):
            return None
        body = parts[0] if len(parts) == 1 else sp.HadamardProduct(*parts)
        c = sp.Mul(*const)
        return body if c == 1 else sp.MatMul(c, body)
    if isinstance(s, sp.Pow):
        base = _from_scalar(s.base, entries)
        if base is None or s.exp.free_symbols & atoms:
            return None
        if s.exp.is_Integer:
            return sp.HadamardPower(base, s.exp)
        return elementwise(sp.Lambda(_T, _T**s.exp), base)
    if _is_entry_function(s):
        inner = _from_scalar(s.args[0], entries)
        if inner is None:
            return None
        return elementwise(type(s), inner)
    return None


def applied(fn: sp.Lambda, arg: sp.Basic) -> sp.Basic:
    """f∘(X) in Hadamard notation where f is algebra of named functions: for
    f(t) = σ(t)(1 − σ(t)), σ(X) ∘ (1 − σ(X)); otherwise the elementwise application."""
    entries = Entries(arg.shape)
    written = from_scalar(fn(entries.atom(arg)), entries)
    return elementwise(fn, arg) if written is None else written


def cost(s: sp.Expr) -> int:
    return int(sp.count_ops(s))


def _positive_constant_first(s: sp.Expr) -> sp.Expr:
    """Write each factor (a − c) with a negative constant as −(c − a): σ(σ − 1) → −σ(1 − σ)."""
    if not isinstance(s, sp.Mul):
        return s
    coeff, factors = s.as_coeff_mul()
    kept = []
    for f in factors:
        if isinstance(f, sp.Add):
            const, rest = f.as_independent(*f.free_symbols)
            if const.is_number and const < 0 and rest.could_extract_minus_sign() is False:
                f = sp.Add(-const, -rest, evaluate=False)
                coeff = -coeff
        kept.append(f)
    return sp.Mul(coeff, *kept, evaluate=False) if coeff != 1 else sp.Mul(*kept, evaluate=False)


def simplest(s: sp.Expr, factored_first: bool = False) -> sp.Expr:
    """The smallest of the usual normal forms of a rational expression (ties: the first, the
    factored form before the others when `factored_first`: σ(1 − σ), not σ − σ²)."""
    candidates = [s]
    forms = (
        (sp.factor, sp.cancel, sp.expand) if factored_first else (sp.cancel, sp.factor, sp.expand)
    )
    for form in forms:
        try:
            candidates.append(_positive_constant_first(form(s)))
        except (sp.PolynomialError, TypeError, ValueError):
            continue
    return min(candidates, key=cost)


def entry_view(node: sp.Basic) -> tuple[sp.Expr, Entries] | None:
    """The scalar entry expression of `node`, when node is entrywise algebra at the top."""
    if not is_matrix(node) or not isinstance(node, ENTRYWISE_NODES):
        return None
    entries = Entries(node.shape)
    s = to_scalar(node, entries)
    if any(isinstance(a, sp.Identity) for a in entries.symbol_of):
        return None  # A ∘ I masks the diagonal; as scalar algebra it would print as 𝟏𝟏ᵀ − I
    return s, entries


def scalar_view(node: sp.Basic) -> tuple[sp.Expr, Entries] | None:
    """A scalar expression with each scalar of a matrix as a symbol (its `Entries` has no
    matrix atoms, and the shape (1, 1)); None for a matrix or an atom."""
    if is_matrix(node) or not node.args or not isinstance(node, sp.Expr):
        return None
    entries = Entries((1, 1))
    return entries.opaque(node), entries
