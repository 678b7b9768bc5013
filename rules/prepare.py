"""Rewrites before differentiating, and their reverse in the result: the log-softmax as
log-sum-exp, the softmax recognised in exp(z)/(𝟏ᵀexp(z)) forms, the log of a product of
entries, and a probability vector summing to one."""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix

from derive.expr import (
    LogSumExp,
    MatScalar,
    Softmax,
    elementwise,
    is_matrix,
    ones,
)
from derive.model import Context, Rewrite, Rule, RuleExample
from derive.rules.registry import register
from derive.rules.symbols import ms as _ms

m, n, k = sp.symbols("m n k", integer=True, positive=True)


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
        if y is not None and ctx.has(y.name, "prob", "onehot") and ctx.constrains(y):
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


#: rewritten in f before it is differentiated
PREPARE_RULES: tuple[Rule, ...] = (LOG_PRODUCT_ENTRIES, LOG_SOFTMAX, PROB_SUM)
