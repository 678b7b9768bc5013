"""Hessians with respect to matrices and Jacobians of matrix functions (issue #17).

The vec convention of Magnus & Neudecker: vec stacks columns, ∂²f/∂vec(X)∂vec(X)ᵀ is
mn × mn and ∂vec(F)/∂vec(X)ᵀ is pq × mn. Each case is written from an identity of the
Matrix Cookbook's chapters 2 and 10 (numbers in the ids) or named in the issue; its result
is compared with `jax.hessian` / `jax.jacobian` of the function written independently in
jax.numpy, reshaped to the vec layout, at a draw with distinct sizes (m ≠ n) and
non-symmetric matrices; so are the generated dense code and the Hessian-vector product.
A few derivations go through the whole checker (every step, the new "hessian" relation, the
vec "jacobian" relation), and each of those checks is shown able to fail.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import sympy as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st

import derive
from derive.check import check_derivation
from derive.codegen import compile_function, generate
from derive.codegen.hvp import hvp_expression
from derive.distributions import CategoricalDensity
from derive.evaluate import evaluate
from derive.expr import (
    CommutationMatrix,
    HessianOf,
    LogSumExp,
    MatScalar,
    Softmax,
    Vec,
    elementwise,
)
from derive.jax_runtime import import_jax
from derive.notation.text import text
from derive.sampling import choose_dims, draw

m, n, k, q = sp.symbols("m n k q", integer=True, positive=True)
T = sp.Transpose


def ms(name: str, rows: sp.Expr, cols: sp.Expr = 1) -> sp.MatrixSymbol:
    return sp.MatrixSymbol(name, rows, cols)


X, Xs = ms("X", m, n), ms("X", n, n)  # X: m × n; Xs: a square X
a_m, b_n, c_m, c_n = ms("a", m), ms("b", n), ms("c", m), ms("c", n)


def scalar(*factors: sp.Basic) -> MatScalar:
    return MatScalar(sp.MatMul(*factors))


def sq(*factors: sp.Basic) -> sp.Basic:
    return sp.Trace(sp.MatMul(*factors))


# (id, f, wrt, assume, f in jax.numpy of (values, X), the textbook result as printed or None)
HESSIANS = [
    ("tr(XᵀAX) (108)", sq(T(X), ms("A", m, m), X), "X", {},
     lambda v, x: jnp().trace(x.T @ v["A"] @ x), "I ⊗ (A + Aᵀ)"),
    ("‖AXB − C‖²_F (119)", sq(T(ms("A", k, m) * X * ms("B", n, q) - ms("C", k, q)),
                               ms("A", k, m) * X * ms("B", n, q) - ms("C", k, q)), "X", {},
     lambda v, x: jnp().sum((v["A"] @ x @ v["B"] - v["C"]) ** 2), "2((BBᵀ) ⊗ (AᵀA))"),
    ("log det X, X spd (43)", sp.log(sp.Determinant(Xs)), "X", {"X": "spd"},
     lambda v, x: jnp().linalg.slogdet(x)[1], "−(X⁻¹ ⊗ X⁻¹)Kₙₙ"),
    ("log det X, det X > 0 (43)", sp.log(sp.Determinant(Xs)), "X", {},
     lambda v, x: jnp().linalg.slogdet(x)[1], "−(X⁻¹ ⊗ X⁻ᵀ)Kₙₙ"),
    ("softmax regression", -sp.log(CategoricalDensity(ms("y", k), Softmax(ms("W", k, n) * b_n))),
     "W", {"y": "onehot"},
     lambda v, w: _lse(w @ v["b"]) - v["y"] @ w @ v["b"],
     "(bbᵀ) ⊗ (diag(softmax(Wb)) − softmax(Wb) softmax(Wb)ᵀ)"),
    ("tr(X²) (106)", sq(Xs, Xs), "X", {}, lambda v, x: jnp().trace(x @ x), "2Kₙₙ"),
    ("tr(X²B) (107)", sq(Xs, Xs, ms("B", n, n)), "X", {},
     lambda v, x: jnp().trace(x @ x @ v["B"]), None),
    ("tr(XBXᵀ) (111)", sq(X, ms("B", n, n), T(X)), "X", {},
     lambda v, x: jnp().trace(x @ v["B"] @ x.T), None),
    ("tr(XᵀXB) (113)", sq(T(X), X, ms("B", n, n)), "X", {},
     lambda v, x: jnp().trace(x.T @ x @ v["B"]), None),
    ("tr(BXXᵀ) (109)", sq(ms("B", m, m), X, T(X)), "X", {},
     lambda v, x: jnp().trace(v["B"] @ x @ x.T), None),
    ("tr(AXBX) (114)", sq(ms("A", n, n), Xs, ms("B", n, n), Xs), "X", {},
     lambda v, x: jnp().trace(v["A"] @ x @ v["B"] @ x), None),
    ("tr(BᵀXᵀCXB) (116)", sq(T(ms("B", n, k)), T(X), ms("C", m, m), X, ms("B", n, k)), "X", {},
     lambda v, x: jnp().trace(v["B"].T @ x.T @ v["C"] @ x @ v["B"]), None),
    ("tr(XᵀBXC) (117)", sq(T(X), ms("B", m, m), X, ms("C", n, n)), "X", {},
     lambda v, x: jnp().trace(x.T @ v["B"] @ x @ v["C"]), None),
    ("tr(AXBXᵀC) (118)", sq(ms("A", k, m), X, ms("B", n, n), T(X), ms("C", m, k)), "X", {},
     lambda v, x: jnp().trace(v["A"] @ x @ v["B"] @ x.T @ v["C"]), None),
    ("aᵀXb (70): linear", scalar(T(a_m), X, b_n), "X", {},
     lambda v, x: v["a"] @ x @ v["b"], "0"),
    ("bᵀXᵀXc (77)", scalar(T(b_n), T(X), X, c_n), "X", {},
     lambda v, x: v["b"] @ x.T @ x @ v["c"], None),
    ("bᵀXᵀDXc (82)", scalar(T(b_n), T(X), ms("D", m, m), X, c_n), "X", {},
     lambda v, x: v["b"] @ x.T @ v["D"] @ x @ v["c"], None),
    ("(Xb + c)ᵀD(Xb + c) (83)", scalar(T(X * b_n + c_m), ms("D", m, m), X * b_n + c_m), "X", {},
     lambda v, x: (x @ v["b"] + v["c"]) @ v["D"] @ (x @ v["b"] + v["c"]), None),
    ("tr(X³) (121)", sp.Trace(sp.MatPow(Xs, 3)), "X", {},
     lambda v, x: jnp().trace(x @ x @ x), None),
    ("aᵀX⁻¹b (61)", scalar(T(b_n), sp.Inverse(Xs), ms("a", n)), "X", {},
     lambda v, x: v["b"] @ jnp().linalg.solve(x, v["a"]), None),
    ("tr(AX⁻¹B) (63)", sq(ms("A", k, n), sp.Inverse(Xs), ms("B", n, k)), "X", {},
     lambda v, x: jnp().trace(v["A"] @ jnp().linalg.solve(x, v["B"])), None),
    ("det X (49)", sp.Determinant(Xs), "X", {}, lambda v, x: jnp().linalg.det(x),
     "det(X) (vec(X⁻ᵀ) vec(X⁻ᵀ)ᵀ − (X⁻¹ ⊗ X⁻ᵀ)Kₙₙ)"),
    ("‖X‖²_F (115, 132)", sq(T(X), X), "X", {}, lambda v, x: jnp().sum(x * x), "2I"),
    ("aᵀXBXᵀc (524)", scalar(T(a_m), X, ms("B", n, n), T(X), c_m), "X", {},
     lambda v, x: v["a"] @ x @ v["B"] @ x.T @ v["c"], None),
    ("(x − As)ᵀW(x − As) in A (88)", scalar(T(c_m - ms("A", m, n) * b_n), ms("W", m, m),
                                            c_m - ms("A", m, n) * b_n), "A", {"W": "symmetric"},
     lambda v, a: (v["c"] - a @ v["b"]) @ v["W"] @ (v["c"] - a @ v["b"]), "2((bbᵀ) ⊗ W)"),
    ("tr((X + A)⁻¹) (64)", sp.Trace(sp.Inverse(Xs + ms("A", n, n))), "X", {},
     lambda v, x: jnp().trace(jnp().linalg.inv(x + v["A"])), None),
    ("lse(Xb) − cᵀXb", LogSumExp(X * b_n) - scalar(T(c_m), X, b_n), "X", {},
     lambda v, x: _lse(x @ v["b"]) - v["c"] @ x @ v["b"], None),
]  # fmt: skip

# (id, F, wrt, assume, F in jax.numpy, the textbook result as printed or None)
JACOBIANS = [
    ("vec(AXB) (520)", ms("A", k, m) * X * ms("B", n, q), "X", {},
     lambda v, x: v["A"] @ x @ v["B"], "Bᵀ ⊗ A"),
    ("Xᵀ (44)", T(X), "X", {}, lambda v, x: x.T, "Kₘₙ"),
    ("X⁻¹ (40)", sp.Inverse(Xs), "X", {}, lambda v, x: jnp().linalg.inv(x), "−(X⁻ᵀ ⊗ X⁻¹)"),
    ("XᵀX (37)", T(X) * X, "X", {}, lambda v, x: x.T @ x, None),
    ("XAXᵀ (37)", X * ms("A", n, n) * T(X), "X", {}, lambda v, x: x @ v["A"] @ x.T, None),
    ("X ∘ X (38)", sp.HadamardProduct(X, X), "X", {}, lambda v, x: x * x, "2 diag(vec(X))"),
    ("Xb: a vector of a matrix", X * b_n, "X", {}, lambda v, x: x @ v["b"], "bᵀ ⊗ I"),
    ("xxᵀ: a matrix of a vector", b_n * T(b_n), "b", {}, lambda v, b: jnp().outer(b, b),
     "b ⊗ I + I ⊗ b"),
    ("exp∘(X)", elementwise(sp.exp, X), "X", {}, lambda v, x: jnp().exp(x),
     "diag(vec(exp(X)))"),
    ("X² (90)", sp.MatPow(Xs, 2), "X", {}, lambda v, x: x @ x, None),
    ("AX⁻¹B (59)", ms("A", k, n) * sp.Inverse(Xs) * ms("B", n, q), "X", {},
     lambda v, x: v["A"] @ jnp().linalg.solve(x, v["B"]), None),
]  # fmt: skip


def jnp():
    return import_jax().numpy


def _lse(z):
    return import_jax().scipy.special.logsumexp(z)


def _values(d: derive.Derivation, seed: int = 0) -> tuple[dict, dict]:
    """A draw of the derivation's symbols, distinct sizes per dimension, vectors 1-D."""
    dims = choose_dims(d.given, 0)
    values = draw(d.given, np.random.default_rng(seed), dims)
    return values, dims


def _vec_layout(ref: np.ndarray, x: np.ndarray) -> np.ndarray:
    """jax.hessian / jax.jacobian (output axes, then the axes of x) as a matrix in the vec
    layout: vec stacks columns, so both index groups are read in column-major order."""
    return np.asarray(ref).reshape(-1, x.size, order="F")


def _reference(fn, values: dict, wrt: str, kind: str) -> np.ndarray:
    jax = import_jax()
    fixed = {name: jnp().asarray(v) for name, v in values.items()}
    derivative = jax.hessian if kind == "hessian" else jax.jacobian
    ref = jax.jit(derivative(lambda x: fn({**fixed, wrt: x}, x)))(fixed[wrt])
    return _vec_layout(ref, values[wrt])


def _agree(got: np.ndarray, ref: np.ndarray) -> None:
    got = np.asarray(got, dtype=float)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-9 * (1 + np.abs(ref).max()))


@pytest.mark.parametrize(("case", "f", "wrt", "assume", "fn", "form"), HESSIANS,
                         ids=[c[0] for c in HESSIANS])  # fmt: skip
def test_hessian_in_the_vec_layout_agrees_with_jax(case, f, wrt, assume, fn, form):
    d = derive.hessian(f, wrt, assume=assume, check=False)
    lhs, h = d.results[0]
    assert isinstance(lhs, HessianOf)
    if form is not None:
        assert text(h) == form
    values, dims = _values(d)
    ref = _reference(fn, values, wrt, "hessian")
    x = values[wrt]
    assert ref.shape == (x.size, x.size)
    _agree(evaluate(h, values, dims), ref)  # the derived expression, node by node
    _agree(compile_function(h, d.given)(**values), ref)  # the generated dense code
    v = np.random.default_rng(1).standard_normal(x.shape)
    hv = d.function(form="hvp")(V=v, **values)
    _agree(hv, (ref @ v.reshape(-1, order="F")).reshape(x.shape, order="F"))


@pytest.mark.parametrize(("case", "f", "wrt", "assume", "fn", "form"), JACOBIANS,
                         ids=[c[0] for c in JACOBIANS])  # fmt: skip
def test_jacobian_in_the_vec_layout_agrees_with_jax(case, f, wrt, assume, fn, form):
    d = derive.jacobian(f, wrt, assume=assume, check=False)
    j = d.result
    if form is not None:
        assert text(j) == form
    values, dims = _values(d)
    ref = _reference(fn, values, wrt, "jacobian")
    assert ref.shape == (np.size(evaluate(f, values, dims)), values[wrt].size)
    _agree(evaluate(j, values, dims), ref)
    _agree(compile_function(j, d.given)(**values), ref)


def test_the_issue_cases_read_as_in_the_textbook():
    """The Hessian of tr(XᵀAX) is I ⊗ (A + Aᵀ), by the second identification theorem, with
    each step cited: the second differential, (13) and (521), (520), then the read-off."""
    d = derive.hessian(sq(T(X), ms("A", m, m), X), "X", check=False)
    ids = [s.rule.id for s in d.steps]
    assert ids[-3:] == ["vec.trace", "vec.differential", "identify.hessian-vec"]
    identify = d.steps[-1]
    assert identify.relation == "hessian" and "vec stacks columns" in identify.note
    assert "mn × mn" in identify.note
    second = [s for s in d.steps if text(s.lhs) == "d²f"]
    assert text(second[0].before).startswith("d(tr(") and "vec(dX)ᵀ" in text(second[-1].after)
    assert text(d.result) == "I ⊗ (A + Aᵀ)"
    assert text(d.results[0][0]) == "∂²f/∂vec(X)∂vec(X)ᵀ"


# --- the whole checker: steps, the "hessian" relation and the vec "jacobian" relation --------


@pytest.fixture(scope="module")
def trace_hessian() -> derive.Derivation:
    return derive.hessian(sq(T(X), ms("A", m, m), X), "X", check=False)


def test_every_step_of_a_matrix_hessian_verifies(trace_hessian):
    report = trace_hessian.check(trials=2)
    assert report.passed, report.failure
    methods = {i.method for i in report.items}
    assert any(m.startswith("vec(dX)ᵀ H vec(dX)") for m in methods)
    assert "jax.hessian" in methods


def test_a_hessian_with_the_right_quadratic_form_but_not_symmetric_fails(trace_hessian):
    """vec(dX)ᵀ (I ⊗ 2A) vec(dX) is d²f too, but I ⊗ 2A is not the Hessian: the "hessian"
    relation checks symmetry, and the claim against jax.hessian fails it as well."""
    (k_,) = [i for i, s in enumerate(trace_hessian.steps) if s.rule.id == "identify.hessian-vec"]
    wrong = sp.KroneckerProduct(sp.Identity(n), sp.MatMul(2, ms("A", m, m)))
    steps = list(trace_hessian.steps)
    steps[k_] = replace(steps[k_], after=wrong)
    bad = replace(trace_hessian, steps=tuple(steps[: k_ + 1]), claims=())
    report = check_derivation(bad, trials=1)
    assert not report.passed and f"step {k_ + 1} " in report.failure


def test_a_matrix_jacobian_verifies_and_a_swapped_one_fails():
    d = derive.jacobian(ms("A", k, m) * X * ms("B", n, q), "X", check=False)
    assert d.check(trials=2).passed
    swapped = sp.KroneckerProduct(ms("A", k, m), T(ms("B", n, q)))
    steps = list(d.steps)
    steps[-1] = replace(steps[-1], after=swapped)
    claims = (replace(d.claims[0], expr=swapped),)
    report = check_derivation(replace(d, steps=tuple(steps), claims=claims), trials=1)
    passed = {i.label: i.passed for i in report.items}
    assert passed[f"step {len(steps)}: {steps[-1].rule.name}"] is False
    assert passed[claims[0].label] is False
    assert sum(not ok for ok in passed.values()) == 2


def test_what_is_refused_is_refused_by_name():
    with pytest.raises(derive.UnsupportedError, match="KroneckerProduct"):
        derive.jacobian(sp.KroneckerProduct(X, ms("A", k, q)), "X", check=False)
    with pytest.raises(derive.DeriveError, match="gradient"):
        derive.jacobian(sq(T(X), X), "X", check=False)  # a number's derivative is its gradient


# --- the Hessian-vector product: applying the structure, never forming H -------------------

_SIZES = {"m": 3, "n": 4, "p": 2, "q": 5}
_SHAPES = {"X": ("m", "n")}


@st.composite
def structured(draw_: st.DrawFn) -> tuple[sp.Basic, list[tuple[str, tuple[str, str]]]]:
    """A random Hessian-shaped (mn × mn) expression built from the forms results take:
    B ⊗ A, (B ⊗ A)K, diag(vec G), vec(P) vec(Q)ᵀ, scalar multiples and sums."""
    symbols: list[tuple[str, tuple[str, str]]] = []

    def sym(shape: tuple[str, str]) -> sp.MatrixSymbol:
        name = f"S{len(symbols)}"
        symbols.append((name, shape))
        return ms(name, sp.Symbol(shape[0], integer=True, positive=True),
                  sp.Symbol(shape[1], integer=True, positive=True))  # fmt: skip

    def term(kind: int) -> sp.Basic:
        if kind == 0:
            return sp.KroneckerProduct(sym(("n", "n")), sym(("m", "m")))
        if kind == 1:  # (B ⊗ A) K_mn: K takes vec(V) to vec(Vᵀ), n × m
            return sp.MatMul(sp.KroneckerProduct(sym(("n", "m")), sym(("m", "n"))),
                             CommutationMatrix(m, n))  # fmt: skip
        if kind == 2:
            return sp.DiagMatrix(Vec(sym(("m", "n"))))
        if kind == 3:
            return sp.MatMul(Vec(sym(("m", "n"))), T(Vec(sym(("m", "n")))))
        return sp.MatMul(CommutationMatrix(n, m),
                         sp.KroneckerProduct(sym(("m", "n")), sym(("n", "m"))))  # fmt: skip

    kinds = draw_(st.lists(st.integers(0, 4), min_size=1, max_size=4))
    coefs = draw_(st.lists(st.sampled_from([1, -1, 2, sp.Rational(1, 2)]),
                           min_size=len(kinds), max_size=len(kinds)))  # fmt: skip
    pairs = zip(coefs, kinds, strict=True)
    terms = [sp.MatMul(c, term(kd)) if c != 1 else term(kd) for c, kd in pairs]
    h = terms[0] if len(terms) == 1 else sp.MatAdd(*terms)
    if draw_(st.booleans()):
        h = T(h)
    return h, symbols


@settings(max_examples=40, deadline=None)
@given(structured(), st.integers(0, 2**16))
@example((T(sp.DiagMatrix(Vec(ms("S0", m, n)))), [("S0", ("m", "n"))]), 0)
def test_hvp_applies_the_structure_as_the_dense_product_does(case, seed):
    h, symbols = case
    rng = np.random.default_rng(seed)
    dims = {"m": 3, "n": 4}
    values = {name: rng.standard_normal(tuple(dims[s] for s in shape)) for name, shape in symbols}
    values["V"] = rng.standard_normal((3, 4))
    x = ms("X", m, n)
    expr = hvp_expression(h, x, ms("V", m, n))
    assert not any(isinstance(e, (sp.KroneckerProduct, CommutationMatrix))
                   for e in sp.preorder_traversal(expr))  # fmt: skip
    dense = evaluate(h, values, dims)
    want = (dense @ values["V"].reshape(-1, order="F")).reshape((3, 4), order="F")
    np.testing.assert_allclose(evaluate(expr, values, dims), want, rtol=1e-10, atol=1e-10)


def test_the_hvp_of_a_vector_hessian_never_forms_the_outer_product():
    """For lse(z), H = diag(p) − ppᵀ: the product is p ∘ v − p (pᵀv)."""
    z = ms("z", n)
    d = derive.hessian(LogSumExp(z), "z", check=False)
    expr = hvp_expression(d.result, z, ms("V", n))
    assert "p ∘ V" in text(expr).replace("softmax(z)", "p")
    zv, v = np.array([0.1, -2.0, 0.5, 1.0]), np.array([1.0, 2.0, -1.0, 0.5])
    p = np.exp(zv) / np.exp(zv).sum()
    np.testing.assert_allclose(d.function(form="hvp")(z=zv, V=v), p * v - p * (p @ v))


def test_hvp_is_refused_for_a_derivation_without_a_hessian():
    d = derive.gradient(sq(T(X), X), "X", check=False)
    with pytest.raises(derive.InputError, match="hvp"):
        d.function(form="hvp")


# --- the worked entry: softmax regression and Newton's method -------------------------------


def test_softmax_regression_worked_entry_verifies_and_newton_wins():
    d = derive.worked("softmax-regression", check=False)
    assert text(d.result) == "(xxᵀ) ⊗ (diag(softmax(Wx)) − softmax(Wx) softmax(Wx)ᵀ)"
    report = d.check(trials=1)
    assert report.passed, report.failure
    assert any(i.method.startswith("numpy iteration") and i.passed for i in report.items)
    demo = d.remarks[-1].text
    assert "Newton" in demo and "gradient descent" in demo


def test_the_command_line_takes_a_matrix_wrt():
    """`derive hessian` through the real entry point, --wrt a matrix."""
    import json
    import pathlib
    import subprocess
    import sys

    exe = str(pathlib.Path(sys.executable).parent / "derive")
    args = (r"\operatorname{tr}(X^\top A X)", "--wrt", "X", "--shape", "X=m,n", "--shape", "A=m,m")
    out = subprocess.run(
        [exe, "hessian", *args, "--no-check", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    lhs, rhs = (json.loads(out.stdout)["results"][0][side]["text"] for side in ("lhs", "rhs"))
    assert (lhs, rhs) == ("∂²f/∂vec(X)∂vec(X)ᵀ", "I ⊗ (A + Aᵀ)")


def test_a_jacobian_of_a_matrix_function_written_in_latex():
    shapes = {"X": ("m", "n"), "A": ("k", "m"), "B": ("n", "q")}
    d = derive.jacobian("A X B", "X", shapes=shapes, check=False)
    assert text(d.result) == "Bᵀ ⊗ A" and text(d.results[0][0]) == "∂vec(F)/∂vec(X)ᵀ"


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_generated_dense_hessians_write_each_entry_once(backend):
    """(A ⊗ B)K is one broadcast product with its column axes swapped (no permutation of a
    formed Kronecker product), and diag(p) − ppᵀ one outer product with p added on its
    diagonal; both agree with JAX in either backend."""
    logdet = derive.hessian(sp.log(sp.Determinant(Xs)), "X", assume={"X": "spd"}, check=False)
    lse = derive.hessian(LogSumExp(b_n), "b", check=False)
    for d, fn in ((logdet, lambda v, x: jnp().linalg.slogdet(x)[1]), (lse, lambda v, x: _lse(x))):
        body = generate(d.result, d.given, backend=backend).split('"""')[-1]  # after the helpers
        assert "arange" not in body and "kron" not in body and "diag(" not in body, body
        values, dims = _values(d)
        wrt = str(d.results[0][0].args[1])
        got = compile_function(d.result, d.given, backend=backend)(**values)
        _agree(
            np.asarray(got).reshape(-1, values[wrt].size), _reference(fn, values, wrt, "hessian")
        )
    assert "_diag_minus_outer" in generate(lse.result, lse.given, backend=backend)
