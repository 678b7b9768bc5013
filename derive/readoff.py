"""Reading a derivative off a differential (the first identification theorem).

`gradient_terms` brings dX to the right of a trace: for df linear in dX it finds the G_k
with df = Σ_k tr(G_kᵀ dX), through the cyclic property of the trace (Cookbook (16), (13),
(5)), Hadamard factors, diag, and the Fréchet derivative of a matrix function; it reports
which of those identities it passed through, and `rearrange_rule` names the rule that cites
them. `jacobian_of` reads J off dg = J dx for column vectors.
"""

from __future__ import annotations

import functools

import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf

from derive.errors import UnsupportedError
from derive.expr import (
    DifferentialSymbol,
    FrechetDerivative,
    MatScalar,
    ScalarDifferentialSymbol,
    is_matrix,
)
from derive.model import Rule
from derive.rules.identify import REARRANGE, REARRANGE_FRECHET, REARRANGE_HADAMARD
from derive.rules.transpose import tp

# --- reading off the gradient: df = tr(Gᵀ dX) -----------------------------------------------


def _is_dvar(e: sp.Basic) -> bool:
    return isinstance(e, (DifferentialSymbol, ScalarDifferentialSymbol))


@functools.lru_cache(maxsize=16384)
def _has_d(e: sp.Basic) -> bool:
    """Whether a differential dX occurs in e (memoised: the read-off asks of every subtree)."""
    return _is_dvar(e) or any(_has_d(a) for a in e.args if not isinstance(a, sp.Lambda))


def _scalar_of(g: sp.Basic) -> sp.Basic:
    return MatScalar(g) if is_matrix(g) and tuple(g.shape) == (1, 1) else g


def _times(c: sp.Basic, g: sp.Basic) -> sp.Basic:
    """c·g for a scalar c and a scalar or matrix g."""
    if is_matrix(g):
        return sp.MatMul(c, g)
    return c * g


def gradient_terms(y: sp.Basic, g: sp.Basic, used: set[str] | None = None) -> list[sp.Basic]:
    """The G_k with tr(gᵀ y) = Σ_k tr(G_kᵀ dX), for y linear in the differential dX.

    `g` has y's shape (or is a scalar when y is 1×1 or scalar). Uses tr(Gᵀ L Y R) =
    tr((Lᵀ G Rᵀ)ᵀ Y) (cyclic trace, Cookbook (16), with (5) and (13)), tr(Gᵀ Yᵀ) = tr(G Y)ᵀ
    (13), tr(Gᵀ (A ∘ Y)) = tr((G ∘ A)ᵀ Y), and tr(Gᵀ diag(v)) = diag(G)ᵀ v. The names of
    the identities beyond the trace rules ("hadamard", "diag") are added to `used`.
    """
    used = set() if used is None else used
    if _is_dvar(y):
        return [g]
    if isinstance(y, (sp.MatAdd, sp.Add)):
        out: list[sp.Basic] = []
        for t in y.args:
            if _has_d(t):
                out.extend(gradient_terms(t, g, used))
            elif t != 0 and not isinstance(t, sp.ZeroMatrix):
                raise UnsupportedError(f"a differential with a term not linear in d: {t}")
        return out
    if isinstance(y, MatScalar):
        return gradient_terms(y.arg, g, used)
    if isinstance(y, sp.Mul) and not is_matrix(y):  # MatMul subclasses Mul
        inner = [a for a in y.args if _has_d(a)]
        if len(inner) != 1:
            raise UnsupportedError(f"a differential that is not linear: {y}")
        rest = sp.Mul(*[a for a in y.args if not _has_d(a)])
        return gradient_terms(inner[0], _times(rest, g), used)
    if isinstance(y, sp.MatMul):
        args = list(y.args)
        scal = [a for a in args if not is_matrix(a)]
        mats = [a for a in args if is_matrix(a)]
        coef = sp.Mul(*[a for a in scal if not _has_d(a)])
        dscal = [a for a in scal if _has_d(a)]
        dmats = [i for i, a in enumerate(mats) if _has_d(a)]
        if len(dscal) + len(dmats) != 1:
            raise UnsupportedError(f"a differential that is not linear: {y}")
        if dscal:
            # tr(Gᵀ (s M)) = s tr(Gᵀ M): the scalar s carries the differential
            rest = sp.MatMul(*mats) if len(mats) > 1 else mats[0]
            inner_g = sp.Trace(sp.MatMul(tp(g), rest)) if is_matrix(g) else g * _scalar_of(rest)
            return gradient_terms(dscal[0], coef * inner_g, used)
        i = dmats[0]
        left, right = mats[:i], mats[i + 1 :]
        parts = (
            [tp(a) for a in reversed(left)]
            + ([g] if is_matrix(g) else [])
            + [tp(a) for a in reversed(right)]
        )
        c = coef if is_matrix(g) else coef * g
        if not parts:
            return gradient_terms(mats[i], c, used)
        newg = sp.MatMul(c, *parts) if (c != 1 or len(parts) > 1) else parts[0]
        return gradient_terms(mats[i], newg, used)
    if isinstance(y, sp.Transpose):
        return gradient_terms(y.arg, tp(g), used)
    if isinstance(y, sp.HadamardProduct):
        inner = [a for a in y.args if _has_d(a)]
        if len(inner) != 1:
            raise UnsupportedError(f"a differential that is not linear: {y}")
        others = [a for a in y.args if not _has_d(a)]
        used.add("hadamard")
        gm = g if is_matrix(g) else sp.MatMul(g, sp.OneMatrix(*y.shape))
        return gradient_terms(inner[0], sp.HadamardProduct(gm, *others), used)
    if isinstance(y, sp.Trace):
        size = y.arg.shape[0]
        return gradient_terms(y.arg, _times(g, sp.Identity(size)), used)
    if isinstance(y, DiagMatrix):
        used.add("diag")
        return gradient_terms(y.args[0], DiagonalOf(g), used)
    if isinstance(y, FrechetDerivative):  # tr(gᵀ L_f(X, Y)) = tr(L_f(Xᵀ, g)ᵀ Y)
        if _has_d(y.arg):
            raise UnsupportedError(f"a differential inside the matrix argument of {y}")
        used.add("frechet")
        gm = g if is_matrix(g) else sp.MatMul(g, sp.OneMatrix(*y.shape))
        return gradient_terms(y.direction, FrechetDerivative(tp(y.arg), gm, y.fn), used)
    if isinstance(y, DiagonalOf):  # tr(gᵀ diag(Y)) = Σ g_i Y_ii = tr(diag(g)ᵀ Y)
        used.add("diag")
        gm = g if is_matrix(g) else sp.MatMul(g, sp.OneMatrix(*y.shape))
        return gradient_terms(y.arg, DiagMatrix(gm), used)
    raise UnsupportedError(f"reading a gradient off a differential containing {type(y).__name__}")


def rearrange_rule(used: set[str]) -> Rule:
    """The rearrangement that names what `gradient_terms` passed through."""
    if "frechet" in used:
        return REARRANGE_FRECHET
    return REARRANGE_HADAMARD if used else REARRANGE


# --- reading off a Jacobian: dg = J dx ------------------------------------------------------


def jacobian_of(y: sp.Basic, dx: sp.Basic) -> sp.Basic:
    """J with y = J dx, for a column vector (or scalar) y linear in the column vector dx."""
    nx = dx.shape[0]
    if y == dx:
        return sp.Identity(nx)
    if isinstance(y, sp.MatAdd):
        return sp.MatAdd(*[jacobian_of(t, dx) for t in y.args if _has_d(t)])
    if isinstance(y, sp.Transpose) and isinstance(y.arg, sp.MatMul):
        return jacobian_of(tp(y.arg), dx)
    if isinstance(y, sp.HadamardProduct):
        inner = [a for a in y.args if _has_d(a)]
        others = [a for a in y.args if not _has_d(a)]
        if len(inner) != 1 or y.shape[1] != 1:
            raise UnsupportedError(f"a Jacobian through {y}")
        a = others[0] if len(others) == 1 else sp.HadamardProduct(*others)
        return sp.MatMul(DiagMatrix(a), jacobian_of(inner[0], dx))
    if isinstance(y, sp.MatMul):
        scal = [a for a in y.args if not is_matrix(a)]
        mats = [a for a in y.args if is_matrix(a)]
        coef = sp.Mul(*[a for a in scal if not _has_d(a)])
        dscal = [a for a in scal if _has_d(a)]
        if dscal:
            (s,) = dscal
            (gcol,) = [sp.MatAdd(*gradient_terms(s, sp.S.One))]
            rest = sp.MatMul(*mats) if len(mats) > 1 else mats[0]
            return sp.MatMul(coef, rest, tp(gcol))
        idx = [i for i, a in enumerate(mats) if _has_d(a)]
        if len(idx) != 1:
            raise UnsupportedError(f"a differential that is not linear: {y}")
        i = idx[0]
        left, right = mats[:i], mats[i + 1 :]
        if isinstance(mats[i], sp.MatAdd):  # L (A + B) R = L A R + L B R
            return sp.MatAdd(
                *[
                    jacobian_of(sp.MatMul(coef, *left, *sp.MatMul.make_args(t), *right), dx)
                    for t in mats[i].args
                ]
            )
        if right:
            # L F R with a 1×1 tail: (F R) is a scalar sᵀ... handle L (dxᵀ a) as L aᵀ dx
            inner = sp.MatMul(mats[i], *right)
            if tuple(inner.shape) == (1, 1):
                g = sp.MatAdd(*gradient_terms(MatScalar(inner), sp.S.One))
                return sp.MatMul(coef, *left, tp(g)) if left else sp.MatMul(coef, tp(g))
            # L F S with S a 1×1 product: the scalar S commutes, L F S = S L F
            for cut in range(len(right)):
                tail = sp.MatMul(*right[cut:]) if len(right[cut:]) > 1 else right[cut]
                if tuple(tail.shape) == (1, 1):
                    head = [mats[i], *right[:cut]]
                    return jacobian_of(sp.MatMul(coef, MatScalar(tail), *left, *head), dx)
            raise UnsupportedError(f"a Jacobian through {y}")
        jin = jacobian_of(mats[i], dx)
        return sp.MatMul(coef, *left, jin)
    if isinstance(y, MatScalar):
        g = sp.MatAdd(*gradient_terms(y, sp.S.One))
        return tp(g)
    raise UnsupportedError(f"reading a Jacobian off a differential containing {type(y).__name__}")
