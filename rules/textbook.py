"""Textbook form after identification: common factors taken out, like terms and powers of one
matrix combined, X⁻¹X cancelled, a transpose's diagonal; and the rule sets the engine applies
to a result (`TEXTBOOK_RULES`) and to products written out (`SIMPLIFY_PRODUCTS`)."""

from __future__ import annotations

import sympy as sp

from derive.expr import (
    is_matrix,
    mat_mul,
    split_coeff,
)
from derive.model import Context, Rewrite, Rule, RuleExample
from derive.rules.logsumexp import EXP_SHIFT, RECOGNISE_LSE, SOFTMAX_SUM
from derive.rules.prepare import PROB_SUM, RECOGNISE_SOFTMAX
from derive.rules.registry import register
from derive.rules.symbols import ms as _ms
from derive.rules.transpose import SYMMETRIC, TRANSPOSE_PRODUCT, TRANSPOSE_SUM

m, n, k = sp.symbols("m n k", integer=True, positive=True)


# --- textbook form after identification -----------------------------------------------------


def _factor(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """A C + B C = (A + B) C and C A + C B = C (A + B) for two terms sharing an end factor."""
    if not isinstance(node, sp.MatAdd):
        return None
    terms = list(node.args)

    for i in range(len(terms)):
        for j in range(i + 1, len(terms)):
            ci, fi = split_coeff(terms[i])
            cj, fj = split_coeff(terms[j])
            if len(fi) < 2 or len(fj) < 2:
                continue
            rest = [t for q, t in enumerate(terms) if q not in (i, j)]
            if fi[-1] == fj[-1]:
                inner = sp.MatAdd(mat_mul(ci, fi[:-1]), mat_mul(cj, fj[:-1]))
                new = sp.MatMul(inner, fi[-1])
            elif fi[0] == fj[0]:
                inner = sp.MatAdd(mat_mul(ci, fi[1:]), mat_mul(cj, fj[1:]))
                new = sp.MatMul(fi[0], inner)
            else:
                continue
            return sp.MatAdd(new, *rest) if rest else new
    return None


FACTOR = register(
    Rewrite(
        id="algebra.factor",
        name="Factor out a common factor",
        source="elementary: distributivity of the matrix product",
        statement=r"AC + BC = (A + B)C,\quad CA + CB = C(A + B)",
        apply=_factor,
        examples=lambda: [
            RuleExample(
                _ms("A", n, n) * _ms("x", n) + sp.Transpose(_ms("A", n, n)) * _ms("x", n),
                (_ms("A", n, n) + sp.Transpose(_ms("A", n, n))) * _ms("x", n),
            )
        ],
    )
)


def _common_scalar(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """½A + ½Aᵀ = ½(A + Aᵀ): a scalar factor shared by every term of a sum, taken out."""
    if not isinstance(node, sp.MatAdd):
        return None

    split = [split_coeff(t) for t in node.args]
    coeffs = [c for c, _ in split]
    common = sp.gcd_terms(sp.Add(*[c * sp.Dummy() for c in coeffs]), fraction=False)
    content = sp.Mul(*[f for f in sp.Mul.make_args(common) if not isinstance(f, sp.Add)])
    if all(c.could_extract_minus_sign() for c in coeffs) and not content.could_extract_minus_sign():
        content = -content
    ratios = [c / content for c in coeffs]  # Mul cancels equal factors; no cancel(): MatScalar
    if content == 1:
        return None
    # a number is taken out only when it leaves ±1 (½A + ½Aᵀ, not ½(Ax + 2b));
    # a symbol or function (det X, λ) whenever every term has it
    if content.is_number and any(r not in (sp.S.One, sp.S.NegativeOne) for r in ratios):
        return None
    ints = [r for r in ratios if r.is_number]
    if len(ints) == len(ratios) and all(r.is_number and r < 0 for r in ratios):
        return None
    terms = [mat_mul(r, fs) for r, (_, fs) in zip(ratios, split, strict=True)]
    return sp.MatMul(content, sp.MatAdd(*terms))


COMMON_SCALAR = register(
    Rewrite(
        id="algebra.common-scalar",
        name="Take out a common scalar factor",
        source="elementary: distributivity of scalar multiplication",
        statement=r"cA + cB = c(A + B)",
        apply=_common_scalar,
        examples=lambda: [
            RuleExample(
                sp.MatAdd(
                    sp.MatMul(sp.Rational(1, 2), _ms("A", n, n)),
                    sp.MatMul(sp.Rational(1, 2), sp.Transpose(_ms("A", n, n))),
                ),
                sp.MatMul(
                    sp.Rational(1, 2), sp.MatAdd(_ms("A", n, n), sp.Transpose(_ms("A", n, n)))
                ),
            )
        ],
    )
)


def _as_power(f: sp.Basic) -> tuple[sp.Basic, int, bool] | None:
    """f as (X, k, transposed) with f = X^k or (X^k)ᵀ for an integer k (X⁻¹ has k = −1)."""
    transposed = isinstance(f, sp.Transpose)
    g = f.arg if transposed else f
    if isinstance(g, sp.Inverse):
        inner = g.arg
        if isinstance(inner, sp.MatPow) and inner.exp.is_Integer:
            return inner.base, -int(inner.exp), transposed
        return inner, -1, transposed
    if isinstance(g, sp.MatPow) and g.exp.is_Integer:
        return g.base, int(g.exp), transposed
    if is_matrix(g) and g.shape[0] == g.shape[1]:
        return g, 1, transposed
    return None


def _power(x: sp.Basic, k: int, transposed: bool) -> sp.Basic | None:
    if k == 0:
        return None
    base = x if abs(k) == 1 else sp.MatPow(x, abs(k))
    p = sp.Inverse(base) if k < 0 else base
    return sp.Transpose(p) if transposed else p


def _combine_powers(node: sp.Basic, opposite_signs: bool) -> sp.Basic | None:
    """Xʲ Xᵏ = Xʲ⁺ᵏ for the first adjacent powers of one X (transposed alike) whose
    exponents have opposite signs (a cancellation) or, if not `opposite_signs`, are both
    positive; X⁰ = I."""
    if not isinstance(node, sp.MatMul):
        return None
    args = list(node.args)
    for i in range(len(args) - 1):
        a, b = _as_power(args[i]), _as_power(args[i + 1])
        if a is None or b is None or a[0] != b[0] or a[2] != b[2]:
            continue
        if ((a[1] < 0) == (b[1] < 0)) if opposite_signs else (a[1] < 0 or b[1] < 0):
            continue
        merged = _power(a[0], a[1] + b[1], a[2])
        rest = args[:i] + ([merged] if merged is not None else []) + args[i + 2 :]
        if not any(is_matrix(r) for r in rest):
            rest.append(sp.Identity(node.shape[0]))
        return sp.MatMul(*rest) if len(rest) > 1 else rest[0]
    return None


def _cancel_product(node: sp.Basic) -> sp.Basic | None:
    """(AB)⁻¹ A B = I and A B (AB)⁻¹ = I, the product's factors standing one by one."""
    if not isinstance(node, sp.MatMul):
        return None
    args = list(node.args)
    for i, f in enumerate(args):
        if not (isinstance(f, sp.Inverse) and isinstance(f.arg, sp.MatMul)):
            continue
        factors = list(f.arg.args)
        k = len(factors)
        if args[i + 1 : i + 1 + k] == factors:
            rest = args[:i] + args[i + 1 + k :]
        elif i >= k and args[i - k : i] == factors:
            rest = args[: i - k] + args[i + 1 :]
        else:
            continue
        if not any(is_matrix(r) for r in rest):
            rest.append(sp.Identity(node.shape[0]))
        return sp.MatMul(*rest) if len(rest) > 1 else rest[0]
    return None


def _inverse_cancel(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """X⁻ᵏ Xʲ = Xʲ⁻ᵏ for adjacent powers of one invertible X (X⁻¹X = I), transposed too;
    (AB)⁻¹AB = I."""
    return _combine_powers(node, opposite_signs=True) or _cancel_product(node)


def _fold_power(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """X X = X², X Xᵏ = Xᵏ⁺¹: adjacent positive powers of one square matrix."""
    return _combine_powers(node, opposite_signs=False)


FOLD_POWER = register(
    Rewrite(
        id="algebra.power",
        name="Powers of a matrix",
        source="definition of the matrix power: X^k = X X ⋯ X (k factors)",
        statement=r"X^{j}X^{k} = X^{j+k},\quad XX = X^{2}",
        conditions=("X square",),
        apply=_fold_power,
        examples=lambda: [
            RuleExample(
                sp.MatMul(_ms("V", m, n), _ms("S", n, n), _ms("S", n, n)),
                sp.MatMul(_ms("V", m, n), sp.MatPow(_ms("S", n, n), 2)),
            ),
            RuleExample(
                sp.MatMul(sp.Transpose(_ms("X", n, n)), sp.Transpose(sp.MatPow(_ms("X", n, n), 2))),
                sp.Transpose(sp.MatPow(_ms("X", n, n), 3)),
            ),
        ],
    )
)


INVERSE_CANCEL = register(
    Rewrite(
        id="algebra.inverse-cancel",
        name="Powers of the same matrix",
        source=(
            "Matrix Cookbook (2012) eq. (1): (X^k)^{-1} = (X^{-1})^k, so X^{-k}X^{j} = X^{j-k} "
            "and X^{-1}X = I"
        ),
        statement=r"X^{-k}X^{j} = X^{j-k},\quad X^{-1}X = XX^{-1} = I",
        conditions=("X invertible",),
        cookbook=("1",),
        apply=_inverse_cancel,
        examples=lambda: [
            RuleExample(
                sp.MatMul(
                    sp.Transpose(sp.Inverse(sp.MatPow(_ms("X", n, n), 2))),
                    sp.Transpose(_ms("X", n, n)),
                ),
                sp.Transpose(sp.Inverse(_ms("X", n, n))),
                assume={"X": ("invertible",)},
            ),
            RuleExample(
                sp.MatMul(_ms("A", m, n), sp.Inverse(_ms("X", n, n)), _ms("X", n, n)),
                _ms("A", m, n),
                assume={"X": ("invertible",)},
            ),
            RuleExample(
                sp.MatMul(
                    sp.Inverse(sp.MatMul(_ms("A", n, m), sp.Transpose(_ms("A", n, m)))),
                    _ms("A", n, m),
                    sp.Transpose(_ms("A", n, m)),
                    _ms("B", n, k),
                ),
                _ms("B", n, k),
            ),
        ],
    )
)


def _diagonal_of_transpose(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """Aᵀ ∘ I = A ∘ I: a matrix and its transpose have the same diagonal."""
    if isinstance(node, sp.HadamardProduct) and any(isinstance(a, sp.Identity) for a in node.args):
        args = [a.arg if isinstance(a, sp.Transpose) else a for a in node.args]
        if args != list(node.args) and len(node.args) == 2:
            return sp.HadamardProduct(*args)
    return None


DIAGONAL_OF_TRANSPOSE = register(
    Rewrite(
        id="diag.transpose",
        name="A transpose has the same diagonal",
        source="elementary: (Aᵀ)_ii = A_ii",
        statement=r"A^{\top}\circ I = A\circ I",
        apply=_diagonal_of_transpose,
        examples=lambda: [
            RuleExample(
                sp.HadamardProduct(sp.Transpose(_ms("A", n, n)), sp.Identity(n)),
                sp.HadamardProduct(_ms("A", n, n), sp.Identity(n)),
            )
        ],
    )
)

#: transposes pushed in, symmetry used, A⁻¹A cancelled: for products written out
SIMPLIFY_PRODUCTS: tuple[Rule, ...] = (TRANSPOSE_PRODUCT, SYMMETRIC, INVERSE_CANCEL)
TEXTBOOK_RULES: tuple[Rule, ...] = (
    RECOGNISE_SOFTMAX,
    RECOGNISE_LSE,
    EXP_SHIFT,
    SOFTMAX_SUM,
    TRANSPOSE_PRODUCT,
    TRANSPOSE_SUM,
    SYMMETRIC,
    PROB_SUM,
    INVERSE_CANCEL,
    FOLD_POWER,
    FACTOR,
    COMMON_SCALAR,
    DIAGONAL_OF_TRANSPOSE,
)
