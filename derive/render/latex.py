r"""LaTeX documents of derivations: fragments, standalone documents and the book.

`render` walks a `Derivation`: an ``align*`` chain per left-hand side, every step cited by its
rule, then the results and the numeric verification; `render(d, standalone=True)` and
`render_book` make documents that compile with ``pdflatex -halt-on-error``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sympy as sp

from derive.model import Derivation, Given, Step
from derive.notation.latex import latex
from derive.notation.latex_text import escape_text, math_text
from derive.render import linebreak
from derive.render.layout import citation, display_rows, was_read

# --- derivations --------------------------------------------------------------------------------

NOT_CHECKED = "not checked numerically"


def verification_line(d: Derivation, unchecked: str = NOT_CHECKED) -> str:
    """The verification summary of d, or `unchecked` when it was not checked."""
    return d.verification.summary() if d.verification is not None else unchecked


def _relation(step: Step | None) -> str:
    return r"\doteq" if step is not None and step.relation == "constant" else "="


@dataclass(frozen=True)
class Page:
    """Where maths is set: `width` in points that a line may take, `text` typesetting a
    citation or note given the points left for it, and `keep` ending a row that must stay on
    the page of the next (``\\*``; MathJax and KaTeX want a plain ``\\``)."""

    width: float
    text: Callable[[str, float], str]
    keep: str


def _doc_text(s: str, room: float) -> str:
    """Text inside a displayed equation of a document: one line if it fits in `room` points,
    else a paragraph box of that width, ragged right."""
    if _TEXT_CHAR * len(s) <= room:
        return rf"\text{{{escape_text(s)}}}"
    return rf"\parbox[t]{{{room:.0f}pt}}{{\raggedright {escape_text(s)}}}"


# An article's text width at 10 pt (345 pt), less a margin for the estimate of `width`.
DOCUMENT = Page(335.0, _doc_text, r"\\*")
# A notebook cell: about 64 em; text is not wrapped there.
SCREEN = Page(640.0, lambda s, room: math_text(s), r"\\")
_TEXT_CHAR = 5.0  # points per character of 10 pt roman text, generously
_QUAD = 10.0
_FROM = r"\text{from}\quad"


@dataclass(frozen=True)
class _Row:
    """One equation of an aligned block: ``lhs &rel rhs``, and what is cited beside it."""

    lhs: str
    rel: str
    rhs: str
    cite: str | None = None
    note: str | None = None


def _rows(steps: Sequence[Step]) -> list[_Row]:
    rows: list[_Row] = []
    for row in display_rows(steps):
        if row.kind == "start":
            rows.append(_Row(latex(row.lhs), "=", latex(row.expr)))
        elif row.kind == "from":
            zero = " = 0" if row.step.relation == "solve" else ""
            rows.append(_Row(_FROM, "", latex(row.expr) + zero))
        else:
            lhs = "" if row.chained else latex(row.lhs)
            cite = f"({row.number}) {citation(row.step)}"
            rows.append(_Row(lhs, _relation(row.step), latex(row.expr), cite, row.step.note))
    return rows


def _aligned(rows: Sequence[_Row], page: Page) -> str:
    r"""The inside of an align*/aligned block of `rows`, every line within ``page.width``.

    Each equation prints ``lhs &= rhs``; a right side too wide for the page is broken over
    lines (`break_lines`), each later line ``&\quad {} + …``. Citations go beside their
    equations (``&& (k) citation``) when every equation is one line and the widest of them
    and the longest citation fit side by side; otherwise each goes on its own line below
    its equation (``&\qquad (k) citation``), joined to it by ``page.keep``.
    """
    if not rows:
        return ""
    lhs_width = max(linebreak.width(r.lhs) for r in rows)
    first = page.width - lhs_width - linebreak.width("=")
    rest = page.width - lhs_width - _QUAD
    broken = [linebreak.break_lines(r.rhs, first, rest) for r in rows]
    widest = max(linebreak.width(line) for lines in broken for line in lines)
    cited = [r.cite for r in rows if r.cite] + [r.note for r in rows if r.note]
    longest = max((len(c) for c in cited), default=0)
    side = all(len(lines) == 1 for lines in broken) and (
        lhs_width + widest + 2 * _QUAD + _TEXT_CHAR * longest <= page.width
    )
    room = page.width - lhs_width - 2 * _QUAD  # below an equation
    beside = room - widest  # beside the widest one: every citation fits on one line there
    out: list[str] = []
    for row, lines in zip(rows, broken, strict=True):
        rel = f"{row.rel} " if row.rel else " "
        math = [f"{row.lhs} &{rel}{lines[0]}", *(rf"&\quad {line}" for line in lines[1:])]
        if row.cite is None:
            out += [m + f" {page.keep}" for m in math[:-1]] + [math[-1] + r" \\"]
        elif side:
            out.append(f"{math[0]} && {page.text(row.cite, beside)}" + r" \\")
            if row.note:
                out.append(f"&&& {page.text(row.note, beside)}" + r" \\")
        else:
            out += [m + f" {page.keep}" for m in math]
            end = page.keep if row.note else r"\\"
            out.append(rf"&\qquad {page.text(row.cite, room)} {end}")
            if row.note:
                out.append(rf"&\qquad {page.text(row.note, room)}" + r" \\")
    out[-1] = re.sub(r" \\\\\*?$", "", out[-1])  # no line break after the last line
    return "\n".join(out)


def _align_body(steps: Sequence[Step], page: Page) -> str:
    """The inside of an align*/aligned block of the steps (see `_aligned`)."""
    return _aligned(_rows(steps), page)


def _equations(pairs: Sequence[tuple[sp.Basic, ...]]) -> list[_Row]:
    """``lhs = rhs`` rows of results or definitions (a definition may carry a third entry)."""
    return [_Row(latex(lhs), "=", latex(rhs)) for lhs, rhs, *_ in pairs]


def display(tex: str, page: Page = DOCUMENT) -> str:
    r"""Displayed maths of a document: ``\[ tex \]``, or an ``align*`` of its lines when it
    is too wide for the page (broken as `_aligned` breaks a right side)."""
    lines = linebreak.break_lines(tex, page.width, page.width - _QUAD)
    if len(lines) == 1:
        return rf"\[ {tex} \]"
    body = f" {page.keep}\n".join([f"&{lines[0]}", *(rf"&\quad {line}" for line in lines[1:])])
    return "\n".join([r"\begin{align*}", body, r"\end{align*}"])


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
    body = _align_body(d.steps, DOCUMENT)
    if body:
        out += [r"\begin{align*}", body, r"\end{align*}"]
    if d.results:
        results = _aligned(_equations(d.results + d.index_results), DOCUMENT)
        out += [r"\noindent Result:", r"\begin{align*}", results, r"\end{align*}"]
    if d.definitions:
        where = _aligned(_equations(d.definitions), DOCUMENT)
        out += [r"\noindent where", r"\begin{align*}", where, r"\end{align*}"]
    out.append(rf"\noindent\textit{{{escape_text(verification_line(d))}}}")
    return "\n".join(out) + "\n"


def _body(d: Derivation) -> str:
    """Given, goal, objective, the fragment, remarks: one derivation in a document."""
    out: list[str] = []
    read = was_read(d)
    if read:  # the function as read from the user's LaTeX, first
        out += [r"\paragraph{Read as.}", display(f"f = {latex(d.objective)}")]
    if d.given:
        out.append(r"\paragraph{Given.}")
        out.append(r"\begin{itemize}")
        for g in d.given:
            extra = ", ".join(g.assumptions)
            if g.role:
                extra = f"{extra} ({g.role})" if extra else g.role
            if g.source:
                extra = f"{extra} [{g.source}]" if extra else f"[{g.source}]"
            item = rf"\item ${latex(sp.Symbol(g.name))} \in {shape_latex(g)}$"
            out.append(item + (f", {escape_text(extra)}" if extra else ""))
        out.append(r"\end{itemize}")
    if d.goal:
        out.append(rf"\paragraph{{Goal.}} {escape_text(d.goal)}")
    if d.objective is not None and not read:
        out += [r"\paragraph{Objective.}", display(latex(d.objective))]
    out.append(r"\paragraph{Derivation.}")
    out.append(_fragment(d).rstrip("\n"))
    if d.remarks:
        out.append(r"\paragraph{Remarks.}")
        out.append(r"\begin{itemize}")
        for r in d.remarks:  # a stated remark is marked "stated, not checked (source: …)"
            marker = rf" --- \emph{{{escape_text(r.marker)}}}" if r.marker else ""
            out.append(rf"\item {escape_text(r.text)}{marker}")
        out.append(r"\end{itemize}")
    return "\n".join(out) + "\n"


# Latin Modern in T1: vector fonts (T1 Computer Modern would be bitmaps without cm-super).
# Section titles are set ragged right (the article class's \section with \raggedright), so a
# long title wraps rather than running into the margin.
_PREAMBLE = r"""\documentclass{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{lmodern}
\usepackage{microtype}
\usepackage{amsmath}
\usepackage{amssymb}
\allowdisplaybreaks
\makeatletter
\renewcommand{\section}{\@startsection{section}{1}{\z@}{-3.5ex \@plus -1ex \@minus -.2ex}%
  {2.3ex \@plus.2ex}{\normalfont\Large\bfseries\raggedright}}
\makeatother
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
    r"""The derivation as one ``$$\begin{aligned} … \end{aligned}$$`` block (Jupyter's
    text/latex): the title, the cited steps, the results, the definitions and the
    verification line.

    It uses only what KaTeX (VS Code, GitHub's notebook view) and MathJax (Jupyter) both
    render: text in ``\text``, ``\textbf`` or ``\textit`` with TeX specials, Greek and maths
    symbols set in maths between the runs (`math_text`), no ``\parbox`` and no ``\\*``.
    """
    d = derivation
    parts: list[str] = []
    title = d.title or d.name
    if title:
        parts.append("&" + _styled(math_text(title), r"\textbf"))
    steps = _align_body(d.steps, SCREEN)
    if steps:
        parts.append(steps)
    if d.results:
        results = _aligned(_equations(d.results + d.index_results), SCREEN)
        parts.append(r"&\text{Result:} \\" + "\n" + results)
    if d.definitions:
        where = _aligned(_equations(d.definitions), SCREEN)
        parts.append(r"&\text{where} \\" + "\n" + where)
    parts.append("&" + _styled(math_text(verification_line(d)), r"\textit"))
    return "$$\\begin{aligned}\n" + " \\\\[1ex]\n".join(parts) + "\n\\end{aligned}$$"


def _styled(tex: str, command: str) -> str:
    r"""`math_text` output with its text runs in ``\textbf`` or ``\textit`` instead."""
    return tex.replace(r"\text{", command + "{")


def render_book(derivations: Sequence[Derivation], title: str) -> str:
    """One standalone document: a table of contents and a section per derivation."""
    parts = [_PREAMBLE, rf"\title{{{escape_text(title)}}}", "\\date{}\n\\begin{document}"]
    parts += [r"\maketitle", r"\tableofcontents"]
    for d in derivations:
        parts.append(rf"\section{{{escape_text(d.title or d.name)}}}")
        parts.append(_body(d).rstrip("\n"))
    parts.append(r"\end{document}")
    return "\n".join(parts) + "\n"
