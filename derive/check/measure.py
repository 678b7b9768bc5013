"""Measuring: how far apart two sides are, and the tolerances an item is held to.

Two error measures, both in float64:

- relative error ``max|a − b| / max(|a|, |b|, FLOOR·(1 + scale))`` where two sides should
  agree;
- scaled error ``max|r| / (1 + scale)`` where a quantity r should vanish (a gradient at a
  stationary point, an equation at its solution), with `scale` the size of the terms.

`scale` is the largest magnitude among the values the item reads. An item passes when its
error is at most `TOLERANCE` on every trial.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import sympy as sp

from derive.errors import ShapeError, VerificationError
from derive.evaluate import evaluate, names_used
from derive.expr import MatDifferential, ScalarDifferential

TOLERANCE = 1e-8
# A Monte Carlo item (measure STANDARD_ERRORS) passes within this many standard errors.
MC_TOLERANCE = 5.0
# Two sides that are both this small relative to the inputs are compared absolutely: exact
# zeros (d of a constant) against rounding-level residues (X X⁻¹ − I) would otherwise show a
# relative error of order 1.
FLOOR = 1e-4


def maxabs(a: np.ndarray) -> float:
    return float(np.max(np.abs(a))) if np.size(a) else 0.0


def finite(*arrays: np.ndarray) -> None:
    for a in arrays:
        if not np.all(np.isfinite(a)):
            raise VerificationError("a non-finite value (NaN or infinity)")


def conform(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if a.shape == b.shape:
        return a, b
    if a.size == b.size == 1:
        return a.reshape(()), b.reshape(())
    raise ShapeError(f"the two sides have shapes {a.shape} and {b.shape}")


def relative(a: np.ndarray, b: np.ndarray, scale: float) -> float:
    a, b = conform(np.asarray(a), np.asarray(b))
    finite(a, b)
    return maxabs(a - b) / max(maxabs(a), maxabs(b), FLOOR * (1.0 + scale))


def vanishing(r: np.ndarray, scale: float) -> float:
    finite(r)
    return maxabs(r) / (1.0 + scale)


def has_differential(e: sp.Basic) -> bool:
    return any(
        isinstance(n, (ScalarDifferential, MatDifferential)) for n in sp.preorder_traversal(e)
    )


def value_of(
    e: sp.Basic, values: Mapping[str, np.ndarray], dims: Mapping[str, int], varying=()
) -> np.ndarray:
    # NumPy is faster op by op; JAX is needed only for d(·), as a JVP.
    backend = "jax" if has_differential(e) else "numpy"
    return np.asarray(evaluate(e, values, dims, backend=backend, varying=varying), dtype=float)


def names_read(*exprs: sp.Basic, varying: Iterable[str] = ()) -> frozenset[str]:
    names = set().union(*(names_used(e) for e in exprs))
    return frozenset(names | {"d" + v for v in varying})


def scale_of(values: Mapping[str, np.ndarray], names: Iterable[str]) -> float:
    return max((maxabs(values[n]) for n in names if n in values), default=0.0)


def terms_of(e: sp.Basic) -> tuple[sp.Basic, ...]:
    return e.args if isinstance(e, (sp.Add, sp.MatAdd)) else (e,)
