"""Verify derivations and rule examples numerically, against JAX autodiff.

Every step is checked by its `relation` (see `derive.model.Relation`) and every claim by its
kind, on `trials` random draws: sizes from `choose_dims` (distinct per dimension), values from
`draw` (honouring assumptions), random directions dX for the differentials (symmetric when X
is). Trial t of seed s uses ``numpy.random.default_rng([s, t])``, so a failure names the seed
and trial that reproduce it.

Two error measures, both in float64:

- relative error ``max|a − b| / max(|a|, |b|, FLOOR·(1 + scale))`` where two sides should
  agree;
- scaled error ``max|r| / (1 + scale)`` where a quantity r should vanish (a gradient at a
  stationary point, an equation at its solution), with `scale` the size of the terms.

`scale` is the largest magnitude among the values the item reads. An item passes when its
error is at most `TOLERANCE` on every trial. An item that cannot be evaluated (an unsupported
node, a shape mismatch, a NaN) fails, with the reason; it never passes.

JAX is imported when a check runs, not when this module is imported.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace

import numpy as np
import sympy as sp

from derive.errors import DeriveError, InputError, ShapeError, UnsupportedError, VerificationError
from derive.evaluate import evaluate, import_jax, names_used
from derive.expr import (
    DifferentialSymbol,
    MatDifferential,
    ScalarDifferential,
    ScalarDifferentialSymbol,
)
from derive.model import CheckReport, Claim, Derivation, Given, ItemCheck, RuleExample, Step
from derive.sampling import choose_dims, draw

TOLERANCE = 1e-8
# A Monte Carlo item (measure STANDARD_ERRORS) passes within this many standard errors.
MC_TOLERANCE = 5.0
# Two sides that are both this small relative to the inputs are compared absolutely: exact
# zeros (d of a constant) against rounding-level residues (X X⁻¹ − I) would otherwise show a
# relative error of order 1.
FLOOR = 1e-4

# What a wrong or unevaluable expression raises inside NumPy or JAX: the item fails with the
# message instead of crashing the checker. (LinAlgError is a ValueError.)
_EVALUATION_ERRORS = (DeriveError, ArithmeticError, ValueError, TypeError, IndexError)


# --- one random draw -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Trial:
    """The inputs of one trial: vectors as (n, 1) columns, plus a direction "d"+name for each."""

    given: tuple[Given, ...]
    seed: int
    index: int
    dims: dict[str, int]
    values: dict[str, np.ndarray]

    @classmethod
    def draw(
        cls,
        given: tuple[Given, ...],
        seed: int,
        index: int,
        definitions: tuple[tuple[sp.Basic, sp.Basic], ...] = (),
        reverse: bool = False,
    ) -> _Trial:
        """A random draw of `given`; each defined symbol is then computed from its definition.
        `reverse` assigns the sizes in the other order of the dimension names (tall ↔ wide)."""
        dims = choose_dims(given, index, reverse)
        rng = np.random.default_rng([seed, index])
        values = _columns(given, draw(given, rng, dims))
        for g in given:
            direction = rng.standard_normal(values[g.name].shape)
            if _symmetric(g) and direction.ndim == 2:
                direction = (direction + direction.T) / 2
            values["d" + g.name] = direction
        for symbol, expr, *compute in definitions:
            if compute:  # computed by a numeric method, e.g. U, Σ, V by numpy.linalg.svd
                values.update(compute[0](values))
            else:
                values[str(symbol)] = _value(expr, values, dims)
        return cls(given, seed, index, dims, values)

    def redraw(self, names: Iterable[str], salt: int) -> dict[str, np.ndarray]:
        """The values with the symbols `names` drawn afresh (the same sizes)."""
        names = set(names)
        subset = tuple(g for g in self.given if g.name in names)
        missing = names - {g.name for g in subset}
        if missing:
            raise InputError(f"{sorted(missing)[0]} is not a given symbol, so cannot be redrawn")
        rng = np.random.default_rng([self.seed, self.index, salt])
        return {**self.values, **_columns(subset, draw(subset, rng, self.dims))}

    def only_directions(self, wrt: Iterable[str]) -> dict[str, np.ndarray]:
        """The values with every direction but those of `wrt` set to zero."""
        keep = {"d" + w for w in wrt}
        missing = keep - set(self.values)
        if missing:
            raise InputError(
                f"no direction {sorted(missing)[0]}: {sorted(missing)[0][1:]} is not given"
            )
        out = dict(self.values)
        for g in self.given:
            if "d" + g.name not in keep:
                out["d" + g.name] = np.zeros_like(out["d" + g.name])
        return out


def _symmetric(g: Given) -> bool:
    return bool({"symmetric", "spd"} & set(g.assumptions))


def _columns(given: tuple[Given, ...], raw: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {
        g.name: raw[g.name].reshape(-1, 1) if g.kind == "vector" else raw[g.name] for g in given
    }


# --- measuring -------------------------------------------------------------------------------


def _maxabs(a: np.ndarray) -> float:
    return float(np.max(np.abs(a))) if np.size(a) else 0.0


def _finite(*arrays: np.ndarray) -> None:
    for a in arrays:
        if not np.all(np.isfinite(a)):
            raise VerificationError("a non-finite value (NaN or infinity)")


def _conform(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if a.shape == b.shape:
        return a, b
    if a.size == b.size == 1:
        return a.reshape(()), b.reshape(())
    raise ShapeError(f"the two sides have shapes {a.shape} and {b.shape}")


def _relative(a: np.ndarray, b: np.ndarray, scale: float) -> float:
    a, b = _conform(np.asarray(a), np.asarray(b))
    _finite(a, b)
    return _maxabs(a - b) / max(_maxabs(a), _maxabs(b), FLOOR * (1.0 + scale))


def _vanishing(r: np.ndarray, scale: float) -> float:
    _finite(r)
    return _maxabs(r) / (1.0 + scale)


def _has_differential(e: sp.Basic) -> bool:
    return any(
        isinstance(n, (ScalarDifferential, MatDifferential)) for n in sp.preorder_traversal(e)
    )


def _value(
    e: sp.Basic, values: Mapping[str, np.ndarray], dims: Mapping[str, int], varying=()
) -> np.ndarray:
    # NumPy is faster op by op; JAX is needed only for d(·), as a JVP.
    backend = "jax" if _has_differential(e) else "numpy"
    return np.asarray(evaluate(e, values, dims, backend=backend, varying=varying), dtype=float)


def _reads(*exprs: sp.Basic, varying: Iterable[str] = ()) -> frozenset[str]:
    names = set().union(*(names_used(e) for e in exprs))
    return frozenset(names | {"d" + v for v in varying})


def _scale(values: Mapping[str, np.ndarray], names: Iterable[str]) -> float:
    return max((_maxabs(values[n]) for n in names if n in values), default=0.0)


def _terms(e: sp.Basic) -> tuple[sp.Basic, ...]:
    return e.args if isinstance(e, (sp.Add, sp.MatAdd)) else (e,)


# --- what is checked, by relation and by claim kind ------------------------------------------


@dataclass(frozen=True)
class _Item:
    """One thing to verify: `run` returns its error on a trial, or raises."""

    name: str  # in failure messages: "step 4 (Cyclic property of the trace)"
    label: str  # in the report: "step 4: Cyclic property of the trace"
    method: str
    measure: str  # "relative error" or "scaled error"
    run: Callable[[_Trial], float]


def _equal(before: sp.Basic, after: sp.Basic, varying: tuple[str, ...], salt: int) -> Callable:
    """before == after at the trial values, differentials as JVPs in the trial directions."""
    reads = _reads(before, after, varying=varying)

    def run(tr: _Trial) -> float:
        a = _value(before, tr.values, tr.dims, varying)
        b = _value(after, tr.values, tr.dims, varying)
        return _relative(a, b, _scale(tr.values, reads))

    return run


def _pieces(after: sp.Basic, wrt: tuple[str, ...], what: str) -> tuple[sp.Basic, ...]:
    if len(wrt) == 1:
        return (after,)
    if isinstance(after, sp.Tuple) and len(after) == len(wrt):
        return tuple(after)
    raise InputError(f"a {what} with respect to {', '.join(wrt)} needs one result per symbol")


def _gradient(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int) -> Callable:
    """before == Σ tr(G_wᵀ dW) over the symbols w of `wrt`, in random directions dW."""
    if not wrt:
        raise InputError("a gradient step needs the symbol it is taken with respect to")
    grads = _pieces(after, wrt, "gradient")
    reads = _reads(before, after, varying=wrt)

    def run(tr: _Trial) -> float:
        values = tr.only_directions(wrt)
        lhs = _value(before, values, tr.dims, wrt)
        rhs = 0.0
        for g_expr, w in zip(grads, wrt, strict=True):
            g, dw = _value(g_expr, values, tr.dims), values["d" + w]
            if g.shape != dw.shape and not g.size == dw.size == 1:
                raise ShapeError(f"the gradient has shape {g.shape} but {w} has {dw.shape}")
            rhs = rhs + float(np.sum(g.reshape(dw.shape) * dw))
        return _relative(lhs, np.asarray(rhs), _scale(values, reads))

    return run


def _jacobian(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int) -> Callable:
    """before == J dx for the one vector (or scalar) x of `wrt`, in a random direction dx."""
    if len(wrt) != 1:
        raise InputError("a Jacobian step is taken with respect to exactly one symbol")
    (w,) = wrt
    reads = _reads(before, after, varying=wrt)

    def run(tr: _Trial) -> float:
        values = tr.only_directions(wrt)
        jac, dx = _value(after, values, tr.dims), values["d" + w]
        if dx.ndim == 2 and dx.shape[1] != 1:
            raise UnsupportedError("a Jacobian with respect to a matrix")
        rhs = jac * dx if dx.ndim == 0 else jac @ dx
        lhs = _value(before, values, tr.dims, wrt)
        return _relative(lhs, rhs, _scale(values, reads))

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
        v = _value(side, values, dims)
        total = sign * v if total is None else total + sign * v
        terms = _terms(side)
        if len(terms) > 1:
            size = max([size] + [_maxabs(_value(t, values, dims)) for t in terms])
        size = max(size, _maxabs(v))
    return total, size


def _solve(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int) -> Callable:
    """`before` vanishes when the parameter wrt[0] is set to `after`."""
    if not wrt:
        raise InputError("a solve step names the parameter solved for in wrt")
    theta = wrt[0]
    reads = _reads(before, after)

    def run(tr: _Trial) -> float:
        solution = _value(after, tr.values, tr.dims)
        old = tr.values.get(theta)
        if old is not None and solution.size != old.size:
            raise ShapeError(f"the solution has shape {solution.shape}, {theta} has {old.shape}")
        values = {**tr.values, theta: solution if old is None else solution.reshape(old.shape)}
        r, size = _residual(before, values, tr.dims)
        # The residual away from the solution measures how large its terms typically are.
        away = _maxabs(_residual(before, tr.values, tr.dims)[0]) if old is not None else 0.0
        return _vanishing(r, max(size, away, _scale(values, reads)))

    return run


def _constant(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int) -> Callable:
    """before − after is the same after the symbols of `wrt` are drawn afresh."""
    if not wrt:
        raise InputError("a constant step names the symbols it is constant in")
    reads = _reads(before, after)

    def run(tr: _Trial) -> float:
        sides = []
        for values in (tr.values, tr.redraw(wrt, salt)):
            b = _value(before, values, tr.dims)
            a = _value(after, values, tr.dims)
            sides.append(_conform(b, a))
        (b1, a1), (b2, a2) = sides
        _finite(b1, a1, b2, a2)
        mag = max(_maxabs(b1), _maxabs(a1), _maxabs(b2), _maxabs(a2))
        floor = FLOOR * (1.0 + _scale(tr.values, reads))
        return _maxabs((b1 - a1) - (b2 - a2)) / max(mag, floor)

    return run


def _constrained(before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int) -> Callable:
    """before == after on the constraint set: each symbol of `wrt` drawn, then scaled to unit
    norm (uᵀu = 1; ‖U‖_F = 1 for a matrix), as where a Lagrangian equals its objective."""
    if not wrt:
        raise InputError("a constrained step names the symbols held to unit norm in wrt")
    reads = _reads(before, after)

    def run(tr: _Trial) -> float:
        values = dict(tr.values)
        for w in wrt:
            if w not in values:
                raise InputError(f"{w} is not a given symbol, so cannot be held to unit norm")
            norm = float(np.linalg.norm(values[w]))
            if not norm > 0:
                raise VerificationError(f"{w} was drawn as zero and cannot be normalised")
            values[w] = values[w] / norm
        a = _value(before, values, tr.dims)
        b = _value(after, values, tr.dims)
        return _relative(a, b, _scale(values, reads))

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
    reads = _reads(before, after, varying=wrt)
    exact = isinstance(dist, Bernoulli)

    def run(tr: _Trial) -> float:
        rng = np.random.default_rng([tr.seed, tr.index, salt, 17])
        xs, weights = draw_from(dist, tr.values, tr.dims, rng, MC_DRAWS)
        zb = values_at(fb, var, xs, tr.values, tr.dims, wrt)
        za = values_at(fa, var, xs, tr.values, tr.dims, wrt)
        _finite(zb, za)
        scale = _scale(tr.values, reads)
        if exact:
            return _relative(np.dot(weights, zb), np.dot(weights, za), scale)
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
    reads = _reads(before, after, varying=wrt)

    def run(tr: _Trial) -> float:
        rng = np.random.default_rng([tr.seed, tr.index, salt, 19])
        xs, _ = draw_from(dist, tr.values, tr.dims, rng, POINTWISE_DRAWS)
        zb = values_at(fb, var, xs, tr.values, tr.dims, wrt)
        za = values_at(fa, var, xs, tr.values, tr.dims, wrt)
        return _relative(zb, za, _scale(tr.values, reads))

    return run, "integrands at draws of x", "relative error"


_EXPECTATION_RELATIONS: dict[str, Callable] = {
    "pointwise": _pointwise,
    "monte-carlo": _expectation,
    "integral": lambda before, after, wrt, salt: _integral(before, after, wrt),
}


def _integral(function: sp.Basic, expr: sp.Basic, wrt: tuple[str, ...]):
    """∫₀¹ function dθ == expr, θ = wrt[0], by tanh-sinh quadrature (derive.integrate)."""
    from derive.integrate import integrate_unit

    if len(wrt) != 1:
        raise InputError("an integral claim names the one variable of integration in wrt")
    (theta,) = wrt
    reads = _reads(function, expr)

    def run(tr: _Trial) -> float:
        from derive.integrate import values_at

        var = sp.Symbol(theta)
        total = integrate_unit(lambda t: values_at(function, var, t, tr.values, tr.dims))
        return _relative(
            np.asarray(total), _value(expr, tr.values, tr.dims), _scale(tr.values, reads)
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
    reads = _reads(before, after, varying=wrt)

    def run(tr: _Trial) -> float:
        values = tr.only_directions(wrt)
        dw = values["d" + w]
        if dw.ndim != 2 or dw.shape[0] != dw.shape[1] or not np.allclose(dw, dw.T):
            raise UnsupportedError(f"a symmetric gradient with respect to {w}, not symmetric")
        s = _value(after, values, tr.dims).reshape(dw.shape)
        upper = np.triu_indices(dw.shape[0])
        rhs = np.asarray(float(np.sum(s[upper] * dw[upper])))
        return _relative(_value(before, values, tr.dims, wrt), rhs, _scale(values, reads))

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


def _relation(
    relation: str, before: sp.Basic, after: sp.Basic, wrt: tuple[str, ...], salt: int
) -> tuple[Callable, str, str]:
    """The runner, method name and error measure for a step-like `relation`."""
    if relation in _EXPECTATION_RELATIONS:
        return _EXPECTATION_RELATIONS[relation](before, after, wrt, salt)
    if relation not in _RELATIONS:
        raise UnsupportedError(f"the relation {relation!r}")
    build, method, measure = _RELATIONS[relation]
    if relation == "equal" and (_has_differential(before) or _has_differential(after)):
        method = "jax.jvp"
    return build(before, after, wrt, salt), method, measure


def _broken(name: str, label: str, exc: Exception) -> _Item:
    """An item that cannot even be set up: it fails on every trial with the reason."""

    def run(tr: _Trial) -> float:
        raise exc

    return _Item(name, label, "none", "relative error", run)


def _step_item(index: int, step: Step, wrt: tuple[str, ...]) -> _Item:
    name = f"step {index} ({step.rule.name})"
    label = f"step {index}: {step.rule.name}"
    try:
        run, method, measure = _relation(step.relation, step.before, step.after, wrt, index)
    except DeriveError as exc:
        return _broken(name, label, exc)
    return _Item(name, label, method, measure, run)


# --- claims, against jax.grad / jax.hessian / jax.jacobian ----------------------------------


def _jax_function(expr: sp.Basic, w: str, tr_values: Mapping, dims: Mapping, scalar: bool):
    """expr as a JAX function of the one symbol w, the other symbols fixed."""

    def f(v):
        out = evaluate(expr, {**tr_values, w: v}, dims, backend="jax")
        if scalar:
            if out.size != 1:
                raise ShapeError(f"the function is not a scalar: shape {tuple(out.shape)}")
            return out.reshape(())
        return out

    return f


def _claim_runner(claim: Claim, salt: int) -> tuple[Callable, str, str]:
    kind, wrt = claim.kind, tuple(claim.wrt)
    if kind == "constant":
        return _relation("constant", claim.function, claim.expr, wrt, salt)
    if kind == "reference":
        if claim.reference is None or not claim.method:
            raise InputError(f"the reference claim {claim.label!r} needs a method and a function")

        def run(tr: _Trial) -> float:
            def value(e: sp.Basic, values: Mapping[str, np.ndarray]) -> np.ndarray:
                return _value(e, values, tr.dims)

            got, expected = claim.reference(dict(tr.values), value)
            return _relative(np.asarray(got, float), np.asarray(expected, float), 0.0)

        return run, claim.method, "relative error"
    if kind == "expectation":  # E[function] == expr, over the one x ∼ D in function
        return _relation("monte-carlo", claim.function, claim.expr, wrt, salt)
    if kind == "integral":
        return _integral(claim.function, claim.expr, wrt)
    if not wrt:
        raise InputError(f"a {kind} claim needs the symbol it is taken with respect to")
    reads = _reads(claim.function, claim.expr, *(e for _, e in claim.at))

    if kind in ("gradient", "hessian", "jacobian"):
        exprs = _pieces(claim.expr, wrt, kind)

        def run(tr: _Trial) -> float:
            jax = import_jax()
            error = 0.0
            for e, w in zip(exprs, wrt, strict=True):
                x = tr.values[w]
                if kind != "gradient" and x.ndim == 2 and x.shape[1] != 1:
                    raise UnsupportedError(f"a {kind} with respect to a matrix")
                f = _jax_function(claim.function, w, tr.values, tr.dims, kind != "jacobian")
                derivative = {"gradient": jax.grad, "hessian": jax.hessian}.get(kind, jax.jacobian)
                ref = np.asarray(derivative(f)(jax.numpy.asarray(x)))
                if kind != "gradient":
                    ref = ref.reshape(ref.size // x.size, x.size)
                got = _value(e, tr.values, tr.dims)
                error = max(error, _relative(got, ref, _scale(tr.values, reads)))
            return error

        return run, f"jax.{'grad' if kind == 'gradient' else kind}", "relative error"

    if kind == "symmetric-gradient":
        (w,) = wrt

        def run(tr: _Trial) -> float:
            jax = import_jax()
            x = tr.values[w]
            upper = np.triu_indices(x.shape[0])
            f = _jax_function(claim.function, w, tr.values, tr.dims, True)

            def of_free_entries(u):  # X built from its entries X_ij, i ≤ j
                t = jax.numpy.zeros(x.shape).at[upper].set(u)
                return f(t + t.T - jax.numpy.diag(jax.numpy.diag(t)))

            ref = np.asarray(jax.grad(of_free_entries)(jax.numpy.asarray(x[upper])))
            got = _value(claim.expr, tr.values, tr.dims)[upper]
            return _relative(got, ref, _scale(tr.values, reads))

        return run, "jax.grad over the entries X_ij, i ≤ j", "relative error"

    if kind == "stationary":

        def run(tr: _Trial) -> float:
            jax = import_jax()
            values = dict(tr.values)
            for name, e in claim.at:
                v = _value(e, values, tr.dims)
                old = values.get(name)
                if old is not None and old.size != v.size:
                    raise ShapeError(f"{name} = {e} has shape {v.shape}, {name} has {old.shape}")
                values[name] = v if old is None else v.reshape(old.shape)
            error = 0.0
            for w in wrt:
                grad = jax.grad(_jax_function(claim.function, w, values, tr.dims, True))
                r = np.asarray(grad(jax.numpy.asarray(values[w])))
                # The gradient at the random draw measures how large its terms typically are.
                g0 = jax.grad(_jax_function(claim.function, w, tr.values, tr.dims, True))
                away = _maxabs(np.asarray(g0(jax.numpy.asarray(tr.values[w]))))
                error = max(error, _vanishing(r, max(away, _scale(values, reads))))
            return error

        return run, "jax.grad at the solution", "scaled error"
    raise UnsupportedError(f"a claim of kind {kind!r}")


def _claim_item(index: int, claim: Claim) -> _Item:
    name = f"claim {claim.label!r}"
    try:
        run, method, measure = _claim_runner(claim, 1000 + index)
    except DeriveError as exc:
        return _broken(name, claim.label, exc)
    return _Item(name, claim.label, method, measure, run)


# --- running ---------------------------------------------------------------------------------


def _attempt(item: _Item, tr: _Trial) -> tuple[float, str]:
    """The item's error on one trial, and a failure message ("" when it passed)."""
    where = f"at seed {tr.seed} trial {tr.index}"
    try:
        with np.errstate(all="ignore"):
            error = float(item.run(tr))
    except _EVALUATION_ERRORS as exc:
        return math.inf, f"{item.name} could not be checked {where}: {exc}"
    tolerance = MC_TOLERANCE if item.measure == STANDARD_ERRORS else TOLERANCE
    if not error <= tolerance:  # also catches NaN
        return error, f"{item.name} differs {where}: {item.measure} {error:.1e}"
    return error, ""


_SINGULAR = 1e8  # a condition number above this: the matrix is singular up to round-off


def _in_domain(objective: sp.Basic | None, tr: _Trial) -> bool:
    """Whether the function is defined at the draw: finite, and every matrix it inverts or
    takes the determinant of is invertible (log det XᵀX needs X tall, not wide; round-off
    makes the determinant of a singular XᵀX tiny rather than zero). A function the evaluator
    cannot compute on its own counts as in its domain."""
    if objective is None:
        return True
    try:
        with np.errstate(all="ignore"):
            if not np.all(np.isfinite(_value(objective, tr.values, tr.dims))):
                return False
            for node in sp.preorder_traversal(objective):
                if isinstance(node, (sp.Inverse, sp.Determinant)):
                    a = np.asarray(_value(node.args[0], tr.values, tr.dims), float)
                    if a.ndim == 2 and a.shape[0] > 1 and np.linalg.cond(a) > _SINGULAR:
                        return False
    except np.linalg.LinAlgError:
        return False
    except DeriveError:
        return True
    return True


def _draw_in_domain(
    given: tuple[Given, ...],
    seed: int,
    t: int,
    definitions: tuple,
    objective: sp.Basic | None,
) -> _Trial:
    """Trial t's draw; if the function is not finite there (X drawn wide where XᵀX must be
    invertible), the draw with the sizes assigned in the other order. Failing both, the first
    draw, so that its items fail with the reason."""
    try:
        first = _Trial.draw(given, seed, t, definitions)
    except DeriveError:  # a full-rank matrix assumed tall and drawn wide, say
        return _Trial.draw(given, seed, t, definitions, reverse=True)
    if _in_domain(objective, first):
        return first
    try:
        other = _Trial.draw(given, seed, t, definitions, reverse=True)
    except DeriveError:
        return first
    return other if _in_domain(objective, other) else first


def _run(
    items: list[_Item],
    given: tuple[Given, ...],
    trials: int,
    seed: int,
    definitions: tuple[tuple[sp.Basic, sp.Basic], ...] = (),
    objective: sp.Basic | None = None,
) -> tuple[list[float], list[str], str]:
    """Per item: the largest error and the first failure message over the trials."""
    errors = [0.0] * len(items)
    failures = [""] * len(items)
    for t in range(trials):
        try:
            tr = _draw_in_domain(given, seed, t, definitions, objective)
        except DeriveError as exc:
            message = f"could not draw random inputs at seed {seed} trial {t}: {exc}"
            return [math.inf] * len(items), [f or message for f in failures], message
        for k, item in enumerate(items):
            if failures[k]:
                continue  # already failed; its first failure is the one reported
            error, failures[k] = _attempt(item, tr)
            errors[k] = max(errors[k], error)
    return errors, failures, ""


def _defined_inside_derivative(defined: set[str], name: str, *exprs: sp.Basic) -> _Item | None:
    """A failing item where a defined symbol (δ₂ := p − y) would be differentiated: the
    checker holds it fixed, so the derivative would silently miss its dependence."""
    for e in exprs:
        used = sorted(defined & set(names_used(e)))
        if used and (_has_differential(e) or name.startswith("claim")):
            error = UnsupportedError(f"a derivative through the defined symbol {used[0]}")
            return _broken(name, name, error)
    return None


def check_derivation(derivation: Derivation, trials: int = 5, seed: int = 0) -> CheckReport:
    """Verify every step and claim of `derivation` on `trials` random draws.

    Steps are checked by their relation with respect to ``step.wrt or derivation.wrt``,
    claims by their kind against jax.grad, jax.hessian or jax.jacobian. The report passes
    iff every item passes on every trial; `failure` names the first failing item (in the
    order of the steps, then the claims) with the seed, the trial and the error.
    """
    import_jax()
    defined = {str(entry[0]) for entry in derivation.definitions}
    items = [
        _defined_inside_derivative(defined, f"step {i} ({step.rule.name})", step.before, step.after)
        or _step_item(i, step, tuple(step.wrt or derivation.wrt))
        for i, step in enumerate(derivation.steps, start=1)
    ]
    for i, claim in enumerate(derivation.claims, start=1):
        refused = None
        if claim.kind != "reference":  # the others differentiate `function` with JAX
            refused = _defined_inside_derivative(defined, f"claim {claim.label!r}", claim.function)
        items.append(refused or _claim_item(i, claim))
    errors, failures, draw_failure = _run(
        items, derivation.given, trials, seed, derivation.definitions, derivation.objective
    )
    checks = tuple(
        ItemCheck(item.label, not failure, error, item.method)
        for item, error, failure in zip(items, errors, failures, strict=True)
    )
    failure = draw_failure or next((f for f in failures if f), "")
    if not items:
        failure = "the derivation has no steps or claims to check"
    return CheckReport(
        passed=not failure,
        max_rel_error=max(
            (e for e, item in zip(errors, items, strict=True) if item.measure != STANDARD_ERRORS),
            default=0.0,
        ),
        max_standard_errors=max(
            (e for e, item in zip(errors, items, strict=True) if item.measure == STANDARD_ERRORS),
            default=None,
        ),
        trials=trials,
        seed=seed,
        items=checks,
        failure=failure,
    )


# --- rule examples ---------------------------------------------------------------------------


def _dim(e: sp.Basic) -> int | str:
    if e.is_Integer:
        return int(e)
    if isinstance(e, sp.Symbol):
        return e.name
    raise InputError(f"cannot use {e} as a dimension of a random input")


def _shape_of(rows: sp.Basic, cols: sp.Basic) -> tuple[int | str, ...]:
    """A column vector (n,); any other shape, a 1×1 included, as a matrix (m, n)."""
    if cols == 1 and rows != 1:
        return (_dim(rows),)
    return (_dim(rows), _dim(cols))


def _data_given(node: sp.Indexed, lengths: Mapping[sp.Basic, sp.Basic]) -> Given:
    """The data x read as x[i]: its IndexedBase shape, else (n,) from a sum over i = 1..n."""
    name = node.base.label.name
    if node.base.shape is not None:
        return Given(name, tuple(_dim(s) for s in node.base.shape), role="data")
    if len(node.indices) == 1 and node.indices[0] in lengths:
        return Given(name, (_dim(lengths[node.indices[0]]),), role="data")
    raise InputError(f"cannot tell the length of the data {name}; give it a shape or pass `given`")


def given_of(*exprs: sp.Basic) -> tuple[Given, ...]:
    """The Given symbols that `exprs` read, with shapes from the matrix symbols.

    Differential symbols dX, dθ are not symbols of their own: they are the random directions
    of X and θ, which are listed even if only their differentials occur. Indexed data x[i]
    has the shape of its IndexedBase, or else (n,) when i runs over 1..n in a Sum or Product;
    its role is "data". A scalar declared positive, nonnegative or nonzero in SymPy is drawn so.
    """
    lengths = {
        var: hi
        for e in exprs
        for node in sp.preorder_traversal(e)
        if isinstance(node, (sp.Sum, sp.Product))
        for var, lo, hi in node.limits
        if lo == 1
    }
    found: dict[str, Given] = {}
    bases: dict[str, Given] = {}  # X for each dX, so that its direction dX is drawn
    skip: set[str] = set()
    for node in (n for e in exprs for n in sp.preorder_traversal(e)):
        if isinstance(node, ScalarDifferentialSymbol):
            skip.add(node.name)
            bases.setdefault(node.base_name, Given(node.base_name, ()))
            continue
        if isinstance(node, DifferentialSymbol):
            skip.add(node.name)
            rows, cols = node.shape
            shape = _shape_of(rows, cols)
            bases.setdefault(node.base_name, Given(node.base_name, shape))
            continue
        if isinstance(node, sp.MatrixSymbol):
            rows, cols = node.shape
            given = Given(node.name, _shape_of(rows, cols))
        elif isinstance(node, sp.Indexed):
            given = _data_given(node, lengths)
        else:
            continue
        if found.setdefault(given.name, given) != given:
            raise InputError(f"{given.name} is used with two shapes")
    for name, g in bases.items():
        found.setdefault(name, g)
    dims = {d for g in found.values() for d in g.shape if isinstance(d, str)}
    scalars = {
        node.name: node
        for e in exprs
        for node in sp.preorder_traversal(e)
        if isinstance(node, sp.Symbol)
    }
    for name in sorted(set().union(*(names_used(e) for e in exprs)) - set(found) - dims - skip):
        found[name] = Given(name, (), _sympy_assumptions(scalars.get(name)))
    return tuple(found.values())


def _sympy_assumptions(sym: sp.Symbol | None) -> tuple[str, ...]:
    """What a scalar's SymPy assumptions (positive=True, ...) ask of its random values."""
    if sym is None:
        return ()
    if sym.is_positive:
        return ("positive",)
    if sym.is_nonnegative:
        return ("nonnegative",)
    if sym.is_nonzero:
        return ("nonzero",)
    return ()


def check_rule_example(
    example: RuleExample, given: tuple[Given, ...] = (), trials: int = 3, seed: int = 0
) -> float:
    """The largest error of ``example.lhs <relation> example.rhs`` over `trials` draws.

    `given` lists the symbols' shapes (read off the expressions by `given_of` when empty);
    ``example.assume`` adds assumptions; ``example.wrt`` names the varying symbols. Raises
    AssertionError, naming the seed and trial, if the example fails or cannot be evaluated.
    """
    import_jax()
    try:
        given = tuple(given) or given_of(example.lhs, example.rhs)
    except InputError as exc:
        raise AssertionError(f"cannot draw inputs for the example: {exc}") from exc
    stray = set(example.assume) - {g.name for g in given}
    if stray:
        raise AssertionError(f"the example assumes something of {sorted(stray)[0]}, not a symbol")
    given = tuple(
        replace(g, assumptions=tuple(dict.fromkeys(g.assumptions + tuple(example.assume[g.name]))))
        if g.name in example.assume
        else g
        for g in given
    )
    name = f"rule example {example.lhs} {example.relation} {example.rhs}"
    try:
        run, method, measure = _relation(
            example.relation, example.lhs, example.rhs, tuple(example.wrt), 1
        )
        item = _Item(name, name, method, measure, run)
    except DeriveError as exc:
        item = _broken(name, name, exc)
    errors, failures, draw_failure = _run([item], given, trials, seed)
    if draw_failure or failures[0]:
        raise AssertionError(draw_failure or failures[0])
    return errors[0]
