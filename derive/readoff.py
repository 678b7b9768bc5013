"""Reading a derivative off a differential (the first identification theorem).

`gradient_terms` brings dX to the right of a trace: for df linear in dX it finds the G_k
with df = Σ_k tr(G_kᵀ dX), through the cyclic property of the trace (Cookbook (16), (13),
(5)), Hadamard factors, diag, and the Fréchet derivative of a matrix function; it reports
which of those identities it passed through, and `rearrange_rule` names the rule that cites
them. `jacobian_of` reads J off dg = J dx for column vectors; `vec_jacobian` reads J off
vec(dF) = J vec(dX) for matrices (the vec convention of Magnus and Neudecker).
"""

from __future__ import annotations

import functools

import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf

from derive.errors import UnsupportedError
from derive.expr import (
    CommutationMatrix,
    DifferentialSymbol,
    FrechetDerivative,
    MatScalar,
    ScalarDifferentialSymbol,
    Vec,
    is_matrix,
    mat_mul,
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
    if y == 0 or isinstance(y, sp.ZeroMatrix):  # no term: df = 0
        return []
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
    if y == 0 or isinstance(y, sp.ZeroMatrix):  # dg = 0: g is constant (a linear f's Hessian)
        return sp.ZeroMatrix(y.shape[0] if is_matrix(y) else 1, nx)
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


# --- the vec convention: vec(dF) = J vec(dX) ------------------------------------------------


def vec_of(e: sp.Basic) -> sp.Basic:
    """vec(e) as a node: e itself for a column vector (vec stacks columns)."""
    return e if e.shape[1] == 1 else Vec(e)


def _identity(size: sp.Expr) -> sp.Basic:
    return sp.Identity(size)


def _commutation(dx: sp.Basic) -> sp.Basic:
    """The K with vec(dXᵀ) = K vec(dX): K_mn for an m × n dX, the identity for a vector."""
    rows, cols = dx.shape
    if rows == 1 or cols == 1:
        return _identity(rows * cols)
    return CommutationMatrix(rows, cols)


def _product(parts: list[sp.Basic], coef: sp.Expr = sp.S.One) -> sp.Basic:
    """coef · P₁ P₂ ⋯ with identity factors dropped."""
    kept = [p for p in parts if not isinstance(p, sp.Identity)]
    if not kept:
        kept = [parts[-1]]
    return mat_mul(coef, kept)


def _chain(mats: list[sp.Basic], size: sp.Expr) -> sp.Basic:
    """The product of `mats`, or the identity of `size` when there are none."""
    if not mats:
        return _identity(size)
    return mats[0] if len(mats) == 1 else sp.MatMul(*mats)


def _kron(a: sp.Basic, b: sp.Basic) -> sp.Basic:
    """a ⊗ b, with 1 ⊗ b = b and a ⊗ 1 = a for a 1 × 1 identity (I ⊗ I is SymPy's I)."""
    if isinstance(a, sp.Identity) and a.shape == (1, 1):
        return b
    if isinstance(b, sp.Identity) and b.shape == (1, 1):
        return a
    return sp.KroneckerProduct(a, b)


def _row_of_scalar(s: sp.Basic, dx: sp.Basic) -> sp.Basic:
    """The row vector r with s = r vec(dX), for a scalar s linear in dX: s = tr(Gᵀ dX) =
    vec(G)ᵀ vec(dX) (Cookbook (521))."""
    if is_matrix(s):
        s = MatScalar(s)
    gs = gradient_terms(s, sp.S.One)
    if not gs:
        raise UnsupportedError(f"a differential with no term in d{dx.base_name}: {s}")
    g = gs[0] if len(gs) == 1 else sp.MatAdd(*gs)
    if not is_matrix(g):
        g = sp.MatMul(g, sp.OneMatrix(*dx.shape))
    return tp(vec_of(g))


def vec_jacobian(y: sp.Basic, dx: sp.Basic) -> sp.Basic:
    """J with vec(y) = J vec(dX), for y (a matrix, vector or scalar) linear in the differential
    dX of an m × n matrix (or vector) X.

    Uses vec(L Y R) = (Rᵀ ⊗ L) vec(Y) (Cookbook (520)), vec(Yᵀ) = K vec(Y) for the commutation
    matrix K, vec(A ∘ Y) = diag(vec A) vec(Y), vec(s M) = vec(M) s for a scalar s, and
    (522), (523) for sums and scalar multiples."""
    if y == dx:
        return _identity(dx.shape[0] * dx.shape[1])
    if isinstance(y, sp.ZeroMatrix) or y == 0:  # a linear function's d²f, say
        rows = y.shape[0] * y.shape[1] if is_matrix(y) else 1
        return sp.ZeroMatrix(rows, dx.shape[0] * dx.shape[1])
    if not is_matrix(y) or tuple(y.shape) == (1, 1):
        return _row_of_scalar(y, dx)
    if isinstance(y, sp.MatAdd):
        terms = []
        for t in y.args:
            if _has_d(t):
                terms.append(vec_jacobian(t, dx))
            elif not isinstance(t, sp.ZeroMatrix):
                raise UnsupportedError(f"a differential with a term not linear in d: {t}")
        return terms[0] if len(terms) == 1 else sp.MatAdd(*terms)
    if isinstance(y, sp.Transpose):
        if y.arg == dx:
            return _commutation(dx)
        if isinstance(y.arg, (sp.MatMul, sp.MatAdd, sp.HadamardProduct)):
            pushed = tp(y.arg) if not isinstance(y.arg, sp.MatAdd) else None
            if pushed is None:
                pushed = sp.MatAdd(*[tp(t) for t in y.arg.args])
            return vec_jacobian(pushed, dx)
        rows, cols = y.arg.shape
        return _product([CommutationMatrix(rows, cols), vec_jacobian(y.arg, dx)])
    if isinstance(y, sp.HadamardProduct):
        inner = [a for a in y.args if _has_d(a)]
        if len(inner) != 1:
            raise UnsupportedError(f"a differential that is not linear: {y}")
        others = [a for a in y.args if not _has_d(a)]
        a = others[0] if len(others) == 1 else sp.HadamardProduct(*others)
        return _product([DiagMatrix(vec_of(a)), vec_jacobian(inner[0], dx)])
    if isinstance(y, sp.MatMul):
        scal = [a for a in y.args if not is_matrix(a)]
        mats = [a for a in y.args if is_matrix(a)]
        coef = sp.Mul(*[a for a in scal if not _has_d(a)])
        dscal = [a for a in scal if _has_d(a)]
        dmats = [i for i, a in enumerate(mats) if _has_d(a)]
        if len(dscal) + len(dmats) != 1:
            raise UnsupportedError(f"a differential that is not linear: {y}")
        if dscal:  # vec(s M) = vec(M) s, s a scalar linear in dX
            rest = _chain(mats, 1)
            return _product([vec_of(rest), _row_of_scalar(dscal[0], dx)], coef)
        i = dmats[0]
        inner = mats[i]
        rows, cols = inner.shape
        left, right = _chain(mats[:i], rows), _chain(mats[i + 1 :], cols)
        kron = _kron(tp(right), left)  # (520)
        return _product([kron, vec_jacobian(inner, dx)], coef)
    if isinstance(y, FrechetDerivative):
        raise UnsupportedError(
            "a Jacobian or Hessian through the derivative L_f of a matrix function "
            "(expm, sinm, …) of the variable",
            "its gradient is supported",
        )
    raise UnsupportedError(
        f"reading a Jacobian in the vec convention off a differential containing {type(y).__name__}"
    )
