"""The differential engine end to end: each derivation verifies against JAX (the result by
jax.grad/jax.hessian/jax.jacobian, each step by evaluation at random points and jax.jvp), and
the result has the textbook form."""

import numpy as np
import pytest
import sympy as sp

import derive
from derive.expr import LogSumExp, MatScalar, Softmax, elementwise, sigmoid
from derive.simplify import canonical

n, m, k = sp.symbols("n m k", integer=True, positive=True)
x = sp.MatrixSymbol("x", n, 1)
w = sp.MatrixSymbol("w", n, 1)
a = sp.MatrixSymbol("a", n, 1)
b = sp.MatrixSymbol("b", m, 1)
y = sp.MatrixSymbol("y", m, 1)
z = sp.MatrixSymbol("z", m, 1)
p = sp.MatrixSymbol("p", m, 1)
A = sp.MatrixSymbol("A", m, n)
B = sp.MatrixSymbol("B", n, n)
C = sp.MatrixSymbol("C", k, m)
X = sp.MatrixSymbol("X", n, n)
Xr = sp.MatrixSymbol("X", m, n)
M = sp.MatrixSymbol("M", m, n)
T = sp.Transpose
r = sp.MatAdd(sp.MatMul(A, x), sp.MatMul(-1, b))
ones_m = sp.OneMatrix(m, 1)
ones_row = sp.OneMatrix(1, m)


def mm(*args):
    return sp.MatMul(*args)


def scalar(*args):
    return MatScalar(sp.MatMul(*args))


# (id, f, wrt, assumptions, expected gradient or None)
GRADIENTS = [
    ("bTAx", scalar(T(b), A, x), "x", {}, mm(T(A), b)),
    ("aTx (69)", scalar(T(a), x), "x", {}, a),
    (
        "least-squares",
        sp.Rational(1, 2) * scalar(T(r), r),
        "x",
        {},
        mm(T(A), r),
    ),
    ("xTBx (81)", scalar(T(x), B, x), "x", {}, mm(sp.MatAdd(B, T(B)), x)),
    ("aTXb (70)", scalar(T(b), Xr, x), "X", {}, mm(b, T(x))),
    (
        "tr(AXB) (101)",
        sp.Trace(mm(sp.MatrixSymbol("P", k, m), Xr, sp.MatrixSymbol("Q", n, k))),
        "X",
        {},
        None,
    ),
    ("tr(XTX) (115)", sp.Trace(mm(T(Xr), Xr)), "X", {}, 2 * Xr),
    ("logdet (43)", sp.log(sp.Determinant(X)), "X", {}, T(sp.Inverse(X))),
    ("det (49)", sp.Determinant(X), "X", {}, sp.Determinant(X) * T(sp.Inverse(X))),
    ("aTXinvb (61)", scalar(T(a), sp.Inverse(X), x), "X", {}, None),
    ("tr(AXinvB) (63)", sp.Trace(mm(B, sp.Inverse(X), sp.MatrixSymbol("D", n, n))), "X", {}, None),
    (
        "logdet spd",
        sp.log(sp.Determinant(sp.MatrixSymbol("S", n, n))),
        "S",
        {"S": "spd"},
        sp.Inverse(sp.MatrixSymbol("S", n, n)),
    ),
    ("tr(X^T B X C) (117)", sp.Trace(mm(T(X), B, X, sp.MatrixSymbol("D", n, n))), "X", {}, None),
    ("frobenius (132)", sp.Trace(mm(M, T(M))), "M", {}, 2 * M),
    ("lse", LogSumExp(z), "z", {}, Softmax(z)),
    (
        "softmax-ce",
        -scalar(T(y), elementwise(sp.log, Softmax(z))),
        "z",
        {"y": "prob"},
        sp.MatAdd(Softmax(z), -y),
    ),
    (
        "softmax-ce onehot",
        -scalar(T(y), elementwise(sp.log, Softmax(z))),
        "z",
        {"y": "onehot"},
        sp.MatAdd(Softmax(z), -y),
    ),
    ("softmax-ce unnormalised y", -scalar(T(y), elementwise(sp.log, Softmax(z))), "z", {}, None),
    (
        "sum log(1+x^2)",
        scalar(
            sp.OneMatrix(1, n),
            elementwise(sp.Lambda(sp.Symbol("t"), sp.log(1 + sp.Symbol("t") ** 2)), x),
        ),
        "x",
        {},
        None,
    ),
    (
        "logistic +-1",
        scalar(
            ones_row,
            elementwise(
                sp.log,
                sp.MatAdd(ones_m, elementwise(sp.exp, -sp.HadamardProduct(y, mm(A, w)))),
            ),
        ),
        "w",
        {},
        None,
    ),
    (
        "logistic cross-entropy",
        -scalar(T(y), elementwise(sp.log, elementwise(sigmoid, mm(A, w))))
        - scalar(
            T(sp.MatAdd(ones_m, -y)),
            elementwise(sp.log, sp.MatAdd(ones_m, -elementwise(sigmoid, mm(A, w)))),
        ),
        "w",
        {"y": "binary"},
        None,
    ),
    ("hadamard", scalar(T(sp.HadamardProduct(a, x)), x), "x", {}, None),
    ("tanh", scalar(T(b), elementwise(sp.tanh, mm(A, x))), "x", {}, None),
    (
        "scalar param",
        sp.Symbol("lambda") * scalar(T(x), x) + scalar(T(b), A, x),
        "lambda",
        {},
        scalar(T(x), x),
    ),
    ("inverse of sum (64)", sp.Trace(sp.Inverse(sp.MatAdd(X, B))), "X", {}, None),
    (
        "kronecker trace (105)",
        sp.Trace(sp.KroneckerProduct(sp.MatrixSymbol("E", k, k), X)),
        "X",
        {},
        None,
    ),
    (
        "trace of product of three (118)",
        sp.Trace(mm(sp.MatrixSymbol("P", n, m), Xr, B, T(Xr), sp.MatrixSymbol("Q", m, n))),
        "X",
        {},
        None,
    ),
]


@pytest.mark.parametrize(
    ("case", "f", "wrt", "assume", "expected"), GRADIENTS, ids=[g[0] for g in GRADIENTS]
)
def test_gradient_verifies_against_jax(case, f, wrt, assume, expected):
    d = derive.gradient(f, wrt, assume=assume)
    assert d.verification is not None and d.verification.passed, d.verification.summary()
    assert d.verification.max_rel_error < 1e-9
    assert d.steps, "a derivation has steps"
    if expected is not None:
        assert canonical(d.result) == canonical(expected), f"{d.result} is not {expected}"


def test_least_squares_textbook_form():
    d = derive.gradient(sp.Rational(1, 2) * scalar(T(r), r), "x", check=False)
    assert d.result == mm(T(A), r)  # Aᵀ(Ax − b), not AᵀAx − Aᵀb


def test_softmax_ce_textbook_form_and_rules():
    d = derive.worked("softmax-ce")
    assert d.verification.passed
    assert canonical(d.result) == canonical(sp.MatAdd(Softmax(z.subs(m, n)), -y.subs(m, n)))
    used = [s.rule.id for s in d.steps]
    assert used[:3] == ["density.categorical", "rewrite.log-softmax", "prob.sums-to-one"]
    assert "diff.lse" in used and "identify.gradient" in used


def test_symmetric_assumption_removes_transpose():
    S = sp.MatrixSymbol("S", n, n)
    d = derive.gradient(scalar(T(x), sp.Inverse(S), x), "x", assume={"S": "spd"})
    assert d.verification.passed
    assert not any(
        isinstance(t, sp.Transpose) and t.arg == sp.Inverse(S)
        for t in sp.preorder_traversal(d.result)
    )


HESSIANS = [
    ("xTBx (98)", scalar(T(x), B, x), "x", {}, sp.MatAdd(B, T(B))),
    ("least squares", sp.Rational(1, 2) * scalar(T(r), r), "x", {}, mm(T(A), A)),
    (
        "logistic",
        scalar(ones_row, elementwise(sp.log, sp.MatAdd(ones_m, elementwise(sp.exp, mm(A, w)))))
        - scalar(T(y), A, w),
        "w",
        {},
        None,
    ),
    ("lse", LogSumExp(mm(A, x)), "x", {}, None),
]


@pytest.mark.parametrize(
    ("case", "f", "wrt", "assume", "expected"), HESSIANS, ids=[h[0] for h in HESSIANS]
)
def test_hessian_verifies_against_jax(case, f, wrt, assume, expected):
    d = derive.hessian(f, wrt, assume=assume)
    assert d.verification.passed, d.verification.summary()
    if expected is not None:
        assert canonical(d.result) == canonical(expected)


def test_jacobians():
    d = derive.jacobian(Softmax(z), "z")
    assert d.verification.passed, d.verification.summary()
    d = derive.jacobian(mm(A, x), "x")
    assert d.verification.passed and d.result == A


def test_errors_are_clear():
    with pytest.raises(derive.InputError, match="does not depend on 'q'"):
        derive.gradient(scalar(T(x), x), "q")
    with pytest.raises(derive.ShapeError, match="scalar"):
        derive.gradient(mm(A, x), "x")
    # a matrix power is differentiated for a positive integer exponent only (Cookbook (90))
    k = sp.Symbol("k", integer=True, positive=True)
    with pytest.raises(derive.UnsupportedError, match="positive integer powers"):
        derive.gradient(sp.Trace(sp.MatPow(B, k)), "B")
    with pytest.raises(derive.InputError, match="unknown assumption"):
        derive.gradient(scalar(T(x), x), "x", assume={"x": "round"})
    with pytest.raises(derive.UnsupportedError, match="positive integer powers"):
        derive.gradient(sp.Trace(sp.MatPow(B, -2)), "B", assume={"B": "invertible"})
    with pytest.raises(derive.UnsupportedError, match="differentiating"):
        derive.gradient(sp.Function("g")(sp.Trace(X)), "X")


def test_products_of_entries_and_matrix_powers_derive():
    """∏ᵢ xᵢ (parsed as det diag(x)) and tr(X³) go through d diag(v) = diag(dv) and (90)."""
    d = derive.gradient(r"\prod_i x_i", "x", assume={"x": "positive"})
    assert d.verification.passed
    d = derive.gradient(sp.Trace(sp.MatPow(B, 3)), "B")
    assert d.verification.passed
    assert canonical(d.result) == canonical(3 * T(sp.MatPow(B, 2)))


def test_no_sympy_matrix_diff_in_engine(monkeypatch):
    """The engine never delegates to SymPy's matrix derivative (wrong in 1.14 for log det)."""
    from sympy.matrices.expressions.matexpr import MatrixExpr

    def refuse(*args, **kwargs):
        raise AssertionError("SymPy's matrix derivative was called")

    monkeypatch.setattr(MatrixExpr, "_eval_derivative", refuse)
    monkeypatch.setattr(MatrixExpr, "_eval_derivative_matrix_lines", refuse)
    d = derive.gradient(sp.log(sp.Determinant(X)) + sp.Trace(mm(B, X)), "X", check=False)
    assert canonical(d.result) == canonical(sp.MatAdd(T(sp.Inverse(X)), T(B)))


def test_log_of_a_product_over_samples_is_a_sum_of_logs():
    """A likelihood written as a product: the log turns it into 1ᵀ log(·) before d(·)."""
    d = derive.gradient(r"\log \prod_i x_i", "x")
    assert d.verification.passed, d.verification.summary()
    # once the product is in matrix notation (∏ᵢ xᵢ = det diag(x), issue #19), before d(·)
    assert [s.rule.id for s in d.steps[:2]] == ["index.product-of-entries", "rewrite.log-product"]
    d = derive.gradient(r"-\log \prod_{i=1}^n \sigma(y_i w^\top x_i)", "w")
    assert d.verification.passed, d.verification.summary()


def test_extreme_eigenvalues_of_symmetric_matrices_cookbook_67():
    """dλ = vᵀ dA v (67): ∂λ_max(XᵀX)/∂X = 2X v vᵀ, checked against numpy.linalg.eigh."""
    d = derive.gradient(r"\lambda_{\max}(X^\top X)", "X", shapes={"X": (5, 3)})
    assert d.verification.passed
    X_ = np.random.default_rng(3).standard_normal((5, 3))
    v = np.linalg.eigh(X_.T @ X_)[1][:, -1]
    np.testing.assert_allclose(d.function()(X=X_), 2 * X_ @ np.outer(v, v), atol=1e-12)
    d = derive.gradient(r"\lambda_{\min}(S)", "S", shapes={"S": (4, 4)}, assume={"S": "spd"})
    assert d.verification.passed
    # not known to be symmetric: refused, never a guess
    with pytest.raises(derive.UnsupportedError, match="not known to be symmetric"):
        derive.gradient(r"\lambda_{\max}(A)", "A", shapes={"A": (4, 4)})
    # the eigenvector's derivative (68), dv = (λI − A)⁺ dA v, gives the Hessian of λ_max
    d = derive.hessian(
        r"\lambda_{\max}(x x^\top + S)",
        "x",
        shapes={"x": (4,), "S": (4, 4)},
        assume={"S": "spd"},
    )
    assert d.verification.passed  # against jax.hessian, through eigh
    assert "diff.eigenvector" in {s.rule.id for s in d.steps}


def test_an_entrywise_function_of_a_square_matrix_says_it_is_not_the_matrix_function():
    """tr(sin X) is Σ sin(X_ii) by our entrywise convention, not Cookbook (128): say so."""
    d = derive.gradient(r"\operatorname{tr}(\sin X)", "X", shapes={"X": (3, 3)})
    assert d.verification.passed
    assert any("not the matrix function sin" in r.text for r in d.remarks)
    d = derive.gradient(r"\mathbf{1}^\top \tanh(W x)", "W", shapes={"W": (4, 3)})
    assert not any("matrix function" in r.text for r in d.remarks)  # not square: no such thing


def test_softmax_is_recognised_only_where_the_normaliser_cancels():
    """exp(z)/(1ᵀexp(z)) → softmax(z) needs F(c·exp z) = F(exp z) for c > 0."""
    from derive.model import Context
    from derive.rules.prepare import RECOGNISE_SOFTMAX
    from derive.simplify import tidy

    e = elementwise(sp.exp, z)
    total = scalar(ones_row, e)

    def recognise(node):
        new = RECOGNISE_SOFTMAX.apply(node, Context())
        return None if new is None else tidy(new)

    assert recognise(mm(sp.Pow(total, -1), e)) == Softmax(z)
    assert recognise(mm(sp.Pow(total, -2), e, T(e))) == mm(Softmax(z), T(Softmax(z)))
    # of degree 1 or −1 in exp(z): not scale-free, left alone
    assert recognise(sp.MatAdd(e, mm(sp.Pow(total, -1), e))) is None
    assert recognise(mm(sp.Pow(total, -2), e)) is None
    # exp(2z) and log(1 + exp(z)) do not scale with exp(z)
    assert recognise(mm(sp.Pow(total, -1), elementwise(sp.exp, mm(2, z)))) is None
    log1p = elementwise(sp.Lambda(t := sp.Symbol("t"), sp.log(1 + sp.exp(t))), z)
    assert recognise(mm(sp.Pow(total, -1), log1p)) is None
