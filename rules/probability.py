"""Probability rules: the families' densities, the i.i.d. likelihood, and the algebra and
calculus of a maximum-likelihood derivation (logs, sums over the data, stationarity).

A `Family` is data: its parameters (SymPy symbols carrying their assumptions), the density of
one observation x_i, the support of the data (an assumption kind for the sampler), and the rule
that cites the density. `derive.likelihood` runs the same pipeline on every family.

Observations are ``x[i]`` for ``x = IndexedBase("x")`` and ``i = 1..n``; the evaluator reads
``x`` as a 1-D data array of length n. Rules that rewrite a node have
``apply(node, ctx) -> replacement | None`` (None: the rule does not match there), as in
`derive.rewrite`; rules that act on a whole expression (differentiate, solve, set aside) take
the parameter from ``ctx.varying``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from derive.distributions import CategoricalDensity, DensityOf, Median
from derive.errors import UnknownNameError, UnsupportedError
from derive.expr import MatScalar, ScalarDifferential, ScalarDifferentialSymbol, elementwise
from derive.model import Context, Rewrite, Rule, RuleExample, Transform
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


# --- the density node ---------------------------------------------------------------------


def joint_density(family: Family) -> DensityOf:
    """p(x_1, …, x_n | θ), defined as the product of the densities (the data are i.i.d.)."""
    return DensityOf(family.name, x, family.params, sp.Product(family.density, over_data()))


def density_at(family: Family, obs: sp.Basic) -> DensityOf:
    """p(obs | θ) for one observation."""
    with sp.evaluate(False):  # keep the density as written (1/√(2πσ²) stays whole)
        definition = family.density.xreplace({x[i]: obs})
    return DensityOf(family.name, obs, family.params, definition)


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
    fam = FAMILIES["gaussian"]
    return [
        RuleExample(
            joint_density(fam),
            _iid(joint_density(fam), Context()),
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


# --- the families -------------------------------------------------------------------------


@dataclass(frozen=True)
class Family:
    """A parametric family of densities for one observation x_i, as data.

    `assumptions` maps a parameter name to the assumption kinds its sampler needs ("unit":
    a scalar in (0, 1)); `data` is the assumption on each observation ("binary",
    "nonnegative", "positive", or () for the real line). `symbols` gives Unicode names for
    notes; `estimators` says in words what each estimate is; `set_aside` names the
    parameters with respect to which constant terms of the NLL are set aside (`as_mean`
    writes what is left as a multiple of a mean over the data).
    """

    name: str
    title: str
    params: tuple[sp.Symbol, ...]
    density: sp.Expr
    density_rule: Rule
    assumptions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    data: tuple[str, ...] = ()
    symbols: dict[str, str] = field(default_factory=dict)
    estimators: dict[str, str] = field(default_factory=dict)
    nll_note: str = ""
    set_aside: tuple[str, ...] = ()
    as_mean: bool = False
    set_aside_note: str = ""
    #: the rule (and the note) solving ∂NLL/∂θ = 0 for θ, where it is not `STATIONARY`
    solvers: dict[str, tuple[Rule, str]] = field(default_factory=dict)
    #: parameters in which the NLL is not twice differentiable (|xᵢ − μ| in μ): they have
    #: no second-order step; a `reference` claim checks instead that θ̂ minimises the NLL
    nonsmooth: tuple[str, ...] = ()
    remarks: tuple[str, ...] = ()

    def show(self, name: str) -> str:
        return self.symbols.get(name, name)

    @property
    def smooth(self) -> tuple[sp.Symbol, ...]:
        """The parameters in which the NLL is twice differentiable."""
        return tuple(t for t in self.params if t.name not in self.nonsmooth)


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


def _gaussian_density(obs: sp.Basic, mean: sp.Basic, var: sp.Basic) -> sp.Expr:
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
    ours = _gaussian_density(MatScalar(xv), MatScalar(m), MatScalar(s))
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


def _bernoulli_density(obs: sp.Basic, p: sp.Basic) -> sp.Expr:
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
            _bernoulli_density(_k, P),
            _k * P + (1 - _k) * (1 - P),
            assume={"k": ("binary",), "p": ("unit",)},
        )
    ],
)


def _poisson_density(obs: sp.Basic, lam: sp.Basic) -> sp.Expr:
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
            _poisson_density(_k + 1, LAMBDA) / _poisson_density(_k, LAMBDA),
            LAMBDA / (_k + 1),
            assume={"k": ("nonnegative",), "lambda": ("positive",)},
        )
    ],
)


def _exponential_density(obs: sp.Basic, lam: sp.Basic) -> sp.Expr:
    return sp.Mul(lam, sp.exp(-lam * obs, evaluate=False), evaluate=False)


EXPONENTIAL_DENSITY = _density_rule(
    "exponential",
    source="definition of the exponential distribution",
    statement=r"p(x \mid \lambda) = \lambda e^{-\lambda x},\ x > 0",
    conditions=("λ > 0", "x > 0"),
    # Memorylessness: p(k + t) / p(k) = e^{−λt}.
    examples=lambda: [
        RuleExample(
            _exponential_density(_k + _t, LAMBDA) / _exponential_density(_k, LAMBDA),
            sp.exp(-LAMBDA * _t),
            assume={"k": ("positive",), "t": ("positive",), "lambda": ("positive",)},
        )
    ],
)


def _laplace_density(obs: sp.Basic, mu: sp.Basic, b: sp.Basic) -> sp.Expr:
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
            _laplace_density(MU + _t, MU, B) / _laplace_density(MU, MU, B),
            sp.exp(-sp.Abs(_t) / B),
            assume={"b": ("positive",)},
        ),
        RuleExample(
            _laplace_density(MU - _t, MU, B),
            sp.exp(-sp.Abs(_t) / B) / (2 * B),
            assume={"b": ("positive",)},
        ),
    ],
)


# --- the median (the location estimate of the Laplace) ----------------------------------


def _sign_sum(g: sp.Expr, theta: sp.Symbol) -> sp.IndexedBase | None:
    """The data x when g = c·∑_{i=1}^{n} sign(±(θ − x_i)) with c ≠ 0 free of θ, else None."""
    c, rest = g.as_independent(theta, as_Add=False)
    if c == 0 or not isinstance(rest, sp.Sum) or len(rest.limits) != 1:
        return None
    k, lo, hi = rest.limits[0]
    if lo != 1 or hi != n:
        return None
    sign = -rest.function if rest.function.could_extract_minus_sign() else rest.function
    if not isinstance(sign, sp.sign):
        return None
    u = sign.args[0]
    for arg in (u, -u):
        obs = theta - arg  # u = θ − x_k, so x_k = θ − u
        if isinstance(obs, sp.Indexed) and obs.indices == (k,) and not obs.has(theta):
            return obs.base
    return None


def solve_median(g: sp.Expr, ctx: Context) -> Median:
    """The θ where c·∑ sign(θ − x_i) vanishes: the median of x_1, …, x_n.

    A step function of θ has no closed-form zero in the symbolic sense; it is zero between
    the middle order statistics (at the median for odd n, anywhere in between for even n).
    """
    (theta,) = ctx.varying
    data = _sign_sum(g, theta)
    if data is None:
        raise UnsupportedError(
            f"the median as the zero of {g}", f"it is not c·∑ sign({theta} − x_i)"
        )
    return Median(data, n)


MEDIAN = register(
    Transform(
        id="optimum.median",
        name="The median minimises the sum of absolute deviations",
        source=(
            "theorem: ∑|xᵢ − μ| is convex in μ with derivative ∑ sign(μ − xᵢ) away from the "
            "data, negative below the median and positive above it (Hastie, Tibshirani & "
            "Friedman, The Elements of Statistical Learning, 2nd ed., §10.6: the L1 loss "
            "is minimised by the median)"
        ),
        statement=(
            r"\sum_{i=1}^{n}\operatorname{sign}(\mu - x_i) = 0 \text{ at } "
            r"\hat\mu = \operatorname{median}(x_1, \dots, x_n) "
            r"= \arg\min_\mu \sum_{i=1}^{n}|x_i - \mu|"
        ),
        conditions=("x₁, …, xₙ distinct (as with probability 1 for continuous data)",),
        apply=solve_median,
        examples=lambda: [
            RuleExample(
                sp.Sum(sp.sign(MU - x[i]), over_data()) / B,
                Median(x, n),
                wrt=("mu",),
                assume={"b": ("positive",)},
                relation="solve",
            ),
            RuleExample(
                -sp.Sum(sp.sign(x[i] - MU), over_data()),
                Median(x, n),
                wrt=("mu",),
                relation="solve",
            ),
        ],
    )
)


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            name="gaussian",
            title="the Gaussian",
            params=(MU, SIGMA2),
            density=_gaussian_density(x[i], MU, SIGMA2),
            density_rule=GAUSSIAN_DENSITY,
            assumptions={"sigma^2": ("positive",)},
            symbols={"mu": "μ", "sigma^2": "σ²"},
            estimators={
                "mu": "μ̂ = (1/n)∑xᵢ = x̄, the sample mean",
                "sigma^2": "σ̂² = (1/n)∑(xᵢ − x̄)², the sample variance with divisor n "
                "(biased: the unbiased estimate divides by n − 1)",
            },
            set_aside=("mu",),
            as_mean=True,
            set_aside_note=(
                "for fixed σ², the term (n/2)·log(2πσ²) does not depend on μ: set it aside. "
                "What is left is n/(2σ²) times the mean squared error (1/n)∑(xᵢ − μ)², so "
                "minimising the NLL over μ is minimising the MSE"
            ),
        ),
        Family(
            name="bernoulli",
            title="the Bernoulli distribution",
            params=(P,),
            density=_bernoulli_density(x[i], P),
            density_rule=BERNOULLI_DENSITY,
            assumptions={"p": ("unit",)},
            data=("binary",),
            estimators={"p": "p̂ = (1/n)∑xᵢ = x̄, the fraction of ones"},
            nll_note=(
                "NLL = −∑[xᵢ log p + (1 − xᵢ) log(1 − p)] is the binary cross-entropy "
                "between the labels xᵢ and the prediction p, summed over the data"
            ),
        ),
        Family(
            name="poisson",
            title="the Poisson distribution",
            params=(LAMBDA,),
            density=_poisson_density(x[i], LAMBDA),
            density_rule=POISSON_DENSITY,
            assumptions={"lambda": ("positive",)},
            data=("nonnegative",),
            symbols={"lambda": "λ"},
            estimators={"lambda": "λ̂ = (1/n)∑xᵢ = x̄, the sample mean"},
            set_aside=("lambda",),
            set_aside_note="∑ log(xᵢ!) does not depend on λ: set it aside",
        ),
        Family(
            name="exponential",
            title="the exponential distribution",
            params=(LAMBDA,),
            density=_exponential_density(x[i], LAMBDA),
            density_rule=EXPONENTIAL_DENSITY,
            assumptions={"lambda": ("positive",)},
            data=("positive",),
            symbols={"lambda": "λ"},
            estimators={"lambda": "λ̂ = n/∑xᵢ = 1/x̄, the reciprocal of the sample mean"},
        ),
        Family(
            name="laplace",
            title="the Laplace distribution",
            params=(MU, B),
            density=_laplace_density(x[i], MU, B),
            density_rule=LAPLACE_DENSITY,
            assumptions={"b": ("positive",)},
            symbols={"mu": "μ"},
            estimators={
                "mu": "μ̂ = median(x₁, …, xₙ), the sample median (for odd n the middle order "
                "statistic x₍₍ₙ₊₁₎/₂₎; for even n every point between the two middle "
                "observations minimises the NLL, and the median is their midpoint)",
                "b": "b̂ = (1/n)∑|xᵢ − μ̂|, the mean absolute deviation from the median",
            },
            nll_note=("NLL = n·log(2b) + (1/b)∑|xᵢ − μ|: in μ, the sum of absolute errors"),
            set_aside=("mu",),
            as_mean=True,
            set_aside_note=(
                "for fixed b, the term n·log(2b) does not depend on μ: set it aside. What is "
                "left is n/b times the mean absolute error (1/n)∑|xᵢ − μ|, so minimising the "
                "NLL over μ is minimising the MAE"
            ),
            solvers={
                "mu": (
                    MEDIAN,
                    "set ∂NLL/∂μ = 0: (1/b)∑ sign(μ − xᵢ) is (the number of observations "
                    "below μ minus the number above)/b, a step function of μ, so the "
                    "equation has no closed-form solution in the symbolic sense. The sum "
                    "changes sign at the median, the minimiser of ∑|xᵢ − μ|, and is zero "
                    "there (for odd n at the middle observation, for even n anywhere between "
                    "the two middle ones): μ̂ = median(x₁, …, xₙ), whatever b",
                )
            },
            nonsmooth=("mu",),
            remarks=(
                "in μ the NLL (1/b)∑|xᵢ − μ| + n·log(2b) is convex and piecewise linear: "
                "its second derivative is 0 away from the data, so the second-derivative "
                "test says nothing, but convexity makes the median, where the derivative "
                "changes sign, a global minimiser for every b; b̂ then minimises over b",
            ),
        ),
    )
}


def family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise UnknownNameError("family", name, sorted(FAMILIES)) from None


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
                sp.log(_gaussian_density(_u, 0, _a).args[0], evaluate=False),  # log(1/√(2πa))
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


# --- the negative log-likelihood ----------------------------------------------------------


def _negate(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """−(a + b + …) = −a − b − …"""
    if isinstance(node, sp.Mul) and node.args[0] == -1 and len(node.args) == 2:
        return sp.Add(*[-t for t in sp.Add.make_args(node.args[1])])
    return None


NLL = register(
    Rewrite(
        id="nll.definition",
        name="Negative log-likelihood",
        source="definition of the negative log-likelihood",
        statement=r"\operatorname{NLL}(\theta) = -\ell(\theta) = -\log L(\theta)",
        apply=_negate,
        examples=lambda: [
            RuleExample(
                sp.Mul(
                    -1, -n * sp.log(_a) / 2 - sp.Sum(x[i] ** 2, over_data()) / _a, evaluate=False
                ),  # fmt: skip
                n * sp.log(_a) / 2 + sp.Sum(x[i] ** 2, over_data()) / _a,
                assume={"a": ("positive",)},
            )
        ],
    )
)


def as_mean(e: sp.Expr) -> sp.Expr:
    """c·∑_{i=1}^n g_i written (c n)·((1/n)∑ g_i): a multiple of a mean over the data."""
    out = []
    for term in sp.Add.make_args(e):
        sums = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Sum)]
        if len(sums) != 1:
            out.append(term)
            continue
        (s,) = sums
        k, lo, hi = s.limits[0]
        count = hi - lo + 1
        mean = sp.Mul(1 / count, s, evaluate=False)
        out.append(sp.Mul(term / s * count, mean, evaluate=False))
    return sp.Add(*out, evaluate=False) if len(out) > 1 else out[0]


def set_aside(e: sp.Expr, ctx: Context) -> sp.Expr:
    """The terms of e that depend on a varying symbol (the rest is a constant in them)."""
    return sp.Add(*[t for t in sp.Add.make_args(e) if ctx.depends(t)])


SET_ASIDE = register(
    Transform(
        id="nll.set-aside",
        name="Set aside a constant term",
        source="elementary: adding a constant does not move a minimiser",
        statement=r"f(\theta) = c + g(\theta) \doteq g(\theta)",
        conditions=("c does not depend on θ",),
        apply=set_aside,
        examples=lambda: [
            RuleExample(
                n * sp.log(2 * sp.pi * SIGMA2) / 2
                + sp.Sum((x[i] - MU) ** 2, over_data()) / (2 * SIGMA2),
                as_mean(sp.Sum((x[i] - MU) ** 2, over_data()) / (2 * SIGMA2)),
                wrt=("mu",),
                assume={"sigma^2": ("positive",)},
                relation="constant",
            )
        ],
    )
)


SET_ASIDE_AS_MEAN = register(
    Transform(
        id="nll.set-aside-mean",
        name=SET_ASIDE.name,
        source=SET_ASIDE.source + "; a sum over the data written n times its mean",
        statement=(
            r"f(\theta) = c + \sum_{i=1}^n g_i(\theta) \doteq "
            r"n \cdot \frac{1}{n}\sum_{i=1}^n g_i(\theta)"
        ),
        conditions=SET_ASIDE.conditions,
        apply=lambda e, ctx: as_mean(set_aside(e, ctx)),
        examples=SET_ASIDE.examples,
    )
)


# --- first- and second-order conditions ---------------------------------------------------


_REAL_X = sp.IndexedBase("x", real=True)


def derivative(e: sp.Expr, ctx: Context) -> sp.Expr:
    """∂e/∂θ for the one varying scalar θ: SymPy's scalar `diff` (sums differentiated term
    by term), then constant factors taken out of each sum."""
    (theta,) = ctx.varying
    # The observations are real numbers: so told, SymPy differentiates |xᵢ − μ| to
    # sign(μ − xᵢ) instead of through re(·) and im(·).
    d = sp.diff(e.xreplace({x: _REAL_X}), theta).xreplace({_REAL_X: x})
    return d.replace(lambda s: pull_constants(s) is not None, pull_constants)


DERIVATIVE = register(
    Transform(
        id="calculus.derivative",
        name="Scalar derivative",
        source="elementary: scalar differentiation (sum, constant-factor, power and chain rules)",
        statement=(
            r"\frac{\partial}{\partial\theta} \sum_{i} c\, g_i(\theta) "
            r"= c \sum_{i} g_i'(\theta)"
        ),
        conditions=("c does not depend on θ",),
        apply=derivative,
        examples=lambda: [
            RuleExample(
                ScalarDifferential(sp.Sum((x[i] - MU) ** 2, over_data()) / (2 * SIGMA2)),
                -sp.Sum(x[i] - MU, over_data()) / SIGMA2 * ScalarDifferentialSymbol(MU),
                wrt=("mu",),
                assume={"sigma^2": ("positive",)},
            ),
            RuleExample(
                ScalarDifferential(n * sp.log(2 * sp.pi * SIGMA2) / 2),
                n / (2 * SIGMA2) * ScalarDifferentialSymbol(SIGMA2),
                wrt=("sigma^2",),
                assume={"sigma^2": ("positive",)},
            ),
        ],
    )
)


def hold_sums(e: sp.Expr) -> tuple[sp.Expr, dict[sp.Dummy, sp.Sum]]:
    """e with each outermost sum (or 1×1 matrix product) replaced by a symbol, and the map
    back to them.

    The data enter only through sums and matrix products, so solving for a parameter outside
    them (or simplifying) can treat each as an opaque number.
    """
    found: dict[sp.Sum, sp.Dummy] = {}

    def walk(node: sp.Basic) -> sp.Basic:
        if isinstance(node, (sp.Sum, MatScalar)):
            return found.setdefault(node, sp.Dummy("S"))
        if not node.args or isinstance(node, sp.Symbol):
            return node
        args = [walk(a) for a in node.args]
        return node if tuple(args) == tuple(node.args) else node.func(*args)

    out = walk(e)
    return out, {v: k for k, v in found.items()}


def solve_stationary(e: sp.Expr, ctx: Context) -> sp.Expr:
    """The θ with e(θ) = 0, in closed form; sums over the data are held fixed while solving."""
    (theta,) = ctx.varying
    inside = [s for s in e.atoms(sp.Sum) if s.has(theta)]
    if inside:
        raise UnsupportedError(f"solving for {theta} inside a sum over the data", f"in {inside[0]}")
    held, back = hold_sums(e)
    # check=False: SymPy's own check imports sympy.physics (0.3 s); instead, drop the
    # roots where a denominator of the equation vanishes (σ² = 0 for the Gaussian)
    sols = sp.solve(held, theta, simplify=False, check=False)
    denominator = sp.denom(sp.together(held))
    sols = [r for r in sols if not denominator.xreplace({theta: r}).is_zero]
    if len(sols) != 1:
        raise UnsupportedError(
            f"a closed-form maximum-likelihood estimate of {theta}",
            f"sympy.solve found {len(sols)} solutions of {e} = 0",
        )
    return sols[0].xreplace(back)


STATIONARY = register(
    Transform(
        id="optimum.stationary",
        name="Set the derivative to zero",
        source="Fermat's theorem: at an interior extremum the derivative vanishes",
        statement=r"\frac{\partial\,\mathrm{NLL}}{\partial\theta}(\hat\theta) = 0",
        conditions=("θ̂ interior to the parameter set",),
        apply=solve_stationary,
        examples=lambda: [
            RuleExample(
                -(sp.Sum(x[i], over_data()) - n * MU) / SIGMA2,
                sp.Sum(x[i], over_data()) / n,
                wrt=("mu",),
                assume={"sigma^2": ("positive",)},
                relation="solve",
            )
        ],
    )
)


def _joint_example() -> list[RuleExample]:
    xbar_j = sp.Sum(x[j], over_data(j)) / n
    ss = sp.Sum((x[i] - xbar_j) ** 2, over_data())
    return [
        RuleExample(
            n / (2 * SIGMA2) - ss / (2 * SIGMA2**2),
            ss / n,
            wrt=("sigma^2",),
            assume={"sigma^2": ("positive",)},
            relation="solve",
        )
    ]


JOINT = register(
    Transform(
        id="optimum.joint",
        name="Solve the stationarity conditions together",
        source=(
            "elementary: at a joint stationary point every partial derivative vanishes; "
            "substitute the estimates already found"
        ),
        statement=(
            r"\frac{\partial\,\mathrm{NLL}}{\partial\theta_2}(\hat\theta_1, \theta_2) = 0 "
            r"\Rightarrow \hat\theta_2"
        ),
        apply=solve_stationary,
        examples=_joint_example,
    )
)


def _second_order_example() -> list[RuleExample]:
    # ∂/∂μ of ∂NLL/∂μ = −(∑xᵢ − nμ)/σ², as a differential: n/σ² dμ.
    return [
        RuleExample(
            ScalarDifferential(-(sp.Sum(x[i], over_data()) - n * MU) / SIGMA2),
            n / SIGMA2 * ScalarDifferentialSymbol(MU),
            wrt=("mu",),
            assume={"sigma^2": ("positive",)},
        )
    ]


SECOND_ORDER = register(
    Transform(
        id="optimum.second-order",
        name="Second derivative",
        source=(
            "theorem: second-derivative test (a stationary point where the Hessian is "
            "positive definite is a strict local minimum)"
        ),
        statement=(
            r"\frac{\partial^2\,\mathrm{NLL}}{\partial\theta_a\,\partial\theta_b} = "
            r"\frac{\partial}{\partial\theta_b}\frac{\partial\,\mathrm{NLL}}{\partial\theta_a}"
        ),
        apply=derivative,
        examples=_second_order_example,
    )
)
