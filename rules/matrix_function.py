"""Analytic matrix functions f(X) = Σₖ cₖXᵏ (expm, sinm, cosm, sinhm, coshm) and their
Fréchet derivatives L_f(X, E): the differential, and the forms a result is read in.

For a power series f with real coefficients,

    d f(X) = L_f(X, dX),   L_f(X, E) = Σₖ cₖ Σⱼ Xʲ E Xᵏ⁻¹⁻ʲ,

so L_f(X, E) = f′(X) E when E commutes with X (E = I in particular), and
tr(A L_f(X, E)) = tr(L_f(X, A) E) (cyclic trace, term by term). With the trace, this gives
Cookbook (128): ∂ tr(sin X)/∂X = cos(X)ᵀ.
"""

from __future__ import annotations

import sympy as sp

from derive.errors import UnsupportedError
from derive.expr import (
    MATRIX_FUNCTIONS,
    DifferentialSymbol,
    FrechetDerivative,
    MatrixFunction,
    d,
    transpose,
)
from derive.model import Context, DifferentialRule, Rewrite, Rule, RuleExample
from derive.notation.text import text
from derive.rules.registry import register
from derive.rules.symbols import ms as _ms
from derive.rules.transpose import count_transposes, tp

n = sp.Symbol("n", integer=True, positive=True)

HIGHAM = "N. J. Higham, Functions of Matrices: Theory and Computation, SIAM 2008, ch. 3"


def derivative_of(x: sp.Basic, fn: str) -> sp.Basic:
    """f′(X) as a matrix function: exp → exp, sin → cos, cos → −sin, sinh → cosh, …"""
    name, sign = MATRIX_FUNCTIONS[fn]
    out = MatrixFunction(x, name)
    return out if sign > 0 else sp.MatMul(-1, out)


# --- the differential ----------------------------------------------------------------------


def _matrix_function(arg: MatrixFunction, ctx: Context) -> sp.Basic:
    return FrechetDerivative(arg.arg, d(arg.arg), arg.fn)


MATRIX_FUNCTION = register(
    DifferentialRule(
        id="diff.matrix-function",
        name="Matrix function",
        source=(
            "definition of the Fréchet derivative L_f, term by term in the power series; " + HIGHAM
        ),
        statement=(
            r"\partial f(X) = L_f(X, \partial X),\ "
            r"L_f(X, E) = \sum_k c_k \sum_{j=0}^{k-1} X^{j} E X^{k-1-j}"
        ),
        conditions=("f(X) = Σₖ cₖXᵏ, a power series with real coefficients (exp, sin, cos, …)",),
        apply=_matrix_function,
        examples=lambda: [
            RuleExample(
                d(MatrixFunction(_ms("X", n, n), fn)),
                FrechetDerivative(_ms("X", n, n), DifferentialSymbol(_ms("X", n, n)), fn),
                wrt=("X",),
            )
            for fn in MATRIX_FUNCTIONS
        ],
    )
)


def _frechet(arg: FrechetDerivative, ctx: Context) -> sp.Basic:
    if ctx.depends(arg.arg):
        raise UnsupportedError(
            f"the second derivative of the matrix function {arg.fn}m({arg.arg}): "
            f"d of its Fréchet derivative {text(arg)}",
            "only first derivatives of matrix functions are supported",
        )
    return FrechetDerivative(arg.arg, d(arg.direction), arg.fn)


FRECHET_LINEAR = register(
    DifferentialRule(
        id="diff.frechet",
        name="Fréchet derivative, linear in its direction",
        source=f"definition: L_f(X, E) is linear in E; {HIGHAM}",
        statement=r"\partial L_f(X, E) = L_f(X, \partial E)\ \text{for constant } X",
        conditions=("X constant",),
        apply=_frechet,
        examples=lambda: [
            RuleExample(
                d(FrechetDerivative(_ms("A", n, n), _ms("X", n, n), "sin")),
                FrechetDerivative(_ms("A", n, n), DifferentialSymbol(_ms("X", n, n)), "sin"),
                wrt=("X",),
            )
        ],
    )
)


# --- textbook forms ------------------------------------------------------------------------


def commutes_with(e: sp.Basic, x: sp.Basic) -> bool:
    """Whether e is built from I and X alone (powers, inverses, matrix functions, sums and
    products of those), so that eX = Xe."""
    if isinstance(e, sp.Identity) or e == x or not getattr(e, "is_Matrix", False):
        return True
    if isinstance(e, (sp.MatPow, sp.Inverse)):  # Inverse is a MatPow
        return commutes_with(e.args[0], x)
    if isinstance(e, MatrixFunction):
        return commutes_with(e.arg, x)
    if isinstance(e, (sp.MatMul, sp.MatAdd)):
        return all(commutes_with(a, x) for a in e.args)
    return False


def _commuting_direction(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """L_f(X, E) = f′(X) E when E commutes with X (E = I, a power or a function of X)."""
    if isinstance(node, FrechetDerivative) and commutes_with(node.direction, node.arg):
        if isinstance(node.direction, sp.Identity):
            return derivative_of(node.arg, node.fn)
        return sp.MatMul(derivative_of(node.arg, node.fn), node.direction)
    return None


FRECHET_IDENTITY = register(
    Rewrite(
        id="matfun.derivative",
        name="Fréchet derivative in a commuting direction",
        source=(
            f"{HIGHAM} (term by term: Σⱼ Xʲ E Xᵏ⁻¹⁻ʲ = k Xᵏ⁻¹ E when EX = XE); "
            "with the trace, Matrix Cookbook (2012) eq. (128)"
        ),
        statement=(
            r"L_f(X, E) = f'(X)\,E \text{ if } EX = XE,\ "
            r"\text{e.g. } L_{\sin}(X, I) = \cos(X)"
        ),
        conditions=("E commutes with X (I, a power of X, a function of X)",),
        cookbook=("128",),
        apply=_commuting_direction,
        examples=lambda: (
            [
                RuleExample(
                    FrechetDerivative(_ms("X", n, n), sp.Identity(n), fn),
                    derivative_of(_ms("X", n, n), fn),
                )
                for fn in MATRIX_FUNCTIONS
            ]
            + [
                RuleExample(
                    FrechetDerivative(
                        _ms("X", n, n), sp.Inverse(MatrixFunction(_ms("X", n, n), "cosh")), "sin"
                    ),
                    sp.MatMul(
                        MatrixFunction(_ms("X", n, n), "cos"),
                        sp.Inverse(MatrixFunction(_ms("X", n, n), "cosh")),
                    ),
                )
            ]
        ),
    )
)


def _transpose_outside(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """f(Xᵀ) = f(X)ᵀ: the transpose of a power series is the series of the transpose."""
    if isinstance(node, MatrixFunction) and isinstance(node.arg, sp.Transpose):
        return transpose(MatrixFunction(node.arg.arg, node.fn))
    return None


TRANSPOSE_OUTSIDE = register(
    Rewrite(
        id="matfun.transpose",
        name="Transpose of a matrix function",
        source="Matrix Cookbook (2012) eq. (5), term by term in the power series",
        statement=r"f(X^{\top}) = f(X)^{\top}",
        cookbook=("5",),
        apply=_transpose_outside,
        examples=lambda: [
            RuleExample(
                MatrixFunction(sp.Transpose(_ms("X", n, n)), fn),
                sp.Transpose(MatrixFunction(_ms("X", n, n), fn)),
            )
            for fn in MATRIX_FUNCTIONS
        ],
    )
)


def _frechet_transpose(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """L_f(X, E)ᵀ = L_f(Xᵀ, Eᵀ), either way, where it leaves fewer transposes."""
    if isinstance(node, sp.Transpose) and isinstance(node.arg, FrechetDerivative):
        inner = node.arg
        other = FrechetDerivative(tp(inner.arg), tp(inner.direction), inner.fn)
    elif isinstance(node, FrechetDerivative):
        other = sp.Transpose(FrechetDerivative(tp(node.arg), tp(node.direction), node.fn))
    else:
        return None
    return other if count_transposes(other) < count_transposes(node) else None


FRECHET_TRANSPOSE = register(
    Rewrite(
        id="matfun.frechet-transpose",
        name="Transpose of a Fréchet derivative",
        source="Matrix Cookbook (2012) eq. (5), term by term: (Xʲ E Xᵏ⁻¹⁻ʲ)ᵀ = (Xᵀ)ᵏ⁻¹⁻ʲ Eᵀ (Xᵀ)ʲ",
        statement=r"L_f(X, E)^{\top} = L_f(X^{\top}, E^{\top})",
        cookbook=("5",),
        apply=_frechet_transpose,
        examples=lambda: (
            [
                RuleExample(
                    sp.Transpose(
                        FrechetDerivative(
                            sp.Transpose(_ms("X", n, n)), sp.Transpose(_ms("E", n, n)), fn
                        )
                    ),
                    FrechetDerivative(_ms("X", n, n), _ms("E", n, n), fn),
                )
                for fn in ("exp", "cos", "sinh")
            ]
            + [
                RuleExample(
                    FrechetDerivative(
                        sp.Transpose(_ms("X", n, n)), sp.Transpose(_ms("E", n, n)), "sin"
                    ),
                    sp.Transpose(FrechetDerivative(_ms("X", n, n), _ms("E", n, n), "sin")),
                )
            ]
        ),
    )
)

#: applied to a result once read off
TEXTBOOK_RULES: tuple[Rule, ...] = (FRECHET_IDENTITY, TRANSPOSE_OUTSIDE, FRECHET_TRANSPOSE)
