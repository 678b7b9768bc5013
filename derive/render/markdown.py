"""Markdown of a derivation, for GitHub and Jupyter: text in Markdown, maths in ``$$`` blocks.

The maths comes from the LaTeX printer; only ``$…$`` and ``$$…$$`` (never ``align*``) are
used, which both GitHub and Jupyter's MathJax render. Text (titles, citations, notes) is
escaped so that Markdown punctuation in it stays literal.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import quote

import sympy as sp

from derive.model import Derivation
from derive.render.latex import citation, display_rows, latex, shape_latex, verification_line
from derive.render.layout import was_read

__all__ = ["escape", "render", "render_index"]

_MARKDOWN_SPECIALS = set("\\`*_[]<>$|#~")


def escape(s: str) -> str:
    """Text with Markdown's punctuation (and ``$``, which opens maths) backslash-escaped."""
    return "".join("\\" + c if c in _MARKDOWN_SPECIALS else c for c in s)


def _block(tex: str, indent: str = "") -> list[str]:
    return [f"{indent}$$", f"{indent}{tex}", f"{indent}$$", ""]


def render(derivation: Derivation) -> str:
    """Markdown: ``## title``, a table of the given symbols, the goal, the objective, the steps
    as a numbered list (each its rule citation and a ``$$ lhs = after $$`` block), the results,
    remarks, and the verification line."""
    d = derivation
    out = [f"## {escape(d.title or d.name or 'Derivation')}", ""]
    read = was_read(d)
    if read:  # the function as read from the user's LaTeX, first
        out += ["**Read as.**", ""] + _block(f"f = {latex(d.objective)}")
    if d.given:
        columns = "| Symbol | Shape | Assumptions |" + (" Read by |" if read else "")
        out += [columns, "| --- | --- | --- |" + (" --- |" if read else "")]
        for g in d.given:
            assumptions = ", ".join(g.assumptions + ((g.role,) if g.role else ()))
            row = f"| ${latex(sp.Symbol(g.name))}$ | ${shape_latex(g)}$ | {escape(assumptions)} |"
            out.append(row + (f" {escape(g.source)} |" if read else ""))
        out.append("")
    if d.goal:
        out += [f"**Goal.** {escape(d.goal)}", ""]
    if d.objective is not None and not read:
        out += ["**Objective.**", ""] + _block(latex(d.objective))
    if d.steps:
        out += ["**Derivation.**", ""]
        for row in display_rows(d.steps):
            if row.kind == "start":
                out += _block(f"{latex(row.lhs)} = {latex(row.expr)}")
            elif row.kind == "from":
                zero = " = 0" if row.step.relation == "solve" else ""
                out += ["From", ""] + _block(f"{latex(row.expr)}{zero}")
            else:
                rel = r"\doteq" if row.step.relation == "constant" else "="
                out += [f"{row.number}. By {escape(citation(row.step, ' — '))}:", ""]
                out += _block(f"{latex(row.lhs)} {rel} {latex(row.expr)}", "   ")
                if row.step.note:
                    out += [f"   *{escape(row.step.note)}*", ""]
    if d.results:
        out += ["**Result.**", ""]
        for lhs, rhs in d.results + d.index_results:  # and entry by entry, in index notation
            out += _block(f"{latex(lhs)} = {latex(rhs)}")
    if d.definitions:
        out += ["**Where.**", ""]
        for name, e, *_ in d.definitions:
            out += _block(f"{latex(name)} = {latex(e)}")
    if d.remarks:
        out += ["**Remarks.**", ""]
        for r in d.remarks:  # a stated remark is marked "stated, not checked (source: …)"
            out.append(f"- {escape(r.text)}" + (f" — *{escape(r.marker)}*" if r.marker else ""))
        out.append("")
    out += [f"**Check:** {escape(verification_line(d))}", ""]
    return "\n".join(out)


def render_index(entries: Iterable[tuple[str, str, str]], title: str = "Derivations") -> str:
    """An index page: a table linking each (name, title, filename) entry."""
    out = [f"# {escape(title)}", "", "| Derivation | Name |", "| --- | --- |"]
    for name, entry_title, filename in entries:
        out.append(f"| [{escape(entry_title)}]({quote(filename)}) | `{name}` |")
    return "\n".join(out) + "\n"
