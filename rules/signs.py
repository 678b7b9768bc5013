"""The sign of every entry of an expression, by assumption or by construction.

A cancellation u ∘ u∘⁻¹ = 𝟏 (or u/u = 1) holds only where no entry of u is zero. This module
says when that is known: u declared positive or nonzero, or positive by construction, as
exp(·), σ(·), softmax(·), 1 − σ(·) = σ(−·), 𝟏, and sums, products, powers and positive
combinations of these. Anything else is `UNKNOWN`, and a rule must then leave it alone.

    entry_sign(σ(Xw), ctx)        → POSITIVE
    entry_sign(x, ctx)            → UNKNOWN  (unless x is assumed positive or nonzero)
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from derive.expr import LogSumExp, MatScalar, Softmax, is_matrix, sigmoid
from derive.model import Context
from derive.rules.entries import Entries, to_scalar


class Sign(enum.IntEnum):
    """What is known of every entry: ordered, so the weakest of several is their `min`."""

    UNKNOWN = 0
    NONZERO = 1
    POSITIVE = 2


def _weakest(signs: list[Sign]) -> Sign:
    return min(signs, default=Sign.POSITIVE)


def _symbol_sign(name: str, ctx: Context) -> Sign:
    if ctx.has(name, "positive"):
        return Sign.POSITIVE
    if ctx.has(name, "nonzero"):
        return Sign.NONZERO
    return Sign.UNKNOWN


def _matrix_symbol(e: sp.MatrixSymbol, ctx: Context) -> Sign:
    return _symbol_sign(e.name, ctx)


def _positive(e: sp.Basic, ctx: Context) -> Sign:
    return Sign.POSITIVE


def _unknown(e: sp.Basic, ctx: Context) -> Sign:
    return Sign.UNKNOWN


def _same_as_arg(e: sp.Basic, ctx: Context) -> Sign:
    return entry_sign(e.args[0], ctx)


def _matmul(e: sp.MatMul, ctx: Context) -> Sign:
    """c·A₁⋯A_k: positive when c > 0 and every Aᵢ is positive (each entry a sum of positive
    products); nonzero when c ≠ 0 and the one matrix factor has no zero entry."""
    scalars = [a for a in e.args if not is_matrix(a)]
    mats = [a for a in e.args if is_matrix(a)]
    c = scalar_sign(sp.Mul(*scalars), ctx)
    signs = [entry_sign(a, ctx) for a in mats]
    if c is Sign.POSITIVE and _weakest(signs) is Sign.POSITIVE:
        return Sign.POSITIVE
    if c is not Sign.UNKNOWN and len(mats) == 1:
        return min(signs[0], Sign.NONZERO)
    if c is not Sign.UNKNOWN and _weakest(signs) is Sign.POSITIVE:
        return Sign.NONZERO
    return Sign.UNKNOWN


def _entrywise(e: sp.Basic, ctx: Context) -> Sign:
    """Sums, Hadamard products and powers, elementwise functions: the sign of one entry as a
    scalar expression, each atom a symbol of the atom's own sign (𝟏 − σ(u) = 1/(1 + e^{u}))."""
    entries = Entries(e.shape)
    return entries_sign(to_scalar(e, entries), entries, ctx)


def entries_sign(s: sp.Expr, entries: Entries, ctx: Context) -> Sign:
    """The sign of the entry expression s, each of its atoms (`entries`) of its own sign."""
    reps = {sym: _signed_dummy(entry_sign(node, ctx)) for node, sym in entries.symbol_of.items()}
    for sym, node in entries.scalar_node_of.items():
        reps[sym] = _signed_dummy(scalar_sign(node, ctx))
    return _sympy_sign(s.xreplace(reps))


_MATRIX_SIGNS: dict[type, Callable[[sp.Basic, Context], Sign]] = {
    sp.MatrixSymbol: _matrix_symbol,
    sp.OneMatrix: _positive,
    Softmax: _positive,
    sp.Transpose: _same_as_arg,
    MatScalar: _same_as_arg,
    sp.MatAdd: _entrywise,
    sp.HadamardProduct: _entrywise,
    sp.HadamardPower: _entrywise,
    sp.MatMul: _matmul,
    ElementwiseApplyFunction: _entrywise,
    LogSumExp: _unknown,
}


def entry_sign(e: sp.Basic, ctx: Context) -> Sign:
    """What is known of every entry of the matrix (or of the scalar) e."""
    if not is_matrix(e) and not isinstance(e, MatScalar):
        return scalar_sign(e, ctx)
    for kind in type(e).__mro__:
        handler = _MATRIX_SIGNS.get(kind)
        if handler is not None:
            return handler(e, ctx)
    return Sign.UNKNOWN


def _signed_dummy(sign: Sign) -> sp.Dummy:
    if sign is Sign.POSITIVE:
        return sp.Dummy(positive=True)
    if sign is Sign.NONZERO:
        return sp.Dummy(real=True, nonzero=True)
    return sp.Dummy(real=True)


def _sympy_sign(s: sp.Expr) -> Sign:
    """The sign SymPy's assumptions give the scalar s, σ written out as 1/(1 + e^{−t}) and the
    result over one denominator (so 1 − σ(t) = 1/(1 + e^{t}) is seen to be positive)."""
    s = s.replace(sigmoid, lambda a: 1 / (1 + sp.exp(-a)))
    if s.is_positive:
        return Sign.POSITIVE
    try:
        s = sp.together(s)
    except (sp.PolynomialError, TypeError, ValueError):
        return Sign.UNKNOWN
    if s.is_positive:
        return Sign.POSITIVE
    return Sign.NONZERO if s.is_nonzero else Sign.UNKNOWN


def scalar_sign(s: sp.Basic, ctx: Context) -> Sign:
    """The sign of a scalar: each scalar of a matrix in it (xᵀAx, 𝟏ᵀexp(z)) and each declared
    symbol stands for a symbol of its own sign, then SymPy's assumptions decide."""
    if isinstance(s, MatScalar):
        return entry_sign(s.arg, ctx)
    reps: dict[sp.Basic, sp.Dummy] = {}
    walk = sp.preorder_traversal(s)
    for node in walk:
        if isinstance(node, MatScalar) or (
            not is_matrix(node) and any(is_matrix(a) for a in node.args)
        ):
            walk.skip()
            if node not in reps:
                sign = entry_sign(node.arg, ctx) if isinstance(node, MatScalar) else Sign.UNKNOWN
                reps[node] = _signed_dummy(sign)
        elif isinstance(node, sp.Symbol) and node not in reps:
            sign = _symbol_sign(node.name, ctx)
            if sign is not Sign.UNKNOWN:
                reps[node] = _signed_dummy(sign)
    return _sympy_sign(s.xreplace(reps))


#: the assumption kinds that say an entry is not zero
_SIGN_KINDS = frozenset({"positive", "nonzero"})


def sign_key(ctx: Context) -> frozenset:
    """What of `ctx` the signs depend on, hashable: a memo key for rules that use them."""
    return frozenset(
        (name, frozenset(kinds & _SIGN_KINDS))
        for name, kinds in ctx.assume.items()
        if kinds & _SIGN_KINDS
    )


def sign_context(key: frozenset) -> Context:
    """A context that knows what `key` (from `sign_key`) records."""
    return Context(assume=dict(key))
