"""Claims, against jax.grad / jax.hessian / jax.jacobian: one `Item` per claim, by its kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import sympy as sp

from derive.check.measure import maxabs, names_read, relative, scale_of, value_of, vanishing
from derive.check.relations import Item, broken, integral, pieces, relation_runner
from derive.check.trial import Trial
from derive.errors import DeriveError, InputError, ShapeError, UnsupportedError
from derive.evaluate import evaluate, import_jax
from derive.model import Claim


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
        return relation_runner("constant", claim.function, claim.expr, wrt, salt)
    if kind == "reference":
        if claim.reference is None or not claim.method:
            raise InputError(f"the reference claim {claim.label!r} needs a method and a function")

        def run(tr: Trial) -> float:
            def value(e: sp.Basic, values: Mapping[str, np.ndarray]) -> np.ndarray:
                return value_of(e, values, tr.dims)

            got, expected = claim.reference(dict(tr.values), value)
            return relative(np.asarray(got, float), np.asarray(expected, float), 0.0)

        return run, claim.method, "relative error"
    if kind == "expectation":  # E[function] == expr, over the one x ∼ D in function
        return relation_runner("monte-carlo", claim.function, claim.expr, wrt, salt)
    if kind == "integral":
        return integral(claim.function, claim.expr, wrt)
    if not wrt:
        raise InputError(f"a {kind} claim needs the symbol it is taken with respect to")
    reads = names_read(claim.function, claim.expr, *(e for _, e in claim.at))

    if kind in ("gradient", "hessian", "jacobian"):
        exprs = pieces(claim.expr, wrt, kind)

        def run(tr: Trial) -> float:
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
                got = value_of(e, tr.values, tr.dims)
                error = max(error, relative(got, ref, scale_of(tr.values, reads)))
            return error

        return run, f"jax.{'grad' if kind == 'gradient' else kind}", "relative error"

    if kind == "symmetric-gradient":
        (w,) = wrt

        def run(tr: Trial) -> float:
            jax = import_jax()
            x = tr.values[w]
            upper = np.triu_indices(x.shape[0])
            f = _jax_function(claim.function, w, tr.values, tr.dims, True)

            def of_free_entries(u):  # X built from its entries X_ij, i ≤ j
                t = jax.numpy.zeros(x.shape).at[upper].set(u)
                return f(t + t.T - jax.numpy.diag(jax.numpy.diag(t)))

            ref = np.asarray(jax.grad(of_free_entries)(jax.numpy.asarray(x[upper])))
            got = value_of(claim.expr, tr.values, tr.dims)[upper]
            return relative(got, ref, scale_of(tr.values, reads))

        return run, "jax.grad over the entries X_ij, i ≤ j", "relative error"

    if kind == "stationary":

        def run(tr: Trial) -> float:
            jax = import_jax()
            values = dict(tr.values)
            for name, e in claim.at:
                v = value_of(e, values, tr.dims)
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
                away = maxabs(np.asarray(g0(jax.numpy.asarray(tr.values[w]))))
                error = max(error, vanishing(r, max(away, scale_of(values, reads))))
            return error

        return run, "jax.grad at the solution", "scaled error"
    raise UnsupportedError(f"a claim of kind {kind!r}")


def claim_item(index: int, claim: Claim) -> Item:
    name = f"claim {claim.label!r}"
    try:
        run, method, measure = _claim_runner(claim, 1000 + index)
    except DeriveError as exc:
        return broken(name, claim.label, exc)
    return Item(name, claim.label, method, measure, run)
