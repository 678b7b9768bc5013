"""The tree-walking evaluator: every node type against a direct NumPy computation.

Inputs are random, non-square and non-symmetric, with distinct sizes m=3, n=4, k=5, so a
swapped transpose or product cannot agree by accident.
"""

import math

import numpy as np
import pytest
import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalMatrix, DiagonalOf
from sympy.matrices.expressions.hadamard import HadamardPower, HadamardProduct

from derive.arguments import names_used
from derive.errors import InputError, ShapeError, UnsupportedError
from derive.evaluate import compile_function, evaluate
from derive.expr import (
    DifferentialSymbol,
    GradientOf,
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
from derive.jax_runtime import import_jax
from derive.model import Given

m, n, k = sp.symbols("m n k", integer=True, positive=True)
DIMS = {"m": 3, "n": 4, "k": 5}
A = sp.MatrixSymbol("A", m, n)  # 3x4
B = sp.MatrixSymbol("B", n, k)  # 4x5
C = sp.MatrixSymbol("C", m, n)  # 3x4
X = sp.MatrixSymbol("X", n, n)  # 4x4, not symmetric
x = sp.MatrixSymbol("x", n, 1)
z = sp.MatrixSymbol("z", m, 1)
a, c = sp.symbols("a c", real=True)
t = sp.Symbol("t", real=True)

RNG = np.random.default_rng(20240501)
V = {
    "A": RNG.standard_normal((3, 4)),
    "B": RNG.standard_normal((4, 5)),
    "C": RNG.standard_normal((3, 4)),
    "X": RNG.standard_normal((4, 4)) + 3 * np.eye(4),
    "x": RNG.standard_normal((4, 1)),
    "z": RNG.standard_normal((3, 1)),
    "a": np.float64(0.7),
    "c": np.float64(-1.3),
    "dX": RNG.standard_normal((4, 4)),
    "dx": RNG.standard_normal((4, 1)),
    "da": np.float64(0.4),
}
Av, Bv, Cv, Xv, xv, zv = (V[s] for s in "ABCXxz")
sig = 1 / (1 + np.exp(-Av))

CASES = [
    # numbers and symbols
    ("integer", sp.Integer(3), 3.0),
    ("rational", sp.Rational(2, 7), 2 / 7),
    ("half", sp.S.Half, 0.5),
    ("float", sp.Float(1.25), 1.25),
    ("pi", sp.pi, np.pi),
    ("E", sp.E, np.e),
    ("symbol", a, 0.7),
    ("dimension symbol", n, 4.0),
    ("matrix symbol", A, Av),
    ("differential symbol", DifferentialSymbol(X), V["dX"]),
    ("scalar differential symbol", ScalarDifferentialSymbol(a), 0.4),
    # scalar arithmetic and functions
    ("add", a + c + 2, 0.7 - 1.3 + 2),
    ("mul", 3 * a * c, 3 * 0.7 * -1.3),
    ("pow", a**3, 0.7**3),
    ("negative pow", c**-2, (-1.3) ** -2),
    ("sqrt", sp.sqrt(a), np.sqrt(0.7)),
    ("real pow", a ** sp.Rational(3, 2), 0.7**1.5),
    ("symbolic pow", a**c, 0.7**-1.3),
    ("log", sp.log(a), np.log(0.7)),
    ("exp", sp.exp(c), np.exp(-1.3)),
    ("abs", sp.Abs(c), 1.3),
    ("tanh", sp.tanh(c), np.tanh(-1.3)),
    ("sin", sp.sin(c), np.sin(-1.3)),
    ("cos", sp.cos(c), np.cos(-1.3)),
    ("sigmoid", sigmoid(c), 1 / (1 + np.exp(1.3))),
    ("softplus", softplus(c), np.log1p(np.exp(-1.3))),
    ("gamma", sp.gamma(a), math.gamma(0.7)),
    ("factorial", sp.factorial(a), math.gamma(1.7)),
    ("loggamma", sp.loggamma(a), math.lgamma(0.7)),
    ("max", sp.Max(a, c), 0.7),
    ("min", sp.Min(a, c), -1.3),
    # matrix algebra
    ("matadd", sp.MatAdd(A, C), Av + Cv),
    ("matmul", sp.MatMul(A, B), Av @ Bv),
    ("matmul with scalars", sp.MatMul(2, a, A, B), 2 * 0.7 * Av @ Bv),
    ("matmul of three", sp.MatMul(A.T, C, B), Av.T @ Cv @ Bv),
    ("matpow", sp.MatPow(X, 3), Xv @ Xv @ Xv),
    ("matpow -1", sp.MatPow(X, -1), np.linalg.inv(Xv)),
    ("matpow -2", sp.MatPow(X, -2), np.linalg.inv(Xv @ Xv)),
    ("transpose", sp.Transpose(A), Av.T),
    ("inverse", sp.Inverse(X), np.linalg.inv(Xv)),
    ("trace", sp.Trace(X), np.trace(Xv)),
    ("trace of a product", sp.Trace(A * B * B.T * A.T), np.trace(Av @ Bv @ Bv.T @ Av.T)),
    ("determinant", sp.Determinant(X), np.linalg.det(Xv)),
    ("log det", sp.log(sp.Determinant(X)), np.log(np.linalg.det(Xv))),
    ("hadamard product", HadamardProduct(A, C), Av * Cv),
    ("hadamard power", HadamardPower(A, 3), Av**3),
    ("kronecker", sp.KroneckerProduct(A, B), np.kron(Av, Bv)),
    ("elementwise lambda", ElementwiseApplyFunction(sp.Lambda(t, t**2 + a), A), Av**2 + 0.7),
    ("elementwise function", ElementwiseApplyFunction(sp.exp, A), np.exp(Av)),
    ("elementwise sigmoid", elementwise(sigmoid, A), sig),
    ("elementwise softplus", elementwise(softplus, A), np.log1p(np.exp(Av))),
    ("elementwise constant", ElementwiseApplyFunction(sp.Lambda(t, 2), A), np.full((3, 4), 2.0)),
    ("identity", sp.Identity(n), np.eye(4)),
    ("zero matrix", sp.ZeroMatrix(m, k), np.zeros((3, 5))),
    ("one matrix", sp.OneMatrix(m, k), np.ones((3, 5))),
    ("diag matrix", DiagMatrix(x), np.diag(xv[:, 0])),
    ("diagonal of", DiagonalOf(X), np.diag(Xv).reshape(-1, 1)),
    ("diagonal matrix", DiagonalMatrix(X), np.diag(np.diag(Xv))),
    ("explicit matrix", sp.ImmutableMatrix([[1, a], [c, 2]]), np.array([[1, 0.7], [-1.3, 2]])),
    ("matrix element", A[2, 1], Av[2, 1]),
    ("matscalar", MatScalar(z.T * A * x), (zv.T @ Av @ xv)[0, 0]),
    ("softmax", Softmax(z), np.exp(zv) / np.exp(zv).sum()),
    ("log-sum-exp", LogSumExp(z), np.log(np.exp(zv).sum())),
    ("quadratic form", MatScalar(x.T * X * x) + a, (xv.T @ Xv @ xv)[0, 0] + 0.7),
]


@pytest.mark.parametrize("expr, expected", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_node_matches_numpy(expr, expected):
    got = evaluate(expr, V, DIMS)
    assert got.shape == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(
    "expr, expected", [c[1:] for c in CASES[::4]], ids=[c[0] for c in CASES[::4]]
)
def test_jax_backend_agrees(expr, expected):
    got = np.asarray(evaluate(expr, V, DIMS, backend="jax"))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-14)


def test_dims_may_be_keyed_by_symbol():
    got = evaluate(sp.Identity(n) * x, V, {n: 4})
    np.testing.assert_allclose(got, xv)


def test_vectors_may_be_passed_one_dimensional():
    got = evaluate(A * x, {"A": Av, "x": xv[:, 0]}, DIMS)
    np.testing.assert_allclose(got, Av @ xv)


def test_a_wrongly_shaped_value_is_refused():
    with pytest.raises(ShapeError, match="A has shape"):
        evaluate(A * x, {"A": Av.T, "x": xv}, DIMS)


def test_a_missing_value_or_size_names_it():
    with pytest.raises(InputError, match="symbol x"):
        evaluate(A * x, {"A": Av}, DIMS)
    with pytest.raises(InputError, match="dimension k"):
        evaluate(sp.Identity(k), {}, {"n": 4})


def test_stable_softmax_logsumexp_sigmoid_softplus():
    big = {"z": np.array([[1000.0], [999.0], [-1000.0]])}
    sm = evaluate(Softmax(z), big, DIMS)
    np.testing.assert_allclose(sm[:, 0], [1 / (1 + np.exp(-1)), 1 / (1 + np.e), 0.0], atol=1e-15)
    assert evaluate(LogSumExp(z), big, DIMS) == pytest.approx(1000 + np.log1p(np.exp(-1)))
    s = sp.Symbol("s")
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        assert evaluate(sigmoid(s), {"s": 800.0}, {}) == 1.0
        assert evaluate(sigmoid(s), {"s": -40.0}, {}) == pytest.approx(np.exp(-40), rel=1e-12)
        assert evaluate(softplus(s), {"s": 1000.0}, {}) == 1000.0
        assert evaluate(sp.log(sigmoid(s)), {"s": -40.0}, {}) == pytest.approx(-40, rel=1e-12)


# --- indexed data, sums, products --------------------------------------------------------

y = sp.IndexedBase("y")
w = sp.IndexedBase("w")
i, j = sp.symbols("i j", integer=True)
Y = np.array([0.5, -1.0, 2.0, 3.5, -0.25, 1.5])
W = RNG.standard_normal((6, 6))


@pytest.mark.parametrize(
    "expr, expected",
    [
        (sp.Sum(y[i], (i, 1, n)), Y.sum()),
        (sp.Sum((y[i] - a) ** 2, (i, 1, n)), ((Y - 0.7) ** 2).sum()),
        (sp.Sum(sp.log(1 + sp.exp(y[i])), (i, 2, 4)), np.log1p(np.exp(Y[1:4])).sum()),
        (sp.Product(y[i], (i, 1, n)), Y.prod()),
        (sp.Sum(a, (i, 1, n)), 6 * 0.7),
        (sp.Sum(y[i], (i, 1, 0)), 0.0),
        (sp.Sum(sp.Idx("r") * y[sp.Idx("r")], (sp.Idx("r"), 1, n)), (np.arange(1, 7) * Y).sum()),
        (sp.Sum(w[i, j], (j, 1, i), (i, 1, n)), np.tril(W).sum()),  # triangular: a loop
        (sp.Sum(y[i] * sp.Sum(y[j], (j, 1, n)), (i, 1, n)), Y.sum() ** 2),
        (sp.Sum(y[i] * MatScalar(z.T * z), (i, 1, n)), Y.sum() * (zv**2).sum()),
    ],
    ids=[
        "sum",
        "squares",
        "subrange",
        "product",
        "constant",
        "empty",
        "idx",
        "nested",
        "inner",
        "matrix",
    ],
)
def test_sums_read_one_based_positions(expr, expected):
    values = {"y": Y, "w": W, "a": 0.7, "z": zv}
    got = evaluate(expr, values, {"n": 6, "m": 3})
    assert got == pytest.approx(expected, rel=1e-12)
    assert np.asarray(evaluate(expr, values, {"n": 6, "m": 3}, backend="jax")) == pytest.approx(
        expected, rel=1e-12
    )


def test_an_index_outside_the_data_is_an_error_not_a_wrap_around():
    with pytest.raises(InputError, match="1-based"):
        evaluate(sp.Sum(y[i], (i, 0, 5)), {"y": Y}, {})
    with pytest.raises(InputError, match="1-based"):
        evaluate(sp.Sum(y[i], (i, 1, 7)), {"y": Y}, {})


# --- differentials ------------------------------------------------------------------------


def test_differential_of_a_trace_is_the_jvp():
    """d tr(XX) = tr(dX X + X dX)."""
    got = evaluate(ScalarDifferential(sp.Trace(X * X)), V, DIMS, backend="jax", varying=("X",))
    dX = V["dX"]
    assert float(got) == pytest.approx(np.trace(dX @ Xv + Xv @ dX), rel=1e-12)


def test_matrix_differential_and_several_varying_symbols():
    """d(a X x) = da X x + a dX x + a X dx."""
    got = evaluate(
        MatDifferential(sp.MatMul(a, X, x)), V, DIMS, backend="jax", varying=("a", "X", "x")
    )
    dX, dx, da = V["dX"], V["dx"], V["da"]
    expected = da * Xv @ xv + 0.7 * dX @ xv + 0.7 * Xv @ dx
    np.testing.assert_allclose(np.asarray(got), expected, rtol=1e-12)


def test_differential_of_a_constant_is_zero():
    got = evaluate(ScalarDifferential(sp.Trace(X)), V, DIMS, backend="jax", varying=("x",))
    assert float(got) == 0.0
    got = evaluate(MatDifferential(A * x), V, DIMS, backend="jax", varying=())
    np.testing.assert_array_equal(np.asarray(got), np.zeros((3, 1)))


def test_differential_needs_jax_and_a_direction():
    with pytest.raises(UnsupportedError, match="backend='jax'"):
        evaluate(ScalarDifferential(sp.Trace(X)), V, DIMS, varying=("X",))
    values = {key: v for key, v in V.items() if key != "dX"}
    with pytest.raises(InputError, match="direction dX"):
        evaluate(ScalarDifferential(sp.Trace(X)), values, DIMS, backend="jax", varying=("X",))


# --- what is not supported is refused ----------------------------------------------------


@pytest.mark.parametrize(
    "expr",
    [
        GradientOf(sp.Symbol("f"), X),
        sp.zeta(a),
        sp.MatPow(X, a),
        sp.oo,
        sp.I * a,
        sp.Integral(a, (c, 0, 1)),
    ],
    ids=["label", "zeta", "symbolic matpow", "infinity", "imaginary", "integral"],
)
def test_unsupported_nodes_raise(expr):
    with pytest.raises(UnsupportedError, match="numeric evaluation of"):
        evaluate(expr, V, DIMS)


# --- compile_function ---------------------------------------------------------------------

GIVEN = (
    Given("A", ("m", "n")),
    Given("x", ("n",)),
    Given("z", ("m",)),
    Given("a", ()),
    Given("F", (2, "n")),
)


def test_compiled_function_shape_conventions():
    args = {"A": Av, "x": xv[:, 0], "z": zv[:, 0], "a": 0.7}
    vec = compile_function(A * x, GIVEN)(**args)
    assert vec.shape == (3,) and isinstance(vec, np.ndarray)
    np.testing.assert_allclose(vec, (Av @ xv)[:, 0])
    scalar = compile_function(MatScalar(z.T * A * x) * a, GIVEN)(**args)
    assert scalar.shape == () and isinstance(scalar, np.ndarray)
    assert scalar == pytest.approx(0.7 * (zv.T @ Av @ xv)[0, 0])
    one_by_one = compile_function(z.T * A * x, GIVEN)(**args)
    assert one_by_one.shape == ()
    mat = compile_function(A.T, GIVEN)(**args)
    assert mat.shape == (4, 3)
    row = compile_function(x.T, GIVEN)(**args)
    assert row.shape == (1, 4)
    assert compile_function(A * x, GIVEN)(A=Av, x=xv).shape == (3,)  # (n, 1) accepted too


def test_compiled_function_infers_sizes_and_names_bad_arguments():
    f = compile_function(A * x, GIVEN)
    assert f(A=np.ones((2, 7)), x=np.ones(7)).shape == (2,)
    with pytest.raises(InputError, match="missing argument 'x'"):
        f(A=Av)
    with pytest.raises(InputError, match="x has n = 5, but A has n = 4"):
        f(A=Av, x=np.ones(5))
    with pytest.raises(InputError, match="unexpected argument 'q'"):
        f(A=Av, x=xv, q=1.0)
    with pytest.raises(InputError, match="x should be a vector"):
        f(A=Av, x=np.ones((4, 2)))
    g = compile_function(sp.MatrixSymbol("F", 2, n) * x, GIVEN)
    with pytest.raises(InputError, match="F has shape"):
        g(F=np.ones((3, 4)), x=np.ones(4))
    with pytest.raises(InputError, match="not among the given"):
        compile_function(A * x + sp.MatrixSymbol("q", m, 1), GIVEN)
    with pytest.raises(InputError, match="unknown backend"):
        compile_function(A * x, GIVEN, backend="torch")


def test_compiled_function_on_jax_can_be_differentiated():

    jax = import_jax()
    f = compile_function(MatScalar(x.T * x), (Given("x", ("n",)),), backend="jax")
    grad = jax.grad(lambda v: f(x=v))(jax.numpy.asarray(xv[:, 0]))
    np.testing.assert_allclose(np.asarray(grad), 2 * xv[:, 0], rtol=1e-14)


def test_names_used_leaves_out_bound_variables():
    e = sp.Sum(y[i] * a, (i, 1, n)) + MatScalar(x.T * x) + elementwise(sp.exp, A)[0, 0]
    assert names_used(e) == {"y", "a", "n", "x", "A"}
    r = sp.Idx("r")
    assert names_used(sp.Sum(r * y[r], (r, 1, k))) == {"y", "k"}


class Twice(sp.Expr):
    """A node defined outside the evaluator, standing for 2·arg."""

    def as_definition(self) -> sp.Expr:
        return 2 * self.args[0]


def test_nodes_defined_elsewhere_evaluate_as_their_expansion():
    assert evaluate(Twice(a) + 1, V, DIMS) == pytest.approx(2.4)
