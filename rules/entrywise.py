"""Entrywise algebra: a Hadamard expression is simplified as the scalar function of each entry.

Sums, Hadamard products and powers, scalar multiples and elementwise functions of same-shape
matrices act entry by entry, so such an expression is a scalar expression evaluated at every
entry (`derive.rules.entries`). SymPy's rational-function algebra simplifies it, and the
result is written back in Hadamard notation:

    (1 + exp(Xw))∘⁻¹ ∘ exp(Xw) − y   →   σ(Xw) − y
    −(1 − y) ∘ (1 − σ)∘⁻¹ ∘ σ∘(1 − σ) − y ∘ σ∘⁻¹ ∘ σ∘(1 − σ)   →   σ − y

A rewrite is taken only when it is strictly smaller as written (`entries.written_size`), so
passes settle; and only when it divides by every entry the expression divided by that may be
zero (`cancel.keeps_domain`): x ∘ x∘⁻¹ stays unless x has no zero entry.
"""

from __future__ import annotations

import functools

import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf

from derive.expr import elementwise
from derive.model import Context, Rewrite, Rule, RuleExample
from derive.rules.cancel import CANCEL, INNER_PRODUCT, INVERSE_FUNCTION, may_rewrite
from derive.rules.entries import (
    Entries,
    applied,
    coefficient,
    entry_view,
    from_scalar,
    simplest,
    written_size,
)
from derive.rules.registry import register
from derive.rules.sigmoid import REFLECT, SIGMOID, TANH, with_sigmoid
from derive.rules.signs import sign_context, sign_key

__all__ = ["SIMPLIFY", "TEXTBOOK_RULES", "applied"]

m, n = sp.symbols("m n", integer=True, positive=True)


def _simplify_entrywise(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    return _simplified(node, sign_key(ctx))


@functools.lru_cache(maxsize=4096)
def _simplified(node: sp.Basic, signs: frozenset) -> sp.Basic | None:
    view = entry_view(node)
    if view is None:
        return None
    s, entries = view
    if s.has(sp.exp) and with_sigmoid(s) is not None:
        return None  # the sigmoid rule goes first: cancelling exp forms hides σ
    new = simplest(s)
    written = from_scalar(new, entries)
    if written is None or written == node:
        return None
    if written_size(written, Entries(node.shape)) >= written_size(node, Entries(node.shape)):
        return None
    if not may_rewrite(node, new, entries, sign_context(signs)):
        return None
    return written


def _v(name: str, rows: sp.Expr = n) -> sp.MatrixSymbol:
    return sp.MatrixSymbol(name, rows, 1)


def _hp(*args: sp.Basic) -> sp.HadamardProduct:
    return sp.HadamardProduct(*args)


SIMPLIFY = register(
    Rewrite(
        id="entrywise.simplify",
        name="Simplify entry by entry",
        source=(
            "elementary: sums, Hadamard products and powers and elementwise functions act on "
            "each entry, so the scalar algebra of one entry applies"
        ),
        statement=(
            r"(u \circ v + u \circ w)_{i} = u_i (v_i + w_i),\quad "
            r"(u \circ u^{\circ -1})_i = 1 \;(u_i \neq 0)"
        ),
        conditions=("no entry divided by is zero",),
        apply=_simplify_entrywise,
        examples=lambda: [
            RuleExample(  # the divisor u stays a divisor: allowed for any u
                sp.MatAdd(
                    _hp(sp.HadamardPower(_v("u"), -1), _v("v")),
                    _hp(sp.HadamardPower(_v("u"), -1), _v("w")),
                ),
                _hp(sp.HadamardPower(_v("u"), -1), sp.MatAdd(_v("v"), _v("w"))),
            ),
            RuleExample(
                sp.MatAdd(
                    _hp(elementwise(sp.tanh, _v("u")), _v("v")),
                    sp.MatMul(-1, _hp(_v("v"), elementwise(sp.tanh, _v("u")), _v("w"))),
                ),
                _hp(
                    _v("v"),
                    elementwise(sp.tanh, _v("u")),
                    sp.MatAdd(sp.OneMatrix(n, 1), sp.MatMul(-1, _v("w"))),
                ),
            ),
        ],
    )
)

# --- diagonal matrices -----------------------------------------------------------------------


def _diag_product(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """diag(a) diag(b) = diag(a ∘ b) for adjacent factors of a product."""
    if not isinstance(node, sp.MatMul):
        return None
    args = list(node.args)
    for i in range(len(args) - 1):
        a, b = args[i], args[i + 1]
        if isinstance(a, DiagMatrix) and isinstance(b, DiagMatrix):
            merged = DiagMatrix(sp.HadamardProduct(a.args[0], b.args[0]))
            new = args[:i] + [merged] + args[i + 2 :]
            return new[0] if len(new) == 1 else sp.MatMul(*new)
    return None


def _diag_vector(term: sp.Basic) -> sp.Basic | None:
    """The vector c·v of a term c·diag(v), or None."""
    if isinstance(term, DiagMatrix):
        return term.args[0]
    if isinstance(term, sp.MatMul):
        c, mats = coefficient(term)
        if len(mats) == 1 and isinstance(mats[0], DiagMatrix):
            return sp.MatMul(c, mats[0].args[0])
    return None


def _diag_sum(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """a diag(u) + b diag(v) = diag(a u + b v), merging every diagonal term of a sum."""
    if not isinstance(node, sp.MatAdd):
        return None
    vectors = [_diag_vector(t) for t in node.args]
    found = [v for v in vectors if v is not None]
    if len(found) < 2:
        return None
    rest = [t for t, v in zip(node.args, vectors, strict=True) if v is None]
    merged = DiagMatrix(sp.MatAdd(*found))
    return sp.MatAdd(merged, *rest) if rest else merged


def _diag(name: str) -> DiagMatrix:
    return DiagMatrix(_v(name))


DIAG_PRODUCT = register(
    Rewrite(
        id="diag.product",
        name="Product of diagonal matrices",
        source="elementary: diagonal matrices multiply entry by entry on the diagonal",
        statement=(
            r"\operatorname{diag}(a)\operatorname{diag}(b) = \operatorname{diag}(a \circ b)"
        ),
        apply=_diag_product,
        examples=lambda: [
            RuleExample(sp.MatMul(_diag("a"), _diag("b")), DiagMatrix(_hp(_v("a"), _v("b"))))
        ],
    )
)

DIAG_SUM = register(
    Rewrite(
        id="diag.sum",
        name="Sum of diagonal matrices",
        source="elementary: diag is linear",
        statement=(
            r"\alpha\operatorname{diag}(a) + \beta\operatorname{diag}(b) = "
            r"\operatorname{diag}(\alpha a + \beta b)"
        ),
        apply=_diag_sum,
        examples=lambda: [
            RuleExample(
                sp.MatAdd(_diag("a"), sp.MatMul(-2, _diag("b"))),
                DiagMatrix(sp.MatAdd(_v("a"), sp.MatMul(-2, _v("b")))),
            )
        ],
    )
)


def _diagonal_of_diag(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """diag(diag(v)) = v; diag(v)⁻¹ = diag(v∘⁻¹); the diagonal of c·M is c times M's."""
    if isinstance(node, sp.Inverse) and isinstance(node.arg, DiagMatrix):
        return DiagMatrix(sp.HadamardPower(node.arg.args[0], -1))
    if not isinstance(node, DiagonalOf):
        return None
    inner = node.args[0]
    if isinstance(inner, DiagMatrix):
        return inner.args[0]
    if isinstance(inner, sp.Transpose):
        return DiagonalOf(inner.arg)
    if isinstance(inner, sp.MatMul):
        c, mats = coefficient(inner)
        if c != 1:
            body = mats[0] if len(mats) == 1 else sp.MatMul(*mats)
            return sp.MatMul(c, DiagonalOf(body))
    return None


DIAGONAL_OF_DIAG = register(
    Rewrite(
        id="diag.inverse",
        name="Diagonal matrices: inverse and diagonal",
        source="elementary: a diagonal matrix is inverted entry by entry on its diagonal",
        statement=(
            r"\operatorname{diag}(v)^{-1} = \operatorname{diag}(v^{\circ -1}),\quad "
            r"\operatorname{diag}(\operatorname{diag}(v)) = v"
        ),
        conditions=("no entry of v is zero",),
        apply=_diagonal_of_diag,
        examples=lambda: [
            RuleExample(
                DiagonalOf(sp.MatMul(sp.Symbol("c"), sp.Inverse(_diag("v")))),
                sp.MatMul(sp.Symbol("c"), sp.HadamardPower(_v("v"), -1)),
                assume={"v": ("positive",)},
            ),
        ],
    )
)

#: applied, in this order of preference, to a result to bring it to textbook form
TEXTBOOK_RULES: tuple[Rule, ...] = (
    INVERSE_FUNCTION,
    CANCEL,
    INNER_PRODUCT,
    DIAG_PRODUCT,
    DIAG_SUM,
    DIAGONAL_OF_DIAG,
    SIGMOID,
    TANH,
    SIMPLIFY,
    REFLECT,
)
