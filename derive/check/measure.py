"""Measuring: how far apart two sides are, judged against the size of their terms.

Everything is compared in float64. The *size* of an expression at a point is the entrywise
sum of the magnitudes of its top-level summands as evaluated, ``Σ_t |t|`` (`value_and_size`):
round-off in ``a + b − c`` is proportional to ``|a| + |b| + |c|``, not to the result. So a
right answer whose evaluation cancels heavily (``10⁸Bᵀ + Aᵀ − 10⁸Bᵀ``) is not failed for the
round-off of its large terms, and a wrong one is not excused by a small result: no absolute
floor tied to the size of the inputs hides a slip in a result that is small.

Two error measures:

- relative error ``max|a − b| / max(size(a), size(b))`` where two sides should agree
  (`relative`; sizes of products summed over the product, ``Σ |g| |dx|`` for ``tr(Gᵀ dX)``);
- the residual of an equation at its claimed solution, ``max|r| / max(size(r), s)``, where
  ``s = |r(θ* + h u) − r(θ*)| / h`` is how much r moves when the solution moves by a relative
  h along ``u ≈ θ*`` (`vanishing`, `direction`): to first order the relative error of θ*.

A matrix with condition number κ loses about log₁₀ κ digits when inverted, solved with or
when its determinant is taken (Higham, *Accuracy and Stability of Numerical Algorithms*,
2nd ed., §14.1, §13.1: forward error ≲ c·n·κ·u), so an item that reads such a matrix has its
error divided by ``max(1, κ/KAPPA_FREE)`` (`conditioning`): up to κ = KAPPA_FREE it is held to
the full TOLERANCE. The sampler draws "invertible" and "spd" matrices with κ ≤ 4, so this
matters only for matrices computed from the draws (XᵀX, a sample covariance).

A matrix function (expm, sinm, coshm, … and their Fréchet derivatives) is evaluated on the
JAX side by jax.scipy.linalg.expm, which is not accurate to round-off: against
scipy.linalg.expm over 1,500 random matrices of the sampler's sizes its relative error was
at most 3.6e-12 for ‖A‖₁ < 8 but reached 4.9e-8 for ‖A‖₁ between 8 and 16 (a known defect,
jax-ml/jax#25987). An item that reads a matrix function is held to that algorithm, not to
round-off: its error is also divided by EXPM_SLACK, which leaves it the tolerance 1e-8 the
checker had before; a slip of 1e-10 there is not seen until that exponential is accurate.

TOLERANCE (defined with `derive.model.CheckReport`, whose summary prints it) was chosen from
measurement, every item on every trial of: the 14 catalogue derivations, the 9 maximum-
likelihood families, the 11 conformance cases and the examples of the 109 rules. The largest
error on this measure was 1.1e-13 (the Padé approximant of the matrix exponential, in the
rule examples), 5.3e-14 over the derivations (κ ≤ 310 seen); a claim off by a relative 1e-10
measures about 1e-10. TOLERANCE = 1e-11 leaves a factor of about 90 above the round-off and
10 below the slip. (The one item above it, 5.2e-11, compared the gradient left by an
iteration stopped at ‖∇‖ < 1e-8 with zero: a stopping rule, not round-off; it now compares
the stopping rule.)
"""

from __future__ import annotations

import functools
import math
import operator
from collections.abc import Iterable, Mapping

import numpy as np
import sympy as sp

from derive.arguments import names_used
from derive.check import compiled
from derive.errors import DeriveError, ShapeError, VerificationError
from derive.expr import FrechetDerivative, MatrixFunction
from derive.model import TOLERANCE

# A Monte Carlo item (measure STANDARD_ERRORS) passes within this many standard errors.
MC_TOLERANCE = 5.0
# The solution moved by a relative STEP to see how fast the residual grows (`vanishing`); a
# solution smaller than FLOOR times the inputs is moved by FLOOR times the inputs instead,
# so the solution μ̂ ≈ 0 of a well-posed equation is not failed for its residual's round-off.
STEP = 1e-6
FLOOR = 1e-4
# Condition numbers up to this cost nothing (`conditioning`); round-off is then at most about
# KAPPA_FREE · 1e-15, well inside TOLERANCE.
KAPPA_FREE = 100.0
# How much less accurate than round-off an item through a matrix function may be (above).
EXPM_SLACK = 1e3

__all__ = [
    "FLOOR",
    "EXPM_SLACK",
    "KAPPA_FREE",
    "MC_TOLERANCE",
    "STEP",
    "TOLERANCE",
    "conditioning",
    "conform",
    "direction",
    "finite",
    "has_differential",
    "maxabs",
    "names_read",
    "relative",
    "scale_of",
    "substitute",
    "terms_of",
    "value_and_size",
    "value_of",
    "vanishing",
]


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


def substitute(value: np.ndarray, old: np.ndarray | None, what: str) -> np.ndarray:
    """`value` to stand in for a symbol whose drawn value is `old`: of the same shape, or
    both single entries (a scalar and a 1×1); a row for a column is a ShapeError, as a
    layout slip in a solution must not be reshaped away."""
    value = np.asarray(value, dtype=float)
    if old is None or value.shape == old.shape:
        return value
    if value.size == old.size == 1:
        return value.reshape(old.shape)
    raise ShapeError(f"{what} has shape {value.shape}, the symbol has {old.shape}")


def _ratio(difference: float, size: float) -> float:
    if size > 0:
        return difference / size
    return 0.0 if difference == 0 else math.inf


def relative(
    a: np.ndarray,
    b: np.ndarray,
    size_a: np.ndarray | float | None = None,
    size_b: np.ndarray | float | None = None,
) -> float:
    """``max|a − b| / max(size_a, size_b, |a|, |b|)``, the sizes being those of the terms
    each side was summed from (`value_and_size`); without them, the plain relative error."""
    a, b = conform(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    finite(a, b)
    sizes = [maxabs(a), maxabs(b)]
    sizes += [maxabs(np.asarray(s, dtype=float)) for s in (size_a, size_b) if s is not None]
    return _ratio(maxabs(a - b), max(sizes))


def vanishing(r: np.ndarray, *sizes: np.ndarray | float) -> float:
    """``max|r| / max(sizes)``: a residual that should vanish, against the size of its terms
    and its sensitivity to a relative change of the solution (`direction`)."""
    r = np.asarray(r, dtype=float)
    finite(r)
    return _ratio(maxabs(r), max([maxabs(np.asarray(s, dtype=float)) for s in sizes] + [0.0]))


def direction(solution: np.ndarray, scale: float) -> np.ndarray:
    """The direction u in which a solution θ* is moved to measure the sensitivity of its
    residual: θ* itself (a relative change), or a constant of size FLOOR·scale where θ* is
    smaller than that (θ* = 0 has no relative change)."""
    solution = np.asarray(solution, dtype=float)
    floor = FLOOR * scale
    if maxabs(solution) >= floor and maxabs(solution) > 0:
        return solution
    return solution + (floor if floor > 0 else 1.0)


def has_differential(e: sp.Basic) -> bool:
    return compiled.has_differential(e)


def value_of(
    e: sp.Basic, values: Mapping[str, np.ndarray], dims: Mapping[str, int], varying=()
) -> np.ndarray:
    """e in float64 by NumPy, each d(·) a JVP by JAX (`derive.check.compiled`)."""
    return compiled.value(e, values, dims, varying)


def terms_of(e: sp.Basic) -> tuple[sp.Basic, ...]:
    return e.args if isinstance(e, (sp.Add, sp.MatAdd)) else (e,)


def value_and_size(
    e: sp.Basic, values: Mapping[str, np.ndarray], dims: Mapping[str, int], varying=()
) -> tuple[np.ndarray, np.ndarray]:
    """The value of `e` and its size ``Σ_t |t|`` over its top-level summands t, entrywise.

    A sum is evaluated term by term and the terms added here, so the value is the one the
    evaluator would give (the same additions) and costs no second evaluation."""
    terms = terms_of(e)
    if len(terms) == 1:
        v = value_of(e, values, dims, varying)
        return v, np.abs(v)
    parts = [value_of(t, values, dims, varying) for t in terms]
    shapes = {p.shape for p in parts if p.size != 1}
    if len(shapes) > 1:
        raise ShapeError(f"the terms of a sum have shapes {sorted(shapes)}")
    return functools.reduce(operator.add, parts), functools.reduce(
        operator.add, (np.abs(p) for p in parts)
    )


def names_read(*exprs: sp.Basic, varying: Iterable[str] = ()) -> frozenset[str]:
    names = set().union(*(names_used(e) for e in exprs))
    return frozenset(names | {"d" + v for v in varying})


def scale_of(values: Mapping[str, np.ndarray], names: Iterable[str]) -> float:
    return max((maxabs(values[n]) for n in names if n in values), default=0.0)


def _inverted(e: sp.Basic) -> list[sp.Basic]:
    """The matrices `e` inverts, solves with or takes the determinant of."""
    out = []
    for node in sp.preorder_traversal(e):
        if isinstance(node, (sp.Inverse, sp.Determinant)):
            out.append(node.args[0])
        elif isinstance(node, sp.MatPow) and node.exp.is_negative:
            out.append(node.base)
    return out


@functools.lru_cache(maxsize=4096)
def _inverted_in(exprs: tuple[sp.Basic, ...]) -> tuple[sp.Basic, ...]:
    return tuple(dict.fromkeys(m for e in exprs for m in _inverted(e)))


@functools.lru_cache(maxsize=4096)
def _through_expm(exprs: tuple[sp.Basic, ...]) -> bool:
    return any(e.has(MatrixFunction, FrechetDerivative) for e in exprs)


def conditioning(
    exprs: Iterable[sp.Basic], values: Mapping[str, np.ndarray], dims: Mapping[str, int]
) -> float:
    """``max(1, κ/KAPPA_FREE)`` for the largest 2-norm condition number κ, at `values`, of a
    matrix that `exprs` invert or take the determinant of, times EXPM_SLACK if they read a
    matrix function: the factor by which their error may exceed that of well-conditioned
    arithmetic. A matrix that cannot be evaluated on its own (it reads a bound index) or is
    not square counts as κ = 1."""
    exprs = tuple(exprs)
    slack = EXPM_SLACK if _through_expm(exprs) else 1.0
    worst = 1.0
    for m in _inverted_in(exprs):
        try:
            with np.errstate(all="ignore"):
                a = value_of(m, values, dims)
                if a.ndim == 2 and a.shape[0] == a.shape[1] > 1 and np.all(np.isfinite(a)):
                    worst = max(worst, float(np.linalg.cond(a)))
        except (DeriveError, np.linalg.LinAlgError, ValueError, TypeError):
            continue
    return slack * max(1.0, worst / KAPPA_FREE)
