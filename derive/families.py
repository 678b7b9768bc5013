"""The families of `derive mle`: each a parametric density for one observation x_i, as data.

A `Family` gives its parameters (SymPy symbols carrying their assumptions), the density of
one observation, the support of the data (an assumption kind for the sampler), the rule that
writes out the density, and how each estimate is solved for. `derive.likelihood` runs the
same pipeline on every family.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

from derive.distributions import DensityOf, Distribution, Normal
from derive.errors import UnknownNameError
from derive.model import Rule
from derive.rules.optimum import MEDIAN
from derive.rules.probability import (
    BERNOULLI_DENSITY,
    EXPONENTIAL_DENSITY,
    GAUSSIAN_DENSITY,
    LAMBDA,
    LAPLACE_DENSITY,
    MU,
    POISSON_DENSITY,
    SIGMA2,
    B,
    P,
    bernoulli_density,
    exponential_density,
    gaussian_density,
    i,
    laplace_density,
    n,
    over_data,
    poisson_density,
    x,
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
    writes what is left as a multiple of a mean over the data). Where `estimators` says what
    an estimate's expectation is (σ̂² is biased), `means` gives it, checked by Monte Carlo
    over samples drawn from `sample`, the distribution of the data vector x = (x₁, …, xₙ).
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
    #: what the remark under the derivation says of minimising over the `nonsmooth`
    #: parameters (convexity, the minimiser); their minimiser claims check it
    minimiser_remark: str = ""
    sample: Distribution | None = None
    #: E[θ̂] over `sample`, by parameter name, where `estimators` states it
    means: dict[str, sp.Expr] = field(default_factory=dict)

    def show(self, name: str) -> str:
        return self.symbols.get(name, name)

    @property
    def smooth(self) -> tuple[sp.Symbol, ...]:
        """The parameters in which the NLL is twice differentiable."""
        return tuple(t for t in self.params if t.name not in self.nonsmooth)


# --- the density node ---------------------------------------------------------------------


def joint_density(family: Family) -> DensityOf:
    """p(x_1, …, x_n | θ), defined as the product of the densities (the data are i.i.d.)."""
    return DensityOf(family.name, x, family.params, sp.Product(family.density, over_data()))


def density_at(family: Family, obs: sp.Basic) -> DensityOf:
    """p(obs | θ) for one observation."""
    with sp.evaluate(False):  # keep the density as written (1/√(2πσ²) stays whole)
        definition = family.density.xreplace({x[i]: obs})
    return DensityOf(family.name, obs, family.params, definition)


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            name="gaussian",
            title="the Gaussian",
            params=(MU, SIGMA2),
            density=gaussian_density(x[i], MU, SIGMA2),
            density_rule=GAUSSIAN_DENSITY,
            assumptions={"sigma^2": ("positive",)},
            symbols={"mu": "μ", "sigma^2": "σ²"},
            estimators={
                "mu": "μ̂ = (1/n)∑xᵢ = x̄, the sample mean",
                "sigma^2": "σ̂² = (1/n)∑(xᵢ − x̄)², the sample variance with divisor n "
                "(biased: the unbiased estimate divides by n − 1)",
            },
            sample=Normal(MU * sp.OneMatrix(n, 1), SIGMA2 * sp.Identity(n)),
            means={"sigma^2": (n - 1) * SIGMA2 / n},
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
            density=bernoulli_density(x[i], P),
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
            density=poisson_density(x[i], LAMBDA),
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
            density=exponential_density(x[i], LAMBDA),
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
            density=laplace_density(x[i], MU, B),
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
            minimiser_remark=(
                "in μ the NLL (1/b)∑|xᵢ − μ| + n·log(2b) is convex and piecewise linear: "
                "its second derivative is 0 away from the data, so the second-derivative "
                "test says nothing, but convexity makes the median, where the derivative "
                "changes sign, a global minimiser for every b; b̂ then minimises over b"
            ),
        ),
    )
}


def family(name: str) -> Family:
    try:
        return FAMILIES[name]
    except KeyError:
        raise UnknownNameError("family", name, sorted(FAMILIES)) from None
