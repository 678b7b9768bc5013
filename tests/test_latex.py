"""The LaTeX input conventions (README, "LaTeX input"), one test or group per convention.

Meanings are compared numerically where the form may harmlessly differ: both expressions are
evaluated (derive.evaluate, NumPy) at random inputs with distinct dimension sizes and
non-symmetric matrices, so a swapped product or a missing transpose cannot pass.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix

import derive
from derive.evaluate import evaluate
from derive.expr import (
    DifferentialSymbol,
    LogSumExp,
    MatDifferential,
    MatScalar,
    ScalarDifferential,
    ScalarDifferentialSymbol,
    Softmax,
    elementwise,
    sigmoid,
    softplus,
)
from derive.latex import LatexSyntaxError, parse_latex
from derive.model import Given
from derive.notation.latex import latex
from derive.problem import shape_of, symbols_of
from derive.sampling import choose_dims, draw

m, n, p = sp.symbols("m n p", integer=True, positive=True)
A = sp.MatrixSymbol("A", m, n)
B = sp.MatrixSymbol("B", n, p)
S = sp.MatrixSymbol("S", n, n)
X = sp.MatrixSymbol("X", n, n)
x = sp.MatrixSymbol("x", n, 1)
y = sp.MatrixSymbol("y", n, 1)
b = sp.MatrixSymbol("b", m, 1)
lam = sp.Symbol("lambda", real=True)
T = sp.Transpose


def q(e: sp.Basic) -> sp.Expr:
    """A 1×1 matrix expression as a scalar."""
    return MatScalar(e)


def shapes_of(e: sp.Basic) -> dict[str, tuple]:
    return {name: shape_of(s) for name, s in symbols_of(e).items()}


def values(exprs, assume=None, trial=0):
    """Random inputs for every symbol of `exprs`: (values, dimension sizes)."""
    shapes: dict[str, tuple] = {}
    for e in exprs:
        for name, shape in shapes_of(e).items():
            assert shapes.setdefault(name, shape) == shape, f"{name}: {shapes[name]} vs {shape}"
    assume = assume or {}
    given = tuple(
        Given(name, shape, tuple(sorted(_kinds(assume.get(name, ())))))
        for name, shape in sorted(shapes.items())
    )
    dims = choose_dims(given, trial)
    return draw(given, np.random.default_rng(trial), dims), dims


def _kinds(k) -> tuple[str, ...]:
    return (k,) if isinstance(k, str) else tuple(k)


def assert_same_value(got: sp.Basic, want: sp.Basic, assume=None, trials: int = 2) -> None:
    """got and want agree at random inputs (and have the same shape)."""
    for trial in range(trials):
        vals, dims = values([got, want], assume, trial)
        with np.errstate(all="ignore"):
            a = np.asarray(evaluate(got, vals, dims), dtype=float)
            w = np.asarray(evaluate(want, vals, dims), dtype=float)
        assert a.shape == w.shape, f"shape {a.shape} != {w.shape} (seed {trial})"
        assert np.isfinite(w).any(), f"{want} is undefined at seed {trial}: nothing compared"
        assert np.allclose(a, w, rtol=1e-9, atol=1e-12, equal_nan=True), (
            f"values differ at seed {trial}: {got} vs {want}"
        )


def parses_to(text: str, want: sp.Basic, shapes=None, assume=None) -> sp.Basic:
    got = parse_latex(text, shapes, assume)
    assert_same_value(got, want, assume)
    return got


# --- names --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name"),
    [
        (r"\mathbf{x}", "x"),
        (r"\boldsymbol{x}", "x"),
        (r"\bm{x}", "x"),
        (r"\bm x", "x"),
        (r"\vec{x}", "x"),
        (r"\mathrm{x}", "x"),
        (r"\mathbf{W}", "W"),
        (r"\Sigma", "Sigma"),
        (r"\boldsymbol{\Sigma}", "Sigma"),
        (r"\lambda", "lambda"),
        (r"\mu", "mu"),
        (r"W_1", "W_1"),
        (r"W_{12}", "W_12"),
        (r"\mathbf{x}_1", "x_1"),
        (r"\mathbf{x_1}", "x_1"),
        (r"\hat{y}", "y_hat"),
        (r"\hat y", "y_hat"),
        (r"\hat{\mu}", "mu_hat"),
        (r"\bar{x}", "x_bar"),
        (r"\mathrm{NLL}", "NLL"),
    ],
)
def test_names(text, name):
    assert set(symbols_of(parse_latex(text))) == {name}


def test_upper_and_lower_case_are_different_symbols():
    e = parse_latex(r"x^\top X x", {"X": ("n", "n")})
    assert set(symbols_of(e)) == {"x", "X"}
    assert shapes_of(e) == {"x": ("n",), "X": ("n", "n")}


def test_a_summation_index_is_not_part_of_the_name():
    e = parse_latex(r"\sum_i x_i + \sum_{j=1}^{n} w_j")
    assert set(symbols_of(e)) == {"x", "w"}
    assert set(symbols_of(parse_latex(r"\mathbf{1}^\top x_i"))) == {"x_i"}  # no sum: a name


# --- kinds and shapes -------------------------------------------------------------------------


def test_kinds_by_letter():
    e = parse_latex(r"\lambda x^\top A y + \mathbf{z}^\top \Sigma z")
    kinds = {name: len(shape) for name, shape in shapes_of(e).items()}
    assert kinds == {"lambda": 0, "x": 1, "A": 2, "y": 1, "z": 1, "Sigma": 2}


def test_declared_shapes_win():
    e = parse_latex(r"a x^\top X x", {"a": (), "X": ("n", "n")})
    assert shapes_of(e) == {"a": (), "x": ("n",), "X": ("n", "n")}
    e = parse_latex(r"\lambda^\top \lambda", {"lambda": ("k",)})  # a Greek vector, declared
    assert shapes_of(e) == {"lambda": ("k",)}


def test_dimensions_are_unified_over_products():
    e = parse_latex(r"x^\top A y", {"A": ("m", "n")})
    assert shapes_of(e) == {"x": ("m",), "A": ("m", "n"), "y": ("n",)}


def test_dimensions_are_unified_over_sums_and_function_arguments():
    e = parse_latex(
        r"\mathbf{1}^\top \log(A x + b) + \operatorname{lse}(c)^2 - c^\top b", {"A": ("m", "n")}
    )
    assert shapes_of(e) == {"A": ("m", "n"), "x": ("n",), "b": ("m",), "c": ("m",)}
    e = parse_latex(r"\operatorname{tr}(X^\top Y) + \|Y\|_F", {"X": ("m", "n")})
    assert shapes_of(e)["Y"] == ("m", "n")


def test_unknown_dimensions_are_named_d1_d2():
    e = parse_latex(r"u^\top M v")
    assert shapes_of(e) == {"u": ("d1",), "M": ("d1", "d2"), "v": ("d2",)}


@pytest.mark.parametrize(
    ("text", "shapes", "sides"),
    [
        (r"A x + y", {"A": ("m", "n"), "y": ("n",)}, ["Ax (mx1)", "y (nx1)"]),
        (r"x^\top A y", {"A": ("m", "n"), "x": ("n",)}, ["xᵀ (1xn)", "A (mxn)"]),
        (r"x \odot y", {"x": ("m",), "y": ("n",)}, ["x (mx1)", "y (nx1)"]),
        (r"\operatorname{tr}(A)", {"A": ("m", "n")}, ["A (mxn)"]),
    ],
)
def test_a_mismatch_names_both_sides_and_their_shapes(text, shapes, sides):
    with pytest.raises(derive.ShapeError) as info:
        parse_latex(text, shapes)
    for side in sides:
        assert side in str(info.value)


def test_an_undeclared_lower_case_name_stays_a_vector():
    with pytest.raises(derive.ShapeError, match="declare c a scalar"):
        parse_latex(r"x^\top (c x)")  # c x: two column vectors
    with pytest.raises(derive.ShapeError, match="declare x a scalar"):
        parse_latex(r"x^{-1}")
    assert shapes_of(parse_latex(r"x^\top (c x)", {"c": ()}))["c"] == ()


def test_a_declared_dimension_is_that_dimension():
    # n is the length of x, so n/2 log 2π is a number times the scalar dimension n
    e = parse_latex(r"\frac{n}{2}\log 2\pi + \frac12 x^\top x", {"x": ("n",)})
    assert shapes_of(e) == {"x": ("n",)}
    vals, dims = values([e])
    want = dims["n"] / 2 * math.log(2 * math.pi) + 0.5 * float(vals["x"] @ vals["x"])
    assert float(evaluate(e, vals, dims)) == pytest.approx(want)


def test_a_sum_limit_is_a_dimension():
    e = parse_latex(r"\frac{1}{n}\sum_{i=1}^{n} x_i")
    assert shapes_of(e) == {"x": ("n",)}
    vals, dims = values([e])
    assert float(evaluate(e, vals, dims)) == pytest.approx(vals["x"].mean())


# --- products ---------------------------------------------------------------------------------


def test_products_keep_their_order():
    shapes = {"A": ("n", "n"), "B": ("n", "n")}
    ab, ba = parse_latex("A B", shapes), parse_latex("B A", shapes)
    An, Bn = sp.MatrixSymbol("A", n, n), sp.MatrixSymbol("B", n, n)
    assert ab == sp.MatMul(An, Bn) and ba == sp.MatMul(Bn, An)
    vals, dims = values([ab])
    assert not np.allclose(evaluate(ab, vals, dims), evaluate(ba, vals, dims))
    parses_to(r"A B", sp.MatMul(A, B), {"A": ("m", "n"), "B": ("n", "p")})
    parses_to(r"x^\top A^\top A x", q(T(x) * T(A) * A * x), {"A": ("m", "n")})


def test_products_by_cdot_times_and_slash():
    shapes = {"A": ("m", "n")}
    for text in (r"A \cdot x", r"A \times x", "A * x"):
        parses_to(text, A * x, shapes)
    parses_to(r"x^\top x / 2", q(T(x) * x) / 2, {"x": ("n",)})
    parses_to(r"\lambda/2", lam / 2)
    parses_to(r"1/2 \cdot \lambda", lam / 2)  # an operator after the slash is not ambiguous


# --- transpose and inverse ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "mark",
    ["^T", "^{T}", r"^\top", r"^{\top}", r"^\intercal", r"^{\mathsf T}", r"^{\mathsf{T}}", "'"],
)
def test_transpose_marks(mark):
    e = parse_latex(f"x{mark} A y", {"A": ("n", "p"), "x": ("n",)})
    assert e == q(T(x) * sp.MatrixSymbol("A", n, p) * sp.MatrixSymbol("y", p, 1))


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("X^{-1}", sp.Inverse(X)),
        (r"X^{-\top}", T(sp.Inverse(X))),
        ("X^{-T}", T(sp.Inverse(X))),
        (r"(X^\top)^{-1}", sp.Inverse(T(X))),
    ],
)
def test_inverse(text, want):
    got = parses_to(text, want, {"X": ("n", "n")}, {"X": "invertible"})
    assert got == want


# --- logarithms -------------------------------------------------------------------------------


def test_log_and_ln_are_natural():
    for text in (r"\log \lambda", r"\ln \lambda", r"\log(\lambda)", r"\operatorname{log}\lambda"):
        e = parse_latex(text)
        assert float(evaluate(e, {"lambda": math.e**2}, {})) == pytest.approx(2.0)  # not log10
        assert e == sp.log(lam)


def test_log_with_a_base():
    assert float(evaluate(parse_latex(r"\log_2 \lambda"), {"lambda": 8.0}, {})) == pytest.approx(3)
    assert float(
        evaluate(parse_latex(r"\log_{10}(\lambda)"), {"lambda": 1e3}, {})
    ) == pytest.approx(3)


# --- traces and determinants ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        r"\operatorname{tr}(X)",
        r"\operatorname{tr} X",
        r"\mathrm{tr}(X)",
        r"\text{tr}(X)",
        r"\operatorname{Tr}(X)",
        r"\operatorname{trace}(X)",
        r"\operatorname{tr}\left(X\right)",
    ],
)
def test_trace(text):
    assert parse_latex(text, {"X": ("n", "n")}) == sp.Trace(X)


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (r"\det X", sp.Determinant(X)),
        (r"\det(X)", sp.Determinant(X)),
        (r"|X|", sp.Determinant(X)),
        (r"\left|X\right|", sp.Determinant(X)),
        (r"\log\det X", sp.log(sp.Determinant(X))),
        (r"\log\det(X)", sp.log(sp.Determinant(X))),
        (r"\log|X|", sp.log(sp.Determinant(X))),
        (r"\ln|X|", sp.log(sp.Determinant(X))),
        (r"\log|\det X|", sp.log(sp.Abs(sp.Determinant(X)))),
    ],
)
def test_determinants(text, want):
    got = parse_latex(text, {"X": ("n", "n")})
    assert got == want
    assert_same_value(got, want, {"X": "spd"})


# --- norms --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (r"\|x\|", sp.sqrt(q(T(x) * x))),
        (r"\|x\|_2", sp.sqrt(q(T(x) * x))),
        (r"\|x\|^2", q(T(x) * x)),
        (r"\|x\|_2^2", q(T(x) * x)),
        (r"\left\|x\right\|_2^2", q(T(x) * x)),
        (r"\|x\|_1", q(sp.OneMatrix(1, n) * elementwise(sp.Abs, x))),
        (r"\|X\|_F", sp.sqrt(sp.Trace(T(X) * X))),
        (r"\|X\|_F^2", sp.Trace(T(X) * X)),
        (r"\frac12\left\|A x - b\right\|_2^2", q(T(A * x - b) * (A * x - b)) / 2),
    ],
)
def test_norms(text, want):
    parses_to(text, want, {"x": ("n",), "X": ("n", "n"), "A": ("m", "n")})


# --- functions and constants ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "want"),
    [
        (r"\exp(\lambda)", sp.exp(lam)),
        (r"e^{\lambda}", sp.exp(lam)),
        (r"e^\lambda", sp.exp(lam)),
        (r"\sqrt{\lambda}", sp.sqrt(lam)),
        (r"\tanh(\lambda)", sp.tanh(lam)),
        (r"\sigma(\lambda)", sigmoid(lam)),
        (r"\sigma\left(\lambda\right)", sigmoid(lam)),
        (r"\operatorname{sigmoid}(\lambda)", sigmoid(lam)),
        (r"\operatorname{softplus}(\lambda)", softplus(lam)),
        (r"\exp(x)", elementwise(sp.exp, x)),
        (r"e^{x}", elementwise(sp.exp, x)),
        (r"\sigma(x)", elementwise(sigmoid, x)),
        (r"\operatorname{softmax}(x)", Softmax(x)),
        (r"\operatorname{lse}(x)", LogSumExp(x)),
        (r"\operatorname{diag}(x)", DiagMatrix(x)),
        (r"\mathbf{1}^\top x", q(sp.OneMatrix(1, n) * x)),
        (r"\mathbb{1}^\top x", q(sp.OneMatrix(1, n) * x)),
        (r"x^\top I x", q(T(x) * x)),
        (r"x \odot y", sp.HadamardProduct(x, y)),
        (r"x \circ y", sp.HadamardProduct(x, y)),
        (r"A \otimes B", sp.KroneckerProduct(A, B)),
        (r"x^{\circ 2}", sp.HadamardProduct(x, x)),
        (
            r"\log(1 + e^{-x})",
            elementwise(sp.Lambda(sp.Symbol("t"), sp.log(1 + sp.exp(-sp.Symbol("t")))), x),
        ),
    ],
)
def test_functions(text, want):
    shapes = {"x": ("n",), "y": ("n",), "A": ("m", "n"), "B": ("n", "p")}
    parses_to(text, want, shapes, {"lambda": "positive"})


def test_sigma_alone_or_squared_is_a_scalar():
    s = sp.Symbol("sigma", real=True)
    assert parse_latex(r"\sigma") == s
    assert parse_latex(r"\sigma^2") == s**2
    assert parse_latex(r"\frac{1}{2\sigma^2}") == 1 / (2 * s**2)
    assert parse_latex(r"\sigma \cdot (\lambda + 1)") == s * (lam + 1)
    assert parse_latex(r"\sigma|\lambda|") == s * sp.Abs(lam)  # σ times |λ|, not σ(|λ|)
    assert parse_latex(r"\sigma(\lambda + 1)") == sigmoid(lam + 1)  # σ(·) is the sigmoid


def test_the_identity_takes_its_size_from_context():
    e = parse_latex(r"x^\top (A^\top A + \lambda I) x", {"A": ("m", "n")})
    want = q(T(x) * (T(A) * A + lam * sp.Identity(n)) * x)
    assert_same_value(e, want)


def test_a_scalar_added_to_a_vector_is_added_to_every_entry():
    parses_to(
        r"\mathbf{1}^\top (1 + x)", q(sp.OneMatrix(1, n) * (sp.OneMatrix(n, 1) + x)), {"x": ("n",)}
    )
    with pytest.raises(derive.ShapeError, match="cannot add"):
        parse_latex(r"\operatorname{tr}(X + 1)", {"X": ("n", "n")})  # λI or λ11ᵀ? say which


def test_absolute_value_of_a_vector_is_entrywise():
    parses_to(r"\mathbf{1}^\top |x|", q(sp.OneMatrix(1, n) * elementwise(sp.Abs, x)), {"x": ("n",)})


def test_an_undefined_function_is_refused():
    with pytest.raises(derive.UnsupportedError, match="undefined function f"):
        parse_latex("f(x)")
    assert shapes_of(parse_latex(r"f (x^\top x)", {"f": ()}))["f"] == ()  # a declared factor


# --- sums and products over an index ----------------------------------------------------------


def test_sum_over_the_entries_of_a_vector():
    want = q(sp.OneMatrix(1, n) * x)
    for text in (r"\sum_i x_i", r"\sum_{i} x_{i}", r"\sum_{i=1}^n x_i", r"\sum_{i=1}^{n} x_i"):
        parses_to(text, want, {"x": ("n",)})
    parses_to(r"\sum_{i=0}^{n-1} x_i", want, {"x": ("n",)})
    parses_to(r"\sum_i x_i^2", q(T(x) * x), {"x": ("n",)})
    parses_to(
        r"\sum_i (x_i - \lambda)^2",
        q(T(x - lam * sp.OneMatrix(n, 1)) * (x - lam * sp.OneMatrix(n, 1))),
        {"x": ("n",)},
    )
    parses_to(
        r"\sum_i \log y_i",
        q(sp.OneMatrix(1, n) * elementwise(sp.log, y)),
        {"y": ("n",)},
        {"y": "positive"},
    )
    parses_to(r"\sum_i x_i y_i", q(T(x) * y), {"x": ("n",), "y": ("n",)})
    with pytest.raises(derive.ShapeError, match="lengths differ"):
        parse_latex(r"\sum_{i=1}^{m} x_i", {"x": ("n",)})


def test_sum_over_samples_in_a_likelihood():
    """x_i ∈ ℝᵖ, the rows of the data matrix x: the logistic loss over samples."""
    Xs = sp.MatrixSymbol("x", n, p)
    w = sp.MatrixSymbol("w", p, 1)
    t = sp.Symbol("t")
    margins = sp.HadamardProduct(y, Xs * w)
    want = q(sp.OneMatrix(1, n) * elementwise(sp.Lambda(t, sp.log(1 + sp.exp(-t))), margins))
    shapes = {"x": ("n", "p"), "y": ("n",), "w": ("p",)}
    parses_to(r"\sum_{i=1}^n \log(1 + e^{-y_i w^\top x_i})", want, shapes)
    parses_to(r"\sum_{i=1}^n \log\left(1 + \exp(-y_i x_i^\top w)\right)", want, shapes)
    # undeclared: x_i used as a vector makes x a matrix, p found from w
    e = parse_latex(r"\sum_{i=1}^n \log(1 + e^{-y_i w^\top x_i})")
    assert shapes_of(e) == {"y": ("n",), "x": ("n", "d1"), "w": ("d1",)}
    # Gaussian samples: sum of squared distances to a mean vector
    mu = sp.MatrixSymbol("mu", p, 1)
    centred = Xs - sp.OneMatrix(n, 1) * T(mu)
    want = q(sp.OneMatrix(1, n) * sp.HadamardProduct(centred, centred) * sp.OneMatrix(p, 1))
    parses_to(r"\sum_{i=1}^n \|x_i - \mu\|^2", want, {"x": ("n", "p"), "mu": ("p",)})


def test_prod_over_entries_is_their_product():
    e = parse_latex(r"\prod_i x_i", {"x": ("n",)})
    assert e == sp.Determinant(DiagMatrix(x))  # ∏ x_i exactly, for any signs
    vals, dims = values([e])
    assert float(evaluate(e, vals, dims)) == pytest.approx(np.prod(vals["x"]))
    e = parse_latex(r"\prod_{i=1}^n \lambda e^{-\lambda x_i}", {"x": ("n",)})
    vals, dims = values([e], {"lambda": "positive"})
    want = np.prod(vals["lambda"] * np.exp(-vals["lambda"] * vals["x"]))
    assert float(evaluate(e, vals, dims)) == pytest.approx(want)
    # Under a log the product becomes a sum of logs (rule rewrite.log-product); a bare product
    # is differentiated through d det (42) and d diag(v) = diag(dv): (∏ xᵢ) x∘⁻¹.
    assert derive.gradient(r"\log\prod_i x_i", "x").verification.passed
    d = derive.gradient(r"\prod_i x_i", "x")
    assert d.verification.passed
    assert str(d.result) == "Determinant(DiagMatrix(x))*HadamardPower(x, -1)"


# --- the parser's own limits ---------------------------------------------------------------


def test_spacing_and_delimiters_are_ignored():
    want = parse_latex(r"\frac{1}{2}x^\top x")
    for text in (
        r"$\frac12 x^\top x$",
        r"\frac 1 2\, x^{\top}\; x",
        r"\tfrac{1}{2}\! x^\top\quad x",
    ):
        assert parse_latex(text) == want


def test_limits_are_errors_not_crashes():
    from derive.latex.lexer import MAX_DEPTH, MAX_LENGTH

    parse_latex("(" * (MAX_DEPTH - 1) + r"x^\top x" + ")" * (MAX_DEPTH - 1))
    with pytest.raises(LatexSyntaxError, match="nested"):
        parse_latex("(" * (MAX_DEPTH + 1) + r"x^\top x" + ")" * (MAX_DEPTH + 1))
    with pytest.raises(LatexSyntaxError, match="limit"):
        parse_latex("x+" * MAX_LENGTH)
    e = parse_latex("+".join([r"x^\top x"] * 200))  # long but flat: fine, and fast
    assert e == 200 * q(
        T(sp.MatrixSymbol("x", sp.Symbol("d1", integer=True, positive=True), 1))
        * sp.MatrixSymbol("x", sp.Symbol("d1", integer=True, positive=True), 1)
    )


# --- end to end: derive.gradient on LaTeX ---------------------------------------------------------

GRADIENTS = [
    (r"\frac12\|Ax-b\|_2^2", "x", {"A": ("m", "n")}, {}),
    (r"\mathbf{x}^\top \boldsymbol{A} \bm{x}", "x", {}, {}),
    (r"\log\det X - \operatorname{tr}(S X)", "X", {}, {"X": "spd"}),
    (r"\operatorname{Tr}(A X^{-1} B)", "X", {}, {"X": "invertible"}),
    (r"-y^\top \log\operatorname{softmax}(z)", "z", {}, {"y": "prob"}),
    (r"\sum_{i=1}^n \log(1 + e^{-y_i w^\top x_i})", "w", {}, {}),
    (r"\lambda \|w\|^2 + \mathbf{1}^\top \log(1 + \exp(-X w))", "w", {"X": ("n", "p")}, {}),
    (r"\|X W - Y\|_F^2", "W", {}, {}),
    (
        r"\frac{n}{2}\log 2\pi + \frac12\log|\Sigma| + \frac12 (x-\mu)^\top\Sigma^{-1}(x-\mu)",
        "mu",
        {"x": ("n",), "mu": ("n",)},
        {"Sigma": "spd"},
    ),
    (r"\mathbf{1}^\top \tanh(W x) + \sigma(v^\top x)", "W", {}, {}),
    (r"a^\top X^{-\top} b", "X", {}, {"X": "invertible"}),
    (r"\log_2(x^\top x) + x'x", "x", {}, {}),
]


@pytest.fixture(scope="module")
def gradients() -> list[derive.Derivation]:
    return [
        derive.gradient(text, wrt, shapes=shapes, assume=assume)
        for text, wrt, shapes, assume in GRADIENTS
    ]


def test_gradients_of_latex_verify(gradients):
    assert len(gradients) >= 10
    for (text, *_), d in zip(GRADIENTS, gradients, strict=True):
        assert d.verification.passed, f"{text}: {d.verification.summary()}"


def test_the_l1_norm_gradient_is_sign_almost_everywhere():
    """‖x‖₁ is not differentiable where an entry is 0; its gradient sign(x) holds elsewhere,
    which is where the check draws its points (and what jax.grad returns)."""
    d = derive.gradient(r"\|x\|_1", "x")
    assert d.verification.passed
    assert "sign" in str(d.result)


# --- round trip: the LaTeX derive prints parses back to an equal expression ---------------------


def _has_differential(e: sp.Basic) -> bool:
    kinds = (DifferentialSymbol, ScalarDifferentialSymbol, MatDifferential, ScalarDifferential)
    return any(isinstance(node, kinds) for node in sp.preorder_traversal(e))


def _is_density(e: sp.Basic) -> bool:  # p(y | π): probability notation, not an expression
    return any(hasattr(node, "as_definition") for node in sp.preorder_traversal(e))


def expressions_of(d: derive.Derivation) -> list[sp.Basic]:
    out = [d.objective] if d.objective is not None else []
    out += [s.after for s in d.steps if not isinstance(s.after, sp.Equality)]
    out += [rhs for _, rhs in d.results]
    return [e for e in out if not _has_differential(e) and not _is_density(e)]


@pytest.fixture(scope="module")
def printed(gradients) -> list[tuple[sp.Basic, dict]]:
    """(expression, assumptions) from real derivations, each expression once."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", derive.VerificationWarning)
        more = [
            derive.worked("softmax-ce", check=False),
            derive.hessian(r"\mathbf{1}^\top \log(1 + \exp(-X w))", "w", check=False),
            derive.hessian(
                r"\lambda\|w\|^2 + \sum_i \log(1 + e^{-y_i x_i^\top w})", "w", check=False
            ),
            derive.jacobian(r"\operatorname{softmax}(z)", "z", check=False),
            derive.jacobian(r"\sigma(W x)", "x", check=False),
            derive.gradient(
                r"\mathbf{1}^\top \operatorname{softplus}(X w) - y^\top X w", "w", check=False
            ),
            derive.gradient(
                r"\|x\|_1 + x^\top \Sigma^{-1} x", "x", assume={"Sigma": "spd"}, check=False
            ),
            derive.gradient(r"\frac12\|Ax-b\|_2^2", "A", check=False),
            derive.gradient(r"\operatorname{tr}(X^\top A X) + \sqrt{x^\top x}", "X", check=False),
            derive.gradient(r"(x \odot y)^\top z + \operatorname{lse}(z)", "z", check=False),
            derive.gradient(r"\log\det(X^\top X) + \operatorname{tr}(X^{-1})", "X", check=False),
        ]
    seen: set = set()
    out = []
    for d in [*gradients, *more]:
        assume = {g.name: g.assumptions for g in d.given}
        for e in expressions_of(d):
            if e not in seen:
                seen.add(e)
                out.append((e, assume))
    return out


def test_the_printed_latex_parses_back_to_an_equal_expression(printed):
    assert len(printed) >= 60
    failures = []
    for e, assume in printed:
        tex = latex(e)
        try:
            back = parse_latex(tex, shapes_of(e))
            assert_same_value(back, e, {k: v for k, v in assume.items() if v})
        except (derive.DeriveError, AssertionError) as exc:
            failures.append(f"{tex}\n    {type(exc).__name__}: {exc}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize(
    "e",
    [
        sp.Symbol("sigma", real=True) * (lam + 1),  # σ·(λ + 1), not σ(λ + 1)
        sp.MatMul(sp.Symbol("sigma", real=True), x + y),
        sp.MatMul(2, T(sp.Inverse(X)), x),
        sp.Trace(X * sp.Inverse(X + S)),
        elementwise(sp.Lambda(sp.Symbol("t"), sp.Symbol("t") * (1 - sp.Symbol("t"))), x),
        elementwise(sp.Lambda(sp.Symbol("t"), 1 / sp.Symbol("t")), x),
        elementwise(sp.Lambda(sp.Symbol("t"), sp.Symbol("t") ** 2), x),
        elementwise(sp.Lambda(sp.Symbol("t"), sp.sign(sp.Symbol("t"))), x),
        elementwise(sp.Lambda(sp.Symbol("t"), sp.Abs(sp.Symbol("t"))), x),
        sp.MatMul(DiagMatrix(Softmax(x)), x) - Softmax(x) * q(T(Softmax(x)) * x),
        q(T(x) * sp.HadamardProduct(x, y)) * LogSumExp(y),
        sp.log(sp.Determinant(X)) - sp.Trace(sp.Inverse(X) * S),
        q(T(x) * y) * x,
        sp.KroneckerProduct(X, S) * sp.KroneckerProduct(x, y),
        sp.Rational(3, 2) * q(T(A * x - b) * (A * x - b)),
        sp.exp(lam) + sp.sqrt(lam) + sp.tanh(lam) ** 2,
    ],
    ids=lambda e: latex(e),
)
def test_round_trip_of_the_printer_vocabulary(e):
    back = parse_latex(latex(e), shapes_of(e))
    assert_same_value(back, e, {"X": "spd", "S": "spd", "lambda": "positive"})


@pytest.mark.parametrize(
    "src", [r"\lambda_{\max}(A)", r"\operatorname{eig}(A)", r"\operatorname{rank}(A)"]
)
def test_known_but_unsupported_functions_say_so(src):
    """Eigenvalues and the rank are refused by name, not as unknown text, and never guessed."""
    with pytest.raises(derive.UnsupportedError, match="eigenvalue|rank"):
        derive.gradient(src, "A", shapes={"A": ("n", "n")})


def test_the_conjugate_transpose_is_refused_by_name():
    """Cookbook (45) is about complex matrices; over the reals it is (44), X^H = X^T."""
    with pytest.raises(derive.UnsupportedError, match="conjugate transpose"):
        derive.gradient(r"\operatorname{tr}(A X^H)", "X", shapes={"X": ("m", "n"), "A": ("m", "n")})
