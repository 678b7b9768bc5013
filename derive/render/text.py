"""Derivations as plain Unicode text, for the terminal.

`render` lays a derivation out as lines: title, given symbols, goal, the numbered steps (each
``lhs = after`` with the rule that justifies it below), the results, and last the numeric
verification.
"""

from __future__ import annotations

import sympy as sp

from derive.model import Derivation, Given
from derive.notation.text import text
from derive.render.latex import dimension, verification_line
from derive.render.layout import citation, display_rows, was_read

NOT_CHECKED = "not checked numerically (--no-check)"

# --- derivations --------------------------------------------------------------------------------


def shape_text(g: Given) -> str:
    """scalar, n-vector, m × n matrix."""
    dims = [text(dimension(d)) for d in g.shape]
    if not dims:
        return "scalar"
    if len(dims) == 1:
        return f"{dims[0]}-vector"
    return " × ".join(dims) + " matrix"


def render(derivation: Derivation) -> str:
    """The derivation as terminal text; the last line is the verification summary.

    Layout: the title; "Given:" lines ``name: shape, assumptions``; "Goal:"; "Objective:";
    "Steps:", each numbered ``k. lhs = after`` with ``by <rule name> — <source>`` (and its
    note) indented below, and an unnumbered ``lhs = before`` wherever a chain starts;
    "Result:" lines; "Remarks:"; then the verification summary (or that it was not checked).
    """
    d = derivation
    lines = [d.title or d.name or "Derivation"]
    read = was_read(d)
    if read:  # the function as read from the user's LaTeX, first: a misreading shows at once
        lines.append(f"Read as: f = {text(d.objective)}")
    if d.given:
        lines.append("Given:")
        for g in d.given:
            extra = ", ".join((shape_text(g), *g.assumptions))
            role = f" ({g.role})" if g.role else ""
            source = f" [{g.source}]" if g.source else ""
            lines.append(f"  {text(sp.Symbol(g.name))}: {extra}{role}{source}")
    if d.goal:
        lines.append(f"Goal: {d.goal}")
    if d.objective is not None and not read:
        lines.append(f"Objective: {text(d.objective)}")
    if d.steps:
        lines.append("Steps:")
        width = len(str(len(d.steps)))
        pad = " " * (width + 2)
        for row in display_rows(d.steps):
            if row.kind == "start":
                lines.append(f"  {pad}{text(row.lhs)} = {text(row.expr)}")
            elif row.kind == "from":
                zero = " = 0" if row.step.relation == "solve" else ""
                lines.append(f"  {pad}from {text(row.expr)}{zero}")
            else:
                rel = "≐" if row.step.relation == "constant" else "="
                number = f"{row.number}.".rjust(width + 1)
                lines.append(f"  {number} {text(row.lhs)} {rel} {text(row.expr)}")
                lines.append(f"  {pad}  by {citation(row.step, ' — ')}")
                if row.step.note:
                    lines.append(f"  {pad}  {row.step.note}")
    if d.results:
        lines.append("Result:")
        lines += [f"  {text(lhs)} = {text(rhs)}" for lhs, rhs in d.results]
        # entry by entry, in the index notation the function was written in
        lines += [f"  {text(lhs)} = {text(rhs)}" for lhs, rhs in d.index_results]
    if d.definitions:
        lines.append("Where:")
        lines += [f"  {text(name)} = {text(e)}" for name, e, *_ in d.definitions]
    if d.remarks:
        lines.append("Remarks:")
        # str(r): a stated remark ends "— stated, not checked (source: …)"
        lines += [f"  - {r}" for r in d.remarks]
    lines.append(verification_line(d, NOT_CHECKED))
    return "\n".join(lines) + "\n"
