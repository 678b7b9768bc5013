"""What is checked, by relation: one `Item` per step, built from the step's `relation`
(see `derive.model.Relation`) by `relation_runner`."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp

from derive.check.measure import (
    STEP,
    TOLERANCE,
    conditioning,
    conform,
    direction,
    finite,
    has_differential,
    maxabs,
    names_read,
    relative,
    scale_of,
    substitute,
    terms_of,
    value_and_size,
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

    def run(tr: Trial) -> float:
        a, size_a = value_and_size(before, tr.values, tr.dims, varying)
        b, size_b = value_and_size(after, tr.values, tr.dims, varying)
        error = relative(a, b, size_a, size_b)
        return error / conditioning((before, after), tr.values, tr.dims)

    return run


def pieces(after: sp.Basic, wrt: tuple[str, ...], what: str) -> tuple[sp.Basic, ...]:
    if len(wrt) == 1:
        return (after,)
    if isinstance(after, sp.Tuple) and len(after) == len(wrt):
        return tuple(after)
    raise InputError(f"a {what} with respect to {', '.join(wrt)} needs one result per symbol")


def _gradient(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int) -> Callable:
    """before == Σ tr(G_wᵀ dW) over the symbols w of `wrt`, in random directions dW; the
    right side's size is Σ |G_w| |dW| (its products, before they are summed)."""
    if not wrt:
        raise InputError("a gradient step needs the symbol it is taken with respect to")
    grads = pieces(after, wrt, "gradient")

    def run(tr: Trial) -> float:
        values = tr.only_directions(wrt)
        lhs, size_lhs = value_and_size(before, values, tr.dims, wrt)
        rhs = size_rhs = 0.0
        for g_expr, w in zip(grads, wrt, strict=True):
            (g, size), dw = value_and_size(g_expr, values, tr.dims), values["d" + w]
            if g.shape != dw.shape and not g.size == dw.size == 1:
                raise ShapeError(f"the gradient has shape {g.shape} but {w} has {dw.shape}")
            rhs = rhs + float(np.sum(g.reshape(dw.shape) * dw))
            size_rhs = size_rhs + float(np.sum(size.reshape(dw.shape) * np.abs(dw)))
        error = relative(lhs, np.asarray(rhs), size_lhs, size_rhs)
        return error / conditioning((before, after), values, tr.dims)

    return run


def _jacobian(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int) -> Callable:
    """before == J dx for the one vector (or scalar) x of `wrt`, in a random direction dx."""
    if len(wrt) != 1:
        raise InputError("a Jacobian step is taken with respect to exactly one symbol")
    (w,) = wrt

    def run(tr: Trial) -> float:
        values = tr.only_directions(wrt)
        (jac, size), dx = value_and_size(after, values, tr.dims), values["d" + w]
        if dx.ndim == 2 and dx.shape[1] != 1:  # a matrix X: J vec(dX), vec stacking columns
            dx = dx.reshape(-1, 1, order="F")
        rhs = jac * dx if dx.ndim == 0 else jac @ dx
        size_rhs = size * np.abs(dx) if dx.ndim == 0 else size @ np.abs(dx)
        lhs, size_lhs = value_and_size(before, values, tr.dims, wrt)
        error = relative(lhs, rhs, size_lhs, size_rhs)
        return error / conditioning((before, after), values, tr.dims)

    return run


def _hessian(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int) -> Callable:
    """before == vec(dX)ᵀ H vec(dX) for the one symbol X of `wrt` in a random direction dX
    (vec stacking columns), and H = Hᵀ: H read off a second differential."""
    if len(wrt) != 1:
        raise InputError("a Hessian step is taken with respect to exactly one symbol")
    (w,) = wrt

    def run(tr: Trial) -> float:
        values = tr.only_directions(wrt)
        (h, size), dx = value_and_size(after, values, tr.dims), values["d" + w]
        dx = dx.reshape(-1, 1, order="F")
        if h.shape != (dx.size, dx.size):
            raise ShapeError(f"the Hessian has shape {h.shape}, vec(d{w}) has {dx.size} entries")
        lhs, size_lhs = value_and_size(before, values, tr.dims, wrt)
        quadratic = relative(lhs, dx.T @ h @ dx, size_lhs, np.abs(dx).T @ size @ np.abs(dx))
        error = max(quadratic, relative(h, h.T, size, size.T))
        return error / conditioning((before, after), values, tr.dims)

    return run


def _residual(before: sp.Basic, values: Mapping, dims: Mapping) -> tuple[np.ndarray, float]:
    """The value of `before` (lhs − rhs for an equation) and the size of its terms."""
    if isinstance(before, sp.Equality):
        (lhs, size_lhs), (rhs, size_rhs) = (
            value_and_size(side, values, dims) for side in (before.lhs, before.rhs)
        )
        return lhs - rhs, max(maxabs(size_lhs), maxabs(size_rhs))
    total, size = value_and_size(before, values, dims)
    return total, maxabs(size)


def _solve(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int) -> Callable:
    """`before` vanishes when the parameter θ = wrt[0] is set to θ* = `after`: its residual
    r(θ*) against the size of its terms and against ``|r(θ* + h u) − r(θ*)| / h``, how fast
    it grows as θ* moves by a relative h (`derive.check.measure.vanishing`)."""
    if not wrt:
        raise InputError("a solve step names the parameter solved for in wrt")
    theta = wrt[0]
    reads = names_read(before, after)

    def run(tr: Trial) -> float:
        solution = value_of(after, tr.values, tr.dims)
        solution = substitute(solution, tr.values.get(theta), f"the solution for {theta}")
        values = {**tr.values, theta: solution}
        r, size = _residual(before, values, tr.dims)
        moved = solution + STEP * direction(solution, scale_of(tr.values, reads))
        r_moved, _ = _residual(before, {**values, theta: moved}, tr.dims)
        error = vanishing(r, size, (r_moved - r) / STEP)
        return error / conditioning((before, after), values, tr.dims)

    return run


def _constant(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int) -> Callable:
    """before − after is the same after the symbols of `wrt` are drawn afresh."""
    if not wrt:
        raise InputError("a constant step names the symbols it is constant in")

    def run(tr: Trial) -> float:
        differences, size, kappa = [], 0.0, 1.0
        for values in (tr.values, tr.redraw(wrt, salt)):
            b, size_b = value_and_size(before, values, tr.dims)
            a, size_a = value_and_size(after, values, tr.dims)
            b, a = conform(b, a)
            differences.append(b - a)
            size = max(size, maxabs(size_b), maxabs(size_a))
            kappa = max(kappa, conditioning((before, after), values, tr.dims))
        return relative(*differences, size) / kappa

    return run


def _constrained(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int) -> Callable:
    """before == after on the constraint set: each symbol of `wrt` drawn, then scaled to unit
    norm (uᵀu = 1; ‖U‖_F = 1 for a matrix), as where a Lagrangian equals its objective."""
    if not wrt:
        raise InputError("a constrained step names the symbols held to unit norm in wrt")

    def run(tr: Trial) -> float:
        values = dict(tr.values)
        for w in wrt:
            if w not in values:
                raise InputError(f"{w} is not a given symbol, so cannot be held to unit norm")
            norm = float(np.linalg.norm(values[w]))
            if not norm > 0:
                raise VerificationError(f"{w} was drawn as zero and cannot be normalised")
            values[w] = values[w] / norm
        a, size_a = value_and_size(before, values, tr.dims)
        b, size_b = value_and_size(after, values, tr.dims)
        return relative(a, b, size_a, size_b) / conditioning((before, after), values, tr.dims)

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


def _integrand(
    f: sp.Basic, var: sp.Symbol, xs: np.ndarray, tr: Trial, wrt: tuple[str, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """The integrand f at each draw of x, and its size Σ_t |t| over its top-level summands."""
    from derive.check.compiled import values_at

    parts = [values_at(t, var, xs, tr.values, tr.dims, wrt) for t in terms_of(f)]
    finite(*parts)
    return sum(parts[1:], parts[0]), sum((np.abs(p) for p in parts[1:]), np.abs(parts[0]))


def _expectation(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int):
    """E[before] == E[after] over x ∼ D: exactly for a Bernoulli, else within MC_SIGMAS
    standard errors of a Monte Carlo mean of the integrands' difference (common draws)."""
    from derive.check.compiled import draw_from
    from derive.integrate import MC_DRAWS, MC_SIGMAS
    from derive.rules.expectation import Bernoulli

    fb, fa, var, dist = _sides(before, after)
    exact = isinstance(dist, Bernoulli)

    def run(tr: Trial) -> float:
        rng = np.random.default_rng([tr.seed, tr.index, salt, 17])
        xs, weights = draw_from(dist, tr.values, tr.dims, rng, MC_DRAWS)
        zb, size_b = _integrand(fb, var, xs, tr, wrt)
        za, size_a = _integrand(fa, var, xs, tr, wrt)
        if exact:  # the weights are probabilities: Σ w |z| is the size of Σ w z
            return relative(weights @ zb, weights @ za, weights @ size_b, weights @ size_a)
        z = zb - za
        se = float(np.std(z, ddof=1)) / math.sqrt(z.size)
        # An exact pointwise identity has se = 0: rounding then decides, as for "equal".
        size = float(np.mean(np.maximum(size_b, size_a)))
        return abs(float(np.mean(z))) / (se + TOLERANCE / MC_SIGMAS * size)

    if exact:
        return run, "exact expectation (enumeration)", "relative error"
    return run, f"Monte Carlo, {MC_DRAWS:,} draws", STANDARD_ERRORS


def _pointwise(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int):
    """The integrands of before and after agree at draws of x ∼ D (every outcome of a
    Bernoulli), so the expectations agree."""
    from derive.check.compiled import draw_from
    from derive.integrate import POINTWISE_DRAWS

    fb, fa, var, dist = _sides(before, after)

    def run(tr: Trial) -> float:
        rng = np.random.default_rng([tr.seed, tr.index, salt, 19])
        xs, _ = draw_from(dist, tr.values, tr.dims, rng, POINTWISE_DRAWS)
        zb, size_b = _integrand(fb, var, xs, tr, wrt)
        za, size_a = _integrand(fa, var, xs, tr, wrt)
        return relative(zb, za, size_b, size_a)

    return run, "integrands at draws of x", "relative error"


_EXPECTATION_RELATIONS: dict[str, Callable] = {
    "pointwise": _pointwise,
    "monte-carlo": _expectation,
    "integral": lambda before, after, wrt, salt: integral(before, after, wrt),
}


def integral(function: sp.Basic, expr: sp.Basic, wrt: tuple[str, ...]):
    """∫₀¹ function dθ == expr, θ = wrt[0], by tanh-sinh quadrature (derive.integrate); the
    size of the quadrature is ∫₀¹ |function| dθ by the same rule."""
    from derive.integrate import integrate_unit

    if len(wrt) != 1:
        raise InputError("an integral claim names the one variable of integration in wrt")
    (theta,) = wrt

    def run(tr: Trial) -> float:
        from derive.check.compiled import values_at

        var = sp.Symbol(theta)
        seen: list[np.ndarray] = []

        def integrand(t: np.ndarray) -> np.ndarray:
            seen.append(values_at(function, var, t, tr.values, tr.dims))
            return seen[-1]

        total = integrate_unit(integrand)
        size = integrate_unit(lambda t: np.abs(seen[-1]))
        value, size_expr = value_and_size(expr, tr.values, tr.dims)
        return relative(np.asarray(total), value, size, size_expr)

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

    def run(tr: Trial) -> float:
        values = tr.only_directions(wrt)
        dw = values["d" + w]
        if dw.ndim != 2 or dw.shape[0] != dw.shape[1] or not np.allclose(dw, dw.T):
            raise UnsupportedError(f"a symmetric gradient with respect to {w}, not symmetric")
        s, size = (a.reshape(dw.shape) for a in value_and_size(after, values, tr.dims))
        upper = np.triu_indices(dw.shape[0])
        rhs = np.asarray(float(np.sum(s[upper] * dw[upper])))
        size_rhs = float(np.sum(size[upper] * np.abs(dw[upper])))
        lhs, size_lhs = value_and_size(before, values, tr.dims, wrt)
        error = relative(lhs, rhs, size_lhs, size_rhs)
        return error / conditioning((before, after), values, tr.dims)

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
    "hessian": (_hessian, "vec(dX)ᵀ H vec(dX), dX random; H = Hᵀ", "relative error"),
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
