"""Matrix functions expm, sinm, cosm, sinhm, coshm and their Fréchet derivatives L_f(X, E):
evaluation against SciPy, gradients against JAX and an independent reference, what is refused."""

import numpy as np
import pytest
import scipy.linalg
import sympy as sp

import derive
from derive.evaluate import evaluate
from derive.expr import FrechetDerivative, MatrixFunction

SCIPY = {
    "exp": scipy.linalg.expm,
    "sin": scipy.linalg.sinm,
    "cos": scipy.linalg.cosm,
    "sinh": scipy.linalg.sinhm,
    "cosh": scipy.linalg.coshm,
}
n = sp.Symbol("n", integer=True, positive=True)
X = sp.MatrixSymbol("X", n, n)
E = sp.MatrixSymbol("E", n, n)
DIMS = {"n": 4}


def _values(seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {"X": rng.standard_normal((4, 4)), "E": rng.standard_normal((4, 4))}


@pytest.mark.parametrize("fn", sorted(SCIPY))
@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_matrix_functions_evaluate_as_scipy_does(fn, backend):
    v = _values()
    got = np.asarray(evaluate(MatrixFunction(X, fn), v, DIMS, backend=backend))
    np.testing.assert_allclose(got, SCIPY[fn](v["X"]), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("fn", sorted(SCIPY))
def test_the_frechet_derivative_is_the_directional_derivative(fn):
    """L_f(X, E) against a central difference of SciPy's f, and for exp against
    scipy.linalg.expm_frechet."""
    v = _values(1)
    got = np.asarray(evaluate(FrechetDerivative(X, E, fn), v, DIMS))
    h = 1e-6
    fd = (SCIPY[fn](v["X"] + h * v["E"]) - SCIPY[fn](v["X"] - h * v["E"])) / (2 * h)
    np.testing.assert_allclose(got, fd, rtol=1e-7, atol=1e-7)
    if fn == "exp":
        ref = scipy.linalg.expm_frechet(v["X"], v["E"], compute_expm=False)
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


def test_cookbook_128_the_trace_of_the_matrix_sine():
    d = derive.gradient(r"\operatorname{tr}(\operatorname{sinm}(X))", "X", shapes={"X": (3, 3)})
    assert d.verification.passed, d.verification.summary()
    assert d.result == sp.Transpose(MatrixFunction(sp.MatrixSymbol("X", 3, 3), "cos"))
    assert "cosm(X)ᵀ" in d.to_text()
    assert any(s.rule.id == "matfun.derivative" for s in d.steps)
    v = np.random.default_rng(2).standard_normal((3, 3))
    np.testing.assert_allclose(d.function()(X=v), scipy.linalg.cosm(v).T, rtol=1e-12)


@pytest.mark.parametrize(
    ("latex", "shapes", "wrt"),
    [
        (
            r"\operatorname{tr}(A \operatorname{sinm}(X^\top B))",
            {"X": (4, 3), "A": (3, 3), "B": (4, 3)},
            "X",
        ),
        (r"u^\top \operatorname{expm}(A) v", {"A": (3, 3), "u": (3,), "v": (3,)}, "A"),
        (r"\|\operatorname{coshm}(X)\|_F^2", {"X": (3, 3)}, "X"),
    ],
)  # fmt: skip
def test_gradients_through_matrix_functions_match_finite_differences(latex, shapes, wrt):
    """Verified against JAX by the derivation itself, and here against SciPy independently."""
    d = derive.gradient(latex, wrt, shapes=shapes)
    assert d.verification.passed, d.verification.summary()
    assert any(isinstance(a, FrechetDerivative) for a in sp.preorder_traversal(d.result))
    rng = np.random.default_rng(3)
    vals = {k: rng.standard_normal(s) for k, s in shapes.items()}

    def value(w: np.ndarray) -> float:
        return float(evaluate(d.objective, {**_as_columns(vals), wrt: w}, {}))

    vals = _as_columns(vals)
    g = np.asarray(d.function()(**vals), float).reshape(vals[wrt].shape)
    h = 1e-6
    fd = np.zeros_like(vals[wrt])
    for idx in np.ndindex(vals[wrt].shape):
        e = np.zeros_like(vals[wrt])
        e[idx] = h
        fd[idx] = (value(vals[wrt] + e) - value(vals[wrt] - e)) / (2 * h)
    np.testing.assert_allclose(g, fd, rtol=1e-6, atol=1e-6)


def _as_columns(vals: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v.reshape(-1, 1) if v.ndim == 1 else v for k, v in vals.items()}


def test_a_matrix_function_of_a_function_of_the_variable():
    d = derive.gradient(
        r"\operatorname{tr}(\operatorname{coshm}(X^\top X))", "X", shapes={"X": (4, 3)}
    )
    assert d.verification.passed
    assert d.to_text().rstrip().splitlines()[-2].strip() == "∂f/∂X = 2X sinhm(XᵀX)"


def test_a_direction_that_commutes_gives_the_scalar_derivative():
    """log det expm(X) = tr X: L_exp(X, exp(X)⁻¹) = exp(X) exp(X)⁻¹ = I."""
    d = derive.gradient(r"\log\det(\operatorname{expm}(X))", "X", shapes={"X": (3, 3)})
    assert d.verification.passed
    assert d.result == sp.Identity(3)


def test_second_derivatives_of_matrix_functions_are_refused_by_name():
    with pytest.raises(derive.UnsupportedError, match="matrix function"):
        derive.hessian(r"\operatorname{tr}(\operatorname{expm}(x x^\top))", "x", shapes={"x": (3,)})


def test_a_matrix_function_needs_a_square_matrix():
    with pytest.raises(derive.DeriveError, match="square"):
        derive.gradient(
            r"\operatorname{tr}(A^\top\operatorname{expm}(X))", "X", shapes={"X": (4, 3)}
        )


def test_the_entrywise_sine_of_a_square_matrix_points_to_the_matrix_sine():
    d = derive.gradient(r"\operatorname{tr}(\sin X)", "X", shapes={"X": (3, 3)}, check=False)
    assert any(r"\operatorname{sinm}(X)" in r.text for r in d.remarks)


def test_matrix_functions_round_trip_through_latex():
    from derive.latex import parse_latex
    from derive.notation.latex import latex

    for fn in SCIPY:
        e = MatrixFunction(sp.MatrixSymbol("X", 3, 3), fn)
        assert parse_latex(latex(e), {"X": (3, 3)}) == e
