"""Maximum likelihood: `mle_derivation` for every family `families()` names, the scalar
families through the i.i.d. pipeline, the models with matrix parameters each its own way."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

import derive.families as fm
from derive.distributions import Expectation
from derive.errors import InputError, UnknownNameError
from derive.likelihood.categorical import categorical
from derive.likelihood.mvn import mvn
from derive.likelihood.pipeline import Builder
from derive.likelihood.regression import linear_regression, logistic_regression
from derive.likelihood.second_order import second_order, unicode
from derive.likelihood.symbols import hat, hat_name
from derive.model import Claim, Derivation, Given, Remark
from derive.rules import probability as pr

if TYPE_CHECKING:  # numpy is imported only when a check runs
    import numpy as np

#: the models whose parameters are vectors or matrices, derived with the matrix engine
MATRIX_MODELS = {
    "linear-regression": linear_regression,
    "logistic-regression": logistic_regression,
    "mvn": mvn,
    "categorical": categorical,
}


def families() -> list[str]:
    """Every family `mle_derivation` knows, scalar families first."""
    return [*fm.FAMILIES, *MATRIX_MODELS]


#: offsets from θ̂ at which a non-smooth NLL is compared (besides every observation)
PERTURBATIONS = (1e-6, 1e-3, 0.05, 0.5, 2.0)


def _minimiser_claim(
    fam: fm.Family, theta: sp.Symbol, nll: sp.Expr, grad: sp.Expr, estimate: sp.Expr
) -> Claim:
    """θ̂ (a median) minimises the NLL over θ, checked against numpy.median.

    The reference compares θ̂ with ``numpy.median`` of the data, the derivative ∂NLL/∂θ at θ̂
    with 0, and NLL(θ̂) with the least NLL at θ̂ ± PERTURBATIONS and at every observation (a
    piecewise-linear convex function is least at a data point), the other parameters at their
    random values; for an even number of observations, also with the NLL at a point between
    the two middle ones (where every point minimises it).
    """
    name = theta.name

    def reference(values: dict, value) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np  # only when checking

        at = float(value(estimate, values))
        moved = {**values, name: np.asarray(at)}
        slope = float(value(grad, moved))
        least = float(value(nll, moved))
        points = [at + s * e for e in PERTURBATIONS for s in (1.0, -1.0)]
        points += [float(v) for v in np.ravel(values["x"])]
        for p in points:
            least = min(least, float(value(nll, {**values, name: np.asarray(p)})))
        derived = [at, slope, float(value(nll, moved))]
        expected = [float(np.median(values["x"])), 0.0, least]
        data = np.sort(np.ravel(values["x"]))
        if data.size % 2 == 0:  # 0.3 of the way between the two middle observations
            middle = data[data.size // 2 - 1 : data.size // 2 + 1]
            between = {**values, name: np.asarray(0.7 * middle[0] + 0.3 * middle[1])}
            derived.append(float(value(nll, between)))
            expected.append(least)
        return np.array(derived), np.array(expected)

    shown, hatted = fam.show(name), hat_name(fam, theta)
    return Claim(
        "reference",
        f"{hatted} is the median of the data (numpy.median), ∂NLL/∂{shown} vanishes there, "
        f"and the NLL is no larger at perturbed {shown} or at any observation (for even n, "
        "and the same between the two middle ones)",
        estimate,
        nll,
        (name,),
        method="numpy.median",
        reference=reference,
    )


def _mean_claim(fam: fm.Family, theta: sp.Symbol, estimate: sp.Expr) -> Claim:
    """E[θ̂] = fam.means[θ] over samples x ∼ fam.sample, by Monte Carlo (σ̂² is biased)."""
    mean = fam.means[theta.name]
    return Claim(
        "expectation",
        f"E[{hat_name(fam, theta)}] = {unicode(fam, mean)} over samples x of n observations",
        mean,
        Expectation(estimate, pr.x, fam.sample),
        (),
    )


def _given(fam: fm.Family) -> tuple[Given, ...]:
    data = Given("x", ("n",), fam.data, role="data")
    params = tuple(Given(t.name, (), fam.assumptions.get(t.name, ())) for t in fam.params)
    return (data, *params)


def mle_derivation(family: str, **options: object) -> Derivation:
    """The maximum-likelihood estimates of `family`'s parameters from an i.i.d. sample
    x_1, …, x_n, derived step by step: any of `families()` ("gaussian", "bernoulli",
    "poisson", "exponential", "laplace", "linear-regression", "logistic-regression", "mvn",
    "categorical").

    Results are ``(θ̂, estimate)`` pairs, the estimates written in the data (``Sum`` over
    ``x[i]``). Unknown family: `UnknownNameError`; no closed form: `UnsupportedError`.
    """
    if family in MATRIX_MODELS:
        if options:
            raise InputError(f"mle_derivation takes no options; got {', '.join(sorted(options))}")
        return MATRIX_MODELS[family]()
    if family not in fm.FAMILIES:
        raise UnknownNameError("family", family, families())
    fam = fm.family(family)
    if options:
        raise InputError(
            f"mle_derivation takes no options for {family!r}; got {', '.join(sorted(options))}"
        )
    b = Builder(fam)
    log_density = sp.log(fam.density, evaluate=False)
    objective = sp.Sum(log_density, pr.over_data())  # ℓ as first written: ∑ log p(x_i | θ)

    lik = b.likelihood()
    ell = b.log_likelihood(lik)
    nll = b.nll(ell)
    b.set_aside(nll, -objective)
    grads = {theta: b.gradient(nll, objective, theta) for theta in fam.params}
    estimates = b.solve(grads)
    hess = b.second_order(grads)
    hessian_claim, second_order_remark = second_order(
        fam, hess, b.partial, estimates, b.second_claims, nll
    )

    names = [t.name for t in fam.params]
    shown = ", ".join(fam.show(t) for t in names)
    hatted = ", ".join(hat_name(fam, t) for t in fam.params)
    smooth = [t.name for t in fam.smooth]
    which = "" if len(smooth) == len(names) else f" in {', '.join(map(fam.show, smooth))}"
    stationary = Claim(
        "stationary",
        f"the gradient of the log-likelihood{which} vanishes at ({hatted})",
        ell,
        objective,
        tuple(smooth),
        tuple((t.name, estimates[t]) for t in fam.params),
    )
    minimisers = [
        _minimiser_claim(fam, theta, nll, grads[theta], estimates[theta])
        for theta in fam.params
        if theta.name in fam.nonsmooth
    ]
    means = [
        _mean_claim(fam, theta, estimates[theta]) for theta in fam.params if theta.name in fam.means
    ]
    b.claims += [stationary, *minimisers, hessian_claim, *means]

    remarks = [second_order_remark]
    if fam.minimiser_remark:
        remarks.append(Remark.checked(fam.minimiser_remark, *minimisers))
    remarks.append(
        Remark.checked("; ".join(fam.estimators[t] for t in names), stationary, *minimisers, *means)
    )
    return Derivation(
        title=f"Maximum likelihood for {fam.title}",
        goal=(
            f"the maximum-likelihood estimates of {shown} from n independent observations "
            f"x₁, …, xₙ of {fam.title}: the values that maximise the likelihood "
            "(equivalently, minimise the negative log-likelihood)"
        ),
        given=_given(fam),
        objective=objective,
        wrt=tuple(names),
        steps=tuple(b.steps),
        results=tuple((hat(t), estimates[t]) for t in fam.params),
        claims=tuple(b.claims),
        name=f"{fam.name}-mle",
        remarks=tuple(remarks),
    )
