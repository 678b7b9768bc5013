"""What is checked, by relation: one `Item` per step, built from the step's `relation`
(see `derive.model.Relation`) by `relation_runner`."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp

from derive.check.measure import (
    FLOOR,
    TOLERANCE,
    conform,
    finite,
    has_differential,
    maxabs,
    names_read,
    relative,
    scale_of,
    terms_of,
    value_of,
    vanishing,
)
from derive.check.trial import Trial
from derive.errors import DeriveError, InputError, ShapeError, UnsupportedError, VerificationError
from derive.model import Step


@dataclass(frozen=True)
class Item:
    """One thing to verify: `run` returns its error on a trial, or raises."""

    name: str  # in failure messages: "step 4 (Cyclic property of the trace)"
    label: str  # in the report: "step 4: Cyclic property of the trace"
    method: str
    measure: str  # "relative error" or "scaled error"
    run: Callable[[Trial], float]


def _equal(before: sp.Basic, after: sp.Basic, varying: tuple[str, ...], salt: int) -> Callable:
    """before == after at the trial values, differentials as JVPs in the trial directions."""
    reads = names_read(before, after, varying=varying)

    def run(tr: Trial) -> float:
        a = value_of(before, tr.values, tr.dims, varying)
        b = value_of(after, tr.values, tr.dims, varying)
        return relative(a, b, scale_of(tr.values, reads))

    return run


def pieces(after: sp.Basic, wrt: tuple[str, ...], what: str) -> tuple[sp.Basic, ...]:
    if len(wrt) == 1:
        return (after,)
    if isinstance(after, sp.Tuple) and len(after) == len(wrt):
        return tuple(after)
    raise InputError(f"a {what} with respect to {', '.join(wrt)} needs one result per symbol")


def _gradient(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int) -> Callable:
    """before == Σ tr(G_wᵀ dW) over the symbols w of `wrt`, in random directions dW."""
    if not wrt:
        raise InputError("a gradient step needs the symbol it is taken with respect to")
    grads = pieces(after, wrt, "gradient")
    reads = names_read(before, after, varying=wrt)

    def run(tr: Trial) -> float:
        values = tr.only_directions(wrt)
        lhs = value_of(before, values, tr.dims, wrt)
        rhs = 0.0
        for g_expr, w in zip(grads, wrt, strict=True):
            g, dw = value_of(g_expr, values, tr.dims), values["d" + w]
            if g.shape != dw.shape and not g.size == dw.size == 1:
                raise ShapeError(f"the gradient has shape {g.shape} but {w} has {dw.shape}")
            rhs = rhs + float(np.sum(g.reshape(dw.shape) * dw))
        return relative(lhs, np.asarray(rhs), scale_of(values, reads))

    return run


def _jacobian(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int) -> Callable:
    """before == J dx for the one vector (or scalar) x of `wrt`, in a random direction dx."""
    if len(wrt) != 1:
        raise InputError("a Jacobian step is taken with respect to exactly one symbol")
    (w,) = wrt
    reads = names_read(before, after, varying=wrt)

    def run(tr: Trial) -> float:
        values = tr.only_directions(wrt)
        jac, dx = value_of(after, values, tr.dims), values["d" + w]
        if dx.ndim == 2 and dx.shape[1] != 1:
            raise UnsupportedError("a Jacobian with respect to a matrix")
        rhs = jac * dx if dx.ndim == 0 else jac @ dx
        lhs = value_of(before, values, tr.dims, wrt)
        return relative(lhs, rhs, scale_of(values, reads))

    return run


def _residual(before: sp.Basic, values: Mapping, dims: Mapping) -> tuple[np.ndarray, float]:
    """The value of `before` (lhs − rhs for an equation) and the size of its terms."""
    if isinstance(before, sp.Equality):
        sides = [(before.lhs, 1.0), (before.rhs, -1.0)]
    else:
        sides = [(before, 1.0)]
    total = None
    size = 0.0
    for side, sign in sides:
        v = value_of(side, values, dims)
        total = sign * v if total is None else total + sign * v
        terms = terms_of(side)
        if len(terms) > 1:
            size = max([size] + [maxabs(value_of(t, values, dims)) for t in terms])
        size = max(size, maxabs(v))
    return total, size


def _solve(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int) -> Callable:
    """`before` vanishes when the parameter wrt[0] is set to `after`."""
    if not wrt:
        raise InputError("a solve step names the parameter solved for in wrt")
    theta = wrt[0]
    reads = names_read(before, after)

    def run(tr: Trial) -> float:
        solution = value_of(after, tr.values, tr.dims)
        old = tr.values.get(theta)
        if old is not None and solution.size != old.size:
            raise ShapeError(f"the solution has shape {solution.shape}, {theta} has {old.shape}")
        values = {**tr.values, theta: solution if old is None else solution.reshape(old.shape)}
        r, size = _residual(before, values, tr.dims)
        # The residual away from the solution measures how large its terms typically are.
        away = maxabs(_residual(before, tr.values, tr.dims)[0]) if old is not None else 0.0
        return vanishing(r, max(size, away, scale_of(values, reads)))

    return run


def _constant(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int) -> Callable:
    """before − after is the same after the symbols of `wrt` are drawn afresh."""
    if not wrt:
        raise InputError("a constant step names the symbols it is constant in")
    reads = names_read(before, after)

    def run(tr: Trial) -> float:
        sides = []
        for values in (tr.values, tr.redraw(wrt, salt)):
            b = value_of(before, values, tr.dims)
            a = value_of(after, values, tr.dims)
            sides.append(conform(b, a))
        (b1, a1), (b2, a2) = sides
        finite(b1, a1, b2, a2)
        mag = max(maxabs(b1), maxabs(a1), maxabs(b2), maxabs(a2))
        floor = FLOOR * (1.0 + scale_of(tr.values, reads))
        return maxabs((b1 - a1) - (b2 - a2)) / max(mag, floor)

    return run


def _constrained(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int) -> Callable:
    """before == after on the constraint set: each symbol of `wrt` drawn, then scaled to unit
    norm (uᵀu = 1; ‖U‖_F = 1 for a matrix), as where a Lagrangian equals its objective."""
    if not wrt:
        raise InputError("a constrained step names the symbols held to unit norm in wrt")
    reads = names_read(before, after)

    def run(tr: Trial) -> float:
        values = dict(tr.values)
        for w in wrt:
            if w not in values:
                raise InputError(f"{w} is not a given symbol, so cannot be held to unit norm")
            norm = float(np.linalg.norm(values[w]))
            if not norm > 0:
                raise VerificationError(f"{w} was drawn as zero and cannot be normalised")
            values[w] = values[w] / norm
        a = value_of(before, values, tr.dims)
        b = value_of(after, values, tr.dims)
        return relative(a, b, scale_of(values, reads))

    return run


# Expectations (derive.integrate): an expression affine in E_{x∼D}[·] is the expectation
# of its integrand, so two sides are compared through their integrands at draws of x ∼ D.
# A Monte Carlo comparison is measured in standard errors of the mean difference and passes
# within MC_SIGMAS; an exact one (a Bernoulli, by enumeration) by the relative error.
STANDARD_ERRORS = "standard errors"


def _sides(before: sp.Basic, after: sp.Basic):
    from derive.integrate import integrand, shared

    b, a = integrand(before), integrand(after)
    var, dist = shared(b, a)
    return b[0], a[0], var, dist


def _expectation(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int):
    """E[before] == E[after] over x ∼ D: exactly for a Bernoulli, else within MC_SIGMAS
    standard errors of a Monte Carlo mean of the integrands' difference (common draws)."""
    from derive.integrate import MC_DRAWS, MC_SIGMAS, draw_from, values_at
    from derive.rules.expectation import Bernoulli

    fb, fa, var, dist = _sides(before, after)
    reads = names_read(before, after, varying=wrt)
    exact = isinstance(dist, Bernoulli)

    def run(tr: Trial) -> float:
        rng = np.random.default_rng([tr.seed, tr.index, salt, 17])
        xs, weights = draw_from(dist, tr.values, tr.dims, rng, MC_DRAWS)
        zb = values_at(fb, var, xs, tr.values, tr.dims, wrt)
        za = values_at(fa, var, xs, tr.values, tr.dims, wrt)
        finite(zb, za)
        scale = scale_of(tr.values, reads)
        if exact:
            return relative(np.dot(weights, zb), np.dot(weights, za), scale)
        z = zb - za
        se = float(np.std(z, ddof=1)) / math.sqrt(z.size)
        # An exact pointwise identity has se = 0: rounding then decides, as for "equal".
        return abs(float(np.mean(z))) / (se + TOLERANCE / MC_SIGMAS * (1.0 + scale))

    if exact:
        return run, "exact expectation (enumeration)", "relative error"
    return run, f"Monte Carlo, {MC_DRAWS:,} draws", STANDARD_ERRORS


def _pointwise(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int):
    """The integrands of before and after agree at draws of x ∼ D (every outcome of a
    Bernoulli), so the expectations agree."""
    from derive.integrate import POINTWISE_DRAWS, draw_from, values_at

    fb, fa, var, dist = _sides(before, after)
    reads = names_read(before, after, varying=wrt)

    def run(tr: Trial) -> float:
        rng = np.random.default_rng([tr.seed, tr.index, salt, 19])
        xs, _ = draw_from(dist, tr.values, tr.dims, rng, POINTWISE_DRAWS)
        zb = values_at(fb, var, xs, tr.values, tr.dims, wrt)
        za = values_at(fa, var, xs, tr.values, tr.dims, wrt)
        return relative(zb, za, scale_of(tr.values, reads))

    return run, "integrands at draws of x", "relative error"


_EXPECTATION_RELATIONS: dict[str, Callable] = {
    "pointwise": _pointwise,
    "monte-carlo": _expectation,
    "integral": lambda before, after, wrt, salt: integral(before, after, wrt),
}


def integral(function: sp.Basic, expr: sp.Basic, wrt: tuple[str, ...]):
    """∫₀¹ function dθ == expr, θ = wrt[0], by tanh-sinh quadrature (derive.integrate)."""
    from derive.integrate import integrate_unit

    if len(wrt) != 1:
        raise InputError("an integral claim names the one variable of integration in wrt")
    (theta,) = wrt
    reads = names_read(function, expr)

    def run(tr: Trial) -> float:
        from derive.integrate import values_at

        var = sp.Symbol(theta)
        total = integrate_unit(lambda t: values_at(function, var, t, tr.values, tr.dims))
        return relative(
            np.asarray(total), value_of(expr, tr.values, tr.dims), scale_of(tr.values, reads)
        )

    return run, "tanh-sinh quadrature over (0, 1)", "relative error"


# relation → (how to check it, the method named in the report, the error measure). Each
# builder takes (before, after, wrt, salt); `salt` seeds the redraws of "constant".
def _symmetric_gradient(
    before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int
) -> Callable:
    """before == Σ_{i≤j} S_ij dX_ij for a random symmetric direction dX: S is the derivative
    with respect to the free entries of a symmetric X (Cookbook (138) convention)."""
    if len(wrt) != 1:
        raise InputError("a symmetric gradient is taken with respect to exactly one matrix")
    (w,) = wrt
    reads = names_read(before, after, varying=wrt)

    def run(tr: Trial) -> float:
        values = tr.only_directions(wrt)
        dw = values["d" + w]
        if dw.ndim != 2 or dw.shape[0] != dw.shape[1] or not np.allclose(dw, dw.T):
            raise UnsupportedError(f"a symmetric gradient with respect to {w}, not symmetric")
        s = value_of(after, values, tr.dims).reshape(dw.shape)
        upper = np.triu_indices(dw.shape[0])
        rhs = np.asarray(float(np.sum(s[upper] * dw[upper])))
        return relative(value_of(before, values, tr.dims, wrt), rhs, scale_of(values, reads))

    return run


_RELATIONS: dict[str, tuple[Callable, str, str]] = {
    "equal": (_equal, "evaluation", "relative error"),
    "gradient": (_gradient, "tr(Gᵀ dX), dX random", "relative error"),
    "symmetric-gradient": (
        _symmetric_gradient,
        "Σ_{i≤j} S_ij dX_ij, dX random symmetric",
        "relative error",
    ),
    "jacobian": (_jacobian, "J dx, dx random", "relative error"),
    "solve": (_solve, "substitution", "scaled error"),
    "constant": (_constant, "redraw", "relative error"),
    "constrained": (_constrained, "evaluation at unit-norm points", "relative error"),
}


def relation_runner(
    relation: str, before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int
) -> tuple[Callable, str, str]:
    """The runner, method name and error measure for a step-like `relation`."""
    if relation in _EXPECTATION_RELATIONS:
        return _EXPECTATION_RELATIONS[relation](before, after, wrt, salt)
    if relation not in _RELATIONS:
        raise UnsupportedError(f"the relation {relation!r}")
    build, method, measure = _RELATIONS[relation]
    if relation == "equal" and (has_differential(before) or has_differential(after)):
        method = "jax.jvp"
    return build(before, after, wrt, salt), method, measure


def broken(name: str, label: str, exc: Exception) -> Item:
    """An item that cannot even be set up: it fails on every trial with the reason."""

    def run(tr: Trial) -> float:
        raise exc

    return Item(name, label, "none", "relative error", run)


def step_item(index: int, step: Step, wrt: tuple[str, ...]) -> Item:
    name = f"step {index} ({step.rule.name})"
    label = f"step {index}: {step.rule.name}"
    try:
        run, method, measure = relation_runner(step.relation, step.before, step.after, wrt, index)
    except DeriveError as exc:
        return broken(name, label, exc)
    return Item(name, label, method, measure, run)
