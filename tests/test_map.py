"""MAP estimation: Bayes' theorem, the prior's density, the penalty, and ridge in closed form
(or, for a Laplace prior, a plain statement that there is none); the CLI for MAP and for every
MLE family, through the real entry point."""

import pathlib
import subprocess
import sys

import numpy as np
import pytest

import derive
from derive import rules
from derive.errors import UnknownNameError, UnsupportedError
from derive.evaluate import evaluate
from derive.likelihood import families, map_derivation

DERIVE = str(pathlib.Path(sys.executable).parent / "derive")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DERIVE, *args], capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def ridge():
    return derive.map_estimate("linear-regression", prior="gaussian")


def test_ridge_steps_and_verification(ridge):
    assert ridge.verification.passed, ridge.verification.failure
    ids = [s.rule.id for s in ridge.steps]
    assert ids[0] == "bayes.log-posterior"
    for rid in ("density.linear-regression", "density.gaussian-prior", "nll.set-aside"):
        assert rid in ids
    assert ids[-1] == "optimum.linear-stationary"
    for step in ridge.steps:
        assert rules.get(step.rule.id).ref == step.rule


def test_ridge_matches_the_closed_form_with_lambda_sigma2_over_tau2(ridge):
    rng = np.random.default_rng(5)
    for n, d in ((9, 3), (4, 6)):  # also n < d, where XᵀX is singular but ridge is not
        X, y = rng.normal(size=(n, d)), rng.normal(size=(n, 1))
        s2, t2 = rng.uniform(0.5, 2.0), rng.uniform(0.5, 2.0)
        values = {"X": X, "y": y, "sigma^2": np.asarray(s2), "tau^2": np.asarray(t2)}
        got = np.asarray(evaluate(ridge.result, values, {"n": n, "d": d}))
        lam = s2 / t2
        ref = np.linalg.solve(X.T @ X + lam * np.eye(d), X.T @ y)
        np.testing.assert_allclose(got, ref, rtol=1e-10)


def test_laplace_prior_says_there_is_no_closed_form():
    d = map_derivation("linear-regression", "laplace").verified(trials=2)
    assert d.verification.passed, d.verification.failure
    assert "density.laplace-prior" in [s.rule.id for s in d.steps]
    assert any("no closed form" in r.text for r in d.remarks)
    assert any("λ = σ²/b" in r.text for r in d.remarks)
    # the (sub)gradient away from 0: (1/σ²)Xᵀ(Xw − y) + sign(w)/b
    rng = np.random.default_rng(2)
    X, y, w = rng.normal(size=(7, 3)), rng.normal(size=(7, 1)), rng.normal(size=(3, 1))
    values = {"X": X, "y": y, "w": w, "sigma^2": np.asarray(1.5), "b": np.asarray(0.7)}
    got = np.asarray(evaluate(d.result, values, {"n": 7, "d": 3}))
    np.testing.assert_allclose(got, X.T @ (X @ w - y) / 1.5 + np.sign(w) / 0.7, rtol=1e-12)


def test_unknown_family_or_prior():
    with pytest.raises(UnknownNameError, match="prior"):
        map_derivation("linear-regression", "cauchy")
    with pytest.raises(UnknownNameError, match="family"):
        map_derivation("ridge", "gaussian")
    with pytest.raises(UnsupportedError, match="MAP"):
        map_derivation("mvn", "gaussian")


@pytest.mark.parametrize("prior", ["gaussian", "laplace"])
def test_cli_map_verifies(prior):
    out = run("map", "linear-regression", "--prior", prior)
    assert out.returncode == 0, out.stderr
    assert "verified against JAX autodiff" in out.stdout


@pytest.mark.parametrize("family", [f for f in families() if f != "gaussian"])
def test_cli_mle_every_family_verifies(family):
    out = run("mle", family)
    assert out.returncode == 0, out.stderr
    assert "verified against JAX autodiff" in out.stdout.splitlines()[-1]


@pytest.mark.parametrize(
    "args",
    [("map", "linear-regression", "--prior", "cauchy"), ("map", "ridge"), ("mle", "cauchy")],
)
def test_cli_bad_family_or_prior_is_one_line_and_exit_2(args):
    out = run(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    assert len(out.stderr.strip().splitlines()) == 1 and "unknown" in out.stderr
