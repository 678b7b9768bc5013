"""Claims, against jax.grad / jax.hessian / jax.jacobian: one `Item` per claim, by its kind.

A derivative claimed is compared with JAX's relative to the size of the claim's terms
(`derive.check.measure.value_and_size`); a stationary point by the gradient there, against how
fast that gradient grows as the point moves by a relative h (`derive.check.measure.vanishing`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import sympy as sp

from derive.check.compiled import derivative
from derive.check.measure import (
    STEP,
    conditioning,
    direction,
    names_read,
    relative,
    scale_of,
    substitute,
    value_and_size,
    value_of,
    vanishing,
)
from derive.check.relations import Item, broken, integral, pieces, relation_runner
from derive.check.trial import Trial
from derive.errors import DeriveError, InputError, UnsupportedError
from derive.model import Claim


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
            return relative(np.asarray(got, float), np.asarray(expected, float))

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
            error = 0.0
            for e, w in zip(exprs, wrt, strict=True):
                x = tr.values[w]
                ref = derivative(kind, claim.function, w, tr.values, tr.dims)
                if kind != "gradient":  # the vec layout: vec stacks columns (column-major)
                    ref = ref.reshape(ref.size // x.size, x.size, order="F")
                got, size = value_and_size(e, tr.values, tr.dims)
                error = max(error, relative(got, ref, size))
            return error / conditioning((claim.function, claim.expr), tr.values, tr.dims)

        return run, f"jax.{'grad' if kind == 'gradient' else kind}", "relative error"

    if kind == "symmetric-gradient":
        (w,) = wrt

        def run(tr: Trial) -> float:
            upper = np.triu_indices(tr.values[w].shape[0])
            ref = derivative("symmetric-gradient", claim.function, w, tr.values, tr.dims)
            got, size = value_and_size(claim.expr, tr.values, tr.dims)
            error = relative(got[upper], ref, size[upper])
            return error / conditioning((claim.function, claim.expr), tr.values, tr.dims)

        return run, "jax.grad over the entries X_ij, i ≤ j", "relative error"

    if kind == "newton-step":
        (w,) = wrt

        def run(tr: Trial) -> float:
            x = np.asarray(tr.values[w], dtype=float)
            g = derivative("gradient", claim.function, w, tr.values, tr.dims).reshape(-1, order="F")
            h = derivative("hessian", claim.function, w, tr.values, tr.dims)
            h = h.reshape(x.size, x.size, order="F")
            ref = x - np.linalg.solve(h, g).reshape(x.shape, order="F")
            got, size = value_and_size(claim.expr, tr.values, tr.dims)
            error = relative(got, ref, size)  # shapes compared as they are: wᵀ is not w
            return error / conditioning((claim.function, claim.expr), tr.values, tr.dims)

        return run, "jax.grad and jax.hessian, w − H⁻¹g by numpy.linalg.solve", "relative error"

    if kind == "stationary-equation":
        lhs, rhs = claim.expr.args
        (w,) = wrt

        def run(tr: Trial) -> float:
            g = derivative("gradient", claim.function, w, tr.values, tr.dims).ravel()
            left, size_l = value_and_size(lhs, tr.values, tr.dims)
            right, size_r = value_and_size(rhs, tr.values, tr.dims)
            r = (left - right).ravel()
            size = (np.abs(size_l) + np.abs(size_r)).ravel()
            if not np.any(r):
                raise DeriveError("lhs − rhs vanishes at the draw: nothing to compare")
            c = float(g @ r) / float(r @ r)  # the constant factor between ∇f and lhs − rhs
            error = relative(g, c * r, abs(c) * size)
            return error / conditioning((claim.function, lhs, rhs), tr.values, tr.dims)

        return run, "jax.grad, proportional to lhs − rhs", "relative error"

    if kind == "stationary":

        def run(tr: Trial) -> float:
            values = dict(tr.values)
            for name, e in claim.at:
                v = value_of(e, values, tr.dims)
                values[name] = substitute(v, values.get(name), f"{name} = {e}")
            # The solution moved by a relative STEP: how fast the gradient grows from it.
            scale = scale_of(tr.values, reads)
            moved = dict(values)
            for name in [name for name, _ in claim.at] or wrt:
                moved[name] = values[name] + STEP * direction(values[name], scale)
            error = 0.0
            for w in wrt:
                r, r_moved = (
                    derivative("gradient", claim.function, w, at, tr.dims) for at in (values, moved)
                )
                error = max(error, vanishing(r, (r_moved - r) / STEP))
            exprs = (claim.function, *(e for _, e in claim.at))
            return error / conditioning(exprs, values, tr.dims)

        return run, "jax.grad at the solution", "scaled error"
    raise UnsupportedError(f"a claim of kind {kind!r}")


def claim_item(index: int, claim: Claim) -> Item:
    name = f"claim {claim.label!r}"
    try:
        run, method, measure = _claim_runner(claim, 1000 + index)
    except DeriveError as exc:
        return broken(name, claim.label, exc)
    return Item(name, claim.label, method, measure, run)
