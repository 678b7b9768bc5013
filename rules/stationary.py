"""Solving stationarity equations in matrix form: a gradient affine in w set to zero (the
normal equations), and Σ⁻¹ M Σ⁻¹ = a Σ⁻¹ solved for Σ."""

from __future__ import annotations

import sympy as sp

from derive.errors import UnsupportedError
from derive.expr import MatScalar
from derive.model import Context, RuleExample, Transform
from derive.rules import probability as pr
from derive.rules.registry import register

_d = sp.Symbol("d", integer=True, positive=True)


def residual(y: sp.Basic, X: sp.Basic, w: sp.Basic) -> sp.Basic:
    """y − Xw."""
    return sp.MatAdd(y, sp.MatMul(-1, X, w))


def affine_parts(g: sp.Basic, w: sp.MatrixSymbol) -> tuple[list[sp.Basic], list[sp.Basic]]:
    """g = (∑ A_k) w + ∑ b_k for a column-vector g affine in the column vector w.

    Each term of the expanded g is P w Q (Q a 1×1 factor, read as a scalar) or free of w.
    """
    A: list[sp.Basic] = []
    b: list[sp.Basic] = []
    expanded = sp.expand(g)
    terms = expanded.args if isinstance(expanded, sp.MatAdd) else (expanded,)
    for term in terms:
        if not term.has(w):
            b.append(term)
            continue
        if term == w:
            A.append(sp.Identity(w.shape[0]))
            continue
        if not isinstance(term, sp.MatMul):
            raise UnsupportedError(f"a gradient that is not affine in {w}", f"the term {term}")
        c, mats = term.as_coeff_matrices()
        where = [k for k, m in enumerate(mats) if m.has(w)]
        if len(where) != 1 or mats[where[0]] != w:
            raise UnsupportedError(f"a gradient that is not affine in {w}", f"the term {term}")
        k = where[0]
        prefix, suffix = mats[:k], mats[k + 1 :]
        if suffix:  # P w Q with Q a 1×1 matrix: a scalar factor
            q = sp.MatMul(*suffix).doit()
            if q.shape != (1, 1):
                raise UnsupportedError(f"a gradient that is not affine in {w}", f"in {term}")
            c = c * (q.args[0] if isinstance(q, sp.MatMul) and q.args[0].is_number else q)
            if getattr(c, "is_Matrix", False):
                c = MatScalar(c)
        A.append(sp.MatMul(c, *prefix) if prefix else c * sp.Identity(w.shape[0]))
    return A, b


def scalar_coefficient(m: sp.Basic) -> tuple[sp.Expr, sp.Basic]:
    """m = c·M with c the scalar coefficient of a product (1 otherwise)."""
    if isinstance(m, sp.MatMul):
        c, mats = m.as_coeff_matrices()
        return c, sp.MatMul(*mats) if len(mats) > 1 else mats[0]
    return sp.S.One, m


def solve_linear(g: sp.Basic, ctx: Context) -> sp.Basic:
    """The w with g(w) = A w − r = 0: w = A⁻¹r, written (A/c)⁻¹(r/c) for the scalar c of r,
    and a common invertible left factor of A/c and r/c cancelled."""
    (w,) = ctx.varying
    A, b = affine_parts(g, w)
    if not A:
        raise UnsupportedError(f"solving for {w}", "the gradient does not depend on it")
    r = [-t for t in b]
    if len(r) != 1:
        raise UnsupportedError(f"solving for {w}", "the constant part is not a single product")
    c, rhs = scalar_coefficient(sp.expand(r[0]))
    lhs_terms = [sp.MatMul(t, 1 / c).doit() if c != 1 else t for t in A]
    if len(lhs_terms) == 1:
        k, a = scalar_coefficient(lhs_terms[0])
        a_mats = a.args if isinstance(a, sp.MatMul) else (a,)
        r_mats = rhs.args if isinstance(rhs, sp.MatMul) else (rhs,)
        if isinstance(a, sp.Identity):
            return sp.MatMul(1 / k, rhs) if k != 1 else rhs
        if tuple(r_mats[: len(a_mats)]) == tuple(a_mats) and len(r_mats) > len(a_mats):
            rest = sp.MatMul(*r_mats[len(a_mats) :])
            return sp.MatMul(1 / k, rest) if k != 1 else rest
        inv = sp.Inverse(a)
        return sp.MatMul(1 / k, inv, rhs) if k != 1 else sp.MatMul(inv, rhs)
    return sp.MatMul(sp.Inverse(sp.MatAdd(*lhs_terms)), rhs)


def _linear_stationary_examples() -> list[RuleExample]:
    X, y, w = sp.MatrixSymbol("X", 6, 3), sp.MatrixSymbol("y", 6, 1), sp.MatrixSymbol("w", 3, 1)
    g = sp.MatMul(-1 / pr.SIGMA2, X.T, residual(y, X, w))
    ridge = sp.MatAdd(g, sp.MatMul(1 / sp.Symbol("tau^2", positive=True), w))
    return [
        RuleExample(
            g,
            sp.MatMul(sp.Inverse(sp.MatMul(X.T, X)), X.T, y),
            wrt=("w",),
            assume={"sigma^2": ("positive",)},
            relation="solve",
        ),
        RuleExample(
            ridge,
            solve_linear(ridge, Context(varying=frozenset({w}))),
            wrt=("w",),
            assume={"sigma^2": ("positive",), "tau^2": ("positive",)},
            relation="solve",
        ),
    ]


LINEAR_STATIONARY = register(
    Transform(
        id="optimum.linear-stationary",
        name="Solve a linear stationary equation",
        source=(
            "Fermat's theorem and linear algebra: an affine gradient A w − r vanishes where "
            "A w = r, so w = A⁻¹r for invertible A"
        ),
        statement=r"\nabla_w f = A w - r = 0 \iff A w = r \iff \hat w = A^{-1} r",
        conditions=("A invertible (for regression: X has full column rank)",),
        apply=solve_linear,
        examples=_linear_stationary_examples,
    )
)


def _coeff_matrices(term: sp.Basic) -> tuple[sp.Expr, list[sp.Basic]]:
    """term = c·M₁M₂…, nested products flattened."""
    if not isinstance(term, sp.MatMul):
        return sp.S.One, [term]
    c, mats = term.as_coeff_matrices()
    out: list[sp.Basic] = []
    for m in mats:
        c2, inner = _coeff_matrices(m) if isinstance(m, sp.MatMul) else (sp.S.One, [m])
        c, out = c * c2, out + inner
    return c, out


def _flat_terms(g: sp.Basic) -> list[sp.Basic]:
    """The terms of a sum, a scalar multiple c·(a + b + …) distributed first."""
    if isinstance(g, sp.MatAdd):
        return [t for a in g.args for t in _flat_terms(a)]
    if isinstance(g, sp.MatMul):
        c, mats = g.as_coeff_matrices()
        if len(mats) == 1 and isinstance(mats[0], sp.MatAdd):
            return [sp.MatMul(c, t) for a in mats[0].args for t in _flat_terms(a)]
    return [g]


def solve_sandwich(g: sp.Basic, ctx: Context) -> sp.Basic:
    """The Σ with a Σ⁻¹ + ∑ Σ⁻¹ M_k Σ⁻¹ = 0: multiplied by Σ on both sides, Σ = −(∑ M_k)/a."""
    (S,) = ctx.varying
    inv = sp.Inverse(S)
    a = sp.S.Zero
    rest: list[sp.Basic] = []
    for term in _flat_terms(g):
        c, mats = _coeff_matrices(term)
        if mats == [inv]:
            a += c
        elif (
            len(mats) > 2
            and mats[0] == inv
            and mats[-1] == inv
            and not any(m.has(S) for m in mats[1:-1])
        ):
            rest.append(sp.MatMul(c, *mats[1:-1]))
        else:
            raise UnsupportedError(f"solving for {S}", f"the term {term} is not c·Σ⁻¹MΣ⁻¹")
    if a == 0 or not rest:
        raise UnsupportedError(f"solving for {S}", "no term c·Σ⁻¹ to balance")
    total = rest[0] if len(rest) == 1 else sp.MatAdd(*rest)
    c, m = scalar_coefficient(total)
    return sp.MatMul(-c / a, m)


def _sandwich_examples() -> list[RuleExample]:
    S, M = sp.MatrixSymbol("Sigma", _d, _d), sp.MatrixSymbol("M", _d, _d)
    g = sp.MatAdd(
        sp.MatMul(pr.n / 2, sp.Inverse(S)), sp.MatMul(-sp.S.Half, sp.Inverse(S), M, sp.Inverse(S))
    )
    return [
        RuleExample(
            g,
            sp.MatMul(1 / pr.n, M),
            wrt=("Sigma",),
            assume={"M": ("spd",), "Sigma": ("spd",)},
            relation="solve",
        )
    ]


SANDWICH_STATIONARY = register(
    Transform(
        id="optimum.inverse-sandwich",
        name="Multiply the stationarity equation by Σ on both sides",
        source="elementary: for invertible Σ, Σ⁻¹(aΣ + M)Σ⁻¹ = 0 exactly when aΣ + M = 0",
        statement=(
            r"a\,\Sigma^{-1} + \Sigma^{-1} M \Sigma^{-1} = 0 \iff a\,\Sigma + M = 0 "
            r"\iff \hat\Sigma = -M / a"
        ),
        conditions=("Σ invertible", "a ≠ 0"),
        apply=solve_sandwich,
        examples=_sandwich_examples,
    )
)
