"""The Beta-Bernoulli posterior: a Beta(α, β) prior on θ and n Bernoulli observations with
k = ∑xᵢ ones give, by Bayes' theorem and conjugacy, the posterior Beta(θ | α + k, β + n − k).

Verified by numeric normalisation: p(D | θ)p(θ) integrates over θ ∈ (0, 1) to the evidence
p(D) = B(α + k, β + n − k)/B(α, β) (tanh-sinh quadrature), the posterior integrates to 1, and
p(D | θ)p(θ)/p(D) equals the Beta density at random θ."""

import sympy as sp

import derive.distributions as distributions
import derive.families as fm
from derive.model import Claim, Context, Derivation, Given, Remark
from derive.record import Recorder
from derive.rules import conjugacy as cj
from derive.rules import loglik as lg
from derive.rules import probability as pr

NAME = "beta-bernoulli"
TITLE = "Beta-Bernoulli conjugacy: the posterior of a Bernoulli probability"


def build() -> Derivation:
    fam = fm.family("bernoulli")
    theta = sp.Symbol("theta", positive=True)
    alpha, beta = sp.Symbol("alpha", positive=True), sp.Symbol("beta", positive=True)
    likelihood = fm.joint_density(fam).xreplace({fam.params[0]: theta})
    prior = distributions.BetaOf(theta, alpha, beta)
    joint = sp.Symbol("q")  # q(θ) = p(D | θ) p(θ)
    data = sp.Symbol("D")
    evidence = sp.Symbol("p(D)")

    r = Recorder(Context(varying=frozenset({theta})))
    e = r.rewrite(
        likelihood * prior,
        pr.IID,
        joint,
        "q(θ) = p(D | θ)p(θ), the numerator of Bayes' theorem; the observations are i.i.d.",
    )
    e = r.rewrite(e, fam.density_rule, joint, "write out each Bernoulli density")
    e = r.rewrite(e, cj.BETA_DENSITY, joint, "write out the Beta prior")
    e = r.rewrite(e, cj.PRODUCT_POWERS, joint, "collect the powers of θ and of 1 − θ")
    kernel = r.rewrite(
        e, lg.SUM_LINEARITY, joint, "∑(1 − xᵢ) = n − ∑xᵢ: with k = ∑xᵢ ones, n − k zeros"
    )
    z = r.transform(
        kernel,
        cj.BETA_INTEGRAL,
        evidence,
        "the evidence p(D) = ∫₀¹ q(θ) dθ, by the Beta integral",
        "integral",
        ("theta",),
    )
    label = distributions.DensityOf("posterior", theta, (data,), kernel / z)  # p(θ | D)
    k = sp.Sum(pr.x[pr.i], pr.over_data())
    result = r.transform(
        kernel / z,
        cj.CONJUGATE,
        label,
        "Bayes' theorem, p(θ | D) = q(θ)/p(D): the kernel θ^{a−1}(1 − θ)^{b−1} is a Beta "
        "density's, with a = α + k and b = β + n − k",
    )
    normalised = Claim(
        "integral", "the posterior integrates to 1 over θ ∈ (0, 1)", sp.S.One, result, ("theta",)
    )
    mean = Claim(
        "integral",
        "the posterior mean ∫₀¹ θ p(θ | D) dθ is (α + k)/(α + β + n)",
        (alpha + k) / (alpha + beta + pr.n),
        theta * result,
        ("theta",),
    )
    return Derivation(
        title=TITLE,
        goal=(
            "the posterior p(θ | D) of a Bernoulli probability θ with a Beta(α, β) prior, "
            "given n independent observations x₁, …, xₙ ∈ {0, 1} (k = ∑xᵢ of them ones)"
        ),
        given=(
            Given("x", ("n",), ("binary",), role="data"),
            Given("alpha", (), ("positive",)),
            Given("beta", (), ("positive",)),
            Given("theta", (), ("unit",)),
        ),
        objective=likelihood * prior,
        wrt=("theta",),
        steps=tuple(r.steps),
        results=((label, result), (evidence, z)),
        claims=(normalised, mean),
        remarks=(
            Remark.checked(
                "conjugacy: the posterior is in the prior's family, so α and β act as prior "
                "counts of ones and zeros; the posterior mean is (α + k)/(α + β + n)",
                normalised,
                mean,
            ),
            Remark.prose(
                "integrals over θ ∈ (0, 1) are checked by tanh-sinh quadrature, which is "
                "accurate even where a shape parameter below 1 makes the density unbounded at "
                "0 or 1"
            ),
        ),
    )
