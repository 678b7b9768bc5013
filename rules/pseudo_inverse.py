"""The Moore–Penrose pseudo-inverse A⁺ of a matrix of full rank, in explicit form.

A matrix of full column rank (tall or square) has A⁺ = (AᵀA)⁻¹Aᵀ; one of full row rank (wide
or square) has A⁺ = Aᵀ(AAᵀ)⁻¹. Each satisfies the four Penrose conditions. The engine
differentiates A⁺ through these forms, so a rank assumption is needed
("full-column-rank" or "full-row-rank"), and reads results back in A⁺.
"""

from __future__ import annotations

import sympy as sp

from derive.expr import PseudoInverse, transpose
from derive.model import Context, Rewrite, Rule, RuleExample
from derive.rules.registry import register
from derive.rules.symbols import ms as _ms

m, n = sp.symbols("m n", integer=True, positive=True)

PENROSE = (
    "elementary: it satisfies the four Penrose conditions AGA = A, GAG = G, (AG)ᵀ = AG, "
    "(GA)ᵀ = GA, which define A⁺ (Penrose 1955, A generalized inverse for matrices)"
)


def _rank(a: sp.Basic, ctx: Context) -> str | None:
    if isinstance(a, sp.MatrixSymbol):
        if ctx.has(a.name, "full-column-rank"):
            return "column"
        if ctx.has(a.name, "full-row-rank"):
            return "row"
    return None


def explicit(a: sp.Basic, rank: str) -> sp.Basic:
    """(AᵀA)⁻¹Aᵀ for full column rank, Aᵀ(AAᵀ)⁻¹ for full row rank."""
    if rank == "column":
        return sp.MatMul(sp.Inverse(sp.MatMul(transpose(a), a)), transpose(a))
    return sp.MatMul(transpose(a), sp.Inverse(sp.MatMul(a, transpose(a))))


def _write_out(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    if isinstance(node, PseudoInverse) and (rank := _rank(node.arg, ctx)):
        return explicit(node.arg, rank)
    return None


WRITE_OUT = register(
    Rewrite(
        id="pinv.full-rank",
        name="Pseudo-inverse of a full-rank matrix",
        source=PENROSE,
        statement=(
            r"A^{+} = (A^{\top}A)^{-1}A^{\top}\ \text{(full column rank)},\ "
            r"A^{+} = A^{\top}(AA^{\top})^{-1}\ \text{(full row rank)}"
        ),
        conditions=("A of full column rank (tall), or of full row rank (wide)",),
        apply=_write_out,
        examples=lambda: [
            RuleExample(
                PseudoInverse(_ms("A", m, n)),
                explicit(_ms("A", m, n), "column"),
                assume={"A": ("full-column-rank",)},
            ),
            RuleExample(
                PseudoInverse(_ms("B", n, m)),
                explicit(_ms("B", n, m), "row"),
                assume={"B": ("full-row-rank",)},
            ),
        ],
    )
)


def _gram(e: sp.Basic, ctx: Context) -> tuple[sp.Basic, str] | None:
    """(A, "column") for (AᵀA)⁻¹ with A of full column rank, (A, "row") for (AAᵀ)⁻¹ with A
    of full row rank; else None."""
    if not (isinstance(e, sp.Inverse) and isinstance(e.arg, sp.MatMul)) or len(e.arg.args) != 2:
        return None
    p, q = e.arg.args
    if isinstance(p, sp.Transpose) and p.arg == q and _rank(q, ctx) == "column":
        return q, "column"
    if isinstance(q, sp.Transpose) and q.arg == p and _rank(p, ctx) == "row":
        return p, "row"
    return None


def _fold(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """Within a product: (AᵀA)⁻¹Aᵀ → A⁺, A(AᵀA)⁻¹ → (A⁺)ᵀ (full column rank);
    Aᵀ(AAᵀ)⁻¹ → A⁺, (AAᵀ)⁻¹A → (A⁺)ᵀ (full row rank)."""
    if not isinstance(node, sp.MatMul):
        return None
    args = list(node.args)
    for i in range(len(args) - 1):
        left, right = args[i], args[i + 1]
        pinv = None
        if g := _gram(left, ctx):  # (AᵀA)⁻¹ Aᵀ or (AAᵀ)⁻¹ A
            a, rank = g
            if rank == "column" and right == transpose(a):
                pinv = PseudoInverse(a)
            elif rank == "row" and right == a:
                pinv = transpose(PseudoInverse(a))
        if pinv is None and (g := _gram(right, ctx)):  # A (AᵀA)⁻¹ or Aᵀ (AAᵀ)⁻¹
            a, rank = g
            if rank == "column" and left == a:
                pinv = transpose(PseudoInverse(a))
            elif rank == "row" and left == transpose(a):
                pinv = PseudoInverse(a)
        if pinv is not None:
            rest = [*args[:i], pinv, *args[i + 2 :]]
            return sp.MatMul(*rest) if len(rest) > 1 else rest[0]
    return None


FOLD = register(
    Rewrite(
        id="pinv.recognise",
        name="Recognise a pseudo-inverse",
        source=PENROSE,
        statement=(
            r"(A^{\top}A)^{-1}A^{\top} = A^{+},\ A(A^{\top}A)^{-1} = (A^{+})^{\top}\ "
            r"\text{(full column rank); likewise } A^{\top}(AA^{\top})^{-1} = A^{+}"
        ),
        conditions=("A of full column rank, or of full row rank",),
        apply=_fold,
        examples=lambda: [
            RuleExample(
                sp.MatMul(
                    _ms("A", m, n), sp.Inverse(sp.MatMul(transpose(_ms("A", m, n)), _ms("A", m, n)))
                ),
                transpose(PseudoInverse(_ms("A", m, n))),
                assume={"A": ("full-column-rank",)},
            ),
            RuleExample(
                sp.MatMul(
                    sp.Inverse(sp.MatMul(_ms("B", n, m), transpose(_ms("B", n, m)))), _ms("B", n, m)
                ),
                transpose(PseudoInverse(_ms("B", n, m))),
                assume={"B": ("full-row-rank",)},
            ),
        ],
    )
)

PREPARE_RULES: tuple[Rule, ...] = (WRITE_OUT,)
TEXTBOOK_RULES: tuple[Rule, ...] = (FOLD,)
