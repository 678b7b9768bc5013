"""Maximum likelihood: the derivations cite registered rules, every step and claim holds on
random data, the estimates are the textbook ones and maximise the likelihood, and every
probability rule holds on its examples.

The numbers here come from SymPy itself (sums expanded for a concrete n, then compiled with
`lambdify`) and central finite differences; no JAX. `derive.check` is exercised by the last
test when it exists.
"""

import math
from dataclasses import replace

import numpy as np
import pytest
import sympy as sp

import derive.families as fm
from derive import distributions, rules
from derive.errors import InputError, UnknownNameError, UnsupportedError
from derive.expr import GradientOf, MatScalar, ScalarDifferential
from derive.likelihood import X_BAR_DEFINITION, hat, mle_derivation
from derive.model import Context, Rule
from derive.rules import loglik as lg
from derive.rules import optimum as opt
from derive.rules import probability as pr
from derive.rules import stationary as st

FAMILIES = ("gaussian", "bernoulli", "poisson", "exponential", "laplace")
H = 1e-6  # finite-difference step


# --- evaluating with SymPy -------------------------------------------------------------------


def draw(rng: np.random.Generator, kinds: tuple[str, ...], size: int | None = None):
    """A random value honouring an assumption ("unit": in (0, 1), as the sampler should)."""
    if "binary" in kinds:
        if size is None:
            return float(rng.integers(0, 2))
        while True:  # both values present, so that p̂ is inside (0, 1)
            v = rng.integers(0, 2, size).astype(float)
            if 0 < v.sum() < size:
                return v
    if "unit" in kinds:
        return rng.uniform(0.1, 0.9, size)
    if "positive" in kinds or "spd" in kinds:
        return rng.uniform(0.5, 2.0, size)
    if "nonnegative" in kinds:
        return rng.uniform(0.0, 3.0, size)
    return rng.normal(size=size)


def _data_free(e: sp.Basic, data: np.ndarray | None) -> sp.Basic:
    """e with DensityOf written out, sums over i = 1..n expanded and x[k] replaced by data."""
    if data is not None:  # the median's meaning, by numpy (its formula is tested on its own)
        e = e.replace(
            lambda a: isinstance(a, distributions.Median), lambda a: sp.Float(np.median(data))
        )
    e = e.replace(lambda a: isinstance(a, MatScalar), lambda a: a.arg.as_explicit()[0, 0])
    e = e.replace(lambda a: isinstance(a, sp.Determinant), lambda a: a.arg.as_explicit().det())
    e = e.xreplace({pr.n: len(data) if data is not None else 4}).doit()
    if data is not None:
        e = e.xreplace({pr.x[k + 1]: sp.Float(v) for k, v in enumerate(data)})
    return e.rewrite(sp.gamma)


def compiled(e: sp.Basic, names: list[str], data: np.ndarray | None = None):
    """A float function of the named scalars (data already in)."""
    e = _data_free(e, data)
    syms = {s.name: s for s in e.free_symbols}
    leftover = set(syms) - set(names)
    assert not leftover, f"unexpected symbols {leftover} in {e}"
    args = [syms.get(name, sp.Dummy(name)) for name in names]
    fn = sp.lambdify(args, e, modules=["math"])
    return lambda **v: float(fn(*[v[name] for name in names]))


def partial(fn, at: dict, name: str) -> float:
    h = H * max(1.0, abs(at[name]))
    up, down = dict(at), dict(at)
    up[name] += h
    down[name] -= h
    return (fn(**up) - fn(**down)) / (2 * h)


def close(a: float, b: float, tol: float = 1e-7, scale: float = 1.0) -> bool:
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b), scale)


def holds(before, after, relation, wrt, names, values, data, rng) -> tuple[bool, str]:
    """Whether ``before relation after`` holds at `values` (see derive/model.py)."""
    if relation == "gradient":  # before = d(f), after = ∂f/∂w
        (w,) = wrt
        assert isinstance(before, ScalarDifferential)
        a = partial(compiled(before.arg, names, data), values, w)
        b = compiled(after, names, data)(**values)
        return close(a, b, 1e-6), f"∂/∂{w} {a} vs {b}"
    f = compiled(before, names, data)
    g = compiled(after, names, data) if relation != "solve" else None
    if relation == "equal":
        a, b = f(**values), g(**values)
        return close(a, b), f"{a} vs {b}"
    if relation == "constant":
        moved = dict(values)
        for w in wrt:
            moved[w] = values[w] + rng.uniform(0.2, 0.4)
        a, b = f(**values) - g(**values), f(**moved) - g(**moved)
        return close(a, b), f"differences {a} vs {b}"
    if relation == "solve":
        (w,) = wrt
        others = [k for k in names if k != w]
        root = compiled(after, others, data)(**{k: values[k] for k in others})
        at = dict(values, **{w: root})
        slope = abs(partial(f, at, w)) * max(1.0, abs(root))
        v = f(**at)
        return close(v, 0.0, 1e-7, slope), f"{v} at {w} = {root}"
    raise AssertionError(f"unknown relation {relation}")


def with_differentials(e: sp.Basic, wrt, names, values, data) -> sp.Basic:
    """d(f) nodes replaced by their value ∑ ∂f/∂w · dw (central differences)."""

    def value(node: ScalarDifferential) -> sp.Float:
        f = compiled(node.arg, names, data)
        return sp.Float(sum(partial(f, values, w) * values["d" + w] for w in wrt))

    return e.replace(lambda a: isinstance(a, ScalarDifferential), value)


# --- the Gaussian derivation ---------------------------------------------------------------


@pytest.fixture(scope="module")
def gaussian():
    return mle_derivation("gaussian")


def test_gaussian_steps_apply_registered_rules_in_order(gaussian):
    assert gaussian.title == "Maximum likelihood for the Gaussian"
    for step in gaussian.steps:
        rule = rules.get(step.rule.id)
        assert rule.ref == step.rule
        assert step.note, f"step by {step.rule.id} has no note"
    ids = [s.rule.id for s in gaussian.steps]
    expected = [
        "likelihood.iid",
        "density.gaussian",
        "log.product",
        "log.mul",
        "log.power",
        "log.exp",
        "sum.linearity",
        "nll.definition",
        "nll.set-aside-mean",
        "calculus.derivative",
        "optimum.stationary",
        "optimum.joint",
        "optimum.second-order",
    ]
    assert [i for i in dict.fromkeys(ids)] == expected
    first = gaussian.steps[0]
    assert first.lhs == sp.Symbol("L") and isinstance(first.after, sp.Product)
    assert gaussian.steps[1].rule.source == "Matrix Cookbook (2012) eq. (346), with d = 1"


def test_gaussian_intermediate_forms(gaussian):
    """ℓ = −(n/2) log(2πσ²) − (1/(2σ²))∑(xᵢ − μ)², the MSE view, ∂NLL/∂μ = −(1/σ²)∑(xᵢ − μ)."""
    n, x, i, mu, s2 = pr.n, pr.x, pr.i, pr.MU, pr.SIGMA2
    ss = sp.Sum((x[i] - mu) ** 2, (i, 1, n))
    by_rule = {}
    for s in gaussian.steps:
        by_rule.setdefault(s.rule.id, []).append(s)
    ell = by_rule["sum.linearity"][0].after
    assert sp.simplify(ell - (-n * sp.log(2 * sp.pi * s2) / 2 - ss / (2 * s2))) == 0
    nll = by_rule["nll.definition"][0]
    assert nll.lhs == sp.Symbol("NLL") and sp.simplify(nll.after + ell) == 0
    view = by_rule["nll.set-aside-mean"][0]
    assert view.relation == "constant" and view.wrt == ("mu",)
    assert sp.simplify(view.after - ss / (2 * s2)) == 0
    dmu = by_rule["calculus.derivative"][0]
    assert dmu.lhs == GradientOf(sp.Symbol("NLL"), mu)
    assert dmu.relation == "gradient" and dmu.wrt == ("mu",)  # d(NLL) = (∂NLL/∂μ) dμ
    assert dmu.before == ScalarDifferential(nll.after)
    assert dmu.after == -sp.Sum(x[i] - mu, (i, 1, n)) / s2
    solve = by_rule["optimum.stationary"][0]
    assert solve.relation == "solve" and solve.wrt == ("mu",)
    assert solve.lhs == sp.Symbol("mu_hat")
    assert solve.before == sp.Mul(-1, sp.Sum(x[i], (i, 1, n)) - n * mu, 1 / s2)  # ∑ split


def test_gaussian_results_are_the_mean_and_the_biased_variance(gaussian):
    (mu_hat, m), (s2_hat, v) = gaussian.results
    assert (mu_hat, s2_hat) == (sp.Symbol("mu_hat"), sp.Symbol("sigma^2_hat"))
    assert m == X_BAR_DEFINITION
    assert v.has(pr.j), "the mean inside the variance sums over its own index"
    rng = np.random.default_rng(0)
    for size in (2, 5, 7):
        data = rng.normal(1.0, 2.0, size)
        assert close(compiled(m, [], data)(), float(np.mean(data)), 1e-12)
        assert close(compiled(v, [], data)(), float(np.var(data)), 1e-12)


def test_gaussian_estimates_maximise_the_likelihood(gaussian):
    rng = np.random.default_rng(1)
    data = rng.normal(-0.5, 1.5, 5)
    at = {"mu": float(np.mean(data)), "sigma^2": float(np.var(data))}
    names = ["mu", "sigma^2"]
    ell = compiled(gaussian.objective, names, data)
    for name in names:  # the gradient of ℓ vanishes (finite differences) ...
        assert abs(partial(ell, at, name)) < 1e-6
    for s in gaussian.steps:  # ... and so do the derived ∂NLL/∂θ
        if isinstance(s.lhs, GradientOf) and s.lhs.args[0] == sp.Symbol("NLL"):
            assert abs(compiled(s.after, names, data)(**at)) < 1e-9, s.after
    best = ell(**at)
    for _ in range(20):  # and every nearby point is worse
        moved = {
            "mu": at["mu"] + rng.normal(0, 0.3),
            "sigma^2": at["sigma^2"] * rng.uniform(0.7, 1.4),
        }
        assert ell(**moved) < best


def test_gaussian_second_order_remark(gaussian):
    remark = gaussian.remarks[0].text
    assert "diag(n/σ̂², n/(2σ̂⁴))" in remark and "positive definite" in remark
    hess = {s.lhs: s.after for s in gaussian.steps if s.rule.id == "optimum.second-order"}
    assert len(hess) == 3
    # numerically: the Hessian at the estimates is diag(n/σ̂², n/(2σ̂⁴))
    rng = np.random.default_rng(2)
    data = rng.normal(size=6)
    at = {"mu": float(np.mean(data)), "sigma^2": float(np.var(data))}
    values = sorted(compiled(h, ["mu", "sigma^2"], data)(**at) for h in hess.values())
    n, v = len(data), at["sigma^2"]
    assert np.allclose(values, sorted([0.0, n / v, n / (2 * v**2)]), atol=1e-9)


def test_gaussian_given_claims_and_goal(gaussian):
    assert [(g.name, g.shape, g.assumptions, g.role) for g in gaussian.given] == [
        ("x", ("n",), (), "data"),
        ("mu", (), (), ""),
        ("sigma^2", (), ("positive",), ""),
    ]
    kinds = [c.kind for c in gaussian.claims]
    assert kinds.count("gradient") == 5 and "constant" in kinds and "stationary" in kinds
    (stationary,) = [c for c in gaussian.claims if c.kind == "stationary"]
    assert stationary.wrt == ("mu", "sigma^2")
    at = {str(k).removesuffix("_hat"): v for k, v in gaussian.results}
    assert dict(stationary.at) == at
    assert "μ" in gaussian.goal and "σ²" in gaussian.goal


# --- every family: steps, claims, results ----------------------------------------------------


def _family_values(d, rng):
    data_kinds = d.given[0].assumptions
    data = draw(rng, data_kinds, 5)
    if "nonnegative" in data_kinds:  # counts, for x! (the evaluator takes Γ(x + 1) for reals)
        data = rng.poisson(2.0, 5).astype(float)
        data[0] = max(data[0], 1.0)
    names = [g.name for g in d.given[1:]]
    values = {g.name: float(draw(rng, g.assumptions)) for g in d.given[1:]}
    return data, names, values


@pytest.mark.parametrize("family", FAMILIES)
def test_every_step_holds_on_random_data(family):
    d = mle_derivation(family)
    rng = np.random.default_rng(3)
    for trial in range(3):
        data, names, values = _family_values(d, rng)
        for k, s in enumerate(d.steps, 1):
            ok, detail = holds(s.before, s.after, s.relation, s.wrt, names, values, data, rng)
            assert ok, f"{family} step {k} ({s.rule.id}), trial {trial}: {detail}"


@pytest.mark.parametrize("family", FAMILIES)
def test_every_claim_holds_on_random_data(family):
    d = mle_derivation(family)
    rng = np.random.default_rng(4)
    data, names, values = _family_values(d, rng)
    for c in d.claims:
        if c.kind == "expectation":  # an estimator's mean: by Monte Carlo in test_remarks.py
            assert c.label.startswith("E[") and c.function.atoms(distributions.Expectation)
            continue
        f = compiled(c.function, names, data)
        if c.kind == "gradient":
            (w,) = c.wrt
            want = partial(f, values, w)
            got = compiled(c.expr, names, data)(**values)
            assert close(got, want, 1e-6), f"{c.label}: {got} vs {want}"
        elif c.kind == "constant":
            ok, detail = holds(c.function, c.expr, "constant", c.wrt, names, values, data, rng)
            assert ok, f"{c.label}: {detail}"
        elif c.kind == "stationary":
            at = {k: compiled(v, [], data)() for k, v in c.at}
            for w in c.wrt:
                assert abs(partial(f, at, w)) < 1e-6, f"{c.label}: ∂/∂{w} ≠ 0"
        elif c.kind == "reference":  # its callback, fed by SymPy instead of derive.evaluate

            def value(e, vals):
                return np.asarray(compiled(e, names, data)(**{k: float(vals[k]) for k in names}))

            got, want = c.reference(
                {"x": data, **{k: np.asarray(v) for k, v in values.items()}}, value
            )
            np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12, err_msg=c.label)
        else:
            raise AssertionError(f"unexpected claim kind {c.kind}")


@pytest.mark.parametrize(
    ("family", "estimate"),
    [
        ("bernoulli", np.mean),
        ("poisson", np.mean),
        ("exponential", lambda v: 1 / np.mean(v)),
    ],
)
def test_other_families_give_the_textbook_estimates(family, estimate):
    d = mle_derivation(family)
    ((lhs, rhs),) = d.results
    assert lhs == hat(fm.family(family).params[0])
    rng = np.random.default_rng(5)
    for _ in range(3):
        data, _, _ = _family_values(d, rng)
        assert close(compiled(rhs, [], data)(), float(estimate(data)), 1e-12)
    assert d.title == f"Maximum likelihood for {fm.family(family).title}"
    assert "> 0" in d.remarks[0].text and "maximum of the likelihood" in d.remarks[0].text


def test_bernoulli_nll_is_the_binary_cross_entropy():
    d = mle_derivation("bernoulli")
    (nll,) = [s for s in d.steps if s.rule.id == "nll.definition"]
    assert "binary cross-entropy" in nll.note
    assert d.given[1].assumptions == ("unit",) and d.given[0].assumptions == ("binary",)
    rng = np.random.default_rng(6)
    data, _, values = _family_values(d, rng)
    p = values["p"]
    bce = -float(np.sum(data * np.log(p) + (1 - data) * np.log(1 - p)))
    assert close(compiled(nll.after, ["p"], data)(p=p), bce)


def test_poisson_sets_aside_the_log_factorials():
    d = mle_derivation("poisson")
    (view,) = [s for s in d.steps if s.rule.id == "nll.set-aside"]
    assert view.wrt == ("lambda",) and not view.after.has(sp.factorial)
    assert view.before.has(sp.factorial)


# --- errors ------------------------------------------------------------------------------


def test_unknown_family():
    with pytest.raises(UnknownNameError, match="did you mean gaussian"):
        mle_derivation("gausian")
    with pytest.raises(KeyError):
        mle_derivation("cauchy")


def test_unknown_option():
    with pytest.raises(InputError, match="no options"):
        mle_derivation("gaussian", robust=True)


def test_no_closed_form_is_unsupported():
    ctx = Context(varying=frozenset({pr.MU}))
    with pytest.raises(UnsupportedError, match="inside a sum"):
        opt.solve_stationary(sp.Sum(sp.tanh(pr.x[pr.i] - pr.MU), (pr.i, 1, pr.n)), ctx)
    with pytest.raises(UnsupportedError, match="closed-form"):
        opt.solve_stationary(pr.MU**2 - pr.n, ctx)  # two roots: do not guess


# --- the rules -----------------------------------------------------------------------------

# Citations and the JAX self-check of every rule are in tests/test_rules.py; here the scalar
# probability rules are checked a second way, by SymPy substitution of numbers (no JAX).
# The categorical density is vector-valued and checked only there.
PROBABILITY_RULES = [
    v
    for module in (pr, lg, opt)
    for v in vars(module).values()
    if isinstance(v, Rule) and v is not pr.CATEGORICAL_LOG_DENSITY
]


def test_the_density_cites_346():
    assert pr.GAUSSIAN_DENSITY.cookbook == ("346",)


@pytest.mark.parametrize("rule", PROBABILITY_RULES, ids=[r.id for r in PROBABILITY_RULES])
def test_rule_examples_hold_numerically(rule: Rule):
    rng = np.random.default_rng(7)
    for k, ex in enumerate(rule.examples(), 1):
        for trial in range(3):
            exprs = (ex.lhs, ex.rhs)
            syms = set().union(*(e.free_symbols for e in exprs))
            mats = set().union(*(e.atoms(sp.MatrixSymbol) for e in exprs))
            data = None
            if any(e.has(pr.x) for e in exprs):
                data = draw(rng, tuple(ex.assume.get("x", ())), 4)
            names = sorted(
                s.name
                for s in syms
                if isinstance(s, sp.Symbol) and s not in (pr.n, pr.i, pr.j) and s.name != "x"
            )
            values = {name: float(draw(rng, tuple(ex.assume.get(name, ())))) for name in names}
            explicit = {
                m: sp.ImmutableMatrix([[draw(rng, tuple(ex.assume.get(m.name, ())))]]) for m in mats
            }
            lhs, rhs = (e.xreplace(explicit) for e in exprs)
            lhs, rhs = (with_differentials(e, ex.wrt, names, values, data) for e in (lhs, rhs))
            ok, detail = holds(lhs, rhs, ex.relation, ex.wrt, names, values, data, rng)
            assert ok, f"{rule.id} example {k}, trial {trial}: {detail}"


def test_density_node_prints_and_stands_for_its_definition():
    fam = fm.family("gaussian")
    one = fm.density_at(fam, pr.x[pr.i])
    assert str(one) == "p(x[i] | mu, sigma^2)"
    assert sp.latex(one) == r"p\left({x}_{i} \mid \mu, \sigma^{2}\right)"
    assert one.doit() == fam.density.doit()
    joint = fm.joint_density(fam)
    assert str(joint) == "p(x[1], ..., x[n] | mu, sigma^2)"
    assert pr.IID.apply(joint, Context()) == sp.Product(one, (pr.i, 1, pr.n))
    assert pr.GAUSSIAN_DENSITY.apply(one, Context()) == fam.density
    assert pr.GAUSSIAN_DENSITY.apply(joint, Context()) is None


def test_log_rules_keep_log_2_pi_sigma2_whole():
    fam = fm.family("gaussian")
    split = lg.LOG_MUL.apply(sp.log(fam.density, evaluate=False), Context())
    assert split is not None
    norm = lg.LOG_POWER.apply(sp.Add.make_args(split)[0], Context()) or lg.LOG_POWER.apply(
        sp.Add.make_args(split)[1], Context()
    )
    assert norm == -sp.log(2 * sp.pi * pr.SIGMA2) / 2
    assert lg.LOG_MUL.apply(sp.log(2 * sp.pi * pr.SIGMA2), Context()) is None
    assert math.isclose(float(sp.N(norm.subs(pr.SIGMA2, 1))), -math.log(2 * math.pi) / 2)


# --- the numeric checker (derive/check/) -----------------------------------------------------


def test_gaussian_passes_the_jax_check(gaussian):
    report = gaussian.check(trials=3)
    assert report.passed, report.failure


# --- models with matrix parameters -----------------------------------------------------------

MATRIX_FAMILIES = ("linear-regression", "logistic-regression", "mvn", "categorical")


def _model_values(seed: int, n: int = 9, d: int = 3) -> tuple[dict, dict]:
    """Random data and parameters for the matrix models (n > d, non-symmetric X)."""
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(d, d))
    values = {
        "X": rng.normal(size=(n, d)),
        "y": rng.normal(size=(n, 1)),
        "w": rng.normal(size=(d, 1)),
        "sigma^2": np.asarray(rng.uniform(0.5, 2.0)),
        "mu": rng.normal(size=(d, 1)),
        "Sigma": a @ a.T + d * np.eye(d),
    }
    return values, {"n": n, "d": d}


def _ev(e: sp.Basic, values: dict, dims: dict) -> np.ndarray:
    from derive.evaluate import evaluate

    return np.asarray(evaluate(e, values, dims), dtype=float)


@pytest.fixture(scope="module")
def matrix_models():
    return {f: mle_derivation(f) for f in MATRIX_FAMILIES}


@pytest.mark.parametrize("family", MATRIX_FAMILIES)
def test_matrix_models_apply_registered_rules_and_verify(matrix_models, family):
    d = matrix_models[family]
    for step in d.steps:
        assert rules.get(step.rule.id).ref == step.rule
    report = d.check(trials=2, seed=3)
    assert report.passed, report.failure
    assert any(c.kind in ("gradient", "hessian") for c in d.claims)


def test_linear_regression_is_least_squares_and_maximises_the_likelihood(matrix_models):
    d = matrix_models["linear-regression"]
    ids = [s.rule.id for s in d.steps]
    assert ids[:3] == ["density.linear-regression", "nll.definition", "nll.set-aside"]
    assert "optimum.linear-stationary" in ids
    (w_hat, w_est), (s_hat, s_est) = d.results
    assert str(w_hat) == "w_hat" and str(s_hat) == "sigma^2_hat"
    for seed in range(3):
        values, dims = _model_values(seed)
        X, y = values["X"], values["y"]
        w = _ev(w_est, values, dims)
        ref, *_ = np.linalg.lstsq(X, y, rcond=None)
        np.testing.assert_allclose(w, ref, rtol=1e-10, atol=1e-12)
        s2 = float(_ev(s_est, values, dims))
        assert s2 == pytest.approx(float(np.mean((y - X @ ref) ** 2)), rel=1e-10)
        # The Hessian of the NLL in (w, σ²) at the estimates is positive definite.
        n, k = X.shape
        h = np.zeros((k + 1, k + 1))
        h[:k, :k] = X.T @ X / s2
        h[:k, k] = h[k, :k] = (-X.T @ (y - X @ w) / s2**2).ravel()
        h[k, k] = -n / (2 * s2**2) + float(np.sum((y - X @ w) ** 2)) / s2**3
        assert np.all(np.linalg.eigvalsh(h) > 0)


def test_logistic_regression_has_no_closed_form_and_newton_converges(matrix_models):
    d = matrix_models["logistic-regression"]
    assert "loss.bce-logits" in [s.rule.id for s in d.steps]
    assert any("no closed form" in r.text for r in d.remarks)
    (_, g), (_, h), (_, newton) = d.results
    rng = np.random.default_rng(7)
    X = rng.normal(size=(40, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) + rng.normal(size=40) > 0).astype(float)[:, None]
    w = np.zeros((3, 1))
    dims = {"n": 40, "d": 3}
    for _ in range(25):
        w = _ev(newton, {"X": X, "y": y, "w": w}, dims)
    grad = _ev(g, {"X": X, "y": y, "w": w}, dims)
    assert np.max(np.abs(grad)) < 1e-9
    assert np.all(np.linalg.eigvalsh(_ev(h, {"X": X, "y": y, "w": w}, dims)) > 0)


def test_mvn_gives_the_sample_mean_and_covariance_and_a_maximum(matrix_models):
    d = matrix_models["mvn"]
    ids = [s.rule.id for s in d.steps]
    assert ids[0] == "density.mvn" and "optimum.inverse-sandwich" in ids
    assert "logdet.scale" in ids
    (_, mu_est), (_, s_est) = d.results
    for seed in range(3):
        values, dims = _model_values(seed)
        X = values["X"]
        mu, S = _ev(mu_est, values, dims), _ev(s_est, values, dims)
        np.testing.assert_allclose(mu.ravel(), X.mean(axis=0), rtol=1e-12)
        np.testing.assert_allclose(S, np.cov(X.T, bias=True), rtol=1e-10, atol=1e-12)
        nll = -_ev(d.objective, {**values, "mu": mu, "Sigma": S}, dims)
        rng = np.random.default_rng(seed)
        for _ in range(5):  # the NLL is larger at perturbed parameters
            e = 0.05 * rng.normal(size=S.shape)
            moved = {**values, "mu": mu + 0.05 * rng.normal(size=mu.shape), "Sigma": S + e @ e.T}
            assert -_ev(d.objective, moved, dims) > nll


def test_matrix_solvers_refuse_what_they_cannot_solve():
    from derive.rules import regression as rg

    w = sp.MatrixSymbol("w", 3, 1)
    ctx = Context(varying=frozenset({w}))
    nonlinear = sp.MatMul(sp.MatrixSymbol("A", 3, 3), rg.elementwise(sp.tanh, w))
    with pytest.raises(UnsupportedError, match="not affine"):
        st.solve_linear(nonlinear, ctx)
    S = sp.MatrixSymbol("Sigma", 3, 3)
    with pytest.raises(UnsupportedError, match="solving for Sigma"):
        st.solve_sandwich(sp.MatMul(S, S), Context(varying=frozenset({S})))


def test_unknown_matrix_family_lists_all_families():
    with pytest.raises(UnknownNameError, match="linear-regression"):
        mle_derivation("linear-regresion")


# --- the Laplace: the median, with no closed-form zero of the derivative ----------------------


@pytest.fixture(scope="module")
def laplace():
    return mle_derivation("laplace")


def test_median_node_evaluates_to_numpy_median_with_ties_and_even_n():
    from derive.evaluate import evaluate

    rng = np.random.default_rng(11)
    median = distributions.Median(pr.x, pr.n)
    assert str(median) == "median(x[1], ..., x[n])"
    assert sp.latex(median) == r"\operatorname{median}\left({x}_{1}, \dots, {x}_{n}\right)"
    for size in range(1, 10):
        for ties in (False, True):
            data = rng.integers(0, 3, size).astype(float) if ties else rng.normal(size=size)
            for backend in ("numpy", "jax") if size in (4, 5) else ("numpy",):
                got = evaluate(median, {"x": data}, {"n": size}, backend=backend)
                assert float(got) == pytest.approx(float(np.median(data)), abs=1e-12), data


def test_laplace_nll_is_the_mean_absolute_error(laplace):
    ids = [s.rule.id for s in laplace.steps]
    assert ids[:2] == ["likelihood.iid", "density.laplace"]
    for rid in ("nll.set-aside-mean", "optimum.median", "optimum.stationary", "optimum.joint"):
        assert rid in ids
    for step in laplace.steps:
        assert rules.get(step.rule.id).ref == step.rule
    (view,) = [s for s in laplace.steps if s.rule.id == "nll.set-aside-mean"]
    assert "mean absolute error" in view.note
    rng = np.random.default_rng(12)
    data, b, mu = rng.normal(size=7), 1.3, 0.2
    mae = float(np.mean(np.abs(data - mu)))
    assert close(compiled(view.after, ["mu", "b"], data)(mu=mu, b=b), 7 / b * mae)
    nll = compiled(view.before, ["mu", "b"], data)(mu=mu, b=b)
    assert close(nll, 7 * math.log(2 * b) + 7 * mae / b)


def test_laplace_derivative_is_a_sign_sum_with_no_closed_form_zero(laplace):
    (solve,) = [s for s in laplace.steps if s.rule.id == "optimum.median"]
    assert solve.before.has(sp.sign) and isinstance(solve.after, distributions.Median)
    assert "no closed-form solution" in solve.note
    # ∂NLL/∂μ = (1/b)∑ sign(μ − xᵢ): (#below − #above)/b at μ between observations
    rng = np.random.default_rng(13)
    data = rng.normal(size=9)
    for mu in (-3.0, np.sort(data)[2] + 1e-3, 3.0):
        want = float(np.sum(np.sign(mu - data))) / 0.8
        assert close(compiled(solve.before, ["mu", "b"], data)(mu=mu, b=0.8), want)
    assert any("second-derivative test says nothing" in r.text for r in laplace.remarks)
    assert "n/b̂² > 0" in laplace.remarks[0].text
    with pytest.raises(UnsupportedError, match="median"):
        opt.solve_median(pr.MU**2 - pr.n, Context(varying=frozenset({pr.MU})))


def test_laplace_estimates_minimise_the_nll_on_odd_and_even_n(laplace):
    from derive.evaluate import evaluate

    (_, mu_est), (_, b_est) = laplace.results
    nll = [s for s in laplace.steps if s.rule.id == "nll.definition"][0].after
    (grad_mu,) = [s.before for s in laplace.steps if s.rule.id == "optimum.median"]
    rng = np.random.default_rng(14)
    for size in (7, 8, 9, 10, 11):
        data = rng.standard_t(3, size)
        dims = {"n": size}
        mu = float(evaluate(mu_est, {"x": data}, dims))
        b = float(evaluate(b_est, {"x": data}, dims))
        assert mu == pytest.approx(float(np.median(data)), abs=1e-12)
        assert b == pytest.approx(float(np.mean(np.abs(data - np.median(data)))), rel=1e-12)

        def f(m: float, s: float, data=data, dims=dims) -> float:
            return float(evaluate(nll, {"x": data, "mu": np.asarray(m), "b": np.asarray(s)}, dims))

        sign_sum = float(evaluate(grad_mu, {"x": data, "mu": np.asarray(mu), "b": 1.0}, dims))
        assert sign_sum == 0.0  # odd n: the middle observation; even n: between the middle two
        best = f(mu, b)
        for m in np.concatenate([data, mu + np.array([-1, -1e-3, 1e-3, 1]), rng.normal(size=20)]):
            assert best <= f(float(m), b) + 1e-12
        for s in (0.5 * b, 0.99 * b, 1.01 * b, 2 * b):
            assert best < f(mu, s)
    # on random odd-n data the derivation's own claim (numpy.median) passes the checker
    report = laplace.check(trials=3, seed=5)
    assert report.passed, report.failure
    assert any(i.method == "numpy.median" and i.passed for i in report.items)


# --- the categorical: a Lagrange multiplier on the simplex --------------------------------------


def _onehot(labels: np.ndarray, k: int) -> np.ndarray:
    out = np.zeros((k, labels.size))
    out[labels, np.arange(labels.size)] = 1.0
    return out


def test_categorical_uses_a_cited_lagrange_multiplier(matrix_models):
    d = matrix_models["categorical"]
    ids = [s.rule.id for s in d.steps]
    assert ids[:3] == ["density.categorical-sample", "nll.definition", "constrained.lagrange"]
    assert "Appendix E" in rules.get("constrained.lagrange").source
    for rid in ("optimum.clear-denominators", "optimum.linear-stationary", "onehot.column-sums"):
        assert rid in ids
    (nll,) = [s for s in d.steps if s.rule.id == "nll.definition"]
    assert "cross-entropy" in nll.note
    (lagrange,) = [s for s in d.steps if s.rule.id == "constrained.lagrange"]
    # ℒ equals the NLL on the simplex and differs from it off the simplex
    from derive.evaluate import evaluate

    rng = np.random.default_rng(15)
    Y = _onehot(rng.integers(0, 4, 9), 4)
    dims = {"n": 9, "K": 4}
    lam = np.asarray(1.7)
    on = rng.dirichlet(np.ones(4))[:, None]
    off = on * 1.3

    def at(e, p):
        return float(evaluate(e, {"Y": Y, "pi": p, "lambda": lam}, dims))

    assert at(lagrange.after, on) == pytest.approx(at(lagrange.before, on), rel=1e-12)
    assert at(lagrange.after, off) != pytest.approx(at(lagrange.before, off), rel=1e-3)


def test_categorical_estimate_is_the_class_frequencies_and_maximises(matrix_models):
    from derive.evaluate import evaluate

    d = matrix_models["categorical"]
    (pi_hat, pi_est), (lam_hat, lam_est) = d.results
    assert str(pi_hat) == "pi_hat" and lam_est == pr.n
    rng = np.random.default_rng(16)
    for k, n, labels in ((3, 8, None), (4, 7, None), (5, 6, np.array([0, 0, 2, 2, 2, 4]))):
        labels = rng.integers(0, k, n) if labels is None else labels  # the last: classes 1, 3 empty
        Y = _onehot(labels, k)
        dims = {"n": n, "K": k}
        p = np.asarray(evaluate(pi_est, {"Y": Y}, dims)).reshape(k, 1)
        np.testing.assert_allclose(p.ravel(), np.bincount(labels, minlength=k) / n, rtol=1e-14)

        def ell(q, Y=Y, dims=dims):
            return float(evaluate(d.objective, {"Y": Y, "pi": q}, dims))

        best = ell(p)
        for q in rng.dirichlet(np.ones(k), 100):
            assert ell(q[:, None]) < best
        # the derivation's own reference claim, on this data (an empty class included)
        (claim,) = [c for c in d.claims if c.method == "numpy.bincount"]

        def value(e, vals, dims=dims):
            return np.asarray(evaluate(e, vals, dims))

        got, want = claim.reference({"Y": Y, "pi": p, "lambda": np.asarray(1.0)}, value)
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_categorical_refuses_options_and_clear_denominators_refuses_other_forms():
    with pytest.raises(InputError, match="no options"):
        mle_derivation("categorical", smoothing=1)
    from derive.rules import regression as rg

    K = sp.Symbol("K", integer=True, positive=True)
    pi, a = sp.MatrixSymbol("pi", K, 1), sp.MatrixSymbol("a", K, 1)
    assert rg.CLEAR_DENOMINATORS.apply(sp.HadamardProduct(pi, a), Context()) is None


def test_the_stated_cross_derivative_is_checked_and_its_sign_matters():
    """The remark's ∂²NLL/∂w∂σ² = Xᵀ(y − Xŵ)/σ̂⁴ is a claim; with the sign flipped (as it was
    once printed) the check fails."""
    d = mle_derivation("linear-regression")
    (cross,) = [c for c in d.claims if c.label.startswith("∂²NLL/∂w∂σ²")]
    assert "∂²NLL/∂w∂σ² = Xᵀ(y − Xŵ)/σ̂⁴" in d.remarks[0].text
    wrong = replace(d, claims=(replace(cross, expr=-cross.expr),))
    right = replace(d, claims=(cross,))
    from derive.check import check_derivation

    assert check_derivation(right, trials=2).passed
    assert not check_derivation(wrong, trials=2).passed
