"""Every remark printed under a derivation is checked by its claims, or marked as stated.

A remark (`derive.model.Remark`) declares its standing: "checked" names the claims of its
derivation that check its formulas, "stated" gives a source and is printed "stated, not
checked (source: …)", "prose" and "condition" assert no formula. These tests walk the whole
catalogue, every MLE family and every MAP prior: each checked remark's claims exist and pass
(each distinct claim checked once, on two trials), each stated one has a source, and every
printer marks the stated ones. Mutations of the claims behind the remarks make them fail.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import sympy as sp

import derive
import derive.families as fm
from derive.check import check_derivation
from derive.likelihood import regression as lr
from derive.likelihood import second_order as so
from derive.likelihood.map_estimate import PRIORS
from derive.likelihood.mle import families
from derive.model import Claim, Derivation, Given, Remark
from derive.render import json as rjson
from derive.render import latex as rlatex
from derive.render import markdown as rmarkdown
from derive.render import text as rtext
from derive.rules import probability as pr

CATALOGUE = [name for name, _ in derive.catalog()]
SOURCES = (
    [f"mle:{f}" for f in families()]
    + [f"map:{p}" for p in PRIORS]
    + [f"worked:{n}" for n in CATALOGUE]
)


def build(source: str) -> Derivation:
    kind, name = source.split(":")
    if kind == "mle":
        return derive.mle(name, check=False)
    if kind == "map":
        return derive.map_estimate("linear-regression", prior=name, check=False)
    return derive.worked(name, check=False)


@pytest.fixture(scope="module")
def built() -> dict[str, Derivation]:
    return {s: build(s) for s in SOURCES}


def backing(d: Derivation) -> tuple[Claim, ...]:
    """The claims of d that its checked remarks name, in d's order."""
    named = {label for r in d.remarks for label in r.checked_by}
    return tuple(c for c in d.claims if c.label in named)


@pytest.fixture(scope="module")
def plan(built: dict[str, Derivation]) -> dict[str, tuple[Claim, ...]]:
    """Per source, the claims behind its remarks not already planned for an earlier source
    (worked gaussian-mle is mle gaussian: its claims are checked once)."""
    seen: list[Claim] = []
    out = {}
    for source, d in built.items():
        out[source] = tuple(c for c in backing(d) if c not in seen)
        seen += out[source]
    return out


def test_every_remark_declares_its_standing(built) -> None:
    counts = {"checked": 0, "stated": 0, "prose": 0, "condition": 0}
    for source, d in built.items():
        labels = [c.label for c in d.claims]
        for r in d.remarks:
            assert isinstance(r, Remark)
            counts[r.kind] += 1
            if r.kind == "checked":
                for label in r.checked_by:
                    assert labels.count(label) == 1, f"{source}: no one claim {label!r}"
            elif r.kind == "stated":
                assert r.source.strip() and not r.checked_by, (source, r)
                assert str(r).endswith(f"stated, not checked (source: {r.source})")
            else:
                assert not r.source and not r.checked_by, (source, r)
    # the catalogue states some remarks and checks far more
    print("remarks by kind:", counts)
    assert counts["checked"] >= 40 and 5 <= counts["stated"] < counts["checked"] / 2, counts
    assert sum(bool(d.remarks) for d in built.values()) >= len(built) - 3  # softmax-ce, …


@pytest.mark.parametrize("source", SOURCES)
def test_the_claims_behind_checked_remarks_pass(built, plan, source: str) -> None:
    d, claims = built[source], plan[source]
    if not claims:  # no checked remark, or the claims of an earlier source (gaussian-mle)
        earlier = SOURCES[: SOURCES.index(source)]
        assert not backing(d) or any(set(backing(d)) <= set(plan[s]) for s in earlier)
        return
    report = check_derivation(replace(d, steps=(), claims=claims), trials=2)
    assert report.passed, report.failure
    assert {i.label for i in report.items} >= {c.label for c in claims}


def test_catalogue_entries_built_on_an_mle_keep_its_remarks(built) -> None:
    same = (("gaussian-mle", "gaussian"), ("mvn-mle", "mvn"), ("ols", "linear-regression"))
    for entry, family in same:
        assert built[f"worked:{entry}"].remarks == built[f"mle:{family}"].remarks
    mle, worked = built["mle:logistic-regression"], built["worked:logistic-regression"]
    assert worked.remarks[: len(mle.remarks)] == mle.remarks
    assert worked.remarks[-1].kind == "checked"  # the Newton demo, by its race claim


# --- the type -------------------------------------------------------------------------------


def test_a_remark_must_declare_what_backs_it() -> None:
    d = derive.mle("bernoulli", check=False)
    with pytest.raises(TypeError, match="not a str"):
        replace(d, remarks=("p̂ = x̄",))
    with pytest.raises(ValueError, match="names the claims"):
        Remark("p̂ = x̄", "checked")
    with pytest.raises(ValueError, match="source"):
        Remark.stated("p̂ = x̄", " ")
    with pytest.raises(ValueError, match="source"):
        Remark("p̂ = x̄", "prose", source="a book")
    with pytest.raises(ValueError, match="checked, stated, prose or condition"):
        Remark("p̂ = x̄", "verified")  # type: ignore[arg-type]
    claim = d.claims[0]
    assert Remark.checked("x", claim).checked_by == (claim.label,)


def test_domain_remarks_are_conditions_and_the_matrix_function_note_is_stated() -> None:
    (logdet,) = derive.gradient(r"\log\det W", "W", check=False).remarks
    assert logdet.kind == "condition" and str(logdet) == "log det W is defined for det W > 0"
    d = derive.gradient(r"\operatorname{tr}(\sin X)", "X", shapes={"X": ("n", "n")}, check=False)
    (entrywise,) = [r for r in d.remarks if "matrix function" in r.text]
    assert entrywise.kind == "stated" and "Cookbook (2012) eq. (128)" in entrywise.source


# --- the printers ----------------------------------------------------------------------------


def _with_each_kind() -> Derivation:
    x = sp.Symbol("x")
    claim = Claim("gradient", "d(x²)/dx = 2x against jax.grad", 2 * x, x**2, ("x",))
    return Derivation(
        title="Kinds of remark",
        goal="",
        given=(Given("x", ()),),
        objective=x**2,
        wrt=("x",),
        steps=(),
        results=((sp.Symbol("g"), 2 * x),),
        claims=(claim,),
        remarks=(
            Remark.checked("d(x²)/dx = 2x", claim),
            Remark.stated("∫₀¹ x² dx = 1/3", "calculus & co., §1_2"),
            Remark.prose("a remark in words"),
            Remark.condition("x is real"),
        ),
    )


def test_every_printer_marks_the_stated_remark_and_only_it() -> None:
    d = _with_each_kind()
    mark = "stated, not checked (source: "
    text = rtext.render(d)
    assert "  - ∫₀¹ x² dx = 1/3 — stated, not checked (source: calculus & co., §1_2)" in text
    assert "  - d(x²)/dx = 2x\n" in text and "  - a remark in words\n" in text
    assert text.count(mark) == 1
    markdown = rmarkdown.render(d)
    assert markdown.count(mark) == 1
    assert "— *stated, not checked (source: calculus & co., §1\\_2)*" in markdown
    tex = rlatex.render(d, standalone=True)
    assert tex.count(mark) == 1
    assert r"--- \emph{stated, not checked (source: calculus \& co., §1\_2)}" in tex
    doc = json.loads(rjson.render(d))
    assert doc["schema_version"] == 2
    assert [r["kind"] for r in doc["remarks"]] == ["checked", "stated", "prose", "condition"]
    assert doc["remarks"][0]["checked_by"] == ["d(x²)/dx = 2x against jax.grad"]
    assert doc["remarks"][1]["source"] == "calculus & co., §1_2"
    assert all(set(r) == {"text", "kind", "checked_by", "source"} for r in doc["remarks"])


# --- mutations: the claims behind the remarks can fail ----------------------------------------


def _fails(d: Derivation, *claims: Claim) -> bool:
    return not check_derivation(replace(d, steps=(), claims=claims), trials=1).passed


def _claim(d: Derivation, start: str) -> Claim:
    (claim,) = [c for c in d.claims if c.label.startswith(start)]
    return claim


def test_a_wrong_second_order_remark_fails_its_claim(monkeypatch) -> None:
    """Were the remark's Hessian at the estimates doubled, its claim would fail: it is judged
    against the derived second derivatives, not against itself."""
    right = derive.mle("gaussian", check=False)
    real = so.hessian_at_estimates
    monkeypatch.setattr(so, "hessian_at_estimates", lambda *a: 2 * real(*a))
    wrong = derive.mle("gaussian", check=False)
    assert "diag(2n/σ̂², n/σ̂⁴)" in wrong.remarks[0].text
    label = "the Hessian of the NLL at"
    assert not _fails(right, _claim(right, label))
    assert _fails(wrong, _claim(wrong, label))


def test_a_wrong_bias_fails_its_monte_carlo_claim(monkeypatch) -> None:
    gaussian = fm.family("gaussian")
    unbiased = replace(gaussian, means={"sigma^2": pr.SIGMA2})  # E[σ̂²] = σ² is false
    monkeypatch.setitem(fm.FAMILIES, "gaussian", unbiased)
    d = derive.mle("gaussian", check=False)
    assert _fails(d, _claim(d, "E[σ̂²]"))


def test_the_linear_regression_second_order_claim_can_fail() -> None:
    d = derive.mle("linear-regression", check=False)
    at = _claim(d, "the gradient of the log-likelihood").at  # (w, ŵ), (σ², σ̂²)
    X, y, n, s2_ = lr.X_DATA, lr.Y_DATA, pr.n, pr.SIGMA2
    h_s2 = _claim(d, "∂²NLL/∂(σ²)²").expr
    cross = _claim(d, "∂²NLL/∂w∂σ²").expr
    parts = {
        "ww": _claim(d, "∂²NLL/∂w∂wᵀ").expr,
        "cross": cross,
        "s2s2": h_s2,
        "stated_ww": sp.MatMul(1 / s2_, sp.Transpose(X), X),
        "stated_cross": cross,
        "stated_s2s2": n / (2 * s2_**2),
        "terms": sp.MatMul(1 / s2_**2, sp.Transpose(X), y),
    }
    assert not _fails(d, lr._second_order_at_estimates(parts, at))
    for key, wrong in (
        ("stated_s2s2", n / s2_**2),  # n/σ̂⁴, the 2 dropped
        ("stated_ww", sp.MatMul(1 / s2_**2, sp.Transpose(X), X)),  # σ̂⁴ for σ̂²
        ("stated_cross", sp.MatMul(1 / s2_**2, sp.Transpose(X), y)),  # Xᵀy/σ̂⁴ ≠ 0
    ):
        assert _fails(d, lr._second_order_at_estimates({**parts, key: wrong}, at)), key
    # the Hessian in w negated is not positive definite
    negated = {**parts, "ww": -parts["ww"], "stated_ww": -parts["stated_ww"]}
    assert _fails(d, lr._second_order_at_estimates(negated, at))


@pytest.mark.parametrize(
    ("source", "start", "mutate"),
    [
        ("mle:linear-regression", "E[σ̂²]", lambda e: e * pr.n / (pr.n - lr.D)),  # unbiased
        ("map:laplace", "σ²·(−log p", lambda e: e.xreplace({pr.SIGMA2: 1})),  # λ = 1/b
        ("map:gaussian", "∂²/∂w∂wᵀ", lambda e: 2 * e),
        ("mle:mvn", "∂²NLL/∂μ∂μᵀ", lambda e: sp.MatMul(2, e)),
        ("mle:mvn", "at μ = μ̂", lambda e: 2 * e),
        ("mle:categorical", "∂²NLL/∂π∂πᵀ", lambda e: sp.MatMul(2, e)),
        ("mle:categorical", "NLL − n·H", lambda e: e / pr.n),
        ("worked:beta-bernoulli", "the posterior mean", lambda e: e + 1 / pr.n),
        ("worked:entropy-gaussian", "Cookbook (389)", lambda e: e + sp.Rational(1, 10)),
        ("worked:fisher-bernoulli", "1/I(p)", lambda e: 2 * e),
    ],
)
def test_a_mutated_claim_behind_a_remark_fails(built, source: str, start: str, mutate) -> None:
    d = built[source]
    claim = _claim(d, start)
    wrong = replace(claim, expr=mutate(claim.expr))
    assert wrong.expr != claim.expr
    assert _fails(d, wrong)


def test_the_kl_and_definiteness_references_can_fail(built) -> None:
    from derive.likelihood.side_claims import positive_definite
    from derive.recipes import kl_gaussians

    kl = built["worked:kl-gaussians"]
    result = kl.results[0][1]
    assert _fails(kl, kl_gaussians._properties(result + 1))  # not 0 at p₁ = p₀
    assert _fails(kl, kl_gaussians._properties(result - 1000))  # negative
    ridge = built["map:gaussian"]
    hessian = _claim(ridge, "∂²/∂w∂wᵀ").expr
    assert not _fails(ridge, positive_definite("H", hessian, hessian, ("w",)))
    assert _fails(ridge, positive_definite("−H", sp.MatMul(-1, hessian), hessian, ("w",)))
