"""The worked catalogue, linear-algebra part: bernoulli-ce, mlp-backprop, pca, svd-from-eig.

Each entry is built by the engine and verified (steps, claims against jax.grad and the numpy
references); each verification is also shown able to fail on a corrupted derivation. Every
catalogue entry, these and the others, cites only rules of the rulebook.
"""

import re
from dataclasses import replace

import numpy as np
import pytest
import sympy as sp

import derive
from derive.check.chain import continuity_items
from derive.expr import MatScalar, sigmoid
from derive.model import Claim, Step

LINALG = ("bernoulli-ce", "mlp-backprop", "pca", "svd-from-eig")


@pytest.fixture(scope="module")
def built() -> dict[str, derive.Derivation]:
    return {name: derive.worked(name) for name in LINALG}


def test_listed_in_the_catalogue():
    names = [name for name, _ in derive.catalog()]
    assert set(LINALG) <= set(names)


CATALOG = [name for name, _ in derive.catalog()]


@pytest.mark.parametrize("name", CATALOG)
def test_every_step_cites_a_registered_rule(name):
    """No step of any catalogue entry cites a rule that is not in the rulebook, or cites one
    under another name or source than the rulebook's."""
    registered = {r.id: r for r in derive.rules.all_rules()}
    d = derive.worked(name, check=False)
    assert d.steps
    for k, step in enumerate(d.steps, 1):
        assert step.rule.id in registered, f"{name} step {k} cites unregistered {step.rule.id!r}"
        assert step.rule == registered[step.rule.id].ref, f"{name} step {k}: {step.rule}"


@pytest.mark.parametrize("name", LINALG)
def test_entry_derives_with_cited_steps_and_verifies(built, name):
    d = built[name]
    assert d.name == name and d.steps
    for step in d.steps:
        assert step.rule.id and step.rule.name and step.rule.source
    assert d.verification.passed, d.verification.failure
    assert d.verification.max_rel_error < 1e-8
    # Every step and claim was checked, not skipped, and every displayed chain is continuous.
    chain = [i for i in d.verification.items if i.label.startswith("chain:")]
    assert len(d.verification.items) == len(d.steps) + len(d.claims) + len(chain)
    assert len(chain) == len(continuity_items(d))


def test_bernoulli_ce_gradient_is_sigmoid_minus_y(built):
    d = built["bernoulli-ce"]
    assert d.to_text().split("Result:")[1].splitlines()[1].strip() == "∂f/∂z = σ(z) − y"
    assert any(isinstance(a, sigmoid) for a in sp.preorder_traversal(d.result))


def test_mlp_backprop_results_are_the_delta_forms(built):
    d = built["mlp-backprop"]
    text = d.to_text()
    for line in ("∂f/∂W₂ = δ₂hᵀ", "∂f/∂b₂ = δ₂", "∂f/∂W₁ = δ₁xᵀ", "∂f/∂b₁ = δ₁"):
        assert f"  {line}\n" in text.split("Result:")[1]
    assert [str(s) for s, _ in d.definitions] == ["h", "p", "delta_2", "delta_1"]
    # W₁ and W₂ are not square: distinct input, hidden and output sizes.
    shapes = {g.name: g.shape for g in d.given}
    assert shapes["W_1"] == ("m", "n") and shapes["W_2"] == ("k", "m")
    naming = [s for s in d.steps if s.rule.id == "naming.abbreviation"]
    assert len(naming) == 4
    assert all(s.before != s.after for s in naming)


def test_mlp_backprop_a_wrong_delta_fails(built):
    """δ₁ without the tanh derivative 1 − h∘h: the naming steps and claims must fail."""
    d = built["mlp-backprop"]
    delta1, right = d.definitions[3]
    assert isinstance(right, sp.HadamardProduct)
    wrong = (*d.definitions[:3], (delta1, right.args[0]))
    report = replace(d, definitions=wrong).check(trials=2)
    assert not report.passed
    assert "Name a subexpression" in report.failure


def test_differentiating_through_a_defined_symbol_is_refused(built):
    d = built["mlp-backprop"]
    h = d.definitions[0][0]
    through = Claim("gradient", "through h", h, MatScalar(sp.MatMul(sp.Transpose(h), h)), ("b_1",))
    bad = replace(d, claims=(through,))
    report = bad.check(trials=1)
    assert not report.passed
    assert "defined symbol h" in report.failure


def test_pca_gradient_and_stationary_condition(built):
    d = built["pca"]
    text = d.to_text()
    assert "∂L/∂u = 2Su − 2λ u" in text or "∂L/∂u = 2Su − 2λu" in text
    assert "Su = λu" in text
    methods = {i.method for i in d.verification.items}
    assert "numpy.linalg.eigh" in methods and "jax.grad" in methods
    assert "numpy.linalg.eigh" in d.verification.summary()


def test_pca_lagrangian_is_a_checked_step(built):
    d = built["pca"]
    first = d.steps[0]
    assert first.rule.id == "constrained.lagrange" and first.relation == "constrained"
    assert first.before == d.objective and first.after != first.before
    item = d.verification.items[0]
    assert item.passed and item.method == "evaluation at unit-norm points"
    assert "equal where the constraint holds" in d.to_text()
    assert '"relation": "constrained"' in d.to_json()


@pytest.mark.parametrize("wrong", ["forgot the 1", "unit norm 2"])
def test_pca_a_wrong_lagrangian_step_fails(built, wrong):
    """uᵀSu − λuᵀu and uᵀSu − λ(uᵀu − 2) differ from uᵀSu where uᵀu = 1: step 1 fails."""
    d = built["pca"]
    first = d.steps[0]
    (u,) = (a for a in first.before.atoms(sp.MatrixSymbol) if a.name == "u")
    lam = sp.Symbol("lambda", real=True)
    uu = MatScalar(sp.MatMul(sp.Transpose(u), u))
    g = uu if wrong == "forgot the 1" else uu - 2
    bad = replace(first, after=first.before - lam * g)
    report = replace(d, steps=(bad, *d.steps[1:])).check(trials=2)
    assert not report.passed
    assert report.failure.startswith("step 1 (Lagrange multiplier) differs")


def test_a_constrained_step_needs_the_constrained_symbol(built):
    """Without wrt the checker cannot tell which symbol lies on the unit sphere: it fails."""
    d = built["pca"]
    first = d.steps[0]
    orphan = Step(first.lhs, first.before, first.after, first.rule, relation="constrained")
    report = replace(d, wrt=(), steps=(orphan,), claims=()).check(trials=1)
    assert not report.passed and "unit norm" in report.failure


def test_pca_reference_can_fail(built):
    """A claimed stationary point that is not one (the bottom eigenvector maximises nothing)."""
    d = built["pca"]
    (ref,) = [c for c in d.claims if c.kind == "reference"]

    def bottom(values, value):
        s = values["S"]
        lam, vecs = np.linalg.eigh(s)
        at = {**values, "u": vecs[:, :1], "lambda": np.asarray(lam[-1])}
        r = value(ref.expr, at).ravel()
        return r, np.zeros_like(r)

    report = replace(d, claims=(replace(ref, reference=bottom),)).check(trials=1)
    assert not report.passed and "top eigenpair" in report.failure


def test_svd_steps_use_orthonormality_and_match_numpy(built):
    d = built["svd-from-eig"]
    ids = [s.rule.id for s in d.steps]
    assert ids[:3] == ["svd.definition", "transpose.product", "constrained.orthonormal"]
    summary = d.verification.summary()
    # Only the methods actually used are named: evaluation and numpy.linalg.svd, no JAX.
    assert summary.startswith(
        "verified by evaluation at random inputs and against numpy.linalg.svd"
    )
    assert "JAX" not in summary
    assert not any(i.method.startswith("jax") for i in d.verification.items)
    # A is non-square in every trial (m ≠ n).
    shapes = {g.name: g.shape for g in d.given}
    assert shapes["A"] == ("m", "n")


def test_svd_steps_fail_at_factors_that_are_not_orthonormal(built):
    d = built["svd-from-eig"]
    lhs, rhs, _ = d.definitions[0]

    def not_orthonormal(values):
        a = values["A"]
        u = a @ np.linalg.inv(np.eye(a.shape[1]) * 2)  # U = A/2, Σ = 2I, V = I: A = UΣVᵀ
        return {"U": u, "Sigma": 2 * np.eye(a.shape[1]), "V": np.eye(a.shape[1])}

    report = replace(d, definitions=((lhs, rhs, not_orthonormal),)).check(trials=1)
    assert not report.passed
    assert "Orthonormal columns" in report.failure


def test_lagrange_rule_is_registered_with_its_source():
    rule = derive.rules.get("constrained.lagrange")
    assert "Bishop" in rule.source and "Appendix E" in rule.source
    assert derive.rules.get("constrained.orthonormal").examples is not None
    assert "Golub & Van Loan" in derive.rules.get("svd.definition").source
    assert derive.rules.get("naming.abbreviation").source.startswith("elementary")


THIN = ("ols", "logistic-regression", "mvn-mle")


@pytest.mark.parametrize("name", THIN)
def test_thin_recipes_over_mle_verify(name):
    d = derive.worked(name)
    assert d.name == name and d.steps
    assert d.verification.passed, d.verification.failure


def test_ols_is_checked_against_lstsq_and_that_check_can_fail():
    d = derive.worked("ols", check=False)
    (ref,) = [c for c in d.claims if c.method == "numpy.linalg.lstsq"]
    assert ref.kind == "reference"
    n, k = sp.symbols("n d", integer=True, positive=True)
    wrong_w = sp.MatMul(sp.Transpose(sp.MatrixSymbol("X", n, k)), sp.MatrixSymbol("y", n, 1))

    def transposed_only(values, value):
        return value(wrong_w, values), np.linalg.lstsq(values["X"], values["y"], rcond=None)[0]

    report = replace(d, claims=(replace(ref, reference=transposed_only),)).check(trials=1)
    assert not report.passed


def test_logistic_regression_demo_newton_beats_gradient_descent():
    d = derive.worked("logistic-regression")
    demo = d.remarks[-1].text
    newton, descent = (int(k) for k in re.findall(r"took (\d+)", demo))
    assert newton < descent
    assert any(i.method.startswith("numpy iteration") and i.passed for i in d.verification.items)
