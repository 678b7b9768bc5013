"""Maximum likelihood: the derivations cite registered rules, every step and claim holds on
random data, the estimates are the textbook ones and maximise the likelihood, and every
probability rule holds on its examples.

The numbers here come from SymPy itself (sums expanded for a concrete n, then compiled with
`lambdify`) and central finite differences; no JAX. `derive.check` is exercised by the last
test when it exists.
"""

import math

import numpy as np
import pytest
import sympy as sp

from derive import rules
from derive.errors import InputError, UnknownNameError, UnsupportedError
from derive.expr import GradientOf, MatScalar, ScalarDifferential
from derive.likelihood import X_BAR_DEFINITION, hat, mle_derivation
from derive.model import Context, Rule
from derive.rules import probability as pr
from tests.conftest import SHARED

FAMILIES = ("gaussian", "bernoulli", "poisson", "exponential")
EQUATIONS = SHARED / "cookbook" / "equations.md"
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
        "nll.set-aside",
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
    view = by_rule["nll.set-aside"][0]
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
    (remark, *_) = gaussian.remarks
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
    assert lhs == hat(pr.family(family).params[0])
    rng = np.random.default_rng(5)
    for _ in range(3):
        data, _, _ = _family_values(d, rng)
        assert close(compiled(rhs, [], data)(), float(estimate(data)), 1e-12)
    assert d.title == f"Maximum likelihood for {pr.family(family).title}"
    assert "> 0" in d.remarks[0] and "maximum of the likelihood" in d.remarks[0]


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
        pr.solve_stationary(sp.Sum(sp.tanh(pr.x[pr.i] - pr.MU), (pr.i, 1, pr.n)), ctx)
    with pytest.raises(UnsupportedError, match="closed-form"):
        pr.solve_stationary(pr.MU**2 - pr.n, ctx)  # two roots: do not guess


# --- the rules -----------------------------------------------------------------------------

# Citations and the JAX self-check of every rule are in tests/test_rules.py; here the scalar
# probability rules are checked a second way, by SymPy substitution of numbers (no JAX).
# The categorical density is vector-valued and checked only there.
PROBABILITY_RULES = [
    v for v in vars(pr).values() if isinstance(v, Rule) and v is not pr.CATEGORICAL_LOG_DENSITY
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
    fam = pr.family("gaussian")
    one = pr.density_at(fam, pr.x[pr.i])
    assert str(one) == "p(x[i] | mu, sigma^2)"
    assert sp.latex(one) == r"p\left({x}_{i} \mid \mu, \sigma^{2}\right)"
    assert one.doit() == fam.density.doit()
    joint = pr.joint_density(fam)
    assert str(joint) == "p(x[1], ..., x[n] | mu, sigma^2)"
    assert pr.IID.apply(joint, Context()) == sp.Product(one, (pr.i, 1, pr.n))
    assert pr.GAUSSIAN_DENSITY.apply(one, Context()) == fam.density
    assert pr.GAUSSIAN_DENSITY.apply(joint, Context()) is None


def test_log_rules_keep_log_2_pi_sigma2_whole():
    fam = pr.family("gaussian")
    split = pr.LOG_MUL.apply(sp.log(fam.density, evaluate=False), Context())
    assert split is not None
    norm = pr.LOG_POWER.apply(sp.Add.make_args(split)[0], Context()) or pr.LOG_POWER.apply(
        sp.Add.make_args(split)[1], Context()
    )
    assert norm == -sp.log(2 * sp.pi * pr.SIGMA2) / 2
    assert pr.LOG_MUL.apply(sp.log(2 * sp.pi * pr.SIGMA2), Context()) is None
    assert math.isclose(float(sp.N(norm.subs(pr.SIGMA2, 1))), -math.log(2 * math.pi) / 2)


# --- the numeric checker (derive/check.py) ---------------------------------------------------


def test_gaussian_passes_the_jax_check(gaussian):
    pytest.importorskip(
        "derive.check", reason="derive/check.py (the JAX checker) is not written yet"
    )
    report = gaussian.check(trials=3)
    assert report.passed, report.failure
