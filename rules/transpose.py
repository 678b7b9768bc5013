"""Transposes: (AB)ᵀ = BᵀAᵀ and (A + B)ᵀ = Aᵀ + Bᵀ pushed inward, and symmetry used (Aᵀ = A
for a symmetric A, declared or evident from the structure)."""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix

from derive.expr import (
    is_matrix,
)
from derive.model import Context, Rewrite, RuleExample
from derive.rules.registry import register
from derive.rules.symbols import ms as _ms

m, n, k = sp.symbols("m n k", integer=True, positive=True)


# --- transposes ---------------------------------------------------------------------------


def tp(e: sp.Basic) -> sp.Basic:
    """eᵀ with (AB)ᵀ = BᵀAᵀ (Cookbook (5)) and (Aᵀ)ᵀ = A applied; sums keep their parentheses."""
    if not is_matrix(e):
        return e
    if isinstance(e, sp.Transpose):
        return e.arg
    if isinstance(e, sp.MatMul):
        scalars = [a for a in e.args if not is_matrix(a)]
        mats = [tp(a) for a in reversed([a for a in e.args if is_matrix(a)])]
        return sp.MatMul(*scalars, *mats) if len(scalars) + len(mats) > 1 else mats[0]
    if isinstance(e, (sp.Identity,)) or (
        isinstance(e, (sp.ZeroMatrix, sp.OneMatrix)) and e.shape[0] == e.shape[1]
    ):
        return e
    if isinstance(e, (sp.ZeroMatrix, sp.OneMatrix)):
        return type(e)(e.shape[1], e.shape[0])
    if isinstance(e, DiagMatrix):
        return e
    if isinstance(e, sp.HadamardProduct):
        return sp.HadamardProduct(*[tp(a) for a in e.args])
    if isinstance(e, ElementwiseApplyFunction):
        return ElementwiseApplyFunction(e.function, tp(e.expr))
    return sp.Transpose(e)


def _transpose_product(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    if isinstance(node, sp.Transpose) and isinstance(node.arg, (sp.MatMul, sp.Transpose)):
        return tp(node.arg)
    return None


TRANSPOSE_PRODUCT = register(
    Rewrite(
        id="transpose.product",
        name="Transpose of a product",
        source="Matrix Cookbook (2012) eq. (5)",
        statement=r"(AB)^{\top} = B^{\top}A^{\top}",
        cookbook=("5",),
        apply=_transpose_product,
        examples=lambda: [
            RuleExample(
                sp.Transpose(_ms("A", m, n) * _ms("B", n, k)),
                sp.Transpose(_ms("B", n, k)) * sp.Transpose(_ms("A", m, n)),
            )
        ],
    )
)


def count_transposes(e: sp.Basic) -> int:
    return sum(1 for a in sp.preorder_traversal(e) if isinstance(a, sp.Transpose))


def _transpose_sum(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """(A + B)ᵀ = Aᵀ + Bᵀ, applied only where it leaves fewer transposes: (xᵀAᵀ − bᵀ)ᵀ = Ax − b."""
    if not (isinstance(node, sp.Transpose) and isinstance(node.arg, sp.MatAdd)):
        return None
    pushed = sp.MatAdd(*[tp(t) for t in node.arg.args])
    return pushed if count_transposes(pushed) < count_transposes(node) else None


TRANSPOSE_SUM = register(
    Rewrite(
        id="transpose.sum",
        name="Transpose of a sum",
        source="Matrix Cookbook (2012) eqs. (4) and (5)",
        statement=r"(A + B)^{\top} = A^{\top} + B^{\top}",
        cookbook=("4", "5"),
        apply=_transpose_sum,
        examples=lambda: [
            RuleExample(
                sp.Transpose(
                    sp.MatAdd(
                        sp.MatMul(sp.Transpose(_ms("x", n)), sp.Transpose(_ms("A", m, n))),
                        sp.MatMul(-1, sp.Transpose(_ms("b", m))),
                    )
                ),
                sp.MatAdd(_ms("A", m, n) * _ms("x", n), -_ms("b", m)),
            )
        ],
    )
)


def _symmetric(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """Sᵀ = S and (S⁻¹)ᵀ = S⁻¹ for S symmetric by structure (XᵀX), or by assumption where S is
    held fixed or the expression is a derivative's value (`Context.constrains`)."""
    if not isinstance(node, sp.Transpose):
        return None
    s = node.arg.arg if isinstance(node.arg, sp.Inverse) else node.arg
    if not ctx.symmetric(s):
        return None
    if ctx.constrains(s) or ctx.symmetric(s, assumed=False):
        return node.arg
    return None


SYMMETRIC = register(
    Rewrite(
        id="transpose.symmetric",
        name="Symmetric matrix",
        source=(
            "definition of a symmetric matrix (and Matrix Cookbook (2012) eq. (3) for its inverse)"
        ),
        statement=r"S^{\top} = S,\quad S^{-\top} = S^{-1}",
        conditions=(
            "S symmetric: declared, or by structure (XᵀX, XᵀSX, S⁻¹, diag(v), sums of these)",
        ),
        cookbook=("3",),
        apply=_symmetric,
        examples=lambda: [
            RuleExample(
                sp.Transpose(sp.Inverse(_ms("S", n, n))),
                sp.Inverse(_ms("S", n, n)),
                assume={"S": ("spd",)},
            )
        ],
    )
)
