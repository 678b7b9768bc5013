r"""Notation as papers write it (README, "How your LaTeX is read"), one group per class of
misreading: each written form either means what it means in a paper, verified, or is refused
with a message that names the construct and says how to write each reading.

Meanings are compared with an explicit spelling of the same formula (brackets where the
convention leaves them out), numerically at random inputs with distinct dimension sizes, so a
reading that differs in value cannot pass.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest
import sympy as sp

import derive
from derive.errors import AmbiguityError, InputError, ShapeError, UnsupportedError
from derive.expr import relu, sigmoid, step
from derive.latex import parse_latex, read_latex, symbol_name
from tests.test_latex import assert_same_value

DERIVE = str(pathlib.Path(sys.executable).parent / "derive")
SCALARS = {name: () for name in ("a", "b", "c", "x", "y", "z", "t")}


def same(written: str, explicit: str, shapes=None, assume=None) -> sp.Basic:
    """`written` reads as `explicit` does (same value at random inputs)."""
    got = parse_latex(written, shapes, assume)
    assert_same_value(got, parse_latex(explicit, shapes, assume), assume)
    return got


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DERIVE, *args], capture_output=True, text=True, timeout=300)


# --- 1. an unparenthesised argument ends at the next function or operator -------------------------

FUNCTION_PRODUCTS = [
    (r"\sin\theta\cos\theta", r"\sin(\theta)\cos(\theta)"),
    (r"\cos\theta \sin\phi", r"\cos(\theta)\sin(\phi)"),
    (r"\tanh\theta\tanh\theta", r"\tanh(\theta)\tanh(\theta)"),
    (r"\exp\theta\sin\theta", r"\exp(\theta)\sin(\theta)"),
    (r"\log x \log y", r"\log(x)\log(y)"),
    (r"\ln x \ln y \ln z", r"\ln(x)\ln(y)\ln(z)"),
    (r"\sin 2\theta", r"\sin(2\theta)"),
    (r"\log 2\pi\sigma^2", r"\log(2\pi\sigma^2)"),
    (r"\cos\theta e^{\theta}", r"\cos(\theta) e^{\theta}"),
    (r"\log x \sqrt{y}", r"\log(x)\sqrt{y}"),
    (r"\sin\theta\cosh\theta", r"\sin(\theta)\cosh(\theta)"),
    (r"\exp\theta \sigma(\theta)", r"\exp(\theta)\sigma(\theta)"),
    (r"\sin x y \cos z", r"\sin(x y)\cos(z)"),
    (r"\log x \operatorname{softplus}(y)", r"\log(x)\operatorname{softplus}(y)"),
    (r"\sin\theta \mathrm{tanh}(\theta)", r"\sin(\theta)\tanh(\theta)"),
    (r"\log x \sum_{i=1}^{3} y", r"\log(x) \cdot 3y"),
]


@pytest.mark.parametrize(("written", "explicit"), FUNCTION_PRODUCTS)
def test_a_function_argument_ends_at_the_next_function(written, explicit):
    same(written, explicit, SCALARS, {name: "positive" for name in "xyz"})


MATRIX_FUNCTION_PRODUCTS = [
    (r"\det X \det Y", r"\det(X)\det(Y)"),
    (r"\det\Sigma \operatorname{tr}(\Sigma^{-1}S)", r"\det(\Sigma)\operatorname{tr}(\Sigma^{-1}S)"),
    (r"\log\det X \operatorname{tr} X", r"\log(\det(X))\operatorname{tr}(X)"),
    (r"\operatorname{tr} X \operatorname{tr} Y", r"\operatorname{tr}(X)\operatorname{tr}(Y)"),
    (r"\det X \log\det Y", r"\det(X)\log(\det(Y))"),
]


@pytest.mark.parametrize(("written", "explicit"), MATRIX_FUNCTION_PRODUCTS)
def test_a_matrix_function_argument_ends_at_the_next_function(written, explicit):
    shapes = {"X": ("n", "n"), "Y": ("m", "m"), "S": ("n", "n"), "Sigma": ("n", "n")}
    same(written, explicit, shapes, {"Sigma": "spd", "X": "spd", "Y": "spd"})


ROW_PRODUCTS = [
    # a transpose cannot end an argument: the row xᵀ opens an inner product with what follows
    (r"\log \mathbf{1}^\top \exp(z)", r"\log(\mathbf{1}^\top \exp(z))"),
    (r"\log \mathbf 1^\top e^{z}", r"\log(\mathbf{1}^\top \exp(z))"),
    (r"\log x^\top \exp(y)", r"\log(x^\top \exp(y))"),
    (r"\exp a^\top \tanh(b) \cos c^\top b", r"\exp(a^\top \tanh(b)) \cos(c^\top b)"),
    (r"\log \mathbf 1^\top \exp(W x) \log \mathbf 1^\top \exp(y)",
     r"\log(\mathbf 1^\top \exp(W x)) \log(\mathbf 1^\top \exp(y))"),
]  # fmt: skip


@pytest.mark.parametrize(("written", "explicit"), ROW_PRODUCTS)
def test_an_argument_ending_in_a_transpose_takes_the_next_function_value(written, explicit):
    shapes = {"z": ("n",), "x": ("n",), "y": ("n",), "a": ("n",), "b": ("n",), "c": ("n",)}
    shapes["W"] = ("n", "m")
    shapes["x"] = ("m",) if "W x" in written else ("n",)
    same(written, explicit, shapes)


def test_products_of_functions_are_derived_and_verified():
    d = derive.gradient(r"\sin\theta\cos\theta", "theta")
    assert d.verified
    assert_same_value(d.result, sp.cos(sp.Symbol("theta", real=True) * 2))
    d = derive.gradient(r"\det X \det Y", "X", shapes={"X": ("n", "n"), "Y": ("m", "m")})
    assert d.verified and "Y" in {s.name for s in d.result.free_symbols}


# --- 2. labels, primes, transposes ----------------------------------------------------------------


@pytest.mark.parametrize("label", ["2", "l", "t+1", "k-1"])
def test_a_parenthesised_superscript_is_a_label(label):
    e = parse_latex(rf"\operatorname{{tr}}(W^{{({label})\top}} W^{{({label})}})")
    names = {s.name for s in e.free_symbols if isinstance(s, sp.MatrixSymbol)}
    assert names == {f"W^({label})"}, names  # one matrix W^(k), never W squared
    assert symbol_name(rf"W^{{({label})}}") == f"W^({label})"


def test_a_layer_label_is_a_symbol_to_differentiate_by():
    f = r"\|W^{(2)} h - y\|^2"
    d = derive.gradient(f, r"W^{(2)}", shapes={r"W^{(2)}": ("m", "n")})
    assert d.verified
    assert {g.name for g in d.given} == {"W^(2)", "h", "y"}
    assert "def grad_W__2(W__2, h, y)" in d.source()  # W^(2) spelled as an identifier


def test_a_label_then_a_subscript_and_the_reverse():
    same(r"x^{(1)}_2 + x_2^{(1)}", r"2 x^{(1)}_2", {r"x^{(1)}_2": ()})
    same(r"x^2_1", r"x_1^2", {"x_1": ()})


@pytest.mark.parametrize(
    ("written", "meaning"),
    [
        (
            r"\sigma'(t)",
            sigmoid(sp.Symbol("t", real=True)) * (1 - sigmoid(sp.Symbol("t", real=True))),
        ),
        (r"\tanh'(t)", 1 - sp.tanh(sp.Symbol("t", real=True)) ** 2),
        (r"\exp'(t)", sp.exp(sp.Symbol("t", real=True))),
        (r"\log'(t)", 1 / sp.Symbol("t", real=True)),
        (r"\cosh'(t)", sp.sinh(sp.Symbol("t", real=True))),
        (r"\operatorname{softplus}'(t)", sigmoid(sp.Symbol("t", real=True))),
        (r"\operatorname{ReLU}'(t)", step(sp.Symbol("t", real=True))),
        (r"\sigma''(t)", sp.diff(sigmoid(sp.Symbol("t", real=True)), sp.Symbol("t", real=True), 2)),
    ],
)
def test_a_prime_on_a_known_function_is_its_derivative(written, meaning):
    got = parse_latex(written, SCALARS, {"t": "positive"} if "log" in written else None)
    assert_same_value(got, meaning, {"t": "positive"} if "log" in written else None)


def test_a_prime_on_a_vector_or_matrix_is_a_transpose():
    same("X'X", r"X^\top X", {"X": ("m", "n")})
    same("(Ax - b)'(Ax - b)", r"(Ax-b)^\top(Ax-b)", {"A": ("m", "n")})


@pytest.mark.parametrize(
    ("written", "needle"),
    [
        (r"g'(x)", "undefined function g"),
        (r"f'(x^\top x)", "undefined function f"),
        (r"\theta'", "prime on the scalar θ"),
        (r"\theta' + \theta", "prime on the scalar θ"),
        (r"\sigma' t", "needs its argument in brackets"),
        (r"\ell(\theta)", "undefined function"),
        (r"\operatorname{ReLU}''(t)", "not a function"),
    ],
)
def test_a_prime_that_is_not_a_known_derivative_is_refused(written, needle):
    with pytest.raises((InputError, UnsupportedError)) as exc:
        parse_latex(written, SCALARS)
    assert needle in str(exc.value)


@pytest.mark.parametrize(
    "mark", [r"^\mathsf{T}", r"^\mathsf T", "^T", "^{T}", r"^\top", r"^{\top}", r"^\intercal"]
)
def test_every_transpose_mark(mark):
    same(rf"a{mark} x", r"a^\top x")


@pytest.mark.parametrize(
    "written",
    [r"\sum_{t=1}^T x^T x", r"x^T A x + T", r"x^{T} x", r"A^{-T} x"],
)
def test_a_letter_t_transpose_is_refused_where_a_symbol_t_exists(written):
    shapes = (
        {"T": ()}
        if "T" in written.replace("^T", "").replace("{T}", "").replace("-T", "")
        else {"T": ()}
    )
    with pytest.raises(InputError, match="T is also a symbol"):
        parse_latex(written, shapes)


def test_a_letter_t_transpose_without_a_symbol_t_is_a_transpose():
    same(r"x^T A x", r"x^\top A x")
    same(r"\sum_{i} x_i^2 + y^T y", r"x^\top x + y^\top y")


# --- 3. bold symbols are vectors; shapes are never guessed ----------------------------------------


def test_bold_greek_is_a_vector():
    for bold in (r"\boldsymbol{\mu}", r"\boldsymbol\mu", r"\bm{\mu}", r"\mathbf{\mu}"):
        reading = read_latex(rf"\|\mathbf{{x}} - {bold}\|^2")
        mu = next(s for s in reading.expr.free_symbols if s.name == "mu")
        assert isinstance(mu, sp.MatrixSymbol) and mu.shape[1] == 1
        assert reading.sources["mu"] == "convention: a bold letter is a vector"
    d = derive.gradient(r"\|\mathbf{x}-\boldsymbol{\mu}\|^2", "mu")
    assert d.verified and d.result.shape[1] == 1  # a vector gradient, not a scalar
    assert_same_value(d.result, parse_latex(r"2\boldsymbol\mu - 2\mathbf x"))


def test_bold_upper_case_is_a_matrix():
    reading = read_latex(r"\mathbf{x}^\top \boldsymbol{\Sigma}^{-1} \mathbf{x}")
    sigma = next(s for s in reading.expr.free_symbols if s.name == "Sigma")
    assert isinstance(sigma, sp.MatrixSymbol) and sigma.shape[0] == sigma.shape[1] != 1


def test_a_name_in_bold_and_plain_is_refused():
    with pytest.raises(InputError, match="both in bold"):
        parse_latex(r"\boldsymbol\mu^\top \boldsymbol\mu + \mu")


@pytest.mark.parametrize(
    ("written", "name"),
    [
        (r"(x-\mu)^\top\Sigma^{-1}(x-\mu)", "mu"),
        (r"\|x - \mu\|^2", "mu"),
        (r"\mathbf 1^\top \exp(x - \alpha)", "alpha"),
        (r"\mathbf 1^\top \tanh(W x + \beta)", "beta"),
    ],
)
def test_a_scalar_by_convention_is_not_spread_over_a_vector(written, name):
    with pytest.raises(ShapeError) as exc:
        parse_latex(written)
    message = str(exc.value)
    assert name in message and f"--shape {name}=n" in message and f"--shape {name}=" in message
    # either declaration settles it
    assert parse_latex(written, {name: ("n",)}) is not None
    assert parse_latex(written, {name: ()}) is not None


@pytest.mark.parametrize(
    ("written", "name"),
    [
        (r"\mathbf 1^\top\operatorname{softmax}(K)", "K"),
        (r"\operatorname{lse}(V)", "V"),
        (r"x^\top\operatorname{softmax}(Z)", "Z"),
    ],
)
def test_an_upper_case_name_is_not_made_a_vector_to_fit(written, name):
    with pytest.raises(ShapeError) as exc:
        parse_latex(written)
    assert f"{name} is read as a matrix" in str(exc.value) and f"--shape {name}=" in str(exc.value)


@pytest.mark.parametrize(
    ("written", "wrt", "name"),
    [
        (r"\log(1 + \exp(-y w^\top x))", "w", "y"),
        (r"\ell", "ell", "ell"),
        (r"k \theta^2", "theta", "k"),
    ],
)
def test_an_error_names_the_symbol_read_as_a_vector(written, wrt, name):
    with pytest.raises(ShapeError) as exc:
        derive.gradient(written, wrt, check=False)
    assert f"{name} is" in str(exc.value) and f"--shape {name}=" in str(exc.value)


def test_the_given_block_says_where_each_shape_came_from():
    d = derive.gradient(
        r"\sum_i \log(1 + e^{-y_i w^\top x_i}) + \lambda\|w\|^2", "w", shapes={"lambda": ()}
    )
    sources = {g.name: g.source for g in d.given}
    assert sources == {
        "lambda": "given",
        "w": "convention: a lower-case Latin letter is a vector",
        "x": "inferred: x_i in a sum over i is row i of this data matrix",
        "y": "inferred: y_i in a sum over i is entry i of this vector",
    }
    text = d.to_text()
    assert text.splitlines()[1].startswith("Read as: f = ")  # the reading comes first
    assert "[inferred: x_i in a sum over i is row i of this data matrix]" in text
    assert r"\paragraph{Read as.}" in d.to_latex(standalone=True)
    assert "**Read as.**" in d.to_markdown() and "| Read by |" in d.to_markdown()
    assert '"source": "given"' in d.to_json()


def test_contradictory_shapes_are_refused():
    out = cli("grad", r"x^\top x", "--wrt", "x", "--shape", "x=n", "--shape", "x=m")
    assert out.returncode == 2 and "two shapes" in out.stderr and out.stdout == ""
    out = cli("grad", r"x^\top x", "--wrt", "x", "--shape", "x=n", "--shape", "x=n")
    assert out.returncode == 0  # the same shape twice is no contradiction


# --- 4. ambiguity is refused, with both readings --------------------------------------------------

AMBIGUOUS = [
    (r"\theta/2\theta", r"\frac{\theta}{2}\theta", r"\frac{\theta}{2\theta}"),
    (r"1/2\theta", r"\frac{1}{2}\theta", r"\frac{1}{2\theta}"),
    (r"a/2b", r"\frac{a}{2}b", r"\frac{a}{2b}"),
    (r"x/y z", r"\frac{x}{y}z", r"\frac{x}{yz}"),
    (r"1/2 \pi \sigma^2", r"\frac{1}{2}\pi\sigma^2", r"\frac{1}{2\pi\sigma^2}"),
    (r"\log\theta\,\theta", r"\log\left(\theta\theta\right)", r"\theta\log \theta"),
    (r"\sin x \; y", r"\sin\left(xy\right)", r"y\sin x"),
]


@pytest.mark.parametrize(("written", "first", "second"), AMBIGUOUS)
def test_an_ambiguous_formula_is_refused_with_both_readings(written, first, second):
    with pytest.raises(AmbiguityError) as exc:
        parse_latex(written, SCALARS)
    message = str(exc.value).replace(" ", "")
    assert first.replace(" ", "") in message and second.replace(" ", "") in message
    # and each suggested spelling reads unambiguously, the two differently
    a, b = parse_latex(first, SCALARS), parse_latex(second, SCALARS)
    assert sp.simplify(a - b) != 0


@pytest.mark.parametrize(
    ("written", "explicit"),
    [
        (r"\theta/2", r"\frac{\theta}{2}"),
        (r"1/2 \cdot \theta", r"\frac{1}{2}\theta"),
        (r"2\theta/3", r"\frac{2\theta}{3}"),
        (r"e^{-t/\tau}", r"\exp(-\frac{t}{\tau})"),
        (r"x/y + z", r"\frac{x}{y} + z"),
        (r"\log\theta \cdot \theta", r"\theta\log(\theta)"),
    ],
)
def test_unambiguous_slashes_and_spaces_are_read(written, explicit):
    same(written, explicit, SCALARS, {"t": "positive"})


def test_bars_among_matrix_factors_are_ambiguous():
    with pytest.raises(AmbiguityError) as exc:
        parse_latex(r"\mathbf 1^\top|X|\mathbf 1")
    assert r"\det X" in str(exc.value) and r"\operatorname{abs}(X)" in str(exc.value)
    same(r"\log|X|", r"\log\det X", {"X": ("n", "n")}, {"X": "spd"})
    entrywise = parse_latex(r"\mathbf 1^\top\operatorname{abs}(X)\mathbf 1", {"X": ("m", "n")})
    assert entrywise.has(sp.Abs) and not entrywise.has(sp.Determinant)


def test_the_cli_refuses_ambiguity_in_one_line_with_exit_2():
    out = cli("grad", r"1/2\theta", "--wrt", "theta")
    assert out.returncode == 2 and out.stdout == ""
    (line,) = out.stderr.splitlines()
    assert "ambiguous" in line and r"\frac{1}{2}\theta" in line and r"\frac{1}{2\theta}" in line


# --- 5. common notation ---------------------------------------------------------------------------


def test_sub_and_superscripts_of_a_norm_in_either_order():
    shapes = {"X": ("m", "n")}
    same(r"\|Xw-y\|^2_2", r"\|Xw-y\|_2^2", shapes)
    same(r"\|X\|^2_F", r"\operatorname{tr}(X^\top X)", shapes)
    same(r"\|w\|^2_1", r"(\mathbf 1^\top \operatorname{abs}(w))^2")


def test_ell_is_a_name():
    same(r"\ell^\top \ell", r"\|\ell\|^2")
    assert parse_latex(r"\ell", {"ell": ()}) == sp.Symbol("ell", real=True)
    from derive.notation.latex import latex
    from derive.notation.text import text

    assert text(sp.Symbol("ell")) == "ℓ" and latex(sp.Symbol("ell")) == r"\ell"


@pytest.mark.parametrize(
    ("written", "derivative"),
    [
        (r"\cosh\theta", r"\sinh\theta"),
        (r"\sinh\theta", r"\cosh\theta"),
        (r"\cosh^2\theta - \sinh^2\theta", "0"),  # constant: its zero gradient is checked
        (r"\max(0, \theta)\theta", r"\operatorname{ReLU}'(\theta)\theta + \max(0,\theta)"),
    ],
)
def test_hyperbolic_functions_and_relu_differentiate(written, derivative):
    d = derive.gradient(written, "theta")
    assert d.verified
    assert_same_value(d.result, parse_latex(derivative))


@pytest.mark.parametrize(
    ("written", "explicit"),
    [
        (r"\max(0, x)", r"\operatorname{ReLU}(x)"),
        (r"\max(x, 0)", r"\operatorname{relu}(x)"),
        (r"\max\left(0, x\right)", r"\operatorname{ReLU}(x)"),
        (r"\min(0, x)", r"-\operatorname{ReLU}(-x)"),
    ],
)
def test_max_with_zero_is_the_relu(written, explicit):
    got = same(written, explicit)
    assert got.has(relu)


def test_relu_gradient_is_the_step_and_is_verified():
    d = derive.gradient(r"\mathbf 1^\top \max(0, W x)", "W", shapes={"W": ("m", "n")})
    assert d.verified and d.result.has(step)


@pytest.mark.parametrize(
    ("written", "explicit", "shapes"),
    [
        (r"\langle a, x \rangle", r"a^\top x", {}),
        (r"\left\langle a, x \right\rangle", r"a^\top x", {}),
        (r"\langle A, X \rangle", r"\operatorname{tr}(A^\top X)", {"A": ("m", "n")}),
        (r"\langle Ax, b \rangle", r"x^\top A^\top b", {"A": ("m", "n")}),
        (r"\langle x, y \rangle", "x y", SCALARS),
    ],
)
def test_inner_products(written, explicit, shapes):
    same(written, explicit, shapes)


def test_the_inner_product_gradient_is_verified():
    d = derive.gradient(r"\langle A, X \rangle", "X", shapes={"A": ("m", "n")})
    assert d.verified
    assert d.result == sp.MatrixSymbol(
        "A",
        sp.Symbol("m", integer=True, positive=True),
        sp.Symbol("n", integer=True, positive=True),
    )


@pytest.mark.parametrize(
    ("written", "needle"),
    [
        (r"\mathbb{E}[x^\top x]", "expectation"),
        (r"\max(x, y)", r"only \max(0, x)"),
        (r"\max_i x_i", "not differentiable"),
        (r"\langle a, A \rangle", "shapes differ"),
    ],
)
def test_notation_without_a_meaning_here_is_refused_by_name(written, needle):
    with pytest.raises((InputError, UnsupportedError)) as exc:
        parse_latex(written, {"A": ("m", "n"), "a": ("k",)} if "langle" in written else None)
    assert needle in str(exc.value)


@pytest.mark.parametrize(
    ("f", "wrt", "shapes"),
    [
        (r"\|X\|_*", "X", {"X": ("m", "n")}),
        (r"\|A X - B\|_*", "X", {"A": ("m", "n")}),
        (r"\|X^\top\|_* + \frac12\|X\|_F^2", "X", {"X": ("m", "n")}),
    ],
)
def test_the_nuclear_norm_gradient_is_the_polar_factor_verified(f, wrt, shapes):
    from derive.expr import PolarFactor

    d = derive.gradient(f, wrt, shapes=shapes)
    assert d.verified and d.result.has(PolarFactor)


def test_the_nuclear_norm_is_the_sum_of_singular_values():
    import numpy as np

    from derive.evaluate import evaluate

    e = parse_latex(r"\|X\|_*", {"X": (4, 3)})
    x = np.random.default_rng(0).standard_normal((4, 3))
    want = np.linalg.svd(x, compute_uv=False).sum()
    assert abs(float(evaluate(e, {"X": x}, {})) - want) < 1e-12 * want


# --- 6. errors that say what to do ----------------------------------------------------------------


def test_a_jacobian_of_a_number_points_to_the_gradient():
    with pytest.raises(ShapeError, match="derive grad"):
        derive.jacobian(r"x^\top x", "x", check=False)


def test_the_hessian_of_a_linear_function_is_zero_and_verified():
    for f, assume in ((r"a^\top x", None), (r"\mathbf 1^\top x", {"x": "prob"})):
        d = derive.hessian(f, "x", assume=assume)
        assert d.verified and isinstance(d.result, sp.ZeroMatrix)


def test_derive_parse_prints_the_reading_and_the_shapes():
    out = cli("parse", r"(x-\mu)^\top\Sigma^{-1}(x-\mu)", "--shape", "mu=n")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("f = (x − μ)ᵀΣ⁻¹(x − μ)")
    assert any(line.strip().startswith("μ: n-vector") and "[given]" in line for line in lines)
    assert any("Σ: n × n matrix" in line and "upper-case" in line for line in lines)
    out = cli("parse", r"(x-\mu)^\top\Sigma^{-1}(x-\mu)")
    assert out.returncode == 2 and "--shape mu=n" in out.stderr
    out = cli("parse", r"\sin\theta\cos\theta", "--format", "json")
    assert out.returncode == 0 and '"latex"' in out.stdout and "theta" in out.stdout


@pytest.mark.parametrize(
    ("f", "wrt", "words"),
    [
        (r"\max(0, \theta)^2", "theta", "ReLU(t) = max(0, t) has no derivative at t = 0"),
        (r"|\theta|^3", "theta", "|t| has no derivative at t = 0"),
        (r"\|X\|_*", "X", "‖X‖_* has no derivative where X loses rank"),
    ],
)
def test_a_kink_is_stated_as_a_condition_of_the_result(f, wrt, words):
    d = derive.gradient(f, wrt, check=False)
    (remark,) = [r for r in d.remarks if words in r.text]
    assert remark.kind == "condition"
