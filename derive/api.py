"""The public Python API. Every function returns a `Derivation`, verified unless check=False."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import sympy as sp

import derive.methods  # noqa: F401  (attaches d.check(), d.to_latex(), … to Derivation)
from derive.derivatives import gradient_derivation, hessian_derivation, jacobian_derivation
from derive.expr import Vec, is_matrix
from derive.model import Derivation
from derive.problem import Shape, make_problem

Assume = Mapping[str, str | tuple[str, ...]]


class VerificationWarning(UserWarning):
    """A derivation's numeric cross-check failed: do not trust its result."""


def finish(d: Derivation, check: bool, trials: int = 5, seed: int = 0) -> Derivation:
    """`d` verified (unless check=False); a failed check is warned about, never raised."""
    if not check:
        return d
    d = d.verified(trials=trials, seed=seed)
    if not d.verification.passed:
        warnings.warn(d.verification.summary(), VerificationWarning, stacklevel=3)
    return d


def gradient(
    f: sp.Basic,
    wrt: str,
    *,
    shapes: Mapping[str, Shape] | None = None,
    assume: Assume | None = None,
    check: bool = True,
    structure: str | None = None,
) -> Derivation:
    """∂f/∂wrt for a scalar f, in the Cookbook layout (the shape of wrt; entries independent).

    structure="symmetric" gives instead the derivative with respect to the free entries
    wrt_ij, i ≤ j, of a symmetric matrix, G + Gᵀ − G∘I (Cookbook (138)); wrt is then assumed
    symmetric. The default is the unstructured gradient G, which is what autodiff computes.

    `shapes` maps names to () scalar, (n,) column vector or (m, n) matrix (ints or dimension
    names); `assume` maps names to assumption kinds ("symmetric", "spd", "invertible",
    "positive", "nonnegative", "nonzero", "prob", "onehot", "binary", "unit"). With check=True the
    result and every step are verified against JAX; a failure is reported in
    `.verification` and warned about with `VerificationWarning`.
    """
    if structure == "symmetric":
        assume = _with_symmetric(assume, wrt)
    d = gradient_derivation(make_problem(f, wrt, shapes, assume), structure)
    return finish(d, check)


def _with_symmetric(assume: Assume | None, name: str) -> dict[str, str | tuple[str, ...]]:
    """`assume` with `name` symmetric added (kept as it is when already symmetric or spd)."""
    out = dict(assume or {})
    kinds = out.get(name, ())
    kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
    if not {"symmetric", "spd"} & set(kinds):
        kinds += ("symmetric",)
    out[name] = kinds
    return out


def hessian(
    f: sp.Basic,
    wrt: str,
    *,
    shapes: Mapping[str, Shape] | None = None,
    assume: Assume | None = None,
    check: bool = True,
) -> Derivation:
    """∂²f/∂x∂xᵀ of a scalar f with respect to a column vector x (the Jacobian of ∇f); with
    respect to an m × n matrix X, the mn × mn Hessian ∂²f/∂vec(X)∂vec(X)ᵀ in the vec convention
    of Magnus & Neudecker (vec stacks columns), derived by the second differential."""
    d = hessian_derivation(make_problem(f, wrt, shapes, assume))
    return finish(d, check)


def jacobian(
    f: sp.Basic,
    wrt: str,
    *,
    shapes: Mapping[str, Shape] | None = None,
    assume: Assume | None = None,
    check: bool = True,
) -> Derivation:
    """∂g/∂xᵀ of a column-vector function g of a column vector x: entry (i, j) is ∂g_i/∂x_j.

    For a p × q matrix function F, or a matrix X (m × n), the pq × mn Jacobian
    ∂vec(F)/∂vec(X)ᵀ in the vec convention of Magnus & Neudecker (vec stacks columns)."""
    if isinstance(f, str):
        from derive.latex import parse_latex

        f = parse_latex(f, shapes, assume)
    if is_matrix(f) and f.shape[1] != 1:
        f = Vec(f)  # a matrix function: the Jacobian of its vec
    d = jacobian_derivation(make_problem(f, wrt, shapes, assume, vector_valued=True))
    return finish(d, check)


def mle(family: str, *, check: bool = True, **options: object) -> Derivation:
    """The maximum-likelihood derivation for an i.i.d. sample from `family` (e.g. "gaussian")."""
    from derive.likelihood import mle_derivation

    return finish(mle_derivation(family, **options), check)


def map_estimate(family: str, *, prior: str = "gaussian", check: bool = True) -> Derivation:
    """The maximum-a-posteriori derivation for `family` under `prior` ("gaussian": ridge,
    closed form; "laplace": the L1 penalty, no closed form). Only "linear-regression"."""
    from derive.likelihood import map_derivation

    return finish(map_derivation(family, prior), check)
