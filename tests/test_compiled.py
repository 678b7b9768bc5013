"""The compiled check: NumPy closures equal the evaluator, and one jitted JAX function per
derivation and shape set computes what op-by-op JAX computes (derive.check.compiled).

Sizes are distinct (m = 3, n = 4) and matrices non-symmetric, so a swapped factor cannot agree.
"""

import numpy as np
import pytest
import sympy as sp
from sympy.matrices.expressions.hadamard import HadamardPower, HadamardProduct

from derive.check import check_derivation, compiled
from derive.check.closures import program
from derive.evaluate import evaluate
from derive.expr import (
    DifferentialSymbol,
    LogSumExp,
    MatDifferential,
    MatScalar,
    ScalarDifferential,
    Softmax,
    elementwise,
    sigmoid,
    softplus,
)
from derive.jax_runtime import Deferred, deferring_jax
from derive.model import Claim, Derivation, Given, RuleRef, Step

m, n = sp.symbols("m n", integer=True, positive=True)
A = sp.MatrixSymbol("A", m, n)
X = sp.MatrixSymbol("X", n, n)
x = sp.MatrixSymbol("x", n, 1)
b = sp.MatrixSymbol("b", m, 1)
dx = DifferentialSymbol(x)
a = sp.Symbol("a")
T = sp.Transpose
DIMS = {"m": 3, "n": 4}
RNG = np.random.default_rng(7)
VALUES = {
    "A": RNG.standard_normal((3, 4)),
    "X": RNG.standard_normal((4, 4)) + 4 * np.eye(4),
    "x": RNG.standard_normal((4, 1)),
    "b": RNG.standard_normal((3, 1)),
    "a": np.float64(0.6),
    "dx": RNG.standard_normal((4, 1)),
}
r = A * x - b

# One expression per node the closures mirror, and some they leave to the evaluator.
EXPRESSIONS = [
    MatScalar(T(r) * r) / 2,
    sp.log(a) + sp.exp(-a) * sp.sqrt(a) + a**3 + sp.pi,
    sp.Trace(X * T(X)) + sp.Determinant(X) + sp.Trace(sp.Inverse(X)),
    HadamardProduct(x, x) + HadamardPower(x, 2) + sp.Identity(n) * x,
    sp.ZeroMatrix(m, 1) + sp.OneMatrix(m, 1) * a + 2 * b,
    Softmax(x) + sp.OneMatrix(n, 1) * LogSumExp(x),
    sp.tanh(a) * MatScalar(T(x) * X * x),
    elementwise(sigmoid, A * x) + elementwise(softplus, b),  # the evaluator's own path
    sp.MatPow(X, 2) * x,  # not mirrored: evaluated by the evaluator
    sp.Sum(sp.Indexed("y", sp.Idx("i")), (sp.Idx("i"), 1, n)),
]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=range(len(EXPRESSIONS)))
def test_a_closure_equals_the_evaluator_to_the_bit(expr):
    values = {**VALUES, "y": RNG.standard_normal(4)}
    want = np.asarray(evaluate(expr, values, DIMS))
    dims = tuple(sorted(DIMS.items()))
    got = np.asarray(program(expr, dims, ())(values, None))
    assert got.shape == want.shape
    assert np.array_equal(got, want)


def test_a_closure_raises_where_the_evaluator_raises():
    wrong = sp.MatAdd(A, sp.MatrixSymbol("C", m, n))
    values = {**VALUES, "C": np.ones((4, 3))}  # C drawn with the wrong shape
    with pytest.raises(Exception):  # noqa: B017 - the caller asks the evaluator why
        program(wrong, tuple(sorted(DIMS.items())), ())(values, None)


def test_jax_evaluation_is_deferred_while_planning():
    with deferring_jax(), pytest.raises(Deferred):
        evaluate(a, VALUES, DIMS, backend="jax")
    assert float(evaluate(a, VALUES, DIMS, backend="jax")) == 0.6


def _least_squares() -> Derivation:
    f = MatScalar(T(r) * r) / 2
    grad = T(A) * r
    F = sp.Symbol("f")
    ref = RuleRef("test", "Test", "elementary")
    steps = (
        Step(
            ScalarDifferential(F), ScalarDifferential(f), MatScalar(T(r) * MatDifferential(r)), ref
        ),
        Step(
            ScalarDifferential(F),
            MatScalar(T(r) * MatDifferential(r)),
            MatScalar(T(r) * A * dx),
            ref,
        ),
        Step(sp.Symbol("g"), MatScalar(T(r) * A * dx), grad, ref, relation="gradient"),
    )
    return Derivation(
        title="least squares",
        goal="test",
        given=(Given("x", ("n",)), Given("A", ("m", "n")), Given("b", ("m",))),
        objective=f,
        wrt=("x",),
        steps=steps,
        results=((sp.Symbol("g"), grad),),
        claims=(Claim("gradient", "against jax.grad", grad, f, ("x",)),),
    )


class _Recorder:
    """compiled.session, keeping the sessions it opens."""

    def __init__(self, monkeypatch):
        self.sessions = []
        opened = compiled.session

        def session():
            cm = opened()

            class Wrapped:
                def __enter__(inner):
                    s = cm.__enter__()
                    self.sessions.append(s)
                    return s

                def __exit__(inner, *exc):
                    return cm.__exit__(*exc)

            return Wrapped()

        monkeypatch.setattr(compiled, "session", session)


def test_a_check_computes_its_jax_work_in_one_compiled_call(monkeypatch):
    rec = _Recorder(monkeypatch)
    d = _least_squares()
    first = check_derivation(d, trials=5, seed=3)
    assert first.passed, first.failure
    (s,) = rec.sessions
    assert s.eager == 0  # every JAX request was foreseen by the plan and traced
    assert s.compiled >= 5 * 3  # d(·) of three nodes and a gradient, on each of five trials
    again = check_derivation(d, trials=5, seed=3)
    assert again == first
    assert rec.sessions[1].compilations == 0  # the same derivation and sizes: no new trace


def test_compiled_results_equal_op_by_op_jax(monkeypatch):
    rec = _Recorder(monkeypatch)
    check_derivation(_least_squares(), trials=3, seed=11)
    (s,) = rec.sessions
    checked = 0
    for key, got in s.results.items():
        kind, expr, param, dims, _ = key
        values = {name: np.frombuffer(raw).reshape(shape) for name, shape, raw in key[4]}
        want = compiled._on_jax(kind, expr, param, dict(dims), values)
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-13, atol=1e-15)
        checked += 1
    assert checked >= 3 * 3


def test_a_request_that_cannot_be_traced_is_computed_op_by_op(monkeypatch):
    # the sum's upper bound is a value, not a size: jax.jit cannot know it when tracing
    k = sp.Symbol("k")
    i = sp.Idx("i")
    y = sp.IndexedBase("y")
    body = sp.Sum(y[i] * sp.Symbol("t") ** 2, (i, 1, k))
    ref = RuleRef("test", "Test", "elementary")
    t = sp.Symbol("t")
    dt = sp.Symbol("dt")
    step = Step(
        ScalarDifferential(sp.Symbol("f")),
        ScalarDifferential(body),
        sp.Sum(y[i] * 2 * t, (i, 1, k)) * dt,
        ref,
    )
    d = Derivation(
        title="t",
        goal="t",
        given=(Given("t", ()), Given("y", ("n",), role="data"), Given("k", (), ("positive",))),
        objective=body,
        wrt=("t",),
        steps=(step,),
        results=(),
        claims=(),
    )
    rec = _Recorder(monkeypatch)
    report = check_derivation(d, trials=2)
    (s,) = rec.sessions
    assert s.eager > 0
    assert report.passed, report.failure
    assert report.items[0].method == "jax.jvp"
