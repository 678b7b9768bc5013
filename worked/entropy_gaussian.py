"""The differential entropy of 𝒩(μ, Σ), H = −E[log p(x)] = ½ log det(2πeΣ): write out the log
density (Cookbook (346)), take the expectation (the quadratic form by (380): its mean is d),
and collect with log det(cΣ) = d log c + log det Σ (Cookbook (19)). Verified step by step, and
the result against a Monte Carlo estimate of −E[log p(x)]."""

import sympy as sp

import derive.distributions as distributions
from derive.model import Claim, Derivation, Given, Remark
from derive.record import Recorder
from derive.rules import expectation as ex
from derive.rules import loglik as lg
from derive.rules import regression as rg

NAME = "entropy-gaussian"
TITLE = "Entropy of a multivariate Gaussian"


def build() -> Derivation:
    d = sp.Symbol("d", integer=True, positive=True)
    x = sp.MatrixSymbol("x", d, 1)
    mu, sigma = sp.MatrixSymbol("mu", d, 1), sp.MatrixSymbol("Sigma", d, d)
    definition = -distributions.Expectation(
        sp.log(ex.normal_density(x, mu, sigma)), x, distributions.Normal(mu, sigma)
    )
    h = sp.Symbol("H")

    r = Recorder()
    e = r.rewrite(
        definition, ex.MVN_DENSITY, h, "the entropy is −E[log p(x)]; write out the density"
    )
    notes = {**lg.LOG_NOTES, lg.LOG_POWER: "log det(2πΣ)^(−1/2) = −½ log det(2πΣ)"}
    e = r.rewrite_in_turn(e, lg.LOG_RULES, h, notes)
    e = r.rewrite(e, ex.LINEARITY, h, "take the expectation term by term")
    e = r.rewrite(
        e, ex.QUADRATIC_FORM, h, "x ∼ 𝒩(μ, Σ): the mean of the quadratic form", "monte-carlo"
    )
    e = r.rewrite(e, ex.TRACE_IDENTITY, h, "so E[(x − μ)ᵀΣ⁻¹(x − μ)] = d")
    e = r.rewrite(e, rg.LOGDET_SCALE, h, "det(2πΣ) = (2π)ᵈ det Σ")
    e = r.transform(e, ex.LOG_SUM, h, "d log 2π + d = d log(2πe)")
    e = r.transform(e, ex.COMMON_FACTOR, h, "collect the common factor ½")
    result = r.transform(e, ex.LOGDET_COLLECT, h, "d log(2πe) + log det Σ = log det(2πeΣ)")

    # Cookbook (389), in its own form, against the definition
    cookbook = Claim(
        "expectation",
        "Cookbook (389), ln √det(2πΣ) + d/2, against a Monte Carlo estimate of −E[log p(x)]",
        sp.log(sp.sqrt(sp.Determinant(2 * sp.pi * sigma))) + d / 2,
        definition,
        (),
    )
    return Derivation(
        title=TITLE,
        goal="the differential entropy H = −E[log p(x)] of x ∼ 𝒩(μ, Σ), a d-vector, in closed form",
        given=(Given("mu", ("d",)), Given("Sigma", ("d", "d"), ("spd",))),
        objective=definition,
        wrt=(),
        steps=tuple(r.steps),
        results=((h, result),),
        claims=(
            Claim(
                "expectation",
                "H against a Monte Carlo estimate of −E[log p(x)]",
                result,
                definition,
                (),
            ),
            cookbook,
        ),
        remarks=(
            Remark.checked(
                "the same as the Cookbook's eq. (389), ln √det(2πΣ) + d/2; it does not depend on μ",
                cookbook,
            ),
            Remark.prose(
                "the Monte Carlo check draws x ∼ 𝒩(μ, Σ) and passes when the sample mean of "
                "−log p(x) is within 5 standard errors of the closed form"
            ),
        ),
    )
