"""Log-sum-exp and the softmax recognised where they are written out entry by entry.

    log(𝟏ᵀexp(z))            →  lse(z)
    exp(z − lse(z)𝟏)         →  softmax(z)

(exp(z)/(𝟏ᵀexp(z)) → softmax(z) is `prepare.RECOGNISE_SOFTMAX`.)
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from derive.expr import LogSumExp, MatScalar, Softmax, elementwise, ones
from derive.model import Context, Rewrite, RuleExample
from derive.rules.entries import coefficient
from derive.rules.registry import register

n = sp.Symbol("n", integer=True, positive=True)


def _applied(e: sp.Basic, fn: type) -> sp.Basic | None:
    """u when e is fn∘(u), the named function fn applied entrywise; else None."""
    if isinstance(e, ElementwiseApplyFunction):
        (var,) = e.function.variables
        if e.function.expr == fn(var):
            return e.expr
    return None


def _sum_of_exp(e: sp.Basic) -> sp.Basic | None:
    """z when e is the scalar 𝟏ᵀexp(z) (or exp(z)ᵀ𝟏) of a column vector z; else None."""
    if not (isinstance(e, MatScalar) and isinstance(e.arg, sp.MatMul)):
        return None
    c, mats = coefficient(e.arg)
    if c != 1 or len(mats) != 2:
        return None
    first, second = mats
    if isinstance(first, sp.OneMatrix):
        z = _applied(second, sp.exp)
    elif isinstance(second, sp.OneMatrix) and isinstance(first, sp.Transpose):
        z = _applied(first.arg, sp.exp)
    else:
        return None
    return z if z is not None and z.shape[1] == 1 else None


def _recognise_lse(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """log(𝟏ᵀexp(z)) → lse(z)."""
    if isinstance(node, sp.log):
        z = _sum_of_exp(node.args[0])
        if z is not None:
            return LogSumExp(z)
    return None


RECOGNISE_LSE = register(
    Rewrite(
        id="lse.recognise",
        name="Recognise the log-sum-exp",
        source="definition of the log-sum-exp: lse(z) = log Σⱼ exp(zⱼ) = log(1ᵀexp(z))",
        statement=r"\log\left(\mathbf{1}^{\top}\exp(z)\right) = \operatorname{lse}(z)",
        apply=_recognise_lse,
        examples=lambda: [
            RuleExample(
                sp.log(
                    MatScalar(
                        sp.MatMul(
                            sp.OneMatrix(1, n), elementwise(sp.exp, sp.MatrixSymbol("z", n, 1))
                        )
                    )
                ),
                LogSumExp(sp.MatrixSymbol("z", n, 1)),
            )
        ],
    )
)


def _shifted_by_lse(u: sp.Basic) -> sp.Basic | None:
    """z when u is z − lse(z)𝟏; else None."""
    if not isinstance(u, sp.MatAdd) or len(u.args) != 2:
        return None
    for a, b in (u.args, reversed(u.args)):
        if not isinstance(b, sp.MatMul):
            continue
        c, mats = coefficient(b)
        if len(mats) == 1 and isinstance(mats[0], sp.OneMatrix) and c == -LogSumExp(a):
            return a
    return None


def _exp_shift(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """exp(z − lse(z)𝟏) → softmax(z)."""
    u = _applied(node, sp.exp)
    z = None if u is None else _shifted_by_lse(u)
    return None if z is None else Softmax(z)


EXP_SHIFT = register(
    Rewrite(
        id="softmax.exp-shift",
        name="The softmax as a shifted exponential",
        source=("definition of the softmax: softmax(z)ᵢ = exp(zᵢ)/Σⱼ exp(zⱼ) = exp(zᵢ − lse(z))"),
        statement=(
            r"\exp\left(z - \operatorname{lse}(z)\,\mathbf{1}\right) = \operatorname{softmax}(z)"
        ),
        apply=_exp_shift,
        examples=lambda: [
            RuleExample(
                elementwise(
                    sp.exp,
                    sp.MatAdd(
                        sp.MatrixSymbol("z", n, 1),
                        sp.MatMul(-LogSumExp(sp.MatrixSymbol("z", n, 1)), ones(n)),
                    ),
                ),
                Softmax(sp.MatrixSymbol("z", n, 1)),
            )
        ],
    )
)


def _softmax_sum(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """𝟏ᵀsoftmax(z) = softmax(z)ᵀ𝟏 = 1, inside a product too."""
    if not isinstance(node, sp.MatMul):
        return None
    args = list(node.args)
    for i in range(len(args) - 1):
        a, b = args[i], args[i + 1]
        row_sum = isinstance(a, sp.OneMatrix) and a.shape[0] == 1 and isinstance(b, Softmax)
        col_sum = (
            isinstance(a, sp.Transpose)
            and isinstance(a.arg, Softmax)
            and isinstance(b, sp.OneMatrix)
            and b.shape[1] == 1
        )
        if row_sum or col_sum:
            rest = args[:i] + args[i + 2 :]
            if not any(getattr(r, "is_Matrix", False) for r in rest):
                rest.append(sp.Identity(1))
            return sp.MatMul(*rest) if len(rest) > 1 else rest[0]
    return None


SOFTMAX_SUM = register(
    Rewrite(
        id="softmax.sums-to-one",
        name="The softmax sums to one",
        source="definition of the softmax: Σᵢ softmax(z)ᵢ = Σᵢ exp(zᵢ)/Σⱼ exp(zⱼ) = 1",
        statement=r"\mathbf{1}^{\top}\operatorname{softmax}(z) = 1",
        apply=_softmax_sum,
        examples=lambda: [
            RuleExample(
                MatScalar(sp.MatMul(sp.OneMatrix(1, n), Softmax(sp.MatrixSymbol("z", n, 1)))),
                sp.S.One,
            )
        ],
    )
)
