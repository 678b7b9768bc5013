"""The probability part of the worked catalogue: KL between Gaussians, Gaussian entropy, the
Fisher information of the Bernoulli and the Gaussian, the Beta-Bernoulli posterior. Each entry
builds, verifies, equals its closed form computed independently in NumPy, and its LaTeX
compiles; the expectation checks themselves can fail."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import sympy as sp

import derive.distributions as distributions
from derive import worked
from derive.check import check_derivation, check_rule_example
from derive.evaluate import evaluate
from derive.model import Claim, RuleExample
from tests.test_render import _compile

RNG = np.random.default_rng(20260511)


def _spd(d: int) -> np.ndarray:
    b = RNG.standard_normal((d, d))
    return b @ b.T + d * np.eye(d)


@pytest.fixture(scope="module")
def built() -> dict:
    """Each entry derived and verified once (the checks run Monte Carlo; keep them shared)."""
    return {}


def _get(built: dict, name: str):
    if name not in built:
        built[name] = worked(name)
    return built[name]


# --- KL between Gaussians ------------------------------------------------------------------


def test_kl_gaussians_verifies_and_matches_the_closed_form(built: dict) -> None:
    d = _get(built, "kl-gaussians")
    assert d.verification.passed, d.verification.failure
    assert d.verification.max_standard_errors is not None
    methods = {i.method for i in d.verification.items}
    assert any(m.startswith("Monte Carlo") for m in methods)
    rules = [s.rule.id for s in d.steps]
    assert "density.multivariate-gaussian" in rules and "expectation.quadratic-form" in rules
    # ½[tr(Σ₁⁻¹Σ₀) + (μ₁ − μ₀)ᵀΣ₁⁻¹(μ₁ − μ₀) − k + log det Σ₁ − log det Σ₀], k = 4
    k = 4
    m0, m1, s0, s1 = RNG.standard_normal(k), RNG.standard_normal(k), _spd(k), _spd(k)
    inv1 = np.linalg.inv(s1)
    want = 0.5 * (
        np.trace(inv1 @ s0)
        + (m1 - m0) @ inv1 @ (m1 - m0)
        - k
        + np.linalg.slogdet(s1)[1]
        - np.linalg.slogdet(s0)[1]
    )
    got = d.function()(mu_0=m0, Sigma_0=s0, mu_1=m1, Sigma_1=s1)
    assert float(got) == pytest.approx(want, rel=1e-12)


def test_kl_of_a_distribution_with_itself_is_zero(built: dict) -> None:
    d = _get(built, "kl-gaussians")
    m, s = RNG.standard_normal(3), _spd(3)
    assert abs(float(d.function()(mu_0=m, Sigma_0=s, mu_1=m, Sigma_1=s))) < 1e-12


def _swap_trace(e: sp.Basic) -> sp.Basic:
    """tr(Σ₁⁻¹Σ₀) written tr(Σ₀⁻¹Σ₁): the two covariances confused."""
    s0, s1 = (sp.MatrixSymbol(f"Sigma_{k}", *e.atoms(sp.Trace).pop().arg.shape) for k in (0, 1))
    return e.xreplace(
        {sp.Trace(sp.MatMul(sp.Inverse(s1), s0)): sp.Trace(sp.MatMul(sp.Inverse(s0), s1))}
    )


@pytest.mark.parametrize(
    "mistake",
    [
        lambda e: e + sp.Symbol("d", integer=True, positive=True) / 2,  # the −d left out
        _swap_trace,
    ],
    ids=["without-minus-d", "covariances-swapped"],
)
def test_a_wrong_kl_fails_its_monte_carlo_check(built: dict, mistake) -> None:
    d = _get(built, "kl-gaussians")
    claim = d.claims[0]
    wrong = mistake(d.result)
    assert wrong != d.result
    bad = Claim(claim.kind, claim.label, wrong, claim.function, claim.wrt)
    report = check_derivation(replace(d, steps=(), claims=(bad,)))
    assert not report.passed and "standard errors" in report.failure


# --- entropy -------------------------------------------------------------------------------


def test_entropy_gaussian_verifies_and_matches_the_closed_form(built: dict) -> None:
    d = _get(built, "entropy-gaussian")
    assert d.verification.passed, d.verification.failure
    s = _spd(5)
    want = 0.5 * np.linalg.slogdet(2 * np.pi * np.e * s)[1]
    got = d.function()(Sigma=s)
    assert float(got) == pytest.approx(want, rel=1e-12)
    assert d.steps[-1].rule.id == "logdet.scale-collect"


# --- Fisher information --------------------------------------------------------------------


def _results(d) -> dict[str, list[sp.Basic]]:
    out: dict[str, list[sp.Basic]] = {}
    for lhs, rhs in d.results:
        out.setdefault(str(lhs), []).append(rhs)
    return out


def test_fisher_bernoulli_both_forms_verify_and_agree(built: dict) -> None:
    d = _get(built, "fisher-bernoulli")
    assert d.verification.passed, d.verification.failure
    methods = {i.method for i in d.verification.items}
    assert "exact expectation (enumeration)" in methods
    (by_score, by_hessian) = _results(d)["I"]
    p = sp.Symbol("p", positive=True)
    for form in (by_score, by_hessian):
        for value in (0.1, 0.37, 0.8):
            assert float(form.subs(p, value)) == pytest.approx(1 / (value * (1 - value)), rel=1e-12)
    assert sum(s.rule.id == "expectation.binary-power" for s in d.steps) >= 1


def test_fisher_gaussian_both_forms_verify_and_agree(built: dict) -> None:
    d = _get(built, "fisher-gaussian")
    assert d.verification.passed, d.verification.failure
    res = _results(d)
    v = sp.Symbol("sigma^2", positive=True)
    for value in (0.3, 1.7):
        want = {"I_11": 1 / value, "I_12": 0.0, "I_22": 1 / (2 * value**2)}
        for name, expected in want.items():
            assert len(res[name]) == 2  # variance of the score, negative expected Hessian
            for form in res[name]:
                assert float(form.subs(v, value)) == pytest.approx(expected, rel=1e-12, abs=1e-15)
    labels = [i.label for i in d.verification.items]
    assert any(label.startswith("E[(dℓ)²]") for label in labels)
    assert any(label.startswith("−E[d(dℓ)]") for label in labels)


# --- Beta-Bernoulli ------------------------------------------------------------------------


def test_beta_bernoulli_posterior_is_the_beta_density(built: dict) -> None:
    d = _get(built, "beta-bernoulli")
    assert d.verification.passed, d.verification.failure
    methods = {i.method for i in d.verification.items}
    assert "tanh-sinh quadrature over (0, 1)" in methods
    posterior, evidence = (rhs for _, rhs in d.results)
    assert isinstance(posterior, distributions.BetaOf)
    x = np.array([1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0])
    alpha, beta, k, n = 0.7, 2.5, x.sum(), x.size
    values = {"x": x, "alpha": alpha, "beta": beta}

    def beta_fn(a: float, b: float) -> float:
        return math.exp(math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b))

    a1, b1 = alpha + k, beta + n - k
    for theta in (0.05, 0.4, 0.93):
        got = d.function(0)(theta=theta, **values)  # the posterior density, the first result
        want = theta ** (a1 - 1) * (1 - theta) ** (b1 - 1) / beta_fn(a1, b1)
        assert float(got) == pytest.approx(want, rel=1e-10)
    want = beta_fn(a1, b1) / beta_fn(alpha, beta)

    assert float(evaluate(evidence, values, {"n": n})) == pytest.approx(want, rel=1e-12)


def test_a_wrong_posterior_fails_normalisation(built: dict) -> None:
    """Beta(θ | α + k, β + n) (the zeros miscounted) does not integrate p(D | θ)p(θ)/p(D)."""
    d = _get(built, "beta-bernoulli")
    theta, a, b = sp.Symbol("theta", positive=True), *d.result.params
    wrong = replace(d.steps[-1], after=distributions.BetaOf(theta, a, b + sum(b.atoms(sp.Sum))))
    report = check_derivation(replace(d, steps=(wrong,), claims=()))
    assert not report.passed and "differs" in report.failure


# --- the expectation checks can fail ------------------------------------------------------


def test_a_wrong_gaussian_moment_fails_the_monte_carlo_check() -> None:
    x, mu, v = sp.Symbol("x", real=True), sp.Symbol("mu", real=True), sp.Symbol("v", positive=True)
    wrong = RuleExample(
        distributions.Expectation((x - mu) ** 4, x, distributions.Normal(mu, v)),
        v**2,
        relation="monte-carlo",
    )
    with pytest.raises(AssertionError, match="standard errors"):
        check_rule_example(wrong)


def test_a_binary_identity_does_not_hold_pointwise_under_a_gaussian() -> None:
    x, mu, v = sp.Symbol("x", real=True), sp.Symbol("mu", real=True), sp.Symbol("v", positive=True)
    wrong = RuleExample(
        distributions.Expectation(x**2, x, distributions.Normal(mu, v)),
        distributions.Expectation(x, x, distributions.Normal(mu, v)),
        relation="pointwise",
    )
    with pytest.raises(AssertionError, match="differs"):
        check_rule_example(wrong)


def test_a_wrong_bernoulli_mean_fails_exactly() -> None:
    x, p = sp.Symbol("x"), sp.Symbol("p", positive=True)
    wrong = RuleExample(
        distributions.Expectation(x, x, distributions.Bernoulli(p)),
        p**2,
        assume={"p": ("unit",)},
        relation="monte-carlo",
    )
    with pytest.raises(AssertionError, match="relative error"):
        check_rule_example(wrong)


def test_an_expression_not_affine_in_expectations_is_refused() -> None:
    x, mu, v = sp.Symbol("x", real=True), sp.Symbol("mu", real=True), sp.Symbol("v", positive=True)
    e = distributions.Expectation(x, x, distributions.Normal(mu, v))
    with pytest.raises(AssertionError, match="not affine"):
        check_rule_example(RuleExample(e**2, mu**2, relation="monte-carlo"))


# --- LaTeX ---------------------------------------------------------------------------------

ENTRIES = [
    "kl-gaussians",
    "entropy-gaussian",
    "fisher-bernoulli",
    "fisher-gaussian",
    "beta-bernoulli",
]


@pytest.mark.slow
@pytest.mark.parametrize("name", ENTRIES)
def test_latex_export_compiles(tmp_path: Path, name: str) -> None:
    d = worked(name, check=False)
    source = d.to_latex(standalone=True)
    assert r"\mathbb{E}" in source or r"\operatorname{Beta}" in source
    assert d.to_markdown() and d.to_json()
    _compile(tmp_path, source)
