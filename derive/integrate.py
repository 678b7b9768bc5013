"""Expectations and integrals, numerically: the checker's independent methods.

An expression affine in its expectation nodes, c₀ + Σ c_k E_{x∼D}[f_k(x)], all over one
x ∼ D, is the expectation of its integrand c₀ + Σ c_k f_k(x). `integrand` finds it;
`draw_from` draws x from D (a Gaussian by its Cholesky factor; a Bernoulli as its two
outcomes with their probabilities, so that the expectation is exact); `values_at` evaluates
an integrand at many draws with ``jax.vmap``. `integrate_unit` integrates over (0, 1) by
tanh-sinh quadrature, which is exact to rounding for the integrable end-point singularities
of a Beta density with a shape below 1.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import sympy as sp

from derive.distributions import Bernoulli, Distribution, Expectation, Normal
from derive.errors import InputError, UnsupportedError
from derive.evaluate import evaluate

#: draws for a Monte Carlo expectation: its standard error is about 0.2 % of the spread
from derive.jax_runtime import import_jax

#: draws for a Monte Carlo expectation: its standard error is about 0.2 % of the spread
MC_DRAWS = 200_000
#: how many standard errors a Monte Carlo estimate may be from the closed form
MC_SIGMAS = 5.0
#: draws at which two integrands must agree for a "pointwise" step
POINTWISE_DRAWS = 8

# --- the integrand of an expression affine in expectations -----------------------------------


def _affine(e: sp.Basic) -> bool:
    """Whether e is c₀ + Σ c_k E[f_k] with the c's free of expectations."""
    if isinstance(e, Expectation):
        return not e.body.atoms(Expectation)
    if not e.atoms(Expectation):
        return True
    if isinstance(e, sp.Add):
        return all(_affine(a) for a in e.args)
    if isinstance(e, sp.Mul):
        inside = [a for a in e.args if a.atoms(Expectation)]
        return len(inside) == 1 and _affine(inside[0])
    return False


def integrand(e: sp.Basic) -> tuple[sp.Basic, sp.Basic | None, Distribution | None]:
    """(the integrand of e, the random variable, its distribution); (e, None, None) without
    expectations. Raises `UnsupportedError` unless e is affine in expectations over one x ∼ D.
    """
    nodes = e.atoms(Expectation)
    if not nodes:
        return e, None, None
    if not _affine(e):
        raise UnsupportedError(
            "a numeric check of an expression that is not affine in its expectations", str(e)
        )
    pairs = {(n.var, n.dist) for n in nodes}
    if len(pairs) > 1:
        raise UnsupportedError("a numeric check of expectations over different distributions")
    ((var, dist),) = pairs
    return e.xreplace({n: n.body for n in nodes}), var, dist


def shared(*parts: tuple[sp.Basic, sp.Basic | None, Distribution | None]):
    """The one (var, dist) that the integrands `parts` are over; an error if they differ."""
    found = {(v, d) for _, v, d in parts if d is not None}
    if len(found) > 1:
        raise UnsupportedError(
            "a numeric check comparing expectations over different distributions"
        )
    if not found:
        raise InputError("an expectation check needs an expectation on one side")
    return next(iter(found))


# --- drawing the random variable -------------------------------------------------------------


def _num(e: sp.Basic, values: Mapping[str, np.ndarray], dims: Mapping[str, int]) -> np.ndarray:
    return np.asarray(evaluate(e, values, dims), dtype=float)


def draw_from(
    dist: Distribution,
    values: Mapping[str, np.ndarray],
    dims: Mapping[str, int],
    rng: np.random.Generator,
    count: int,
) -> tuple[np.ndarray, np.ndarray | None]:
    """(draws of x ∼ dist stacked on axis 0, weights or None).

    A Bernoulli gives its two outcomes 0, 1 with weights 1 − p, p (an exact expectation);
    a Gaussian gives `count` independent draws m + L z, L the Cholesky factor of Σ.
    """
    if isinstance(dist, Bernoulli):
        p = float(_num(dist.p, values, dims))
        if not 0.0 <= p <= 1.0:
            raise InputError(f"a Bernoulli probability {p} outside [0, 1]")
        return np.array([0.0, 1.0]), np.array([1.0 - p, p])
    if isinstance(dist, Normal):
        mean, cov = _num(dist.mean, values, dims), _num(dist.cov, values, dims)
        if mean.ndim == 0:
            if not cov > 0:
                raise InputError(f"a Gaussian variance {cov} that is not positive")
            return mean + np.sqrt(cov) * rng.standard_normal(count), None
        try:
            chol = np.linalg.cholesky(cov)
        except np.linalg.LinAlgError:
            raise InputError("a Gaussian covariance that is not positive definite") from None
        z = rng.standard_normal((count, mean.shape[0]))
        return (mean.reshape(1, -1) + z @ chol.T).reshape(count, -1, 1), None
    raise UnsupportedError(f"drawing from the distribution {type(dist).__name__}")


def values_at(
    e: sp.Basic,
    var: sp.Basic,
    draws: np.ndarray,
    values: Mapping[str, np.ndarray],
    dims: Mapping[str, int],
    varying: Iterable[str] = (),
) -> np.ndarray:
    """e evaluated at each draw of `var` (axis 0 of `draws`), vectorised by ``jax.vmap``."""
    jax = import_jax()
    at = vectorised(e, var, values, dims, varying)
    return np.asarray(at(jax.numpy.asarray(draws)), dtype=float)


def vectorised(
    e: sp.Basic,
    var: sp.Basic,
    values: Mapping[str, np.ndarray],
    dims: Mapping[str, int],
    varying: Iterable[str] = (),
) -> Callable:
    """The JAX function taking draws of `var` (stacked on axis 0) to the values of the scalar
    e at each, by ``jax.vmap``: what `values_at` computes, for a caller that traces it."""
    jax = import_jax()
    varying = tuple(varying)

    def one(v):
        out = evaluate(e, {**values, var.name: v}, dims, backend="jax", varying=varying)
        if out.size != 1:
            raise UnsupportedError("the expectation of a non-scalar", str(e))
        return out.reshape(())

    return jax.vmap(one)


# --- integrals over (0, 1) -------------------------------------------------------------------


def tanh_sinh_nodes(level: int = 7, span: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    """Nodes θ_k in (0, 1) and weights w_k with ∫₀¹ f ≈ Σ w_k f(θ_k) (double-exponential rule).

    θ = (1 + tanh(π/2 · sinh t))/2 on a grid of step 2^-level over t ∈ [−span, span]; the
    weights decay double-exponentially, so integrable end-point singularities cost nothing.
    """
    h = 2.0**-level
    t = np.arange(-span, span + h / 2, h)
    u = np.pi / 2 * np.sinh(t)
    theta = 1.0 / (1.0 + np.exp(-2.0 * u))
    weights = h * (np.pi / 2) * np.cosh(t) / (2.0 * np.cosh(u) ** 2)
    keep = (theta > 0.0) & (theta < 1.0)
    return theta[keep], weights[keep]


def integrate_unit(f: Callable[[np.ndarray], np.ndarray]) -> float:
    """∫₀¹ f(θ) dθ for f vectorised over θ, by the tanh-sinh rule."""
    theta, weights = tanh_sinh_nodes()
    vals = np.asarray(f(theta), dtype=float)
    if not np.all(np.isfinite(vals)):
        raise InputError("the integrand is not finite inside (0, 1)")
    return float(np.sum(weights * vals))
