"""Generated code (derive/codegen/): right against JAX autodiff, and shaped as promised.

Each case derives a result, emits NumPy and JAX source, and runs it in a subprocess that
cannot import `derive` (nor SymPy): the source must stand alone. Its values must match
jax.grad / jax.hessian / jax.jacobian of the original function, evaluated by derive's
evaluator, on random inputs with distinct dimension sizes and non-symmetric matrices.
"""

from __future__ import annotations

import ast
import json
import pathlib
import subprocess
import sys
from dataclasses import dataclass, field

import numpy as np
import pytest
import sympy as sp

import derive
from derive.codegen import generate, identifier, op_count, tree_size
from derive.evaluate import evaluate
from derive.jax_runtime import import_jax
from derive.sampling import choose_dims, draw

ROOT = pathlib.Path(__file__).resolve().parents[1]
DERIVE = str(pathlib.Path(sys.executable).parent / "derive")
LOGISTIC = r"\sum_i \log(1 + e^{-y_i w^\top x_i})"


@dataclass(frozen=True)
class Case:
    id: str
    kind: str  # gradient, hessian, jacobian, newton (H⁻¹g of the logistic loss)
    latex: str
    wrt: str
    shapes: dict = field(default_factory=dict)
    assume: dict = field(default_factory=dict)


CASES = [
    Case("logistic-grad", "gradient", LOGISTIC, "w", {"x": ("N", "d")}),
    Case("logistic-hessian", "hessian", LOGISTIC, "w", {"x": ("N", "d")}),
    Case("logistic-newton", "newton", LOGISTIC, "w", {"x": ("N", "d")}),
    Case("least-squares", "gradient", r"\frac12\|Ax-b\|_2^2", "x", {"A": ("m", "n")}),
    Case("logdet", "gradient", r"\log\det X", "X", {}, {"X": "spd"}),
    Case("inverse-quadratic", "gradient", r"x^\top A^{-1} x", "x", {}, {"A": "invertible"}),
    Case("bilinear-inverse", "gradient", r"a^\top X^{-1} b", "X", {}, {"X": "invertible"}),
    Case(
        "softmax-ce", "gradient", r"-y^\top \log \operatorname{softmax}(Wx)", "W", {}, {"y": "prob"}
    ),
    Case("mlp", "gradient", r"\mathbf{1}^\top \tanh(W_2 \tanh(W_1 x))", "W_1"),
    Case("trace-axb", "gradient", r"\operatorname{tr}(A X B)", "X"),
    Case("trace-quadratic", "gradient", r"\operatorname{tr}(X^\top A X)", "X"),
    Case("hadamard", "gradient", r"\mathbf{1}^\top (x \odot A x)", "x"),
    Case("lse", "gradient", r"\log(\mathbf{1}^\top e^{A z})", "z", {"A": ("m", "n")}),
    Case("quadratic-hessian", "hessian", r"x^\top A x", "x"),
    Case("tanh-jacobian", "jacobian", r"\tanh(Wx)", "x", {"W": ("m", "n")}),
    Case("matrix-sine", "gradient", r"\operatorname{tr}(A \operatorname{sinm}(X))", "X"),
    Case("expm-bilinear", "gradient", r"u^\top \operatorname{expm}(X) v", "X"),
    Case(
        "coshm-gram",
        "gradient",
        r"\operatorname{tr}(\operatorname{coshm}(X^\top X))",
        "X",
        {"X": ("m", "n")},
    ),
    Case(
        "pseudo-inverse",
        "gradient",
        r"\operatorname{tr}(A^\top X^{+\top}) + \log\det(X^\top X)",
        "X",
        {"X": (5, 3), "A": (5, 3)},
        {"X": "full-column-rank"},
    ),
]


def _derive(case: Case) -> tuple[derive.Derivation, sp.Basic | None]:
    """The derivation (unchecked: the checker is tested elsewhere), and for "newton" H⁻¹g."""
    api = {"gradient": derive.gradient, "newton": derive.hessian}.get(case.kind)
    api = api or getattr(derive, case.kind)
    d = api(case.latex, case.wrt, shapes=case.shapes, assume=case.assume, check=False)
    if case.kind == "newton":
        hess, grad = d.results[0][1], d.results[1][1]
        return d, sp.MatMul(sp.Inverse(hess), grad)
    return d, None


def _reference(case: Case, d: derive.Derivation, values: dict, dims: dict) -> np.ndarray:
    """JAX autodiff of the original function at `values`."""
    jax = import_jax()
    jnp = jax.numpy

    def f(v):
        out = evaluate(d.objective, {**values, case.wrt: v}, dims, backend="jax")
        return jnp.reshape(out, (-1,)) if case.kind == "jacobian" else out

    x = jnp.asarray(values[case.wrt])
    if case.kind == "gradient":
        return np.asarray(jax.grad(f)(x))
    if case.kind == "hessian":
        return np.asarray(jax.hessian(f)(x))
    if case.kind == "jacobian":
        return np.asarray(jax.jacobian(f)(x))
    return np.asarray(jnp.linalg.solve(jax.hessian(f)(x), jax.grad(f)(x)))


def _source(case: Case, backend: str) -> str:
    d, expr = _derive(case)
    if expr is None:
        return d.source(backend, result=0)  # the main result (a Hessian's gradient is second)
    return generate(expr, d.given, backend=backend, name="newton_step")


# The harness: runs in a fresh interpreter in which `derive` cannot be imported.
HARNESS = r"""
import importlib.util, json, pathlib, sys
repo, folder, backend = sys.argv[1:4]
sys.path[:] = [p for p in sys.path if p and not pathlib.Path(p, "derive").is_dir()]
assert repo not in sys.path
sys.modules["derive"] = None  # an import of derive now fails
import numpy as np
if backend == "jax":
    import jax
    jax.config.update("jax_enable_x64", True)
folder = pathlib.Path(folder)
for spec_file in sorted(folder.glob("*.json")):
    spec = json.loads(spec_file.read_text())
    mod_spec = importlib.util.spec_from_file_location(spec_file.stem, folder / spec["file"])
    module = importlib.util.module_from_spec(mod_spec)
    mod_spec.loader.exec_module(module)
    inputs = np.load(folder / spec["inputs"])
    out = getattr(module, spec["name"])(**{k: inputs[k] for k in inputs.files})
    np.save(folder / (spec_file.stem + "_out.npy"), np.asarray(out))
assert sys.modules["derive"] is None and "sympy" not in sys.modules
print("ok")
"""


def _run_standalone(tmp_path: pathlib.Path, backend: str) -> dict[str, tuple]:
    """Emit every case, run them all in one clean subprocess; {case id: (got, want, source)}."""
    expected = {}
    for i, case in enumerate(CASES):
        d, expr = _derive(case)
        source = _source(case, backend)
        name = next(
            n.name
            for n in ast.parse(source).body
            if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")
        )
        tree_fn = next(n for n in ast.parse(source).body if getattr(n, "name", "") == name)
        params = [a.arg for a in tree_fn.args.args]
        dims = choose_dims(d.given, trial=i)
        values = draw(d.given, np.random.default_rng(1000 + i), dims)
        stem = f"case{i:02d}"
        (tmp_path / f"{stem}.py").write_text(source, encoding="utf-8")
        by_ident = {identifier(k): v for k, v in values.items()}
        np.savez(tmp_path / f"{stem}_in.npz", **{p: by_ident[p] for p in params})
        (tmp_path / f"{stem}.json").write_text(
            json.dumps({"file": f"{stem}.py", "inputs": f"{stem}_in.npz", "name": name})
        )
        expected[stem] = (case.id, _reference(case, d, values, dims), source, i)
    out = subprocess.run(
        [sys.executable, "-I", "-c", HARNESS, str(ROOT), str(tmp_path), backend],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert out.returncode == 0 and "ok" in out.stdout, out.stderr[-3000:]
    return {
        cid: (np.load(tmp_path / f"{stem}_out.npy"), want, source, seed)
        for stem, (cid, want, source, seed) in expected.items()
    }


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_generated_code_matches_jax_autodiff_standalone(tmp_path, backend):
    results = _run_standalone(tmp_path, backend)
    assert len(results) >= 12
    for cid, (got, want, source, seed) in results.items():
        assert got.shape == want.shape, f"{cid}: shape {got.shape} != {want.shape}\n{source}"
        scale = max(1.0, float(np.max(np.abs(want))))
        err = float(np.max(np.abs(got - want))) / scale
        assert err < 1e-9, f"{cid} ({backend}, seed {1000 + seed}): rel. error {err:.2e}\n{source}"


def _case(cid: str) -> Case:
    return next(c for c in CASES if c.id == cid)


@pytest.mark.parametrize("backend", ["numpy", "jax"])
@pytest.mark.parametrize("cid", ["logistic-newton", "inverse-quadratic", "bilinear-inverse"])
def test_inverse_times_something_is_a_solve(cid, backend):
    src = _source(_case(cid), backend)
    assert "solve(" in src and "inv(" not in src, src


def test_an_inverse_standing_alone_is_formed():
    src = _source(_case("logdet"), "numpy")  # ∂ log det X / ∂X = X⁻¹ for an SPD X
    assert "return np.linalg.inv(X)" in src and "solve(" not in src, src


@pytest.mark.parametrize("backend", ["numpy", "jax"])
def test_logistic_hessian_scales_rows_instead_of_forming_diag(backend):
    src = _source(_case("logistic-hessian"), backend)
    assert "[:, None] *" in src, src
    assert "diag(" not in src.split('"""')[-1], src  # no n×n diagonal matrix in the code


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_negated_product_is_negated_after_the_product(case):
    """-(A @ v), never -A @ v: Python would negate the whole matrix A first."""
    tree = ast.parse(_source(case, "numpy"))
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            assert not isinstance(node.left, ast.UnaryOp), ast.unparse(node)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_no_loops_and_products_as_matmul(case):
    src = _source(case, "numpy")
    loops = (ast.For, ast.While, ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)
    assert not [n for n in ast.walk(ast.parse(src)) if isinstance(n, loops)], src
    assert "for " not in src, src


def test_common_subexpressions_are_computed_once():
    # The logistic Hessian's result holds σ(y ∘ (xw)) twice; the MLP gradient tanh(W₁x) twice.
    hess = _source(_case("logistic-hessian"), "numpy")
    d, _ = _derive(_case("logistic-hessian"))
    assert str(d.result).count("x*w") >= 2  # repeated in the SymPy result ...
    assert hess.count("x @ w") == 1, hess  # ... computed once in the code
    mlp = _source(_case("mlp"), "numpy")
    assert mlp.count("np.tanh(W_1 @ x)") == 1, mlp


def test_function_is_built_from_the_generated_source():
    d, _ = _derive(_case("logistic-hessian"))
    f = d.function("hessian_w")
    assert f.source == d.source(result="hessian_w")
    rng = np.random.default_rng(7)
    x, w, y = rng.normal(size=(6, 3)), rng.normal(size=3), rng.normal(size=6)
    p = 1 / (1 + np.exp(-y * (x @ w)))
    want = x.T @ np.diag(y * y * p * (1 - p)) @ x
    np.testing.assert_allclose(f(x=x, w=w, y=y), want, rtol=1e-12)
    with pytest.raises(derive.InputError, match="missing argument 'y'"):
        f(x=x, w=w)
    with pytest.raises(derive.InputError, match="has d = 4"):
        f(x=x, w=np.ones(4), y=y)
    with pytest.raises(derive.InputError, match="unexpected argument"):
        f(x=x, w=w, y=y, z=y)


def test_function_falls_back_to_the_evaluator_for_what_codegen_refuses():
    n = sp.Symbol("n", integer=True, positive=True)
    i = sp.Idx("i")
    xs = sp.IndexedBase("x")
    expr = sp.Sum(xs[i], (i, 2, n))  # not over all entries: codegen refuses
    given = (derive.Given("x", ("n",)),)
    with pytest.raises(derive.UnsupportedError, match="only over all entries"):
        generate(expr, given)
    d = derive.Derivation("sum", "", given, None, (), (), ((sp.Symbol("s"), expr),))
    assert float(d.function()(x=np.array([1.0, 2.0, 4.0]))) == 6.0


def test_mle_sum_over_the_sample_is_vectorized():
    d = derive.mle("gaussian", check=False)
    src = d.source(result="mu_hat")
    assert "np.sum(x) / n" in src and "n = x.shape[0]" in src, src
    assert float(d.function("mu_hat")(x=np.array([1.0, 2.0, 6.0]))) == 3.0


def test_identifiers_are_sanitized_or_refused():
    assert identifier("W_1") == "W_1"
    assert identifier("sigma^2") == "sigma_2"
    assert identifier("lambda") == "lambda_"
    assert identifier("np") == "np_"
    for bad in ("x y", "1x", "__import__('os')", "σ"):
        with pytest.raises(derive.InputError, match="Python identifier"):
            identifier(bad)


def test_unsupported_node_raises():
    x = sp.MatrixSymbol("x", sp.Symbol("n"), 1)
    with pytest.raises(derive.UnsupportedError, match="code generation of"):
        generate(sp.MatrixSymbol("x", 3, 1).applyfunc(sp.erf), (derive.Given("x", (3,)),))
    with pytest.raises(derive.InputError, match="unknown backend"):
        generate(x, (derive.Given("x", ("n",)),), backend="torch")


def test_op_count_counts_shared_subtrees_once():
    n = sp.Symbol("n", integer=True, positive=True)
    a = sp.MatrixSymbol("A", n, n)
    e = a
    for _ in range(10):
        e = sp.MatAdd(sp.MatMul(e, e), a)  # a tree of 2¹⁰ products, a DAG of 20 nodes
    assert op_count(e) == 20
    assert tree_size(e) == 2 * (2**10 - 1)


def test_cli_emit_prints_runnable_source(tmp_path):
    out = subprocess.run(
        [
            DERIVE,
            "grad",
            r"\frac12\|Ax-b\|_2^2",
            "--wrt",
            "x",
            "--shape",
            "A=m,n",
            "--emit",
            "numpy",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "def grad_x(A, b, x):" in out.stdout and "Steps:" not in out.stdout
    assert "∂f/∂x = Aᵀ(Ax − b)" in out.stdout and "verified against JAX" in out.stdout
    path = tmp_path / "grad.py"
    path.write_text(out.stdout, encoding="utf-8")
    code = (
        "import importlib.util, sys\n"
        "sys.modules['derive'] = None\n"
        f"spec = importlib.util.spec_from_file_location('grad', {str(path)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "import numpy as np\n"
        "A = np.arange(6.0).reshape(3, 2); x = np.array([1.0, -1.0]); b = np.ones(3)\n"
        "print(m.grad_x(A, b, x).tolist())\n"
    )
    run = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    A, x, b = np.arange(6.0).reshape(3, 2), np.array([1.0, -1.0]), np.ones(3)
    assert json.loads(run.stdout) == (A.T @ (A @ x - b)).tolist()


def test_cli_emit_jax_and_bad_backend():
    ok = subprocess.run(
        [
            DERIVE,
            "hessian",
            LOGISTIC,
            "--wrt",
            "w",
            "--shape",
            "x=N,d",
            "--emit",
            "jax",
            "--no-check",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert "import jax.numpy as jnp" in ok.stdout and "[:, None] *" in ok.stdout
    assert "not checked numerically" in ok.stdout
    bad = subprocess.run(
        [DERIVE, "grad", "x^\\top x", "--wrt", "x", "--emit", "torch"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert bad.returncode == 2 and len(bad.stderr.splitlines()) == 1
    assert "Traceback" not in bad.stderr


# --- every result as code (issue #18, item 5) -------------------------------------------------


def _catalogue() -> list[tuple[str, derive.Derivation]]:
    from tests.shelf import shelf

    maps = [
        (f"map-{prior}", derive.map_estimate("linear-regression", prior=prior, check=False))
        for prior in ("gaussian", "laplace")
    ]
    return [*shelf(), *maps]


def test_every_catalogue_result_as_code_matches_the_derivations_own_evaluation():
    """d.function() over the whole catalogue, the MLE families and MAP: on random inputs drawn
    as the checker draws them (definitions computed, SVD factors included), each output equals
    the derivation's own evaluation of that result's right side."""
    from derive.check.measure import value_of
    from derive.check.trial import Trial
    from derive.codegen import outputs
    from derive.codegen.results import asked

    checked, expected = 0, 0
    for label, d in _catalogue():
        outs = asked(outputs(d))
        expected += 2 * len(outs)
        f = d.function()
        for trial in range(2):
            tr = Trial.draw(d.given, 11, trial, d.definitions)
            # keywords as the generated docstring names them: lambda_, sigma_2, …
            got = f(**{identifier(g.name): tr.values[g.name] for g in d.given})
            if len(outs) > 1:
                assert type(got).__name__.endswith("Results") and got._fields == tuple(
                    o.name for o in outs
                ), label
            else:
                got = (got,)
            for out, value in zip(outs, got, strict=True):
                want = value_of(out.rhs, tr.values, tr.dims)
                value = np.asarray(value, dtype=float)
                assert value.size == want.size, f"{label} {out.name}: {value.shape}"
                scale = max(1.0, float(np.max(np.abs(want))))
                err = float(np.max(np.abs(value.ravel() - want.ravel()))) / scale
                assert err < 1e-9, f"{label} {out.name} trial {trial}: rel. error {err:.1e}"
                checked += 1
        for backend in ("numpy", "jax"):  # the source exists and parses for both
            ast.parse(d.source(backend))
    assert checked == expected >= 70


def test_svd_from_eig_function_no_longer_crashes():
    """Its definition UΣVᵀ = A is computed by an SVD, not code: U, Σ, V are arguments."""
    d = derive.worked("svd-from-eig", check=False)
    a = np.random.default_rng(4).standard_normal((7, 3))
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    gram = d.function()(Sigma=np.diag(s), V=vt.T)
    np.testing.assert_allclose(gram, a.T @ a, rtol=1e-12, atol=1e-12)
    assert "a numeric method: its factors are arguments here" in d.source()


def test_several_results_are_a_named_tuple_and_one_can_be_picked():
    d = derive.worked("mlp-backprop", check=False)
    rng = np.random.default_rng(5)
    m, n, k = 4, 3, 5
    args = {
        "W_1": rng.standard_normal((m, n)),
        "W_2": rng.standard_normal((k, m)),
        "b_1": rng.standard_normal(m),
        "b_2": rng.standard_normal(k),
        "x": rng.standard_normal(n),
        "y": np.eye(k)[1],
    }
    out = d.function()(**args)
    assert type(out).__name__ == "MlpBackpropResults"
    assert out._fields == ("grad_W_2", "grad_b_2", "grad_W_1", "grad_b_1")
    h = np.tanh(args["W_1"] @ args["x"] + args["b_1"])
    z = args["W_2"] @ h + args["b_2"]
    delta2 = np.exp(z) / np.exp(z).sum() - args["y"]
    delta1 = (args["W_2"].T @ delta2) * (1 - h * h)
    np.testing.assert_allclose(out.grad_W_2, np.outer(delta2, h), rtol=1e-12)
    np.testing.assert_allclose(out.grad_b_1, delta1, rtol=1e-12)
    for pick in ("W_2", "grad_W_2", 0):  # the variable, the field, the position
        np.testing.assert_allclose(d.function(pick)(**args), out.grad_W_2, rtol=1e-12)
    # JAX computes in the precision its configuration says (float32 unless x64 is enabled)
    np.testing.assert_allclose(d.function("b_1", backend="jax")(**args), delta1, rtol=1e-5)
    src = d.source()
    assert "def mlp_backprop(W_1, W_2, b_1, b_2, x, y):" in src
    assert src.count("np.tanh(") == 1  # h is computed once for all four gradients
    assert "def grad_W_1(" in d.source(result="W_1")
    with pytest.raises(derive.InputError, match="no result named 'W_3'.*grad_W_2, grad_b_2"):
        d.function("W_3")
    with pytest.raises(derive.InputError, match="backend='jax'"):
        d.function("jax")
    logistic = derive.worked("logistic-regression", check=False)
    with pytest.raises(derive.InputError, match="fits several results .grad_w, hessian_w"):
        logistic.function("w")
    assert [o.name for o in derive.codegen.outputs(logistic)] == ["grad_w", "hessian_w", "w_new"]


@pytest.mark.parametrize(
    ("latex", "wrt", "shapes", "hessian"),
    [
        (r"\frac{1}{2} x^\top A x + b^\top x", "x", {"A": ("n", "n")},
         lambda v: (v["A"] + v["A"].T) / 2),
        (r"\log \mathbf 1^\top \exp(z)", "z", {}, None),
        (r"\operatorname{tr}(X^\top A X)", "X", {"A": ("m", "m"), "X": ("m", "n")}, None),
    ],
)  # fmt: skip
def test_a_hessian_derivation_computes_the_hessian_its_gradient_by_name(
    latex, wrt, shapes, hessian
):
    """derive.hessian was asked for H: .function() returns H (the gradient it went through is
    d.function("grad_x")), where a catalogue entry asked for both returns both."""
    d = derive.hessian(latex, wrt=wrt, shapes=shapes)
    assert d.verified
    rng = np.random.default_rng(3)
    dims: dict[str, int] = {"n": 3, "m": 4}
    args = {}
    for g in d.given:
        shape = tuple(dims.setdefault(s, 5) if isinstance(s, str) else s for s in g.shape)
        args[g.name] = rng.standard_normal(shape)
    h = d.function()(**args)
    assert isinstance(h, np.ndarray), type(h)
    size = args[wrt].size
    assert h.shape == (size, size)
    grad = d.function(f"grad_{wrt}")(**args)
    assert np.shape(grad) == np.shape(args[wrt])
    if hessian is not None:
        np.testing.assert_allclose(h, hessian(args), rtol=1e-12)
    both = derive.worked("logistic-regression", check=False).function()
    assert both.__doc__.startswith("∂NLL/∂w =")  # the entry's three results, gradient first


def test_keywords_follow_the_docstring():
    """One rule: a symbol's name as a Python identifier, \\lambda → lambda_ (the name itself is
    accepted too where Python allows it); both at once, or a stranger, are refused."""
    d = derive.worked("pca", check=False)
    src = d.source()
    assert "def pca(S, lambda_, u):" in src and "        lambda_: scalar" in src
    s, u = np.diag([3.0, 2.0, 1.0]), np.array([1.0, 0.0, 0.0])
    by_doc = d.function("grad_u")(S=s, lambda_=3.0, u=u)
    by_name = d.function("grad_u")(**{"S": s, "lambda": 3.0, "u": u})
    np.testing.assert_allclose(by_doc, [0.0, 0.0, 0.0], atol=1e-12)  # an eigenpair
    np.testing.assert_allclose(by_name, by_doc)
    with pytest.raises(derive.InputError, match="given twice"):
        d.function()(**{"S": s, "lambda": 3.0, "lambda_": 3.0, "u": u})
    with pytest.raises(derive.InputError, match="missing argument 'lambda_'"):
        d.function()(S=s, u=u)
    with pytest.raises(derive.InputError, match="arguments are S, lambda_, u"):
        d.function()(S=s, lam=3.0, u=u)
    ols = derive.worked("ols", check=False)
    assert "def ols(X, y):" in ols.source()  # σ² is read by no result: not an argument
    assert set(derive.codegen.outputs(ols)[1].aliases) == {"sigma_2_hat", "sigma^2_hat"}


def test_multiple_results_stand_alone(tmp_path):
    """The named tuple is defined in the module: it runs with NumPy alone, derive blocked."""
    d = derive.worked("gaussian-mle", check=False)
    path = tmp_path / "mle.py"
    path.write_text(d.source(), encoding="utf-8")
    code = (
        "import importlib.util, sys\n"
        "sys.modules['derive'] = None\n"
        f"spec = importlib.util.spec_from_file_location('mle', {str(path)!r})\n"
        "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
        "r = m.gaussian_mle([1.0, 2.0, 6.0])\n"
        "print(json.dumps([type(r).__name__, r._fields, float(r.mu_hat), float(r.sigma_2_hat)]))\n"
    )
    run = subprocess.run(
        [sys.executable, "-I", "-c", "import json\n" + code],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    name, fields, mean, var = json.loads(run.stdout)
    assert name == "GaussianMleResults" and fields == ["mu_hat", "sigma_2_hat"]
    assert mean == 3.0 and abs(var - np.var([1.0, 2.0, 6.0])) < 1e-12


def test_a_nested_sum_reading_the_outer_index_is_refused_not_miscompiled():
    """Σᵢ Σⱼ xᵢxⱼ: the inner sum reads i, which the vectorized outer sum binds to the whole
    vector; broadcasting would pair entries instead of summing over every pair."""
    n = sp.Symbol("n", integer=True, positive=True)
    i, j = sp.Idx("i"), sp.Idx("j")
    xs = sp.IndexedBase("x")
    expr = sp.Sum(sp.Sum(xs[i] * xs[j], (j, 1, n)), (i, 1, n))
    given = (derive.Given("x", ("n",)),)
    with pytest.raises(derive.UnsupportedError):
        generate(expr, given)
    inner = sp.Sum((xs[i] - sp.Sum(xs[j], (j, 1, n)) / n) ** 2, (i, 1, n))  # fine: j's own
    src = generate(inner, given, name="ss")
    assert "np.sum(x)" in src
