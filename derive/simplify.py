"""Bookkeeping that keeps expressions in the form a person writes, without changing values.

`tidy` does what is never written as a step on a whiteboard: x + 0 = x, 1·A = A, I A = A,
(Xᵀ)ᵀ = X, (X⁻¹)⁻¹ = X, I⁻¹ = I, 𝟏∘ᵏ = 𝟏, collecting numeric coefficients, d(X) written dX for a
varying symbol X, and splitting a 1×1 sum used as a scalar into a sum of scalars. Everything
with mathematical content (transpose of a product, symmetry, cyclic traces) is a cited rule
applied as a step.

Not SymPy's `doit` or ``evaluate=True``: those push transposes into sums
((Ax − b)ᵀ + (Ax − b)ᵀ becomes −2bᵀ + 2xᵀAᵀ) and fold X·X into X², which the rules then
have to undo.
"""

from __future__ import annotations

import functools

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from derive.expr import (
    DifferentialSymbol,
    MatDifferential,
    MatScalar,
    ScalarDifferential,
    ScalarDifferentialSymbol,
    is_matrix,
    mat_mul,
    split_coeff,
)
from derive.model import Context


def tidy(e: sp.Basic, ctx: Context | None = None) -> sp.Basic:
    """Rebuild e bottom-up with the trivial identities above applied."""
    ctx = ctx or Context()
    if not e.args or isinstance(e, (sp.MatrixSymbol, sp.Symbol, sp.Lambda, sp.Indexed)):
        return e
    done = ctx.tidied.get(e)
    if done is None:
        done = ctx.tidied[e] = _tidy(e, ctx)
    return done


def _tidy(e: sp.Basic, ctx: Context) -> sp.Basic:
    if isinstance(e, (sp.Sum, sp.Product)):
        return e.func(tidy(e.function, ctx), *e.limits)
    if isinstance(e, ElementwiseApplyFunction):
        return ElementwiseApplyFunction(e.function, tidy(e.expr, ctx))
    args = [tidy(a, ctx) for a in e.args]
    handler = _HANDLERS.get(type(e))
    if handler is not None:
        return handler(args, e, ctx)
    if tuple(args) == tuple(e.args):
        return e
    return e.func(*args)


def _is_zero(a: sp.Basic) -> bool:
    return isinstance(a, sp.ZeroMatrix) or (not is_matrix(a) and a == 0)


def _matmul(args: list[sp.Basic], e: sp.Basic, ctx: Context) -> sp.Basic:
    scalars: list[sp.Expr] = []
    mats: list[sp.Basic] = []
    for a in args:
        if isinstance(a, sp.MatMul):
            c, fs = split_coeff(a)
            scalars.append(c)
            mats.extend(fs)
        elif is_matrix(a):
            mats.append(a)
        else:
            scalars.append(a)
    shape = e.shape
    if any(_is_zero(a) for a in scalars + mats):
        return sp.ZeroMatrix(*shape)
    kept: list[sp.Basic] = []
    for a in mats:
        if isinstance(a, sp.Identity) or (isinstance(a, sp.OneMatrix) and a.shape == (1, 1)):
            continue
        if kept and isinstance(a, sp.OneMatrix) and isinstance(kept[-1], sp.OneMatrix):
            # 1ᵀ1 = n: a product of all-ones matrices is n times an all-ones matrix
            scalars.append(a.shape[0])
            a = sp.OneMatrix(kept.pop().shape[0], a.shape[1])
            if a.shape == (1, 1):
                continue
        kept.append(a)
    if not kept:
        kept = [sp.Identity(shape[0])]
    return mat_mul(sp.Mul(*scalars), kept)


@functools.lru_cache(maxsize=8192)
def canonical(e: sp.Basic) -> sp.Basic:
    """A form for comparing matrix expressions only (never shown): transposes pushed to
    the leaves and products expanded over sums, so (Ax − b)ᵀA and xᵀAᵀA − bᵀA compare equal."""
    try:
        return sp.expand(e.doit(deep=True))
    except Exception:  # noqa: BLE001 - comparison key only; fall back to the form itself
        return e


_CANONICAL_LIMIT = 60


def _smaller_than(e: sp.Basic, limit: int) -> bool:
    """Whether the tree of e has fewer than `limit` nodes (stops counting at the limit)."""
    count = 0
    for _ in sp.preorder_traversal(e):
        count += 1
        if count >= limit:
            return False
    return True


def collect_terms(terms: list[sp.Basic]) -> list[sp.Basic]:
    """Merge terms that differ only in their scalar coefficient: A x + 2 A x = 3 A x.

    Terms are compared in `canonical` form; the first one written is the one kept.
    """
    order: list[sp.Basic] = []
    shown: dict[sp.Basic, list[sp.Basic]] = {}
    coeffs: dict[sp.Basic, sp.Expr] = {}
    for t in terms:
        c, fs = split_coeff(t)
        body = mat_mul(sp.S.One, fs)
        # expanding a deep term costs more than a missed merge of two large equal terms
        key = canonical(body) if _smaller_than(body, _CANONICAL_LIMIT) else body
        if key not in coeffs:
            order.append(key)
            shown[key] = fs
            coeffs[key] = sp.S.Zero
        coeffs[key] += c
    return [mat_mul(coeffs[key], shown[key]) for key in order if coeffs[key] != 0]


def _matadd(args: list[sp.Basic], e: sp.Basic, ctx: Context) -> sp.Basic:
    flat: list[sp.Basic] = []
    for a in args:
        flat.extend(a.args if isinstance(a, sp.MatAdd) else [a])
    terms = collect_terms([a for a in flat if not _is_zero(a)])
    if not terms:
        return sp.ZeroMatrix(*e.shape)
    if len(terms) == 1:
        return terms[0]
    return sp.MatAdd(*terms)


def _transpose(args: list[sp.Basic], e: sp.Basic, ctx: Context) -> sp.Basic:
    (a,) = args
    if not is_matrix(a):
        return a
    if isinstance(a, sp.Transpose):
        return a.arg
    if isinstance(a, sp.ZeroMatrix):
        return sp.ZeroMatrix(a.shape[1], a.shape[0])
    if isinstance(a, sp.Identity):
        return a
    if isinstance(a, sp.OneMatrix):
        return sp.OneMatrix(a.shape[1], a.shape[0])
    return sp.Transpose(a)


def _hadamard(args: list[sp.Basic], e: sp.Basic, ctx: Context) -> sp.Basic:
    flat: list[sp.Basic] = []
    for a in args:
        flat.extend(a.args if isinstance(a, sp.HadamardProduct) else [a])
    if any(_is_zero(a) for a in flat):
        return sp.ZeroMatrix(*e.shape)
    coeff = sp.S.One
    kept = []
    for a in flat:  # (cA) ∘ B = c (A ∘ B)
        c, fs = split_coeff(a)
        if isinstance(a, sp.MatMul) and c != 1:
            coeff *= c
            a = mat_mul(sp.S.One, fs)
        if not isinstance(a, sp.OneMatrix):
            kept.append(a)
    if not kept:
        body = sp.OneMatrix(*e.shape)
    else:
        body = kept[0] if len(kept) == 1 else sp.HadamardProduct(*kept)
    return body if coeff == 1 else mat_mul(coeff, [body])


def _hadamard_power(args: list[sp.Basic], e: sp.Basic, ctx: Context) -> sp.Basic:
    base, k = args
    if isinstance(base, sp.OneMatrix) or k == 1:  # 𝟏∘ᵏ = 𝟏, u∘¹ = u
        return base
    return e if tuple(args) == tuple(e.args) else sp.HadamardPower(base, k)


def _matscalar(args: list[sp.Basic], e: sp.Basic, ctx: Context) -> sp.Basic:
    (a,) = args
    if isinstance(a, sp.ZeroMatrix):
        return sp.S.Zero
    if isinstance(a, (sp.Identity, sp.OneMatrix)):
        return sp.S.One
    if isinstance(a, sp.MatAdd):
        return sp.Add(*[_matscalar([t], e, ctx) for t in a.args])
    if isinstance(a, sp.MatMul):
        c, fs = split_coeff(a)
        if c != 1:
            return c * MatScalar(mat_mul(sp.S.One, fs))
    if isinstance(a, sp.Transpose):  # a scalar equals its transpose
        return MatScalar(a.arg)
    return MatScalar(a)


def _mat_differential(args: list[sp.Basic], e: sp.Basic, ctx: Context) -> sp.Basic:
    (a,) = args
    if isinstance(a, sp.MatrixSymbol) and a in ctx.varying:
        return DifferentialSymbol(a)
    if isinstance(a, (sp.ZeroMatrix, sp.Identity, sp.OneMatrix)):
        return sp.ZeroMatrix(*a.shape)
    return MatDifferential(a)


def _differential(args: list[sp.Basic], e: sp.Basic, ctx: Context) -> sp.Basic:
    (a,) = args
    if isinstance(a, sp.Symbol) and a in ctx.varying:
        return ScalarDifferentialSymbol(a)
    if a.is_number:
        return sp.S.Zero
    if isinstance(a, MatScalar):
        return MatScalar(_mat_differential([a.arg], MatDifferential(a.arg), ctx))
    return ScalarDifferential(a)


def _trace(args: list[sp.Basic], e: sp.Basic, ctx: Context) -> sp.Basic:
    (a,) = args
    if isinstance(a, sp.ZeroMatrix):
        return sp.S.Zero
    if isinstance(a, sp.MatAdd):
        return sp.Add(*[_trace([t], e, ctx) for t in a.args])
    if isinstance(a, sp.MatMul):
        c, fs = split_coeff(a)
        if c != 1:
            return c * sp.Trace(mat_mul(sp.S.One, fs))
    if tuple(a.shape) == (1, 1):
        return MatScalar(a)
    return sp.Trace(a)


def _inverse(args: list[sp.Basic], e: sp.Basic, ctx: Context) -> sp.Basic:
    a = args[0]
    if isinstance(a, sp.Inverse):
        return a.arg
    if isinstance(a, sp.Identity):
        return a
    return e if a == e.arg else sp.Inverse(a)


_HANDLERS = {
    sp.Inverse: _inverse,
    sp.MatMul: _matmul,
    sp.MatAdd: _matadd,
    sp.Transpose: _transpose,
    sp.HadamardProduct: _hadamard,
    sp.HadamardPower: _hadamard_power,
    MatScalar: _matscalar,
    MatDifferential: _mat_differential,
    ScalarDifferential: _differential,
    sp.Trace: _trace,
}
