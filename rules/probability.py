"""Probability rules: the families' densities, the categorical density, and the i.i.d.
likelihood as a product of densities.

Observations are ``x[i]`` for ``x = IndexedBase("x")`` and ``i = 1..n``; the evaluator reads
``x`` as a 1-D data array of length n. The families themselves (which density, which
parameters, how each estimate is solved for) are the engine's configuration,
`derive.families`; the algebra of a log-likelihood is `derive.rules.loglik`, the
optimisation `derive.rules.optimum`.
"""

from __future__ import annotations

import sympy as sp

from derive.distributions import CategoricalDensity, DensityOf
from derive.expr import MatScalar, elementwise
from derive.model import Context, Rewrite, Rule, RuleExample
from derive.rules.registry import register

i = sp.Symbol("i", integer=True, positive=True)
j = sp.Symbol("j", integer=True, positive=True)
n = sp.Symbol("n", integer=True, positive=True)
x = sp.IndexedBase("x")

MU = sp.Symbol("mu", real=True)
SIGMA2 = sp.Symbol("sigma^2", positive=True)
P = sp.Symbol("p", positive=True)
LAMBDA = sp.Symbol("lambda", positive=True)
B = sp.Symbol("b", positive=True)


def over_data(k: sp.Symbol = i) -> tuple:
    """The limits (k, 1, n) of a sum or product over the observations."""
    return (k, 1, n)


# --- the categorical density (a one-hot or probability vector y) ---------------------------


def _log_categorical(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    if isinstance(node, sp.log) and isinstance(node.args[0], CategoricalDensity):
        dens = node.args[0]
        return MatScalar(sp.MatMul(sp.Transpose(dens.y), elementwise(sp.log, dens.probs)))
    return None


def _categorical_examples() -> list[RuleExample]:
    K = sp.Symbol("K", integer=True, positive=True)
    y, pi = sp.MatrixSymbol("y", K, 1), sp.MatrixSymbol("pi", K, 1)
    lhs = sp.log(CategoricalDensity(y, pi))
    rhs = MatScalar(sp.MatMul(sp.Transpose(y), elementwise(sp.log, pi)))
    return [
        RuleExample(lhs, rhs, assume={"y": ("onehot",), "pi": ("prob",)}),
        RuleExample(lhs, rhs, assume={"y": ("prob",), "pi": ("prob",)}),
    ]


CATEGORICAL_LOG_DENSITY = register(
    Rewrite(
        id="density.categorical",
        name="Categorical log-density",
        source="definition of the categorical distribution",
        statement=(r"\log p(y \mid \pi) = \log\prod_k \pi_k^{y_k} = y^{\top}\log\pi"),
        conditions=("y one-hot (or a probability vector)", "π a probability vector"),
        apply=_log_categorical,
        examples=_categorical_examples,
    )
)


# --- i.i.d. factorisation -----------------------------------------------------------------


def _iid(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    if not (isinstance(node, DensityOf) and node.is_joint):
        return None
    prod = node.definition
    (k, lo, hi) = prod.limits[0]
    one = DensityOf(node.family, node.obs[k], node.params, prod.function)
    return sp.Product(one, (k, lo, hi))


def _iid_examples() -> list[RuleExample]:
    joint = DensityOf(
        "gaussian", x, (MU, SIGMA2), sp.Product(gaussian_density(x[i], MU, SIGMA2), over_data())
    )
    return [
        RuleExample(
            joint,
            _iid(joint, Context()),
            assume={"sigma^2": ("positive",)},
        )
    ]


IID = register(
    Rewrite(
        id="likelihood.iid",
        name="Independent, identically distributed observations",
        source="definition of independence",
        statement=r"p(x_1, \dots, x_n \mid \theta) = \prod_{i=1}^{n} p(x_i \mid \theta)",
        conditions=("x_1, …, x_n independent, each with density p(· | θ)",),
        apply=_iid,
        examples=_iid_examples,
    )
)


# --- the densities of the families ----------------------------------------------------------


def _density_rule(
    family: str, *, source: str, statement: str, conditions=(), cookbook=(), examples=None
) -> Rule:
    """Register the rule that writes out `family`'s density p(x_i | θ)."""

    def apply(node: sp.Basic, ctx: Context) -> sp.Basic | None:
        if isinstance(node, DensityOf) and node.family == family and not node.is_joint:
            return node.definition
        return None

    return register(
        Rewrite(
            id=f"density.{family}",
            name=f"{family.capitalize()} density",
            source=source,
            statement=statement,
            conditions=tuple(conditions),
            cookbook=tuple(cookbook),
            apply=apply,
            examples=examples,
        )
    )


def gaussian_density(obs: sp.Basic, mean: sp.Basic, var: sp.Basic) -> sp.Expr:
    """exp(−(x − μ)²/(2σ²)) / √(2πσ²), kept as written."""
    # 1/√(2πσ²) as (√(2πσ²))⁻¹: printers rebuild a bare (2πσ²)^(−1/2) as √2·√π·√σ².
    norm = sp.Pow(sp.Pow(2 * sp.pi * var, sp.S.Half, evaluate=False), -1, evaluate=False)
    return sp.Mul(norm, sp.exp(-((obs - mean) ** 2) / (2 * var)), evaluate=False)


def _gaussian_examples() -> list[RuleExample]:
    # The Cookbook's d-dimensional density for d = 1 (1×1 matrices) against the scalar form.
    xv, m = sp.MatrixSymbol("x", 1, 1), sp.MatrixSymbol("m", 1, 1)
    s = sp.MatrixSymbol("Sigma", 1, 1)
    r = sp.MatAdd(xv, sp.MatMul(-1, m))
    quad = MatScalar(sp.MatMul(sp.Transpose(r), sp.Inverse(s), r))
    book = sp.exp(-quad / 2) / sp.sqrt(sp.Determinant(sp.MatMul(2 * sp.pi, s)))
    ours = gaussian_density(MatScalar(xv), MatScalar(m), MatScalar(s))
    return [RuleExample(book, ours, assume={"Sigma": ("spd",)})]


GAUSSIAN_DENSITY = _density_rule(
    "gaussian",
    source="Matrix Cookbook (2012) eq. (346), with d = 1",
    cookbook=("346",),
    statement=(
        r"p(x \mid \mu, \sigma^2) = \frac{1}{\sqrt{2\pi\sigma^2}}"
        r"\exp\left(-\frac{(x - \mu)^2}{2\sigma^2}\right)"
    ),
    conditions=("σ² > 0",),
    examples=_gaussian_examples,
)


def bernoulli_density(obs: sp.Basic, p: sp.Basic) -> sp.Expr:
    return sp.Mul(
        sp.Pow(p, obs, evaluate=False), sp.Pow(1 - p, 1 - obs, evaluate=False), evaluate=False
    )


_k = sp.Symbol("k", real=True)
_t = sp.Symbol("t", real=True)

BERNOULLI_DENSITY = _density_rule(
    "bernoulli",
    source="definition of the Bernoulli distribution",
    statement=r"p(x \mid p) = p^{x}(1 - p)^{1 - x},\ x \in \{0, 1\}",
    conditions=("0 < p < 1", "x ∈ {0, 1}"),
    # For x ∈ {0, 1} the power form picks p or 1 − p.
    examples=lambda: [
        RuleExample(
            bernoulli_density(_k, P),
            _k * P + (1 - _k) * (1 - P),
            assume={"k": ("binary",), "p": ("unit",)},
        )
    ],
)


def poisson_density(obs: sp.Basic, lam: sp.Basic) -> sp.Expr:
    return sp.Mul(
        sp.Pow(lam, obs, evaluate=False),
        sp.exp(-lam, evaluate=False),
        sp.Pow(sp.factorial(obs), -1, evaluate=False),
        evaluate=False,
    )


POISSON_DENSITY = _density_rule(
    "poisson",
    source="definition of the Poisson distribution",
    statement=r"p(x \mid \lambda) = \frac{\lambda^{x} e^{-\lambda}}{x!},\ x \in \{0, 1, 2, \dots\}",
    conditions=("λ > 0", "x! = Γ(x + 1) for real x"),
    # Successive probabilities have ratio λ/(k + 1).
    examples=lambda: [
        RuleExample(
            poisson_density(_k + 1, LAMBDA) / poisson_density(_k, LAMBDA),
            LAMBDA / (_k + 1),
            assume={"k": ("nonnegative",), "lambda": ("positive",)},
        )
    ],
)


def exponential_density(obs: sp.Basic, lam: sp.Basic) -> sp.Expr:
    return sp.Mul(lam, sp.exp(-lam * obs, evaluate=False), evaluate=False)


EXPONENTIAL_DENSITY = _density_rule(
    "exponential",
    source="definition of the exponential distribution",
    statement=r"p(x \mid \lambda) = \lambda e^{-\lambda x},\ x > 0",
    conditions=("λ > 0", "x > 0"),
    # Memorylessness: p(k + t) / p(k) = e^{−λt}.
    examples=lambda: [
        RuleExample(
            exponential_density(_k + _t, LAMBDA) / exponential_density(_k, LAMBDA),
            sp.exp(-LAMBDA * _t),
            assume={"k": ("positive",), "t": ("positive",), "lambda": ("positive",)},
        )
    ],
)


def laplace_density(obs: sp.Basic, mu: sp.Basic, b: sp.Basic) -> sp.Expr:
    """(2b)⁻¹ exp(−|x − μ|/b), kept as written."""
    return sp.Mul(
        sp.Pow(2 * b, -1, evaluate=False),
        sp.exp(-sp.Abs(obs - mu) / b, evaluate=False),
        evaluate=False,
    )


LAPLACE_DENSITY = _density_rule(
    "laplace",
    source="definition of the Laplace (double exponential) distribution",
    statement=(r"p(x \mid \mu, b) = \frac{1}{2b}\exp\left(-\frac{|x - \mu|}{b}\right),\ b > 0"),
    conditions=("b > 0",),
    # Symmetric about μ, with tails falling by e^{−|t|/b}: p(μ + t) / p(μ) = e^{−|t|/b}.
    examples=lambda: [
        RuleExample(
            laplace_density(MU + _t, MU, B) / laplace_density(MU, MU, B),
            sp.exp(-sp.Abs(_t) / B),
            assume={"b": ("positive",)},
        ),
        RuleExample(
            laplace_density(MU - _t, MU, B),
            sp.exp(-sp.Abs(_t) / B) / (2 * B),
            assume={"b": ("positive",)},
        ),
    ],
)
