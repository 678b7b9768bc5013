r"""Jupyter display (issue #18, item 4): ``repr`` is one line, and ``_repr_mimebundle_`` offers
text/plain (short), text/latex (KaTeX-safe, so that VS Code and GitHub render it as Jupyter's
MathJax does) and text/markdown.

KaTeX safety is checked two ways: every control word and environment of the catalogue's
text/latex is one KaTeX renders (the list below, each rendered by KaTeX 0.16 in strict mode),
and, where node and a copy of KaTeX are at hand, KaTeX itself renders every block strictly.
"""

from __future__ import annotations

import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest
import sympy as sp

import derive
from derive.notation.latex import latex
from derive.notation.text import text
from tests.shelf import shelf as catalogue_and_families

# Control words KaTeX 0.16 renders with strict: "error" (each checked with katex.renderToString).
KATEX_COMMANDS = set(
    r"""\S \P \Sigma \Gamma \Delta \Theta \Lambda \Xi \Pi \Upsilon \Phi \Psi \Omega \alpha \beta
    \gamma \delta \epsilon \varepsilon \zeta \eta \theta \vartheta \iota \kappa \lambda \mu \nu
    \xi \pi \rho \sigma \varsigma \tau \upsilon \phi \varphi \chi \psi \omega \bar \hat \tilde
    \begin \end \cdot \circ \det \doteq \dots \ldots \cdots \vdots \ddots \ell \frac \tfrac \geq
    \leq \neq \approx \equiv \propto \pm \mp \in \notin \subset \subseteq \supseteq \cup \cap
    \ll \gg \int \sum \prod \left \right \log \exp \tanh \sinh \cosh \sin \cos \tan \max \min
    \mathbb \mathbf \mathcal \mathrm \mathsf \mathtt \mathfrak \mid \nabla \odot \otimes
    \operatorname \partial \prime \qquad \quad \sim \sqrt \text \textbf \textit \texttt \times
    \div \top \to \mapsto \Rightarrow \Leftrightarrow \leftarrow \forall \exists \infty \surd
    \emptyset \wedge \vee \neg \langle \rangle \parallel \backslash \bigl \bigr \Bigl \Bigr
    \lVert \rVert""".split()
)
# Inside \text{…}: ASCII, and what KaTeX strict accepts there (Latin-1 letters, typographic
# punctuation); Greek, ∂, superscripts and the like must be set in maths instead.
TEXT_OK = re.compile(r"[\x20-\x7e\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff–—‘’“”…·£©®°]*")


@pytest.fixture(scope="module")
def shelf() -> list[derive.Derivation]:
    """The catalogue and the MLE families, unchecked (the checker is tested elsewhere)."""
    return [d for _, d in catalogue_and_families()]


@pytest.fixture(scope="module")
def checked() -> derive.Derivation:
    return derive.gradient(r"\frac12\|Ax-b\|_2^2", "x", shapes={"A": ("m", "n")})


def test_repr_is_one_short_line(shelf, checked) -> None:
    for d in [*shelf, checked]:
        r = repr(d)
        assert "\n" not in r and len(r) < 200, r
        assert r.startswith("<Derivation") and r.endswith(")>"), r
        assert f"{len(d.steps)} step" in r
    steps = len(checked.steps)
    assert repr(checked) == f"<Derivation: ∂f/∂x = Aᵀ(Ax − b) ({steps} steps, verified)>"
    mlp = next(d for d in shelf if d.name == "mlp-backprop")
    assert repr(mlp).startswith("<Derivation 'mlp-backprop': ∂f/∂W₂ = δ₂hᵀ and 3 more results (")
    assert repr(mlp).endswith(", not checked)>")


def test_the_bundle_offers_three_types_and_honours_include_and_exclude(checked) -> None:
    bundle = checked._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "text/latex", "text/markdown"}
    assert bundle["text/latex"] == checked._repr_latex_()
    assert bundle["text/markdown"] == checked.to_markdown() == checked._repr_markdown_()
    assert set(checked._repr_mimebundle_(include={"text/latex"})) == {"text/latex"}
    assert set(checked._repr_mimebundle_(exclude={"text/latex"})) == {
        "text/plain",
        "text/markdown",
    }
    assert checked._repr_mimebundle_(include=(), exclude=None) == {}


def test_text_plain_is_the_title_the_results_and_the_verification(shelf, checked) -> None:
    plain = checked._repr_mimebundle_()["text/plain"]
    assert plain.splitlines() == [
        "Gradient with respect to x",
        "  ∂f/∂x = Aᵀ(Ax − b)",
        f"  {checked.verification.summary()}",
    ]
    for d in shelf:
        lines = d._repr_mimebundle_(include={"text/plain"})["text/plain"].splitlines()
        assert lines[0] == d.title
        equations = len(d.results) + len(d.index_results)  # index forms follow the results
        assert len(lines) == 1 + equations + len(d.definitions) + 1
        for (lhs, rhs), line in zip(d.results, lines[1:], strict=False):
            assert line == f"  {text(lhs)} = {text(rhs)}"
        assert lines[-1] == "  not checked numerically"
        assert not any(step.rule.name in "\n".join(lines) for step in d.steps[:3])


@pytest.fixture(scope="module")
def blocks(shelf) -> dict[str, str]:
    """Each derivation's text/latex, by label."""
    labels = [label for label, _ in catalogue_and_families()]
    return {k: d._repr_mimebundle_()["text/latex"] for k, d in zip(labels, shelf, strict=True)}


def test_text_latex_shows_every_result(shelf, blocks) -> None:
    for d, tex in zip(shelf, blocks.values(), strict=True):
        for lhs, rhs in d.results:
            assert f"{latex(lhs)} &= {latex(rhs)}" in tex, d.name


def test_text_latex_holds_the_result_and_the_verification_line(checked) -> None:
    tex = checked._repr_latex_()
    assert tex.startswith("$$\\begin{aligned}\n") and tex.endswith("\n\\end{aligned}$$")
    assert tex.count("$$") == 2
    assert r"&\textbf{Gradient with respect to x}" in tex
    assert r"&\text{Result:} \\" + "\n" + r"\frac{\partial f}{\partial x} &= A^{\top}" in tex
    assert r"\textit{verified against JAX autodiff: 5 trials" in tex
    assert r"\parbox" not in tex and r"\\*" not in tex


def test_text_latex_uses_only_what_katex_renders(shelf, blocks) -> None:
    assert len(blocks) == len(shelf) >= 19
    for name, tex in blocks.items():
        assert tex.startswith("$$\\begin{aligned}\n") and tex.endswith("\n\\end{aligned}$$")
        assert tex.count("$$") == 2, name
        unknown = set(re.findall(r"\\[A-Za-z]+", tex)) - KATEX_COMMANDS
        assert not unknown, f"{name}: {sorted(unknown)}"
        assert set(re.findall(r"\\begin\{([^}]*)\}", tex)) == {"aligned"}, name
        assert r"\\*" not in tex and "[U+" not in tex, name
        for inside in re.findall(r"\\text(?:bf|it)?\{([^{}]*)\}", tex):
            assert TEXT_OK.fullmatch(inside), f"{name}: KaTeX refuses text {inside!r}"


def _katex() -> pathlib.Path | None:
    """A copy of KaTeX to run: $DERIVE_KATEX, else one shipped inside the package."""
    if os.environ.get("DERIVE_KATEX"):
        return pathlib.Path(os.environ["DERIVE_KATEX"])
    root = pathlib.Path(derive.__file__).parent
    found = sorted(root.rglob("katex.min.js")) + sorted(root.rglob("katex.js"))
    return found[0] if found else None


RENDER = r"""
const katex = require(process.argv[1]);
let input = "";
process.stdin.on("data", (c) => (input += c));
process.stdin.on("end", () => {
  const failures = [];
  for (const [name, tex] of Object.entries(JSON.parse(input))) {
    try {
      katex.renderToString(tex, { displayMode: true, throwOnError: true, strict: "error" });
    } catch (e) {
      failures.push(name + ": " + String(e.message || e).slice(0, 300));
    }
  }
  process.stdout.write(JSON.stringify(failures));
});
"""


def test_katex_renders_every_block_strictly(blocks) -> None:
    node, katex = shutil.which("node"), _katex()
    if node is None or katex is None:
        pytest.skip("needs node and KaTeX (set DERIVE_KATEX to katex.js, or vendor it)")
    maths = {name: tex[2:-2] for name, tex in blocks.items()}
    out = subprocess.run(  # noqa: S603 - a fixed script on our own output
        [node, "-e", RENDER, str(katex)],
        input=json.dumps(maths),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert json.loads(out.stdout) == []


def test_markdown_and_latex_of_a_derivation_with_no_steps() -> None:
    x = sp.MatrixSymbol("x", sp.Symbol("n"), 1)
    d = derive.Derivation(
        "Identity", "", (derive.Given("x", ("n",)),), None, (), (), ((sp.Symbol("y"), x),)
    )
    bundle = d._repr_mimebundle_()
    assert bundle["text/plain"].splitlines() == ["Identity", "  y = x", "  not checked numerically"]
    assert r"y &= x" in bundle["text/latex"] and "## Identity" in bundle["text/markdown"]
    assert repr(d) == "<Derivation: y = x (0 steps, not checked)>"
