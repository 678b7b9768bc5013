"""The printers: exact notation for each node, and documents that parse or compile.

Derivations here are built by hand from Step/Given/RuleRef/CheckReport, so these tests
depend on the data model and the expression nodes only, not on the engine.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix

import derive
from derive.expr import (
    DifferentialSymbol,
    GradientOf,
    HessianOf,
    JacobianOf,
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
from derive.model import CheckReport, Derivation, Given, ItemCheck, Remark, RuleRef, Step
from derive.notation.latex import latex
from derive.notation.text import text
from derive.render import json as rjson
from derive.render import latex as rlatex
from derive.render import markdown as rmarkdown
from derive.render import text as rtext

m, n = sp.symbols("m n", integer=True, positive=True)
A = sp.MatrixSymbol("A", m, n)
x = sp.MatrixSymbol("x", n, 1)
b = sp.MatrixSymbol("b", m, 1)
X = sp.MatrixSymbol("X", n, n)
y = sp.MatrixSymbol("y", n, 1)
z = sp.MatrixSymbol("z", n, 1)
w = sp.MatrixSymbol("w", n, 1)
Xd = sp.MatrixSymbol("X", m, n)
f = sp.Symbol("f")
g = sp.Symbol("g")
t = sp.Symbol("t", real=True)
sigma, mu = sp.symbols("sigma mu")
r = sp.MatAdd(sp.MatMul(A, x), sp.MatMul(-1, b))  # A x − b
dxs = DifferentialSymbol(x)
dX = DifferentialSymbol(X)

# (expression, LaTeX, text): the notation each printer must produce, exactly.
CASES = [
    (sp.MatMul(sp.Transpose(A), r), r"A^{\top} \left(A x - b\right)", "Aᵀ(Ax − b)"),
    (sp.Transpose(r), r"\left(A x - b\right)^{\top}", "(Ax − b)ᵀ"),
    (sp.Transpose(X), r"X^{\top}", "Xᵀ"),
    (sp.Inverse(X), r"X^{-1}", "X⁻¹"),
    (sp.Transpose(sp.Inverse(X)), r"X^{-\top}", "X⁻ᵀ"),
    (sp.Inverse(sp.Transpose(X)), r"X^{-\top}", "X⁻ᵀ"),
    (
        sp.Inverse(sp.MatMul(sp.Transpose(A), A)),
        r"\left(A^{\top} A\right)^{-1}",
        "(AᵀA)⁻¹",
    ),
    (
        sp.Trace(sp.MatMul(sp.Inverse(X), dX)),
        r"\operatorname{tr}\left(X^{-1} \,\mathrm{d}X\right)",
        "tr(X⁻¹ dX)",
    ),
    (sp.log(sp.Determinant(X)), r"\log\det(X)", "log det(X)"),
    (sp.Determinant(X), r"\det(X)", "det(X)"),
    (sp.MatAdd(Softmax(z), sp.MatMul(-1, y)), r"\operatorname{softmax}(z) - y", "softmax(z) − y"),
    (sp.MatAdd(sp.MatMul(-1, y), Softmax(z)), r"\operatorname{softmax}(z) - y", "softmax(z) − y"),
    (LogSumExp(z), r"\operatorname{lse}(z)", "lse(z)"),
    (sp.HadamardProduct(x, y), r"x \odot y", "x ∘ y"),
    (sp.KroneckerProduct(A, X), r"A \otimes X", "A ⊗ X"),
    (sp.OneMatrix(n, 1), r"\mathbf{1}", "𝟏"),
    (sp.MatMul(sp.OneMatrix(1, n), y), r"\mathbf{1}^{\top} y", "𝟏ᵀy"),
    (sp.OneMatrix(n, n), r"\mathbf{1}\mathbf{1}^{\top}", "𝟏𝟏ᵀ"),
    (sp.Identity(n), "I", "I"),
    (sp.ZeroMatrix(n, 1), "0", "0"),
    (DiagMatrix(x), r"\operatorname{diag}(x)", "diag(x)"),
    (dX, r"\mathrm{d}X", "dX"),
    (DifferentialSymbol(sp.MatrixSymbol("sigma", n, 1)), r"\mathrm{d}\sigma", "dσ"),
    (ScalarDifferentialSymbol(sigma), r"\mathrm{d}\sigma", "dσ"),
    (MatDifferential(X), r"\mathrm{d}X", "dX"),
    (MatDifferential(sp.MatMul(A, x)), r"\mathrm{d}\left(A x\right)", "d(Ax)"),
    (ScalarDifferential(f), r"\mathrm{d}f", "df"),
    (GradientOf(f, X), r"\frac{\partial f}{\partial X}", "∂f/∂X"),
    (HessianOf(f, x), r"\frac{\partial^2 f}{\partial x\,\partial x^{\top}}", "∂²f/∂x∂xᵀ"),
    (JacobianOf(g, x), r"\frac{\partial g}{\partial x^{\top}}", "∂g/∂xᵀ"),
    (sp.Symbol("sigma"), r"\sigma", "σ"),
    (sp.Symbol("Sigma"), r"\Sigma", "Σ"),
    (sp.Symbol("mu_hat"), r"\hat{\mu}", "μ̂"),
    (sp.Symbol("x_bar"), r"\bar{x}", "x̄"),
    (sigma**2, r"\sigma^{2}", "σ²"),
    (sigmoid(t), r"\sigma(t)", "σ(t)"),
    (softplus(t), r"\operatorname{softplus}(t)", "softplus(t)"),
    (sp.log(t), r"\log(t)", "log(t)"),
    (elementwise(sp.log, sp.MatMul(A, x)), r"\log(A x)", "log(Ax)"),
    (elementwise(sp.exp, z), r"\exp(z)", "exp(z)"),
    (elementwise(sigmoid, sp.MatMul(Xd, w)), r"\sigma(X w)", "σ(Xw)"),
    (elementwise(sp.Lambda(t, t**2), x), r"x^{\circ 2}", "x∘²"),
    (elementwise(sp.Lambda(t, 1 / t), x), r"x^{\circ -1}", "x∘⁻¹"),
    (
        elementwise(sp.Lambda(t, t * (1 - t)), elementwise(sigmoid, z)),
        r"\sigma(z) \odot \left(1 - \sigma(z)\right)",
        "σ(z) ∘ (1 − σ(z))",
    ),
    (sp.MatMul(sp.Rational(1, 2), sp.Transpose(A), x), r"\frac{1}{2} A^{\top} x", "(1/2)Aᵀx"),
    (sp.MatMul(-1, A, x), r"-A x", "−Ax"),
    (
        MatScalar(sp.MatMul(sp.Transpose(r), r)) / 2,
        r"\frac{1}{2} \left(A x - b\right)^{\top} \left(A x - b\right)",
        "(1/2)(Ax − b)ᵀ(Ax − b)",
    ),
    (
        sp.MatMul(MatScalar(sp.MatMul(sp.Transpose(x), y)), z),
        r"\left(x^{\top} y\right) z",
        "(xᵀy)z",
    ),
    (
        elementwise(sp.Lambda(t, 1 - t), r),
        r"1 - \left(A x - b\right)",
        "1 − (Ax − b)",
    ),
]


@pytest.mark.parametrize(("e", "tex", "txt"), CASES, ids=[c[2] for c in CASES])
def test_notation(e: sp.Basic, tex: str, txt: str) -> None:
    assert latex(e) == tex
    assert text(e) == txt


def test_sum_and_index_notation() -> None:
    i = sp.Symbol("i", integer=True)
    xi = sp.IndexedBase("x")
    s = sp.Sum((xi[i] - mu) ** 2, (i, 1, n))
    assert text(s) == "∑ᵢ₌₁ⁿ (xᵢ − μ)²"
    assert text(xi[i]) == "xᵢ"
    assert latex(s) == r"\sum_{i=1}^{n} \left({x}_{i} - \mu\right)^{2}"
    assert text(sigma**-1) == "σ⁻¹"
    assert text(-n / (2 * sigma**2)) == "−n/(2σ²)"


def test_minus_is_unicode_in_text() -> None:
    assert "-" not in text(sp.MatAdd(sp.MatMul(A, x), sp.MatMul(-2, b)))
    assert text(sp.MatAdd(sp.MatMul(A, x), sp.MatMul(-2, b))) == "Ax − 2b"


# --- derivations ------------------------------------------------------------------------------

F = MatScalar(sp.MatMul(sp.Transpose(r), r)) / 2


def _rule(i: str, name: str, source: str) -> RuleRef:
    return RuleRef(i, name, source)


def least_squares(checked: bool = True) -> Derivation:
    """f = ½(Ax − b)ᵀ(Ax − b) by differentials, as the engine would lay it out."""
    df = ScalarDifferential(f)
    d_half = (
        MatScalar(sp.MatMul(sp.Transpose(MatDifferential(r)), r)) / 2
        + MatScalar(sp.MatMul(sp.Transpose(r), MatDifferential(r))) / 2
    )
    d_expanded = MatScalar(sp.MatMul(sp.Transpose(r), A, dxs))
    g_form = MatScalar(sp.MatMul(sp.Transpose(sp.MatMul(sp.Transpose(A), r)), dxs))
    grad = sp.MatMul(sp.Transpose(A), r)
    steps = (
        Step(f, F, F, _rule("def", "definition", "given"), note="σ² = ∑ᵢ rᵢ² − μ & 100% #1_a"),
        Step(
            df,
            ScalarDifferential(F),
            d_half,
            _rule("prod", "product rule", "Matrix Cookbook (2012) eq. (37)"),
        ),
        Step(df, d_half, d_expanded, _rule("lin", "d(Ax − b) = A dx", "Matrix Cookbook eq. (34)")),
        Step(df, d_expanded, g_form, _rule("rearr", "rearrange", "transpose of a product")),
        Step(
            GradientOf(f, x),
            g_form,
            grad,
            _rule("ident", "identification", "Magnus & Neudecker (2019) Table 9.2"),
            relation="gradient",
            note="Cookbook layout: the gradient has the shape of x",
        ),
    )
    report = CheckReport(
        passed=True,
        max_rel_error=2.5e-16,
        trials=5,
        seed=0,
        items=(
            ItemCheck("step 1", True, 0.0, "equal"),
            ItemCheck("∂f/∂x", True, 2.5e-16, "jax.grad"),
        ),
    )
    return Derivation(
        title="Least squares: ∂f/∂x",
        goal="∂f/∂x, the gradient of f = ½‖Ax − b‖² (shape of x)",
        given=(
            Given("A", ("m", "n")),
            Given("b", ("m",)),
            Given("x", ("n",)),
            Given("mu_hat", (), ("positive",)),
        ),
        objective=F,
        wrt=("x",),
        steps=steps,
        results=((GradientOf(f, x), grad),),
        verification=report if checked else None,
        name="least-squares",
        remarks=(
            Remark.stated(
                "Setting Aᵀ(Ax − b) = 0 gives the normal equations AᵀA x = Aᵀb ⇒ x̂.",
                "a textbook & its 2nd ed., §3_1",
            ),
            Remark.prose(
                "Text that is not maths survives: naïve café, “quotes” — 中文 🙂 q̃ ‖r‖₂ ≤ ½."
            ),
        ),
    )


def log_det() -> Derivation:
    """log det X: a short derivation with a Greek-named symbol and a failed check."""
    S = sp.MatrixSymbol("Sigma", n, n)
    dS = DifferentialSymbol(S)
    lhs = sp.log(sp.Determinant(S))
    step1 = Step(
        ScalarDifferential(f),
        ScalarDifferential(lhs),
        sp.Trace(sp.MatMul(sp.Inverse(S), dS)),
        _rule("logdet", "d log det", "Matrix Cookbook (2012) eq. (57)"),
    )
    step2 = Step(
        GradientOf(f, S),
        step1.after,
        sp.Transpose(sp.Inverse(S)),
        _rule("ident", "identification", "Cookbook layout"),
        relation="gradient",
    )
    report = CheckReport(
        passed=False,
        max_rel_error=float("inf"),
        trials=3,
        seed=7,
        items=(ItemCheck("step 1", False, float("nan"), "jvp"),),
        failure="step 1: d log det Σ ≠ tr(Σ⁻¹ dΣ) at seed 7",
    )
    return Derivation(
        title="Log-determinant",
        goal="∂ log det Σ / ∂Σ",
        given=(Given("Sigma", ("n", "n"), ("invertible",), role="parameter"),),
        objective=lhs,
        wrt=("Sigma",),
        steps=(step1, step2),
        results=((GradientOf(f, S), sp.Transpose(sp.Inverse(S))),),
        verification=report,
        name="log-det",
    )


LONG_SOURCE = (
    "first identification theorem (Magnus & Neudecker, Matrix Differential Calculus, "
    "3rd ed., ch. 9); for Hadamard factors, elementary: both sides are sums of G_ij A_ij"
)


def gaussian_mean() -> Derivation:
    """μ̂ for a Gaussian: relations "constant", "gradient" (with a "from" line) and "solve"."""
    i = sp.Symbol("i", integer=True)
    xi = sp.IndexedBase("x")
    L = sp.Symbol("L")
    nll = (
        n * sp.log(sigma)
        + sp.Sum((xi[i] - mu) ** 2, (i, 1, n)) / (2 * sigma**2)
        + n * sp.log(2 * sp.pi) / 2
    )
    kept = n * sp.log(sigma) + sp.Sum((xi[i] - mu) ** 2, (i, 1, n)) / (2 * sigma**2)
    dmu = sp.Mul(-1, sp.Sum(xi[i] - mu, (i, 1, n)), evaluate=False) / sigma**2
    dL = ScalarDifferential(kept)
    steps = (
        Step(L, nll, kept, _rule("drop", "drop constants", "—"), relation="constant"),
        Step(
            GradientOf(L, mu),
            dL,
            dmu,
            _rule("read", "read off ∂L/∂μ", LONG_SOURCE),
            relation="gradient",
        ),
        Step(
            sp.Symbol("mu_hat"),
            dmu,
            sp.Sum(xi[i], (i, 1, n)) / n,
            _rule("solve", "stationary point", "first-order condition"),
            relation="solve",
        ),
    )
    return Derivation(
        title="Gaussian mean (MLE)",
        goal="μ̂ = argmin L(μ)",
        given=(Given("x", ("n",), role="data"), Given("sigma", (), ("positive",))),
        objective=nll,
        wrt=("mu",),
        steps=steps,
        results=((sp.Symbol("mu_hat"), sp.Sum(xi[i], (i, 1, n)) / n),),
        name="gaussian-mean",
    )


def test_relations_in_text_and_latex() -> None:
    d = gaussian_mean()
    lines = rtext.render(d).splitlines()
    assert "  1. L ≐ n log(σ) + ∑ᵢ₌₁ⁿ (xᵢ − μ)²/(2σ²)" in lines
    assert "       by drop constants — — (equal up to an additive constant)" in lines
    assert "     from d(n log(σ) + ∑ᵢ₌₁ⁿ (xᵢ − μ)²/(2σ²))" in lines
    assert "  3. μ̂ = ∑ᵢ₌₁ⁿ xᵢ/n" in lines
    assert "  x: n-vector (data)" in lines and "  σ: scalar, positive" in lines
    tex = rlatex.render(d)
    assert r"&\doteq n \log(\sigma)" in tex
    assert r"\text{from}\quad & \mathrm{d}\left(n \log(\sigma)" in tex
    assert r"\hat{\mu} &= \frac{\sum_{i=1}^{n} {x}_{i}}{n}" in tex
    # A long citation wraps in a box of the page's width rather than running off it.
    assert re.search(r"&\\qquad \\parbox\[t\]\{\d+pt\}\{\\raggedright \(2\) read off", tex)
    assert r"\parbox" not in d._repr_latex_()  # MathJax has no \parbox


def empty() -> Derivation:
    """Nothing derived yet: no steps, no results, no objective."""
    return Derivation(
        title="", goal="", given=(), objective=None, wrt=(), steps=(), results=(), name="empty"
    )


def test_empty_derivation() -> None:
    d = empty()
    assert rtext.render(d).splitlines() == ["empty", "not checked numerically (--no-check)"]
    assert rjson.to_dict(d)["result"] is None and rjson.to_dict(d)["steps"] == []
    assert r"\begin{align" not in rlatex.render(d)
    assert d._repr_latex_() == (  # the name and the verification line, nothing else
        "$$\\begin{aligned}\n&\\textbf{empty} \\\\[1ex]\n&\\textit{not checked numerically}\n"
        "\\end{aligned}$$"
    )
    assert rmarkdown.render(d).startswith("## empty\n")


def test_display_rows_chain_and_read_off() -> None:
    rows = rlatex.display_rows(least_squares().steps)
    kinds = [(row.kind, row.number) for row in rows]
    # f = F (start), 1; df: new lhs → start, 2, 3, 4; gradient read off the line above: 5.
    assert kinds == [
        ("start", 0),
        ("step", 1),
        ("start", 0),
        ("step", 2),
        ("step", 3),
        ("step", 4),
        ("step", 5),
    ]
    assert rows[-1].chained is False and rows[-2].chained is True


def test_text_render() -> None:
    out = rtext.render(least_squares())
    lines = out.rstrip("\n").splitlines()
    assert lines[0] == "Least squares: ∂f/∂x"
    assert "Given:" in lines and "  A: m × n matrix" in lines and "  b: m-vector" in lines
    assert "  μ̂: scalar, positive" in lines
    assert "  5. ∂f/∂x = Aᵀ(Ax − b)" in lines
    assert "       by product rule — Matrix Cookbook (2012) eq. (37)" in lines
    assert "Result:" in lines and "  ∂f/∂x = Aᵀ(Ax − b)" in lines
    assert lines[-1] == least_squares().verification.summary()
    unchecked = rtext.render(least_squares(checked=False))
    assert unchecked.rstrip("\n").splitlines()[-1] == "not checked numerically (--no-check)"
    assert str(least_squares()) == out


def _check_schema(value, schema: dict, defs: dict) -> None:
    """A small JSON-Schema validator: the keywords SCHEMA uses, nothing more."""
    if "$ref" in schema:
        return _check_schema(value, defs[schema["$ref"].rsplit("/", 1)[1]], defs)
    if "anyOf" in schema:
        errors = []
        for option in schema["anyOf"]:
            try:
                _check_schema(value, option, defs)
                return None
            except AssertionError as e:
                errors.append(str(e))
        raise AssertionError(f"{value!r} matches no option: {errors}")
    if "const" in schema:
        assert value == schema["const"]
    if "enum" in schema:
        assert value in schema["enum"], value
    types = schema.get("type")
    if types is not None:
        names = {
            "object": dict,
            "array": list,
            "string": str,
            "boolean": bool,
            "null": type(None),
            "integer": int,
            "number": (int, float),
        }
        types = [types] if isinstance(types, str) else types
        ok = any(
            isinstance(value, names[tp]) and not (tp in ("integer", "number") and value is True)
            for tp in types
        )
        assert ok and not (isinstance(value, bool) and "boolean" not in types), (value, types)
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            assert key in value, f"missing {key}"
        if schema.get("additionalProperties") is False:
            assert set(value) <= set(props), set(value) - set(props)
        for key, v in value.items():
            if key in props:
                _check_schema(v, props[key], defs)
    if isinstance(value, list) and "items" in schema:
        for v in value:
            _check_schema(v, schema["items"], defs)
    return None


@pytest.mark.parametrize(
    "make", [least_squares, log_det, gaussian_mean, lambda: least_squares(False)]
)
def test_json_matches_schema(make) -> None:
    d = make()
    doc = json.loads(rjson.render(d))
    assert doc["schema_version"] == rjson.SCHEMA_VERSION == 2
    _check_schema(doc, rjson.SCHEMA, rjson.SCHEMA["$defs"])
    assert doc == rjson.to_dict(d)
    assert set(doc) == set(rjson.SCHEMA["required"])
    assert len(doc["steps"]) == len(d.steps)
    assert doc["result"] == {"latex": latex(d.result), "text": text(d.result)}
    assert json.loads(d.to_json()) == doc


def test_json_fields() -> None:
    doc = rjson.to_dict(least_squares())
    assert doc["given"][0] == {"name": "A", "shape": ["m", "n"], "assumptions": []}
    assert doc["steps"][-1]["relation"] == "gradient"
    assert doc["steps"][1]["rule"] == {
        "id": "prod",
        "name": "product rule",
        "source": "Matrix Cookbook (2012) eq. (37)",
    }
    assert doc["check"]["items"][1]["method"] == "jax.grad"
    assert rjson.to_dict(least_squares(False))["check"] is None
    failed = rjson.to_dict(log_det())["check"]
    assert failed["passed"] is False and failed["max_rel_error"] is None


def test_markdown() -> None:
    md = rmarkdown.render(least_squares())
    assert md.startswith("## Least squares: ∂f/∂x\n")
    assert "| Symbol | Shape | Assumptions |" in md
    assert "$$" in md and r"\begin{align" not in md
    assert md.count("$$") % 2 == 0
    assert r"\frac{\partial f}{\partial x} = A^{\top} \left(A x - b\right)" in md
    assert "5. By identification — Magnus & Neudecker (2019) Table 9.2:" in md
    assert least_squares().verification.summary() in md
    assert least_squares()._repr_markdown_() == md
    index = rmarkdown.render_index([("least-squares", "Least squares", "least squares.md")])
    assert "[Least squares](least%20squares.md)" in index


def test_latex_fragment_and_math() -> None:
    d = least_squares()
    tex = rlatex.render(d)
    assert tex.startswith(r"\begin{align*}")
    assert r"f &= \frac{1}{2} \left(A x - b\right)^{\top} \left(A x - b\right)" in tex
    # Too wide for citations beside the equations: each goes below its line, kept with it.
    assert r"&\qquad \text{(2) product rule, Matrix Cookbook (2012) eq. (37)}" in tex
    assert r"\mathrm{d}f &= \mathrm{d}\left(\frac{1}{2}" in tex
    assert r"\frac{\partial f}{\partial x} &= A^{\top} \left(A x - b\right) \\*" in tex
    assert d.verification.summary() in tex
    assert r"\_" in tex and r"\&" in tex and r"\%" in tex and r"\#" in tex  # the note
    math = d._repr_latex_()
    assert math.startswith("$$\\begin{aligned}") and math.endswith("\\end{aligned}$$")
    assert r"\text{(2) product rule, Matrix Cookbook (2012) eq. (37)}" in math
    assert r"\&" in math and "\\text{" in math


def test_latex_citations_beside_short_lines() -> None:
    d = Derivation(
        title="Trace",
        goal="∂ tr(X)/∂X",
        given=(Given("X", ("n", "n")),),
        objective=sp.Trace(X),
        wrt=("X",),
        steps=(
            Step(
                ScalarDifferential(f),
                ScalarDifferential(sp.Trace(X)),
                sp.Trace(dX),
                _rule("dtr", "d tr", "eq. 1"),
            ),
            Step(
                GradientOf(f, X),
                sp.Trace(dX),
                sp.Identity(n),
                _rule("id", "read off", ""),
                relation="gradient",
            ),
        ),
        results=((GradientOf(f, X), sp.Identity(n)),),
    )
    assert rlatex.render(d).splitlines()[1:4] == [
        r"\mathrm{d}f &= \mathrm{d}\left(\operatorname{tr}\left(X\right)\right) \\",
        r" &= \operatorname{tr}\left(\mathrm{d}X\right) && \text{(1) d tr, eq. 1} \\",
        r"\frac{\partial f}{\partial X} &= I && \text{(2) read off}",
    ]
    assert rlatex.render(d).rstrip().endswith(r"\textit{not checked numerically}")


def test_escape_text() -> None:
    assert rlatex.escape_text("a_b & 50% #1 {x} ~ ^ \\") == (
        r"a\_b \& 50\% \#1 \{x\} \ensuremath{\sim} \textasciicircum{} \textbackslash{}"
    )
    assert rlatex.escape_text("σ²") == r"\ensuremath{\sigma}\ensuremath{^{2}}"
    assert rlatex.escape_text("Aᵀ") == r"A\ensuremath{^{\top}}"
    assert rlatex.escape_text("μ̂ − x") == r"\ensuremath{\hat{\mu}} \ensuremath{-} x"


def _compile(tmp_path: Path, source: str) -> None:
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex is not installed")
        pytest.skip("pdflatex is not installed")
    (tmp_path / "doc.tex").write_text(source, encoding="utf-8")
    proc = subprocess.run(  # noqa: S603 - a fixed command on a file we wrote
        [pdflatex, "-halt-on-error", "-interaction=nonstopmode", "doc.tex"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        errors="replace",  # TeX logs echo input bytes, not always valid UTF-8
        timeout=120,
        check=False,
    )
    log = proc.stdout[-3000:]
    assert proc.returncode == 0, log
    assert (tmp_path / "doc.pdf").exists()


@pytest.mark.slow
@pytest.mark.parametrize("make", [least_squares, log_det, gaussian_mean, empty])
def test_standalone_latex_compiles(tmp_path: Path, make) -> None:
    source = make().to_latex(standalone=True)
    assert r"\documentclass{article}" in source and r"\allowdisplaybreaks" in source
    _compile(tmp_path, source)


@pytest.mark.slow
def test_book_compiles(tmp_path: Path) -> None:
    source = rlatex.render_book([least_squares(), gaussian_mean()], "Matrix calculus — worked")
    assert r"\tableofcontents" in source and source.count(r"\section{") == 2
    _compile(tmp_path, source)


def test_square_roots_of_squared_norms_print_as_norms() -> None:
    """√(uᵀu) is ‖u‖₂ and √tr(XᵀX) is ‖X‖_F, as written by hand, in text and LaTeX."""
    d = derive.gradient(r"\|X\|_F", "X", shapes={"X": ("m", "n")}, check=False)
    assert "‖X‖_F" in d.to_text()
    assert r"\left\|X\right\|_F" in d.to_latex()
    d = derive.gradient(r"\|x - a\|_2", "x", check=False)
    assert "(1/‖x − a‖₂)(x − a)" in d.to_text()
