"""Property test: random well-shaped expressions either derive and verify against JAX, or raise
a DeriveError naming what is unsupported. A derivation that fails its check is a bug."""

import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import derive
from derive.expr import LogSumExp, MatScalar, Softmax, elementwise, sigmoid

n, m = sp.symbols("n m", integer=True, positive=True)
x = sp.MatrixSymbol("x", n, 1)
a = sp.MatrixSymbol("a", n, 1)
c = sp.MatrixSymbol("c", m, 1)
A = sp.MatrixSymbol("A", m, n)
B = sp.MatrixSymbol("B", n, n)
t = sp.Symbol("t")

FUNCS = [sp.exp, sp.tanh, sigmoid, sp.Lambda(t, sp.log(1 + t**2)), sp.Lambda(t, t**2)]


def vectors_n(depth: int) -> st.SearchStrategy:
    """Column vectors of length n that depend on x."""
    base = st.sampled_from([x, sp.MatAdd(x, a), sp.HadamardProduct(a, x)])
    if depth == 0:
        return base
    sub = vectors_n(depth - 1)
    return st.one_of(
        base,
        sub.map(lambda v: sp.MatMul(B, v)),
        sub.map(lambda v: sp.MatMul(sp.Transpose(B), v)),
        st.tuples(st.sampled_from(FUNCS), sub).map(lambda p: elementwise(p[0], p[1])),
        sub.map(lambda v: sp.MatAdd(v, sp.MatMul(B, x))),
        sub.map(lambda v: sp.HadamardProduct(v, a)),
    )


def vectors_m(depth: int) -> st.SearchStrategy:
    return vectors_n(depth).map(lambda v: sp.MatMul(A, v))


def scalars(depth: int = 2) -> st.SearchStrategy:
    vn, vm = vectors_n(depth), vectors_m(depth)
    return st.one_of(
        vn.map(lambda v: MatScalar(sp.MatMul(sp.Transpose(a), v))),
        vm.map(lambda v: MatScalar(sp.MatMul(sp.Transpose(v), v))),
        vn.map(lambda v: MatScalar(sp.MatMul(sp.Transpose(v), B, v))),
        vm.map(lambda v: LogSumExp(v)),
        st.tuples(vm, st.sampled_from([0, 1])).map(
            lambda p: -MatScalar(sp.MatMul(sp.Transpose(c), elementwise(sp.log, Softmax(p[0]))))
        ),
        vn.map(lambda v: MatScalar(sp.MatMul(sp.OneMatrix(1, n), elementwise(sp.exp, v)))),
    )


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(f=scalars(), g=scalars(1), coef=st.sampled_from([1, 2, sp.Rational(-1, 2)]))
def test_random_expressions_verify_or_raise(f, g, coef):
    expr = f + coef * g
    try:
        d = derive.gradient(expr, "x", assume={"c": "prob"})
    except derive.DeriveError:
        return
    assert d.verification.passed, f"{expr}: {d.verification.summary()}"
