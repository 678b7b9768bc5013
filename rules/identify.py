"""Reading a derivative off a differential: the identities cited when dX is brought to the
right of a trace, the coefficient collected, and ∂f/∂X, ∂g/∂xᵀ, the Hessian, or the
derivative with respect to a symmetric matrix's free entries read off. The algorithms that
do the reading are the engine's (`derive.readoff`); these rules are what they cite."""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf

from derive.expr import (
    DifferentialSymbol,
    FrechetDerivative,
    MatScalar,
)
from derive.model import Citation, Context, Rewrite, Rule, RuleExample, Transform
from derive.rules.registry import register
from derive.rules.symbols import ms as _ms
from derive.rules.transpose import tp

m, n, k = sp.symbols("m n k", integer=True, positive=True)


# --- symmetric matrices: the derivative with respect to the free entries ------------------


def symmetric_gradient(g: sp.Basic) -> sp.Basic:
    """df/dX = G + Gᵀ − G∘I from the unstructured G = ∂f/∂X, for a symmetric X (138)."""
    n = g.shape[0]
    return sp.MatAdd(g, tp(g), sp.MatMul(-1, sp.HadamardProduct(g, sp.Identity(n))))


def _read_symmetric(e: sp.Basic, ctx: Context) -> sp.Basic | None:
    """df = tr(Gᵀ dX) ↦ df/dX = G + Gᵀ − G∘I, for a symmetric X."""
    if isinstance(e, sp.Trace) and isinstance(e.arg, sp.MatMul) and len(e.arg.args) == 2:
        gt, dx = e.arg.args
        if isinstance(gt, sp.Transpose) and isinstance(dx, DifferentialSymbol):
            return symmetric_gradient(gt.arg)
    return None


SYMMETRIC_GRADIENT = register(
    Transform(
        id="identify.symmetric",
        name="Gradient with respect to a symmetric matrix",
        source="Matrix Cookbook (2012) eq. (138)",
        statement=(
            r"\frac{\mathrm{d}f}{\mathrm{d}X} = G + G^{\top} - G\circ I,\quad "
            r"G = \frac{\partial f}{\partial X}\ \text{(entries independent)}"
        ),
        conditions=(
            "X symmetric; df/dX is the derivative with respect to the free entries X_ij, i ≤ j",
        ),
        cookbook=("138",),
        apply=_read_symmetric,
        examples=lambda: [
            RuleExample(
                sp.Trace(
                    sp.MatMul(sp.Transpose(_ms("A", n, n)), DifferentialSymbol(_ms("X", n, n)))
                ),
                symmetric_gradient(_ms("A", n, n)),
                wrt=("X",),
                assume={"X": ("symmetric",)},
                relation="symmetric-gradient",
            )
        ],
    )
)


# --- reading off the gradient: df = tr(Gᵀ dX) -----------------------------------------------


def _ident_examples() -> list[RuleExample]:
    X = _ms("X", m, n)
    A = _ms("A", n, m)
    return [
        RuleExample(
            sp.Trace(A * DifferentialSymbol(X)),
            sp.Transpose(A),
            wrt=("X",),
            relation="gradient",
        )
    ]


REARRANGE = register(
    Citation(
        id="identify.rearrange",
        name="Bring dX to the right of a trace",
        source="Matrix Cookbook (2012) eqs. (16), (13) and (5)",
        statement=(
            r"\operatorname{tr}(G^{\top}LYR) = \operatorname{tr}((L^{\top}GR^{\top})^{\top}Y),"
            r"\ \operatorname{tr}(G^{\top}Y^{\top}) = \operatorname{tr}(GY)"
        ),
        cookbook=("16", "13", "5"),
        examples=lambda: [
            RuleExample(
                sp.Trace(
                    _ms("A", m, n)
                    * sp.Transpose(DifferentialSymbol(_ms("X", k, n)))
                    * _ms("B", k, m)
                ),
                sp.Trace(
                    sp.Transpose(_ms("B", k, m) * _ms("A", m, n))
                    * DifferentialSymbol(_ms("X", k, n))
                ),
                wrt=("X",),
            )
        ],
    )
)

REARRANGE_HADAMARD = register(
    Citation(
        id="identify.rearrange-hadamard",
        name="Bring dX to the right of a trace, through Hadamard factors",
        source=(
            "Matrix Cookbook (2012) eqs. (16), (13) and (5); for Hadamard factors elementary: "
            "both sides are the sum over i, j of G_ij A_ij Y_ij"
        ),
        statement=(
            r"\operatorname{tr}(G^{\top}(A\circ Y)) = \operatorname{tr}((G\circ A)^{\top}Y),"
            r"\ \operatorname{tr}(G^{\top}\operatorname{diag}(v)) = \operatorname{diag}(G)^{\top}v"
        ),
        cookbook=("16", "13", "5"),
        examples=lambda: [
            RuleExample(
                sp.Trace(
                    sp.Transpose(_ms("G", m, n))
                    * sp.HadamardProduct(_ms("A", m, n), DifferentialSymbol(_ms("X", m, n)))
                ),
                sp.Trace(
                    sp.Transpose(sp.HadamardProduct(_ms("G", m, n), _ms("A", m, n)))
                    * DifferentialSymbol(_ms("X", m, n))
                ),
                wrt=("X",),
            ),
            RuleExample(
                sp.Trace(
                    sp.Transpose(_ms("G", n, n)) * DiagMatrix(DifferentialSymbol(_ms("v", n)))
                ),
                MatScalar(
                    sp.Transpose(DiagonalOf(_ms("G", n, n))) * DifferentialSymbol(_ms("v", n))
                ),
                wrt=("v",),
            ),
        ],
    )
)


REARRANGE_FRECHET = register(
    Citation(
        id="identify.rearrange-frechet",
        name="Bring dX to the right of a trace, through a matrix function's derivative",
        source=(
            "Matrix Cookbook (2012) eqs. (16), (13) and (5); for L_f the power series term by "
            "term: tr(A Xʲ E Xᵏ⁻¹⁻ʲ) = tr(Xᵏ⁻¹⁻ʲ A Xʲ E), so tr(A L_f(X, E)) = tr(L_f(X, A) E)"
        ),
        statement=(
            r"\operatorname{tr}(G^{\top} L_f(X, Y)) = "
            r"\operatorname{tr}(L_f(X^{\top}, G)^{\top} Y)"
        ),
        cookbook=("16", "13", "5"),
        examples=lambda: [
            RuleExample(
                sp.Trace(
                    sp.Transpose(_ms("G", n, n))
                    * FrechetDerivative(_ms("A", n, n), DifferentialSymbol(_ms("X", n, n)), fn)
                ),
                sp.Trace(
                    sp.Transpose(
                        FrechetDerivative(sp.Transpose(_ms("A", n, n)), _ms("G", n, n), fn)
                    )
                    * DifferentialSymbol(_ms("X", n, n))
                ),
                wrt=("X",),
            )
            for fn in ("exp", "sin", "cosh")
        ],
    )
)


def _kronecker_trace(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """tr(A ⊗ B) = tr(A) tr(B) for square A and B."""
    if not (isinstance(node, sp.Trace) and isinstance(node.arg, sp.KroneckerProduct)):
        return None
    factors = node.arg.args
    if not all(f.shape[0] == f.shape[1] for f in factors):
        return None
    return sp.Mul(*[sp.Trace(f) for f in factors])


KRONECKER_TRACE = register(
    Rewrite(
        id="trace.kronecker",
        name="Trace of a Kronecker product",
        source="Matrix Cookbook (2012) eq. (515)",
        statement=r"\operatorname{tr}(A\otimes B) = \operatorname{tr}(A)\operatorname{tr}(B)",
        conditions=("A, B square",),
        cookbook=("515",),
        apply=_kronecker_trace,
        examples=lambda: [
            RuleExample(
                sp.Trace(sp.KroneckerProduct(_ms("A", m, m), _ms("B", n, n))),
                sp.Trace(_ms("A", m, m)) * sp.Trace(_ms("B", n, n)),
            )
        ],
    )
)

#: rewritten in the differential before the gradient is read off
READ_OFF_RULES: tuple[Rule, ...] = (KRONECKER_TRACE,)

COLLECT = register(
    Citation(
        id="identify.collect",
        name="Collect the coefficient of dX",
        source="elementary: linearity of the trace (Matrix Cookbook (2012) eq. (15))",
        statement=(
            r"\operatorname{tr}(G_1^{\top}\mathrm{d}X) + \operatorname{tr}(G_2^{\top}\mathrm{d}X)"
            r" = \operatorname{tr}((G_1 + G_2)^{\top}\mathrm{d}X)"
        ),
        cookbook=("15",),
        examples=lambda: [
            RuleExample(
                sp.Trace(sp.Transpose(_ms("A", m, n)) * DifferentialSymbol(_ms("X", m, n)))
                + sp.Trace(sp.Transpose(_ms("B", m, n)) * DifferentialSymbol(_ms("X", m, n))),
                sp.Trace(
                    sp.Transpose(_ms("A", m, n) + _ms("B", m, n))
                    * DifferentialSymbol(_ms("X", m, n))
                ),
                wrt=("X",),
            )
        ],
    )
)

IDENTIFY_GRADIENT = register(
    Citation(
        id="identify.gradient",
        name="Read off the gradient",
        source="first identification theorem (Magnus & Neudecker, Matrix Differential Calculus)",
        statement=(
            r"\mathrm{d}f = \operatorname{tr}(G^{\top}\mathrm{d}X)"
            r"\ \Rightarrow\ \frac{\partial f}{\partial X} = G"
        ),
        conditions=("X unstructured: every entry an independent variable",),
        examples=_ident_examples,
    )
)


# --- reading off a Jacobian: dg = J dx ------------------------------------------------------


REARRANGE_JACOBIAN = register(
    Citation(
        id="identify.rearrange-jacobian",
        name="Bring dx to the right",
        source="elementary: associativity; a ∘ v = diag(a) v; a scalar commutes",
        statement=(
            r"a\circ(B\,\mathrm{d}x) = \operatorname{diag}(a)B\,\mathrm{d}x,"
            r"\quad u\,(v^{\top}\mathrm{d}x) = uv^{\top}\mathrm{d}x"
        ),
        examples=lambda: [
            RuleExample(
                sp.HadamardProduct(_ms("a", m), _ms("B", m, n) * DifferentialSymbol(_ms("x", n))),
                DiagMatrix(_ms("a", m)) * _ms("B", m, n) * DifferentialSymbol(_ms("x", n)),
                wrt=("x",),
            )
        ],
    )
)

IDENTIFY_JACOBIAN = register(
    Citation(
        id="identify.jacobian",
        name="Read off the Jacobian",
        source="first identification theorem (Magnus & Neudecker, Matrix Differential Calculus)",
        statement=(
            r"\mathrm{d}g = J\,\mathrm{d}x\ \Rightarrow\ "
            r"\frac{\partial g}{\partial x^{\top}} = J"
        ),
        examples=lambda: [
            RuleExample(
                _ms("A", m, n) * DifferentialSymbol(_ms("x", n)),
                _ms("A", m, n),
                wrt=("x",),
                relation="jacobian",
            )
        ],
    )
)

IDENTIFY_HESSIAN = register(
    Citation(
        id="identify.hessian",
        name="The Hessian is the Jacobian of the gradient",
        source="definition: H = ∂(∇f)/∂xᵀ (Magnus & Neudecker, Matrix Differential Calculus)",
        statement=(
            r"\frac{\partial^2 f}{\partial x\,\partial x^{\top}} = "
            r"\frac{\partial}{\partial x^{\top}}\left(\frac{\partial f}{\partial x}\right)"
        ),
        examples=lambda: [
            RuleExample(
                (_ms("A", n, n) + sp.Transpose(_ms("A", n, n))) * DifferentialSymbol(_ms("x", n)),
                _ms("A", n, n) + sp.Transpose(_ms("A", n, n)),
                wrt=("x",),
                relation="jacobian",
            )
        ],
    )
)
