"""The public API has exactly the documented names, whatever was imported first."""

import subprocess
import sys

import numpy as np
import sympy as sp

import derive
from derive.expr import MatScalar


def test_api_names_are_functions_even_after_submodule_imports():
    code = (
        "import derive.api, derive.derivatives, derive.recipes, derive.likelihood, derive\n"
        "for name in ('gradient', 'hessian', 'jacobian', 'mle', 'map_estimate', 'worked',\n"
        "             'catalog'):\n"
        "    obj = getattr(derive, name)\n"
        "    assert callable(obj) and not hasattr(obj, '__path__'), name\n"
        "assert issubclass(derive.UnsupportedError, derive.DeriveError)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr


def test_derivation_interface():
    d = derive.worked("softmax-ce")
    for attr in ("result", "steps", "given", "goal", "results", "verification"):
        assert hasattr(d, attr)
    for method in (
        "check",
        "to_latex",
        "to_markdown",
        "to_json",
        "to_text",
        "function",
        "_repr_latex_",
        "_repr_markdown_",
    ):
        assert callable(getattr(d, method))
    report = d.check(trials=2, seed=1)
    assert report.passed and report.trials == 2
    names = [name for name, _ in derive.catalog()]
    assert len(names) == len(set(names))
    # the curriculum of issue #5, every entry reachable by `derive show NAME`
    assert set(names) >= {
        "gaussian-mle",
        "softmax-ce",
        "bernoulli-ce",
        "ols",
        "logistic-regression",
        "mlp-backprop",
        "kl-gaussians",
        "fisher-bernoulli",
        "fisher-gaussian",
        "entropy-gaussian",
        "pca",
        "svd-from-eig",
        "beta-bernoulli",
        "mvn-mle",
    }
    for step in d.steps:
        assert step.rule.id and step.rule.name and step.rule.source
        assert isinstance(step.before, sp.Basic) and isinstance(step.after, sp.Basic)


def test_function_takes_keyword_arrays_and_returns_the_result_shape():
    n, m = sp.symbols("n m", integer=True, positive=True)
    A, x, b = sp.MatrixSymbol("A", m, n), sp.MatrixSymbol("x", n, 1), sp.MatrixSymbol("b", m, 1)
    r = sp.MatAdd(sp.MatMul(A, x), sp.MatMul(-1, b))
    d = derive.gradient(sp.Rational(1, 2) * MatScalar(sp.MatMul(sp.Transpose(r), r)), "x")
    rng = np.random.default_rng(0)
    Av, xv, bv = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=4)
    got = d.function()(A=Av, x=xv, b=bv)
    assert got.shape == (3,)
    np.testing.assert_allclose(got, Av.T @ (Av @ xv - bv), rtol=1e-12)


def test_mle_and_gradient_accept_only_their_inputs():
    import pytest

    with pytest.raises(derive.UnknownNameError, match="did you mean gaussian"):
        derive.mle("gausian")
    with pytest.raises(derive.UnknownNameError):
        derive.worked("nope")


def test_names_may_be_written_in_latex_as_in_f():
    r"""wrt, shapes and assume take `\Sigma`, `W_{1}`, `\mu` as f writes them, or plain names."""
    f = r"\frac12 \log\det\Sigma + \frac12 (x - \mu)^\top \Sigma^{-1} (x - \mu)"
    plain = derive.gradient(f, "Sigma", shapes={"mu": ("n",)}, assume={"Sigma": "spd"})
    latex = derive.gradient(f, r"\Sigma", shapes={r"\mu": ("n",)}, assume={r"\Sigma": "spd"})
    assert latex.result == plain.result
    assert latex.verification.passed
    # declared spd: no remark that log det Σ needs det Σ > 0
    assert latex.remarks == ()
    d = derive.gradient(r"\log\det W_1", "W_{1}", check=False)
    assert d.wrt == ("W_1",)
    assert [(r.kind, r.text) for r in d.remarks] == [
        ("condition", "log det W₁ is defined for det W₁ > 0")
    ]
