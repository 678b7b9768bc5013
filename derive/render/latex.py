r"""LaTeX documents of derivations: fragments, standalone documents and the book.

`render` walks a `Derivation`: an ``align*`` chain per left-hand side, every step cited by its
rule, then the results and the numeric verification; `render(d, standalone=True)` and
`render_book` make documents that compile with ``pdflatex -halt-on-error``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sympy as sp

from derive.model import Derivation, Given, Step
from derive.notation.latex import escape_text, latex, math_text
from derive.render.layout import citation, display_rows

# --- derivations --------------------------------------------------------------------------------

NOT_CHECKED = "not checked numerically"


def verification_line(d: Derivation, unchecked: str = NOT_CHECKED) -> str:
    """The verification summary of d, or `unchecked` when it was not checked."""
    return d.verification.summary() if d.verification is not None else unchecked


def _relation(step: Step | None) -> str:
    return r"\doteq" if step is not None and step.relation == "constant" else "="


def _visual_len(tex: str) -> int:
    """Roughly how many characters wide LaTeX math is once typeset (a layout heuristic)."""
    s = re.sub(r"\\(left|right|mathrm|operatorname|mathbf|hat|bar|top)\b", "", tex)
    s = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", lambda m: max(m[1], m[2], key=len), s)
    s = re.sub(r"\^\{[^{}]*\}", "x", s)
    s = re.sub(r"\\[a-zA-Z]+", "x", s)
    return len(re.sub(r"[{}\s]", "", s))


# Beyond this width (math characters, citation characters counting 0.7) a line and its
# citation do not fit side by side in an article's text width, so citations go below.
_PAGE_WIDTH = 48
_SCREEN_WIDTH = 110


def _align_body(steps: Sequence[Step], text, width: int, keep: str = r"\\*") -> str:
    """The inside of an align*/aligned block of the steps; `text` typesets a citation.

    Steps whose chain continues print ``&= after && (k) citation``; if the widest line and
    the longest citation do not fit side by side within `width`, each citation goes on its
    own line below its equation instead (``&\\qquad (k) citation``), joined to it by `keep`
    (``\\\\*``: no page break between them; MathJax wants a plain ``\\\\``).
    """
    rows = []  # (math, citation, note): math has its & already
    for row in display_rows(steps):
        if row.kind == "start":
            rows.append((f"{latex(row.lhs)} &= {latex(row.expr)}", None, None))
        elif row.kind == "from":
            zero = " = 0" if row.step.relation == "solve" else ""
            rows.append((rf"{text('from')}\quad & {latex(row.expr)}{zero}", None, None))
        else:
            lhs = "" if row.chained else latex(row.lhs)
            math = f"{lhs} &{_relation(row.step)} {latex(row.expr)}"
            cite = f"({row.number}) {citation(row.step)}"
            rows.append((math, cite, row.step.note or None))
    widest = max((_visual_len(m) for m, _, _ in rows), default=0)
    longest = max((len(c) for _, c, _ in rows if c), default=0)
    side = widest + 0.7 * longest <= width
    lines: list[str] = []
    for math, cite, note in rows:
        if cite is None:
            lines.append(math + r" \\")
        elif side:
            lines.append(f"{math} && {text(cite)}" + r" \\")
            if note:
                lines.append(f"&&& {text(note)}" + r" \\")
        else:
            lines.append(f"{math} {keep}")
            lines.append(rf"&\qquad {text(cite)} " + (keep if note else r"\\"))
            if note:
                lines.append(rf"&\qquad {text(note)}" + r" \\")
    if lines:  # no line break after the last line
        lines[-1] = re.sub(r" \\\\\*?$", "", lines[-1])
    return "\n".join(lines)


# Citations longer than this wrap in a paragraph box below their equation.
_LONG_TEXT = 60


def _doc_text(s: str) -> str:
    """Text inside a displayed equation of a document; long text wraps within the page."""
    if len(s) <= _LONG_TEXT:
        return rf"\text{{{escape_text(s)}}}"
    return rf"\parbox[t]{{0.75\linewidth}}{{\raggedright {escape_text(s)}}}"


def dimension(d: int | str | sp.Basic) -> sp.Basic:
    """A dimension of a `Given` shape as an expression: 3 → 3, "n" → the symbol n."""
    if isinstance(d, sp.Basic):
        return d
    return sp.Integer(d) if isinstance(d, int) else sp.Symbol(str(d))


def shape_latex(g: Given) -> str:
    """The space a given symbol lives in: ``\\mathbb{R}``, ``\\mathbb{R}^{m \\times n}``."""
    dims = [latex(dimension(d)) for d in g.shape]
    if not dims:
        return r"\mathbb{R}"
    return r"\mathbb{R}^{" + r" \times ".join(dims) + "}"


def _fragment(d: Derivation) -> str:
    """The steps (align*), the results and the verification line."""
    out: list[str] = []
    body = _align_body(d.steps, _doc_text, _PAGE_WIDTH)
    if body:
        out += [r"\begin{align*}", body, r"\end{align*}"]
    if d.results:
        results = [f"{latex(lhs)} &= {latex(rhs)}" for lhs, rhs in d.results]
        out += [r"\noindent Result:", r"\begin{align*}", " \\\\\n".join(results), r"\end{align*}"]
    if d.definitions:
        where = [f"{latex(name)} &= {latex(e)}" for name, e, *_ in d.definitions]
        out += [r"\noindent where", r"\begin{align*}", " \\\\\n".join(where), r"\end{align*}"]
    out.append(rf"\noindent\textit{{{escape_text(verification_line(d))}}}")
    return "\n".join(out) + "\n"


def _body(d: Derivation) -> str:
    """Given, goal, objective, the fragment, remarks: one derivation in a document."""
    out: list[str] = []
    if d.given:
        out.append(r"\paragraph{Given.}")
        out.append(r"\begin{itemize}")
        for g in d.given:
            extra = ", ".join(g.assumptions)
            if g.role:
                extra = f"{extra} ({g.role})" if extra else g.role
            item = rf"\item ${latex(sp.Symbol(g.name))} \in {shape_latex(g)}$"
            out.append(item + (f", {escape_text(extra)}" if extra else ""))
        out.append(r"\end{itemize}")
    if d.goal:
        out.append(rf"\paragraph{{Goal.}} {escape_text(d.goal)}")
    if d.objective is not None:
        out += [r"\paragraph{Objective.}", rf"\[ {latex(d.objective)} \]"]
    out.append(r"\paragraph{Derivation.}")
    out.append(_fragment(d).rstrip("\n"))
    if d.remarks:
        out.append(r"\paragraph{Remarks.}")
        out.append(r"\begin{itemize}")
        out += [rf"\item {escape_text(r)}" for r in d.remarks]
        out.append(r"\end{itemize}")
    return "\n".join(out) + "\n"


_PREAMBLE = r"""\documentclass{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{amsmath}
\usepackage{amssymb}
\allowdisplaybreaks
"""


def render(derivation: Derivation, standalone: bool = False) -> str:
    """LaTeX of a derivation.

    By default a fragment for an existing document (amsmath): the steps as ``align*``, one
    chain per left-hand side, each step ``&= after && \\text{(k) rule, source}``; then the
    results and the verification line. With `standalone`, a whole article (title, given
    symbols, goal, objective, steps, results, remarks, verification) that compiles with
    ``pdflatex -halt-on-error``.
    """
    if not standalone:
        return _fragment(derivation)
    title = escape_text(derivation.title or derivation.name or "Derivation")
    return (
        _PREAMBLE
        + rf"\title{{{title}}}"
        + "\n\\date{}\n\\begin{document}\n\\maketitle\n"
        + _body(derivation)
        + "\\end{document}\n"
    )


def render_math(derivation: Derivation) -> str:
    """``$$\\begin{aligned} … \\end{aligned}$$`` of the steps, for Jupyter's ``_repr_latex_``.

    Citations are ``\\text{…}`` with TeX specials set outside the text, so MathJax and LaTeX
    show the same; with no steps, the results are shown instead.
    """
    body = _align_body(derivation.steps, math_text, _SCREEN_WIDTH, keep=r"\\")
    if not body:
        body = " \\\\\n".join(f"{latex(lhs)} &= {latex(rhs)}" for lhs, rhs in derivation.results)
    return "$$\\begin{aligned}\n" + body + "\n\\end{aligned}$$"


def render_book(derivations: Sequence[Derivation], title: str) -> str:
    """One standalone document: a table of contents and a section per derivation."""
    parts = [_PREAMBLE, rf"\title{{{escape_text(title)}}}", "\\date{}\n\\begin{document}"]
    parts += [r"\maketitle", r"\tableofcontents"]
    for d in derivations:
        parts.append(rf"\section{{{escape_text(d.title or d.name)}}}")
        parts.append(_body(d).rstrip("\n"))
    parts.append(r"\end{document}")
    return "\n".join(parts) + "\n"
