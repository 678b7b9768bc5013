"""The Beta density and conjugacy: the Beta prior written out, products of powers of θ
collected, the Beta integral as B(a, b), and the posterior of a Bernoulli sample under a Beta
prior recognised as a Beta density."""

from __future__ import annotations

import sympy as sp

from derive.distributions import (
    BetaFunction,
    BetaOf,
    DensityOf,
    beta_definition,
)
from derive.model import Context, Rewrite, RuleExample, Transform
from derive.rules.registry import register

_t = sp.Symbol("t", real=True)
_a, _b = sp.symbols("a b", positive=True)

# --- the Beta density and conjugacy ----------------------------------------------------------


def beta_density(theta: sp.Symbol, a: sp.Basic, b: sp.Basic) -> DensityOf:
    """Beta(θ | a, b) = θ^{a−1}(1 − θ)^{b−1}/B(a, b), as a density node."""
    return DensityOf("beta", theta, (a, b), beta_definition(theta, a, b))


def _beta_density(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    if isinstance(node, DensityOf) and node.family == "beta":
        return node.definition
    return None


BETA_DENSITY = register(
    Rewrite(
        id="density.beta",
        name="Beta density",
        source="definition of the Beta distribution (Bishop, PRML, eq. (2.13))",
        statement=(
            r"\operatorname{Beta}(\theta \mid a, b) = "
            r"\frac{\theta^{a-1}(1-\theta)^{b-1}}{\mathrm{B}(a, b)},\ "
            r"\mathrm{B}(a, b) = \frac{\Gamma(a)\Gamma(b)}{\Gamma(a+b)}"
        ),
        conditions=("a, b > 0", "0 < θ < 1"),
        apply=_beta_density,
        examples=lambda: [
            RuleExample(
                beta_density(_t, _a, _b),
                _t ** (_a - 1)
                * (1 - _t) ** (_b - 1)
                * sp.gamma(_a + _b)
                / (sp.gamma(_a) * sp.gamma(_b)),
                assume={"t": ("unit",), "a": ("positive",), "b": ("positive",)},
            )
        ],
    )
)


# --- Bayes' theorem with a Beta prior --------------------------------------------------------


def _product_powers(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """∏_i a^{e_i} = a^{∑_i e_i} for each factor whose base a does not depend on i; and
    a^s a^t = a^{s+t} in a product with two powers of one base."""
    if isinstance(node, sp.Mul):
        powers: dict[sp.Basic, list[sp.Expr]] = {}
        for f in node.args:
            base, k = f.as_base_exp()
            if not base.is_Number:
                powers.setdefault(base, []).append(k)
        if all(len(ks) == 1 for ks in powers.values()):
            return None
        rest = [f for f in node.args if f.as_base_exp()[0].is_Number]
        return sp.Mul(*rest, *[sp.Pow(b, sp.Add(*ks)) for b, ks in powers.items()])
    if not (isinstance(node, sp.Product) and len(node.limits) == 1):
        return None
    k = node.limits[0][0]
    factors = sp.Mul.make_args(node.function)
    if not all(isinstance(f, sp.Pow) and not f.base.has(k) for f in factors):
        return None
    return sp.Mul(*[sp.Pow(f.base, sp.Sum(f.exp, *node.limits)) for f in factors])


def _product_examples() -> list[RuleExample]:
    from derive.rules.probability import i, over_data, x

    body = sp.Mul(
        sp.Pow(_t, x[i], evaluate=False), sp.Pow(1 - _t, 1 - x[i], evaluate=False), evaluate=False
    )
    return [
        RuleExample(
            sp.Product(body, over_data()) * _t**_a,
            _t ** (sp.Sum(x[i], over_data()) + _a) * (1 - _t) ** sp.Sum(1 - x[i], over_data()),
            assume={"t": ("unit",), "x": ("binary",)},
        )
    ]


PRODUCT_POWERS = register(
    Rewrite(
        id="power.product",
        name="Product of powers",
        source="elementary: a^s a^t = a^{s+t}, so a product of powers of a is a to the sum",
        statement=r"\prod_{i=1}^{n} a^{e_i} = a^{\sum_{i=1}^{n} e_i},\quad a^{s}a^{t} = a^{s+t}",
        conditions=("a > 0 does not depend on i",),
        apply=_product_powers,
        examples=_product_examples,
    )
)


def kernel_exponents(e: sp.Basic, theta: sp.Symbol) -> tuple[sp.Expr, sp.Expr, sp.Expr] | None:
    """(c, a, b) with e = c·θ^{a−1}(1 − θ)^{b−1} and c free of θ; None if e is not of that form."""
    c, a, b = sp.S.One, sp.S.One, sp.S.One
    for f in sp.Mul.make_args(e):
        base, k = f.as_base_exp()
        if base == theta:
            a = a + k
        elif base == 1 - theta:
            b = b + k
        elif f.has(theta):
            return None
        else:
            c = c * f
    return c, a, b


def _beta_integral(e: sp.Basic, ctx: Context | None = None) -> sp.Basic | None:
    """∫₀¹ c θ^{a−1}(1 − θ)^{b−1} dθ = c B(a, b) for the one varying θ."""
    (theta,) = ctx.varying
    found = kernel_exponents(e, theta)
    if found is None:
        return None
    c, a, b = found
    return c * BetaFunction(a, b)


BETA_INTEGRAL = register(
    Transform(
        id="integral.beta",
        name="Euler's Beta integral",
        source="definition of the Beta function B(a, b) (Bishop, PRML, §2.1.1)",
        statement=r"\int_0^1 \theta^{a-1}(1-\theta)^{b-1}\,d\theta = \mathrm{B}(a, b)",
        conditions=("a, b > 0",),
        apply=_beta_integral,
        examples=lambda: [
            RuleExample(
                _t ** (_a - 1) * (1 - _t) ** (_b - 1),
                BetaFunction(_a, _b),
                wrt=("t",),
                assume={"a": ("positive",), "b": ("positive",)},
                relation="integral",
            )
        ],
    )
)


def _conjugate(e: sp.Basic, ctx: Context | None = None) -> sp.Basic | None:
    """A density in θ of the form c·θ^{a−1}(1 − θ)^{b−1} on (0, 1) is Beta(θ | a, b)."""
    (theta,) = ctx.varying
    found = kernel_exponents(e, theta)
    if found is None:
        return None
    _, a, b = found
    return BetaOf(theta, a, b)


CONJUGATE = register(
    Transform(
        id="bayes.beta-kernel",
        name="Bayes' theorem with a conjugate Beta prior",
        source=(
            "theorem: Bayes' theorem; a density proportional to θ^{a−1}(1 − θ)^{b−1} on (0, 1) "
            "is Beta(θ | a, b) (Bishop, PRML, §2.1.1)"
        ),
        statement=(
            r"p(\theta \mid D) = \frac{p(D \mid \theta)\,p(\theta)}{p(D)} "
            r"\propto \theta^{a-1}(1-\theta)^{b-1} \Rightarrow "
            r"p(\theta \mid D) = \operatorname{Beta}(\theta \mid a, b)"
        ),
        conditions=("a, b > 0", "p(D) = ∫₀¹ p(D | θ) p(θ) dθ"),
        apply=_conjugate,
        examples=lambda: [
            RuleExample(
                _t ** (_a - 1) * (1 - _t) ** (_b - 1) / BetaFunction(_a, _b),
                BetaOf(_t, _a, _b),
                assume={"t": ("unit",), "a": ("positive",), "b": ("positive",)},
            )
        ],
    )
)
