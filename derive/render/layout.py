"""What the document printers share: the rows a derivation displays and how a step is cited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sympy as sp

from derive.model import Derivation, Step

# Relations of a step other than "=" (see derive/model.py): "constant" means equal up to an
# additive constant, which textbooks write with a dotted or c-decorated equals sign.
RELATION_NOTE = {
    "constant": "equal up to an additive constant",
    "integral": "integrated over (0, 1)",
    "constrained": "equal where the constraint holds",
}


@dataclass(frozen=True)
class Row:
    """One displayed line of a derivation.

    kind "start": ``lhs = expr`` opens a chain (no rule cited); kind "from": the expression
    a read-off step (relation "gradient", "jacobian", "solve") starts from, shown when it is
    not the line just above (``expr = 0`` for "solve"); kind "step": step number `number`
    gives ``lhs rel expr``. `chained` says the step continues the chain of the line above,
    so a chaining printer need not repeat its lhs.
    """

    kind: str
    lhs: sp.Basic | None
    expr: sp.Basic
    step: Step | None = None
    number: int = 0
    chained: bool = False


def display_rows(steps: Sequence[Step]) -> list[Row]:
    """The lines that display `steps`: each step, plus the start of each chain.

    A step with relation "equal" or "constant" (or "pointwise" or "monte-carlo", which
    rewrite an expectation) continues the chain above when its lhs is the
    chain's and its `before` is the line above; otherwise a new chain starts with
    ``lhs = before``. A read-off step, or a "constrained" one (a Lagrangian from its
    objective), states a new equation ``lhs = after`` whose `before` is the line above (or is
    shown on a "from" line).
    """
    rows: list[Row] = []
    shown_lhs: sp.Basic | None = None
    shown: sp.Basic | None = None
    for k, s in enumerate(steps, 1):
        follows = shown is not None and s.before == shown
        if s.relation in ("equal", "constant", "pointwise", "monte-carlo"):
            if not (follows and s.lhs == shown_lhs):
                rows.append(Row("start", s.lhs, s.before))
            rows.append(Row("step", s.lhs, s.after, s, k, chained=True))
        else:
            if not follows:
                rows.append(Row("from", None, s.before, s))
            rows.append(Row("step", s.lhs, s.after, s, k, chained=False))
        shown_lhs, shown = s.lhs, s.after
    return rows


def citation(step: Step, sep: str = ", ") -> str:
    """The plain-text citation of a step: "rule name, source" (+ what a relation means)."""
    parts = [p for p in (step.rule.name, step.rule.source) if p]
    text = sep.join(parts)
    if step.relation in RELATION_NOTE:
        text += f" ({RELATION_NOTE[step.relation]})"
    return text


def was_read(d: Derivation) -> bool:
    """Whether d's function was read from the user's LaTeX (its symbols say where their shapes
    came from): then every output opens with the reading, so a misreading shows at once."""
    return d.objective is not None and any(g.source for g in d.given)
