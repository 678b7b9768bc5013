"""The Fisher information of the Bernoulli distribution, I(p) = 1/(p(1 − p)): as the variance
of the score E[s²] and as −E[∂²ℓ/∂p²], each taken over x ∼ Bern(p) with x^k = x and E[x] = p."""

import sympy as sp

import derive.distributions as distributions
import derive.families as fm
from derive.expectation import entries, fisher_information
from derive.model import Claim, Derivation, Given, Remark

NAME = "fisher-bernoulli"
TITLE = "Fisher information of the Bernoulli distribution"


def build() -> Derivation:
    fam = fm.family("bernoulli")
    x = sp.Symbol("x", real=True)
    (p,) = fam.params
    steps, by_score, by_hessian, claims = fisher_information(
        fm.density_at(fam, x),
        x,
        distributions.Bernoulli(p),
        fam.params,
        fam.density_rule,
        fam.symbols,
    )
    # 1/I(p) is the variance of one observation: E[(x − p)²] = 1/I, exactly over x ∈ {0, 1}
    information = by_hessian[0, 0]
    variance = Claim(
        "expectation",
        "1/I(p) = E[(x − p)²], the variance of one observation (exact over x ∈ {0, 1})",
        1 / information,
        distributions.Expectation((x - p) ** 2, x, distributions.Bernoulli(p)),
        (),
    )
    return Derivation(
        title=TITLE,
        goal=(
            "the Fisher information I(p) of one observation x ∼ Bern(p): the variance of the "
            "score s = ∂ℓ/∂p, ℓ = log p(x | p), and minus the expected second derivative of ℓ"
        ),
        given=(Given("x", (), ("binary",), role="data"), Given("p", (), ("unit",))),
        objective=sp.log(fm.density_at(fam, x)),
        wrt=("p",),
        steps=tuple(steps),
        results=entries(by_score) + entries(by_hessian),
        claims=(*claims, variance),
        remarks=(
            Remark.checked(
                "the two forms agree, as the information equality says they must "
                "(Casella & Berger, Statistical Inference, 2nd ed., Lemma 7.3.11)",
                *claims,
            ),
            Remark.prose(
                "expectations over x ∼ Bern(p) are checked exactly, by enumerating x ∈ {0, 1}"
            ),
            Remark.checked("1/I(p) = p(1 − p) is the variance of one observation", variance),
            Remark.stated(
                "I(p) is the information of one observation; n observations carry nI(p), so the "
                "Cramér–Rao bound on the variance of an unbiased estimate of p is 1/(nI(p)) = "
                "p(1 − p)/n, attained by p̂ = x̄",
                "G. Casella and R. L. Berger, Statistical Inference, 2nd ed., §7.3.2 (the "
                "Cramér–Rao inequality for an i.i.d. sample)",
            ),
        ),
    )
