"""`derive export`: the whole catalogue as one LaTeX book (compiled with pdflatex) or as
Markdown files with an index, through the real entry point."""

import os
import pathlib
import re
import shutil
import subprocess
import sys

import pytest
import sympy as sp

import derive
from derive.render import linebreak
from derive.render.latex import render_book

DERIVE = str(pathlib.Path(sys.executable).parent / "derive")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own entry point
        [DERIVE, *args], capture_output=True, text=True, timeout=900, check=False
    )


def catalogue() -> list[str]:
    res = run("list")
    assert res.returncode == 0, res.stderr
    return [line.split()[0] for line in res.stdout.splitlines() if line.strip()]


def test_markdown_writes_one_file_per_derivation_and_an_index(tmp_path):
    names = catalogue()
    res = run("export", "--all", "--format", "markdown", "--output", str(tmp_path), "--no-check")
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{n}.md" for n in names] + ["index.md"]
    )
    index = (tmp_path / "index.md").read_text(encoding="utf-8")
    for n in names:
        assert f"]({n}.md)" in index
        assert (tmp_path / f"{n}.md").read_text(encoding="utf-8").startswith("## ")
    # Progress on stderr, one line per derivation when stderr is not a terminal.
    assert f"{len(names)}/{len(names)} done" in res.stderr
    assert res.stdout.startswith(f"wrote {len(names) + 1} files")


def test_named_entries_are_checked(tmp_path):
    res = run("export", "bernoulli-ce", "--format", "markdown", "--output", str(tmp_path))
    assert res.returncode == 0, res.stderr
    text = (tmp_path / "bernoulli-ce.md").read_text(encoding="utf-8")
    assert "verified against JAX autodiff" in text


@pytest.mark.parametrize(
    "args",
    [
        ("export", "--format", "markdown"),  # no --output
        ("export", "--output", "x"),  # neither --all nor a name
        ("export", "--all", "softmax-ce", "--output", "x"),  # both
        ("export", "no-such-entry", "--output", "x"),
    ],
)
def test_bad_export_is_one_line_and_exit_2(args):
    res = run(*args)
    assert res.returncode == 2
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr


@pytest.mark.slow
def test_latex_book_of_everything_is_verified_and_compiles(tmp_path):
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        if os.environ.get("CI"):
            pytest.fail("pdflatex is not installed")
        pytest.skip("pdflatex is not installed")
    names = catalogue()
    res = run("export", "--all", "--format", "latex", "--output", str(tmp_path))
    assert res.returncode == 0, res.stdout + res.stderr
    source = (tmp_path / "derive.tex").read_text(encoding="utf-8")
    assert r"\tableofcontents" in source
    assert source.count(r"\section{") == len(names)
    assert "NOT VERIFIED" not in source
    for _ in range(2):  # twice: the table of contents is filled in on the second pass
        proc = subprocess.run(  # noqa: S603 - a fixed command on a file we wrote
            [pdflatex, "-halt-on-error", "-interaction=nonstopmode", "derive.tex"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=300,
            check=False,
        )
        assert proc.returncode == 0, proc.stdout[-3000:]
    toc = (tmp_path / "derive.toc").read_text(encoding="utf-8", errors="replace")
    assert toc.count(r"\contentsline {section}") == len(names)
    # Papers that look like papers (issue #18, item 6): nothing runs into the margin …
    log = (tmp_path / "derive.log").read_text(encoding="utf-8", errors="replace")
    overfull = [float(w) for w in re.findall(r"Overfull \\hbox \(([\d.]+)pt too wide", log)]
    assert max(overfull, default=0.0) <= 10.0, sorted(overfull)[-5:]
    # … the fonts are vector Latin Modern, Type 1 (.pfb): T1 Computer Modern would be bitmaps
    # (.pk), as the fonts embedded at the end of the log (wrapped at 79 columns) would say …
    embedded = log.replace("\n", "")
    assert "/lm/lmr10.pfb>" in embedded and "pk>" not in embedded
    # … and no character is shown by its code point.
    assert "[U+" not in source


# --- papers that look like papers (issue #18, item 6) -----------------------------------------


def test_no_code_point_placeholders_in_any_output():
    """Every symbol the printers emit has a LaTeX form: no [U+…] anywhere, over the whole
    catalogue and the MLE families, in every format."""
    from tests.shelf import shelf

    outputs = 0
    for label, d in shelf():
        for out in (d.to_latex(standalone=True), d._repr_latex_(), d.to_markdown(), d.to_text()):
            assert "[U+" not in out, f"{label}: {out[out.index('[U+') - 80 :][:160]}"
            outputs += 1
    assert outputs == 4 * len(shelf()) >= 76


def test_text_with_any_symbol_has_a_latex_form():
    from derive.notation.latex import escape_text, math_text

    text = "ŵ = (XᵀX)⁻¹Xᵀy, x ∼ 𝒩(μ₀, Σ₀) in ℝᵈ, eᶻ, ℓ(θ), m′, § 2.1, a × b ± c"
    for out in (escape_text(text), math_text(text)):
        assert "[U+" not in out, out
    assert r"\ensuremath{\hat{w}}" in escape_text("ŵ")  # precomposed, or w and U+0302
    assert escape_text("ŵ") == escape_text("w\u0302")
    assert r"\ensuremath{\mathcal{N}}" in escape_text("𝒩")
    assert r"\ensuremath{^{d}}" in escape_text("ℝᵈ")
    assert escape_text("Cramér–Rao") == "Cramér--Rao"  # Latin-1 text stays text
    assert math_text("the score for μ") == r"\text{the score for }\mu"


def test_the_preamble_sets_vector_fonts():
    d = derive.worked("softmax-ce", check=False)
    for doc in (d.to_latex(standalone=True), render_book([d], "Book")):
        assert r"\usepackage[T1]{fontenc}" in doc and r"\usepackage{lmodern}" in doc


def test_greek_letters_in_titles():
    d = derive.gradient(r"\log\det\Sigma", "Sigma", assume={"Sigma": "spd"}, check=False)
    assert d.title == "Gradient with respect to Σ"
    book = render_book([d], "Book")
    assert r"\section{Gradient with respect to \ensuremath{\Sigma}}" in book
    assert "Sigma}" not in book.split(r"\section")[1].split("\n")[0]


def _plain(line: str) -> str:
    r"""A broken line as the formula it came from: \bigl( back to \left(, no leading {}."""
    line = re.sub(r"\\[bB]ig([lr])", lambda m: {"l": r"\left", "r": r"\right"}[m[1]], line)
    return line.removeprefix("{} ")


def test_a_long_sum_breaks_before_its_outermost_signs():
    n = sp.Symbol("n")
    x = sp.MatrixSymbol("x", n, 1)
    terms = [sp.MatMul(sp.MatrixSymbol(f"A_{k}", n, n), x) for k in range(12)]
    tex = derive.notation.latex.latex(sp.MatAdd(*terms))
    lines = linebreak.break_lines(tex, 150.0, 140.0)
    assert len(lines) >= 3
    assert all(linebreak.width(line) <= 150.0 for line in lines)
    assert all(line.startswith("{} +") for line in lines[1:])
    assert " ".join(lines).replace("{} ", "") == tex  # cut, nothing else changed


def test_a_long_bracket_is_opened_with_sized_delimiters():
    r"""C(a + b + …) has no outer sign to break at: the bracket's \left( … \right) become
    \bigl( … \bigr), and the lines break inside it, braces balanced on every line."""
    n = sp.Symbol("n")
    x = sp.MatrixSymbol("x", n, 1)
    inner = sp.MatAdd(*[sp.MatMul(sp.MatrixSymbol(f"B_{k}", n, n), x) for k in range(12)])
    tex = derive.notation.latex.latex(sp.MatMul(sp.MatrixSymbol("C", n, n), inner))
    lines = linebreak.break_lines(tex, 160.0)
    assert len(lines) >= 3 and r"\bigl(" in lines[0] and r"\bigr)" in lines[-1]
    for line in lines:
        assert line.count("{") == line.count("}"), line
        assert line.count(r"\left") == line.count(r"\right"), line
    assert " ".join(_plain(line) for line in lines).split() == tex.split()


def test_what_fits_or_cannot_break_comes_back_whole():
    assert linebreak.break_lines(r"A x - b", 100.0) == [r"A x - b"]
    frac = r"\frac{" + " + ".join(f"a_{{{k}}}" for k in range(40)) + "}{n}"
    assert linebreak.break_lines(frac, 100.0) == [frac]  # inside braces: never cut


def test_width_estimates_are_not_below_what_tex_sets():
    """Against pdflatex's widths of a few formulas (Latin Modern, 10 pt, display style, in
    points, measured with \\sbox and \\the\\wd): the estimate may be generous, never more than
    10% short."""
    inverse = r"\left(X \left(X^{\top} X\right)^{-1}\right)^{\top}"
    trace = r"\operatorname{tr}\left(" + inverse + r" \,\mathrm{d}X\right)"
    softmax = (
        r"\operatorname{softmax}\left(W_{2} \tanh{\left(W_{1} x + b_{1} \right)} + b_{2}\right)"
    )
    measured = {
        r"\left(A^{\top} X^{\top} + X^{\top} A^{\top}\right) X^{\top}": 99.0,
        trace: 116.4,
        r"\frac{\partial f}{\partial z} = \sigma(z) - y": 64.0,
        softmax + r"^{\top} W_{2}": 173.2,
    }
    for tex, true in measured.items():
        assert true * 0.9 <= linebreak.width(tex) <= true * 1.5, (tex, linebreak.width(tex))
