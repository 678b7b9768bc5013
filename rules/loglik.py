"""The algebra of a log-likelihood: the log of a product, of a power and of an exponential,
and sums over the data split and stripped of what does not depend on the index."""

from __future__ import annotations

import sympy as sp

from derive.model import Context, Rewrite, RuleExample
from derive.rules.probability import gaussian_density, i, n, over_data, x
from derive.rules.registry import register

# --- logarithms ---------------------------------------------------------------------------

_a, _b = sp.symbols("a b", positive=True)
_r, _u = sp.symbols("r u", real=True)


def _log_product(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    if isinstance(node, sp.log) and isinstance(node.args[0], sp.Product):
        prod = node.args[0]
        return sp.Sum(sp.log(prod.function, evaluate=False), *prod.limits)
    return None


LOG_PRODUCT = register(
    Rewrite(
        id="log.product",
        name="Log of a product over the data",
        source="elementary: the log of a product is the sum of the logs",
        statement=r"\log \prod_{i=1}^{n} a_i = \sum_{i=1}^{n} \log a_i",
        conditions=("a_i > 0",),
        apply=_log_product,
        examples=lambda: [
            RuleExample(
                sp.log(sp.Product(x[i], over_data())),
                sp.Sum(sp.log(x[i]), over_data()),
                assume={"x": ("positive",)},
            )
        ],
    )
)


def _log_mul(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    # Split only a product with a power or an exponential among its factors: log(2πσ²) stays.
    if isinstance(node, sp.log) and isinstance(node.args[0], sp.Mul):
        factors = sp.Mul.make_args(node.args[0])
        if any(isinstance(f, (sp.Pow, sp.exp)) for f in factors):
            return sp.Add(*[sp.log(f, evaluate=False) for f in factors])
    return None


LOG_MUL = register(
    Rewrite(
        id="log.mul",
        name="Log of a product",
        source="elementary: log(ab) = log a + log b",
        statement=r"\log(ab) = \log a + \log b",
        conditions=("a > 0", "b > 0"),
        apply=_log_mul,
        examples=lambda: [
            RuleExample(
                sp.log(sp.Mul(_a, sp.exp(_u), evaluate=False), evaluate=False),
                sp.log(_a) + _u,
                assume={"a": ("positive",)},
            ),
            RuleExample(
                sp.log(_a * _b**_r, evaluate=False),
                sp.log(_a) + _r * sp.log(_b),
                assume={"a": ("positive",), "b": ("positive",)},
            ),
        ],
    )
)


def _log_power(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """log(a^r) = r log a; a power of a power at once: log((a^s)^r) = r s log a."""
    if not (isinstance(node, sp.log) and isinstance(node.args[0], sp.Pow)):
        return None
    base, expo = node.args[0], sp.S.One
    while isinstance(base, sp.Pow):
        expo, base = expo * base.exp, base.base
    return sp.Mul(expo, sp.log(base, evaluate=False))


LOG_POWER = register(
    Rewrite(
        id="log.power",
        name="Log of a power",
        source="elementary: log(a^r) = r log a",
        statement=r"\log a^{r} = r \log a",
        conditions=("a > 0",),
        apply=_log_power,
        examples=lambda: [
            RuleExample(
                sp.log(sp.Pow(_a, _r, evaluate=False), evaluate=False),
                _r * sp.log(_a),
                assume={"a": ("positive",)},
            ),
            RuleExample(
                sp.log(gaussian_density(_u, 0, _a).args[0], evaluate=False),  # log(1/√(2πa))
                -sp.log(2 * sp.pi * _a) / 2,
                assume={"a": ("positive",)},
            ),
        ],
    )
)


def _log_exp(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    if isinstance(node, sp.log) and isinstance(node.args[0], sp.exp):
        return node.args[0].args[0]
    return None


LOG_EXP = register(
    Rewrite(
        id="log.exp",
        name="Log of an exponential",
        source="elementary: log is the inverse of exp on the reals",
        statement=r"\log e^{u} = u",
        conditions=("u real",),
        apply=_log_exp,
        examples=lambda: [
            RuleExample(
                sp.log(sp.exp(-(_u**2) / (2 * _a), evaluate=False), evaluate=False),
                -(_u**2) / (2 * _a),
                assume={"a": ("positive",)},
            )  # fmt: skip
        ],
    )
)

LOG_RULES = (LOG_MUL, LOG_POWER, LOG_EXP)
#: what each log rule does, in words (a derivation may say it more specifically)
LOG_NOTES = {
    LOG_MUL: "the log of a product is the sum of the logs",
    LOG_POWER: "the log of a power is the exponent times the log of the base",
    LOG_EXP: "the log of an exponential is its exponent",
}


# --- sums over the data -------------------------------------------------------------------


def _normal_sign(c: sp.Expr, f: sp.Expr, k: sp.Symbol) -> tuple[sp.Expr, sp.Expr]:
    """c·f with the sign moved to c when every term of f that involves k is negative."""
    if isinstance(f, sp.Add):
        varying = [t for t in f.args if t.has(k)]
        if varying and all(t.could_extract_minus_sign() for t in varying):
            return -c, -f
    return c, f


def pull_constants(node: sp.Basic, ctx: Context | None = None) -> sp.Basic | None:
    """∑ c·a_i = c·∑ a_i for c free of i (a common factor of the summand first taken out)."""
    if not (isinstance(node, sp.Sum) and len(node.limits) == 1):
        return None
    k = node.limits[0][0]
    c, f = sp.factor_terms(node.function).as_independent(k, as_Add=False)
    c, f = _normal_sign(c, f, k)
    if c == 1 or not f.has(k):
        return None
    return c * sp.Sum(f, *node.limits)


def _linear(f: sp.Expr, limits: tuple) -> sp.Expr:
    k, lo, hi = limits
    out = []
    for term in sp.Add.make_args(f):
        c, g = term.as_independent(k, as_Add=False)
        if not g.has(k):
            out.append((hi - lo + 1) * c * g)
        elif isinstance(g, sp.Add):
            out.append(c * _linear(g, limits))
        else:
            out.append(c * sp.Sum(g, limits))
    return sp.Add(*out)


def _sum_linearity(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    if not (isinstance(node, sp.Sum) and len(node.limits) == 1):
        return None
    new = _linear(node.function, node.limits[0])
    return None if new == node else new


SUM_LINEARITY = register(
    Rewrite(
        id="sum.linearity",
        name="Linearity of the sum",
        source="elementary: linearity of the sum",
        statement=r"\sum_{i=1}^{n} (a + c\,b_i) = n\,a + c \sum_{i=1}^{n} b_i",
        conditions=("a, c do not depend on i",),
        apply=_sum_linearity,
        examples=lambda: [
            RuleExample(
                sp.Sum(_a - _r * (x[i] - _u) ** 2, over_data()),
                n * _a - _r * sp.Sum((x[i] - _u) ** 2, over_data()),
                assume={"a": ("positive",)},
            ),
            RuleExample(
                sp.Sum((1 - x[i]) * sp.log(_a), over_data()),
                sp.log(_a) * (n - sp.Sum(x[i], over_data())),
                assume={"a": ("positive",)},
            ),
        ],
    )
)
