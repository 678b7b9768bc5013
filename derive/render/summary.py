"""Short plain-text forms of a derivation: the one line of ``repr`` and Jupyter's text/plain.

Neither shows the steps (`derive.render.text` does): ``repr(d)`` is one line naming the
derivation, its main result and whether it was verified; `summary` is the title, each result
(and the definitions it uses) and the verification line.
"""

from __future__ import annotations

from derive.model import Derivation
from derive.notation.text import text

_NOT_CHECKED = "not checked numerically"
# The longest main result repr() shows in full; a longer one ends in "…".
_REPR_RESULT = 80


def _status(d: Derivation) -> str:
    if d.verification is None:
        return "not checked"
    return "verified" if d.verification.passed else "CHECK FAILED"


def one_line(d: Derivation) -> str:
    """``<Derivation 'softmax-ce': ∂f/∂z = softmax(z) − y (9 steps, verified)>``."""
    name = f" {d.name!r}" if d.name else ""
    parts = []
    if d.results:
        lhs, rhs = d.results[0]
        shown = f"{text(lhs)} = {text(rhs)}"
        if len(shown) > _REPR_RESULT:
            shown = shown[: _REPR_RESULT - 1] + "…"
        more = len(d.results) - 1
        parts.append(shown + (f" and {more} more result{'s' * (more > 1)}" if more else ""))
    else:
        parts.append("no result")
    steps = len(d.steps)
    detail = f"{steps} step{'s' * (steps != 1)}, {_status(d)}"
    return f"<Derivation{name}: {parts[0]} ({detail})>".replace("\n", " ")


def summary(d: Derivation) -> str:
    """The title, each result equation, the definitions (``where δ₂ = p − y``) and the
    verification line, one to a line."""
    lines = [d.title or d.name or "Derivation"]
    lines += [f"  {text(lhs)} = {text(rhs)}" for lhs, rhs in d.results + d.index_results]
    lines += [f"  where {text(s)} = {text(e)}" for s, e, *_ in d.definitions]
    check = d.verification.summary() if d.verification is not None else _NOT_CHECKED
    lines.append(f"  {check}")
    return "\n".join(lines)
