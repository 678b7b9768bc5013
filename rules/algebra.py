"""Algebra rules: rewriting before differentiating, reading off the gradient, textbook form.

Rewrite rules have ``apply(node, ctx) -> replacement | None`` (None: does not match here).
The identification rules' machine forms `gradient_terms` and `jacobian_of` turn an
expression linear in dX into the G of df = tr(Gᵀ dX), or the J of dg = J dx.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf

from derive.expr import (
    DifferentialSymbol,
    FrechetDerivative,
    LogSumExp,
    MatScalar,
    Softmax,
    elementwise,
    is_matrix,
    mat_mul,
    ones,
    split_coeff,
)
from derive.model import Citation, Context, Rewrite, Rule, RuleExample, Transform
from derive.rules.registry import register

m, n, k = sp.symbols("m n k", integer=True, positive=True)


def _ms(name: str, rows: sp.Expr, cols: sp.Expr = 1) -> sp.MatrixSymbol:
    return sp.MatrixSymbol(name, rows, cols)


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
    if isinstance(node, sp.Transpose) and ctx.symmetric(node.arg):
        return node.arg
    if (
        isinstance(node, sp.Transpose)
        and isinstance(node.arg, sp.Inverse)
        and ctx.symmetric(node.arg.arg)
    ):
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


# --- rewriting before differentiation -------------------------------------------------------


def _entrywise_arg(e: sp.Basic, fn: type) -> sp.Basic | None:
    """z when e is fn∘(z), the named function fn (log, exp) applied entrywise; else None."""
    if isinstance(e, ElementwiseApplyFunction):
        (var,) = e.function.variables
        if e.function.expr == fn(var):
            return e.expr
    return None


def _is_log_of_softmax(e: sp.Basic) -> bool:
    return isinstance(_entrywise_arg(e, sp.log), Softmax)


def _log_softmax(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """uᵀ log softmax(z) → uᵀz − (uᵀ1) lse(z); a bare log softmax(z) → z − lse(z) 1."""
    if isinstance(node, sp.MatMul) and _is_log_of_softmax(node.args[-1]):
        z = node.args[-1].expr.arg
        head = list(node.args[:-1])
        return sp.MatAdd(
            sp.MatMul(*head, z),
            sp.MatMul(-1, LogSumExp(z), *head, ones(z.shape[0])),
        )
    if _is_log_of_softmax(node):
        z = node.expr.arg
        return sp.MatAdd(z, sp.MatMul(-1, LogSumExp(z), ones(z.shape[0])))
    return None


LOG_SOFTMAX = register(
    Rewrite(
        id="rewrite.log-softmax",
        name="Log-softmax as log-sum-exp",
        source="elementary: log(exp(z_i)/Σ_j exp(z_j)) = z_i − log Σ_j exp(z_j)",
        statement=r"\log\operatorname{softmax}(z) = z - \operatorname{lse}(z)\,\mathbf{1}",
        apply=_log_softmax,
        examples=lambda: [
            RuleExample(
                elementwise(sp.log, Softmax(_ms("z", n))),
                _ms("z", n) - LogSumExp(_ms("z", n)) * ones(n),
            )
        ],
    )
)


# --- recognising the softmax ---------------------------------------------------------------


def _exp_of(e: sp.Basic) -> sp.Basic | None:
    """z for exp∘(z); None otherwise."""
    return _entrywise_arg(e, sp.exp)


def _softmax_normaliser(e: sp.Basic) -> sp.Basic | None:
    """z when e is the scalar 1ᵀ exp(z) of a column vector z; None otherwise."""
    if isinstance(e, MatScalar) and isinstance(e.arg, sp.MatMul) and len(e.arg.args) == 2:
        one, tail = e.arg.args
        z = _exp_of(tail)
        if isinstance(one, sp.OneMatrix) and z is not None and z.shape[1] == 1:
            return z
    return None


_MULTIPLICATIVE = (
    sp.MatMul,
    sp.HadamardProduct,
    sp.Mul,
    sp.Transpose,
    DiagMatrix,
    MatScalar,
    sp.KroneckerProduct,
)


def _scale_degree(e: sp.Basic, z: sp.Basic, total: sp.Basic) -> int | None:
    """k when e(c·exp(z)) = cᵏ e(exp(z)) for every c > 0, read off the tree; None when the tree
    does not show e homogeneous in exp(z). `total` is 1ᵀ exp(z), of degree 1."""
    if e == total:
        return 1
    if _exp_of(e) in (z, sp.Transpose(z)):
        return 1
    if not any(_exp_of(a) in (z, sp.Transpose(z)) for a in sp.preorder_traversal(e)):
        return 0
    if isinstance(e, _MULTIPLICATIVE):
        parts = [_scale_degree(a, z, total) for a in e.args]
        return None if None in parts else sum(parts)
    if isinstance(e, (sp.MatAdd, sp.Add)):
        parts = {_scale_degree(a, z, total) for a in e.args}
        return parts.pop() if len(parts) == 1 else None
    if isinstance(e, (sp.Pow, sp.HadamardPower)) and e.exp.is_Integer:
        base = _scale_degree(e.base, z, total)
        return None if base is None else int(e.exp) * base
    if isinstance(e, sp.Inverse):
        base = _scale_degree(e.arg, z, total)
        return None if base is None else -base
    return None


def _recognise_softmax(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """F(exp(z)) → F(softmax(z)) where F(c·u) = F(u) for every c > 0 and 1ᵀexp(z) occurs.

    With c = 1ᵀexp(z), exp(z) = c·softmax(z) gives F(exp(z)) = F(softmax(z)): each exp(z)
    becomes softmax(z) and each 1ᵀexp(z) becomes 1ᵀsoftmax(z) = 1.
    """
    if not is_matrix(node):
        return None
    totals = {a for a in sp.preorder_traversal(node) if _softmax_normaliser(a) is not None}
    for total in sorted(totals, key=sp.default_sort_key):
        z = _softmax_normaliser(total)
        hidden = node.xreplace({total: sp.S.One})
        exps = {a for a in sp.preorder_traversal(hidden) if _exp_of(a) in (z, sp.Transpose(z))}
        if not exps or _scale_degree(node, z, total) != 0:
            continue
        q = Softmax(z)
        return hidden.xreplace({a: q if _exp_of(a) == z else sp.Transpose(q) for a in exps})
    return None


RECOGNISE_SOFTMAX = register(
    Rewrite(
        id="softmax.recognise",
        name="Recognise the softmax",
        source=(
            "definition of the softmax: softmax(z) = exp(z)/(1ᵀexp(z)); so an expression "
            "unchanged when exp(z) is scaled by c > 0 is the same expression of softmax(z)"
        ),
        statement=(
            r"\frac{\exp(z)}{\mathbf{1}^{\top}\exp(z)} = \operatorname{softmax}(z),\quad "
            r"\exp(z) = (\mathbf{1}^{\top}\exp(z))\,\operatorname{softmax}(z)"
        ),
        apply=_recognise_softmax,
        examples=lambda: [
            RuleExample(
                sp.MatMul(
                    sp.Pow(MatScalar(sp.MatMul(ones(n).T, elementwise(sp.exp, _ms("z", n)))), -1),
                    elementwise(sp.exp, _ms("z", n)),
                ),
                Softmax(_ms("z", n)),
            ),
            RuleExample(
                sp.MatMul(
                    sp.Pow(MatScalar(sp.MatMul(ones(n).T, elementwise(sp.exp, _ms("z", n)))), -2),
                    elementwise(sp.exp, _ms("z", n)),
                    sp.Transpose(elementwise(sp.exp, _ms("z", n))),
                ),
                sp.MatMul(Softmax(_ms("z", n)), sp.Transpose(Softmax(_ms("z", n)))),
            ),
        ],
    )
)


def _log_product_of_entries(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """log ∏ᵢ vᵢ (written det diag(v)) → 1ᵀ log(v)."""
    if (
        isinstance(node, sp.log)
        and isinstance(node.args[0], sp.Determinant)
        and isinstance(node.args[0].arg, DiagMatrix)
    ):
        v = node.args[0].arg.args[0]
        return MatScalar(sp.MatMul(sp.OneMatrix(1, v.shape[0]), elementwise(sp.log, v)))
    return None


LOG_PRODUCT_ENTRIES = register(
    Rewrite(
        id="rewrite.log-product",
        name="Log of a product is the sum of the logs",
        source="elementary: log(ab) = log a + log b, for positive factors",
        statement=r"\log\prod_i v_i = \sum_i \log v_i = \mathbf{1}^{\top}\log v",
        conditions=("every v_i > 0",),
        apply=_log_product_of_entries,
        examples=lambda: [
            RuleExample(
                sp.log(sp.Determinant(DiagMatrix(_ms("v", n)))),
                MatScalar(sp.MatMul(sp.OneMatrix(1, n), elementwise(sp.log, _ms("v", n)))),
                assume={"v": ("positive",)},
            )
        ],
    )
)


def _is_ones_row(e: sp.Basic) -> bool:
    return isinstance(e, sp.OneMatrix) and e.shape[0] == 1


def _prob_sum(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """1ᵀy = yᵀ1 = 1 for a probability vector y, inside a product too."""
    if not isinstance(node, sp.MatMul):
        return None
    args = list(node.args)
    for i in range(len(args) - 1):
        a, b = args[i], args[i + 1]
        y = None
        if _is_ones_row(a) and isinstance(b, sp.MatrixSymbol):
            y = b
        elif (
            isinstance(a, sp.Transpose)
            and isinstance(a.arg, sp.MatrixSymbol)
            and isinstance(b, sp.OneMatrix)
            and b.shape[1] == 1
        ):
            y = a.arg
        if y is not None and ctx.has(y.name, "prob", "onehot"):
            rest = args[:i] + args[i + 2 :]
            mats = [r for r in rest if is_matrix(r)]
            if not mats:
                return sp.MatMul(*rest, sp.Identity(1)) if rest else sp.Identity(1)
            return sp.MatMul(*rest)
    return None


PROB_SUM = register(
    Rewrite(
        id="prob.sums-to-one",
        name="A probability vector sums to one",
        source="definition of a probability vector (one-hot vectors included)",
        statement=r"\mathbf{1}^{\top}y = y^{\top}\mathbf{1} = 1",
        conditions=("y a probability vector",),
        apply=_prob_sum,
        examples=lambda: [
            RuleExample(
                MatScalar(sp.MatMul(sp.Transpose(_ms("y", n)), ones(n))),
                sp.S.One,
                assume={"y": ("prob",)},
            )
        ],
    )
)


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

PREPARE_RULES: tuple[Rule, ...] = (LOG_PRODUCT_ENTRIES, LOG_SOFTMAX, PROB_SUM)
#: transposes pushed in, symmetry used, A⁻¹A cancelled: for products written out
SIMPLIFY_PRODUCTS: tuple[Rule, ...] = (TRANSPOSE_PRODUCT, SYMMETRIC, INVERSE_CANCEL)
TEXTBOOK_RULES: tuple[Rule, ...] = (
    RECOGNISE_SOFTMAX,
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
