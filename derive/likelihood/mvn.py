"""Maximum likelihood for the multivariate Gaussian: the sample mean and covariance."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sympy as sp

from derive.likelihood.matrix import X_DATA, D, Steps, model_given, nll_from
from derive.likelihood.side_claims import agreement, positive_definite
from derive.likelihood.symbols import NLL, hat_matrix
from derive.model import Claim, Derivation, Remark
from derive.rules import probability as pr
from derive.rules import regression as rg
from derive.rules import stationary as st

if TYPE_CHECKING:  # numpy is imported only when a check runs
    import numpy as np

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
    # The engine's Hessian in μ stops at dμ 𝟏ᵀ𝟏 (reported); a claim checks the remark's nΣ⁻¹.
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
    stationary = Claim(
        "stationary",
        "the gradient of the log-likelihood vanishes at (μ̂, Σ̂)",
        objective,
        objective,
        ("mu", "Sigma"),
        (("mu", mu_hat), ("Sigma", s_hat)),
    )
    n_inv = sp.MatMul(pr.n, sp.Inverse(S))
    # the Jacobian of the checked ∂NLL/∂μ: far cheaper for JAX than the Hessian of the NLL
    hessian = Claim(
        "jacobian",
        "∂²NLL/∂μ∂μᵀ = nΣ⁻¹, the Jacobian of ∂NLL/∂μ against jax.jacobian",
        n_inv,
        g_mu,
        ("mu",),
    )
    definite = positive_definite(
        "nΣ⁻¹ is positive definite (numpy.linalg.eigvalsh)", n_inv, -objective, ("mu",)
    )
    # at μ = μ̂ the NLL is (n/2)(tr(Σ⁻¹Σ̂) + log det Σ) plus a constant in Σ
    in_sigma = pr.n / 2 * (sp.Trace(sp.MatMul(sp.Inverse(S), s_hat)) + sp.log(sp.Determinant(S)))
    profile = Claim(
        "constant",
        "at μ = μ̂, NLL − (n/2)(tr(Σ⁻¹Σ̂) + log det Σ) does not depend on Σ",
        in_sigma,
        -objective.xreplace({mu: mu_hat}),
        ("Sigma",),
    )
    moments = _sample_moments(mu_hat, s_hat)
    b.claims += [stationary, hessian, definite, profile, moments]
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
            Remark.checked(
                "second-order check: ∂²NLL/∂μ∂μᵀ = nΣ⁻¹ is positive definite; at μ = μ̂ the "
                "NLL is (n/2)(tr(Σ⁻¹Σ̂) + log det Σ) + const in Σ",
                hessian,
                definite,
                profile,
            ),
            Remark.stated(
                "in Λ = Σ⁻¹ that is (n/2)(tr(ΛΣ̂) − log det Λ) + const, strictly convex in Λ "
                "(−log det is strictly convex on positive definite matrices), so the "
                "stationary point is the maximum of the likelihood (when Σ̂ is invertible: n > d)",
                "S. Boyd and L. Vandenberghe, Convex Optimization, 2004, §3.1.5",
            ),
            Remark.checked(
                "μ̂ = x̄ = (1/n)∑xᵢ, the sample mean; Σ̂ = (1/n)∑(xᵢ − x̄)(xᵢ − x̄)ᵀ, the sample "
                "covariance with divisor n",
                stationary,
                moments,
            ),
            Remark.stated(
                "Σ̂ is biased: E[Σ̂] = (n − 1)Σ/n, so the unbiased estimate divides by n − 1",
                "G. Casella and R. L. Berger, Statistical Inference, 2nd ed., §5.2 (E[S²] = σ² "
                "for the divisor n − 1), applied to vᵀxᵢ for every vector v",
            ),
        ),
    )


def _sample_moments(mu_hat: sp.Basic, s_hat: sp.Basic) -> Claim:
    """μ̂ and Σ̂ against numpy.mean and numpy.cov(…, bias=True) of the rows of X."""

    def reference(values: dict, value) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np  # only when checking

        data = values["X"]
        return agreement(
            (value(mu_hat, values), data.mean(axis=0), 0.0),
            (value(s_hat, values), np.atleast_2d(np.cov(data, rowvar=False, bias=True)), 0.0),
        )

    return Claim(
        "reference",
        "μ̂ and Σ̂ against numpy.mean and numpy.cov(bias=True) of the rows xᵢᵀ of X",
        s_hat,
        s_hat,
        (),
        method="numpy.cov",
        reference=reference,
    )
