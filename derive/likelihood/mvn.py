"""Maximum likelihood for the multivariate Gaussian: the sample mean and covariance."""

from __future__ import annotations

import sympy as sp

from derive.likelihood.matrix import X_DATA, D, Steps, model_given, nll_from
from derive.likelihood.symbols import NLL, hat_matrix
from derive.model import Claim, Derivation
from derive.rules import regression as rg
from derive.rules import stationary as st

MU_V = sp.MatrixSymbol("mu", D, 1)
SIGMA_M = sp.MatrixSymbol("Sigma", D, D)


def mvn() -> Derivation:
    X, mu, S = X_DATA, MU_V, SIGMA_M
    b = Steps({"Sigma": ("spd",)})
    density = rg.mvn_density(X, mu, S)
    objective = sp.log(density, evaluate=False)
    nll = nll_from(
        b,
        density,
        rg.MVN_LOGLIK,
        "maximising the log-likelihood is minimising its negative, the NLL",
    )
    nll = b.rewrite(nll, (rg.LOGDET_SCALE,), NLL, "take the constant 2π out of the determinant")
    kept = b.set_aside(
        NLL,
        nll,
        (mu, S),
        "the term (nd/2)·log(2π) depends on neither μ nor Σ: set it aside",
    )
    # The engine's Hessian in μ stops at dμ 𝟏ᵀ𝟏 (reported); the tests check nΣ⁻¹ numerically.
    g_mu, _, g_steps, _ = b.engine(kept, "mu", NLL)
    b.include(g_steps)
    b.claims.append(Claim("gradient", "∂NLL/∂μ against jax.grad", g_mu, -objective, ("mu",)))
    mu_hat = b.solve_for(
        g_mu,
        mu,
        hat_matrix(mu),
        st.LINEAR_STATIONARY,
        "set ∂NLL/∂μ = 0: Σ⁻¹(nμ − Xᵀ𝟏) = 0, and Σ⁻¹ is invertible, so μ̂ = (1/n)Xᵀ𝟏 = "
        "(1/n)∑xᵢ = x̄, the sample mean, whatever Σ",
    )
    g_s, _, s_steps, _ = b.engine(kept, "Sigma", NLL)
    b.include(s_steps)
    b.claims.append(Claim("gradient", "∂NLL/∂Σ against jax.grad", g_s, -objective, ("Sigma",)))
    at_mu_hat = g_s.xreplace({mu: mu_hat})
    s_hat = b.solve_for(
        at_mu_hat,
        S,
        hat_matrix(S),
        st.SANDWICH_STATIONARY,
        "set ∂NLL/∂Σ = 0 at μ = μ̂ and multiply by Σ on the left and on the right: "
        "Σ̂ = (1/n)(X − 𝟏x̄ᵀ)ᵀ(X − 𝟏x̄ᵀ) = (1/n)∑(xᵢ − x̄)(xᵢ − x̄)ᵀ, the sample covariance",
    )
    b.claims.append(
        Claim(
            "stationary",
            "the gradient of the log-likelihood vanishes at (μ̂, Σ̂)",
            objective,
            objective,
            ("mu", "Sigma"),
            (("mu", mu_hat), ("Sigma", s_hat)),
        )
    )
    return Derivation(
        title="Maximum likelihood for the multivariate Gaussian",
        goal=(
            "the maximum-likelihood estimates of μ and Σ from n independent observations "
            "x₁, …, xₙ ~ N(μ, Σ) in ℝᵈ, the rows of the n×d data matrix X"
        ),
        given=model_given(
            ("X", ("n", "d"), (), "data"),
            ("mu", ("d",), (), ""),
            ("Sigma", ("d", "d"), ("spd",), ""),
        ),
        objective=objective,
        wrt=("mu", "Sigma"),
        steps=tuple(b.steps),
        results=((hat_matrix(mu), mu_hat), (hat_matrix(S), s_hat)),
        claims=tuple(b.claims),
        name="mvn-mle",
        remarks=(
            "second-order check: ∂²NLL/∂μ∂μᵀ = nΣ⁻¹ is positive definite; for Σ, the NLL in "
            "Λ = Σ⁻¹ is (n/2)(tr(ΛΣ̂) − log det Λ) + const, strictly convex, so the stationary "
            "point is the maximum of the likelihood (when Σ̂ is invertible: n > d)",
            "μ̂ = x̄ = (1/n)∑xᵢ, the sample mean; Σ̂ = (1/n)∑(xᵢ − x̄)(xᵢ − x̄)ᵀ, the sample "
            "covariance with divisor n (biased: the unbiased estimate divides by n − 1)",
        ),
    )
