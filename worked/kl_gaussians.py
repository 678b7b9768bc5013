"""KL(𝒩(μ₀, Σ₀) ‖ 𝒩(μ₁, Σ₁)) from its definition E₀[log p₀(x) − log p₁(x)]: write out both
log densities (Cookbook (346)), take the expectation term by term, the quadratic forms by
(380), and collect

    ½ [tr(Σ₁⁻¹Σ₀) + (μ₀ − μ₁)ᵀΣ₁⁻¹(μ₀ − μ₁) − d + log det Σ₁ − log det Σ₀].

Verified step by step, and the result against a Monte Carlo estimate of the definition."""

import numpy as np
import sympy as sp

import derive.distributions as distributions
from derive.model import Claim, Derivation, Given, Remark
from derive.record import Recorder
from derive.rules import expectation as ex
from derive.rules import loglik as lg
from derive.rules import regression as rg

NAME = "kl-gaussians"
TITLE = "KL divergence between two multivariate Gaussians"


def build() -> Derivation:
    d = sp.Symbol("d", integer=True, positive=True)
    x = sp.MatrixSymbol("x", d, 1)
    mu0, mu1 = sp.MatrixSymbol("mu_0", d, 1), sp.MatrixSymbol("mu_1", d, 1)
    s0, s1 = sp.MatrixSymbol("Sigma_0", d, d), sp.MatrixSymbol("Sigma_1", d, d)
    p0, p1 = ex.normal_density(x, mu0, s0), ex.normal_density(x, mu1, s1)
    definition = distributions.Expectation(
        sp.log(p0) - sp.log(p1), x, distributions.Normal(mu0, s0)
    )
    kl = sp.Symbol("KL")

    r = Recorder()
    e = r.rewrite(
        definition,
        ex.MVN_DENSITY,
        kl,
        "the KL divergence is the expectation under p₀ of log p₀(x) − log p₁(x); write out "
        "both densities",
    )
    notes = {
        **lg.LOG_NOTES,
        lg.LOG_MUL: "the log of each density: the log of a product is the sum of the logs",
        lg.LOG_POWER: "log det(2πΣ)^(−1/2) = −½ log det(2πΣ)",
    }
    e = r.rewrite_in_turn(e, lg.LOG_RULES, kl, notes)
    e = r.rewrite(
        e,
        ex.LINEARITY,
        kl,
        "take the expectation term by term; the log-determinants do not depend on x",
    )
    e = r.rewrite(
        e,
        rg.LOGDET_SCALE,
        kl,
        "det(2πΣ) = (2π)ᵈ det Σ: the terms in log 2π cancel",
    )
    e = r.rewrite(
        e,
        ex.QUADRATIC_FORM,
        kl,
        "x ∼ 𝒩(μ₀, Σ₀): the expectation of each quadratic form (for the first, m′ = m = μ₀)",
        "monte-carlo",
    )
    e = r.rewrite(e, ex.TRACE_IDENTITY, kl, "so E₀[(x − μ₀)ᵀΣ₀⁻¹(x − μ₀)] = d")
    result = r.transform(e, ex.COMMON_FACTOR, kl, "collect the common factor ½")

    properties = _properties(result)
    return Derivation(
        title=TITLE,
        goal=(
            "KL(𝒩(μ₀, Σ₀) ‖ 𝒩(μ₁, Σ₁)) = E₀[log p₀(x) − log p₁(x)] in closed form, "
            "x ∼ 𝒩(μ₀, Σ₀) a d-vector"
        ),
        given=(
            Given("mu_0", ("d",)),
            Given("Sigma_0", ("d", "d"), ("spd",)),
            Given("mu_1", ("d",)),
            Given("Sigma_1", ("d", "d"), ("spd",)),
        ),
        objective=definition,
        wrt=(),
        steps=tuple(r.steps),
        results=((kl, result),),
        claims=(
            Claim(
                "expectation",
                "KL against a Monte Carlo estimate of E₀[log p₀(x) − log p₁(x)]",
                result,
                definition,
                (),
            ),
            properties,
        ),
        remarks=(
            Remark.checked(
                "KL ≥ 0, with equality exactly when μ₀ = μ₁ and Σ₀ = Σ₁; it is not symmetric "
                "in the two distributions",
                properties,
            ),
            Remark.prose(
                "the Monte Carlo check draws x ∼ 𝒩(μ₀, Σ₀) and passes when the sample mean of "
                "log p₀(x) − log p₁(x) is within 5 standard errors of the closed form"
            ),
        ),
    )


def _properties(kl: sp.Basic) -> Claim:
    """The closed form at the draw is positive, is 0 at (μ₁, Σ₁) = (μ₀, Σ₀) (against the size
    d of the trace it cancels), and changes when the two distributions are swapped."""

    def reference(values: dict, value) -> tuple[np.ndarray, np.ndarray]:
        at = float(value(kl, values))
        same = float(value(kl, {**values, "mu_1": values["mu_0"], "Sigma_1": values["Sigma_0"]}))
        swap = {"mu_0": "mu_1", "mu_1": "mu_0", "Sigma_0": "Sigma_1", "Sigma_1": "Sigma_0"}
        swapped = float(value(kl, {k: values[swap.get(k, k)] for k in values}))
        d = values["mu_0"].shape[0]
        flags = [float(at > 0), same / max(at, d), float(abs(at - swapped) > 1e-6 * at)]
        return np.array(flags), np.array([1.0, 0.0, 1.0])

    return Claim(
        "reference",
        "KL > 0 at the draw, 0 at (μ₁, Σ₁) = (μ₀, Σ₀), and not KL(p₁ ‖ p₀) (the closed form "
        "evaluated by numpy)",
        kl,
        kl,
        (),
        method="numpy evaluation of the closed form",
        reference=reference,
    )
