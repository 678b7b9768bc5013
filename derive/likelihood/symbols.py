"""The symbols the likelihood derivations are written in: L, ℓ, NLL, the sample mean x̄,
and the estimator symbols θ̂ (scalar) and ŵ, μ̂, Σ̂ (matrix parameters)."""

from __future__ import annotations

import sympy as sp

import derive.families as fm
from derive.rules import probability as pr

L = sp.Symbol("L")
ELL = sp.Symbol("ell")
NLL = sp.Symbol("NLL")
#: x̄ = (1/n) ∑ x_i, the sample mean (printed x̄ in notes; results are written out in full so
#: that they evaluate on data)
X_BAR_DEFINITION = sp.Sum(pr.x[pr.i], pr.over_data()) / pr.n


def hat(theta: sp.Symbol) -> sp.Symbol:
    """The estimator symbol of a parameter: mu → mu_hat, sigma^2 → sigma^2_hat."""
    return sp.Symbol(f"{theta.name}_hat")


def hat_name(fam: fm.Family, theta: sp.Symbol) -> str:
    """μ̂, σ̂², λ̂: the Unicode name of an estimate."""
    shown = fam.show(theta.name)
    return shown[0] + "\u0302" + shown[1:]


def squared(name: str) -> str:
    """μ², (σ²)²: a parameter's name squared, as in ∂²NLL/∂μ²."""
    return f"({name})²" if name[-1] in "²³" else f"{name}²"


def hat_matrix(m: sp.MatrixSymbol) -> sp.MatrixSymbol:
    """ŵ, μ̂, Σ̂: the estimator symbol of a matrix parameter."""
    return sp.MatrixSymbol(f"{m.name}_hat", *m.shape)
