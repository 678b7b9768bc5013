"""What the local page shows of a derivation, and the files it offers: all made by the library's
printers and code generator, none written here.

`view(d)` is a JSON-ready dict: the title, the function as read, the given symbols, the steps
as the document printers lay them out (derive.render.layout.display_rows: a chain's first
line, then each step with its citation), the results, the remarks, the verification line,
the LaTeX of the results to copy, and the downloads (.tex, .md, .json and the NumPy and JAX
functions; code only for a verified derivation, as ``derive grad --emit`` does).
"""

from __future__ import annotations

import re
from typing import Any

import sympy as sp

from derive.model import Derivation
from derive.render.latex import citation, display_rows, latex, shape_latex, verification_line
from derive.render.layout import was_read
from derive.serve.messages import message

__all__ = ["view"]


def _rows(d: Derivation) -> list[dict[str, Any]]:
    """The steps as displayed: kind "start" (lhs = expr), "from" (expr, "= 0" for a solve) or
    "step" (its number, lhs rel expr, its citation and note)."""
    out: list[dict[str, Any]] = []
    for row in display_rows(d.steps):
        if row.kind == "start":
            out.append({"kind": "start", "math": f"{latex(row.lhs)} = {latex(row.expr)}"})
        elif row.kind == "from":
            zero = " = 0" if row.step.relation == "solve" else ""
            out.append({"kind": "from", "math": f"{latex(row.expr)}{zero}"})
        else:
            rel = r"\doteq" if row.step.relation == "constant" else "="
            out.append(
                {
                    "kind": "step",
                    "number": row.number,
                    "math": f"{latex(row.lhs)} {rel} {latex(row.expr)}",
                    "rule": row.step.rule.id,
                    "cite": citation(row.step, " — "),
                    "note": row.step.note,
                }
            )
    return out


def _code(d: Derivation, backend: str) -> tuple[str | None, str]:
    """The generated function and "", or None and why there is none."""
    if d.verification is not None and not d.verification.passed:
        return None, "no code: the derivation did not verify"
    try:
        return d.source(backend), ""
    except Exception as e:  # noqa: BLE001 - the derivation is still worth showing without code
        return None, f"no code: {message(e)}"


def stem(name: str) -> str:
    """A file name stem: the derivation's name, or `name` made safe ("gradient-x")."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.") or "derivation"


def view(d: Derivation, default_stem: str = "derivation") -> dict[str, Any]:
    """The page's view of `d` (see the module docstring); plain data, ready for json.dumps."""
    read = was_read(d)
    numpy, numpy_note = _code(d, "numpy")
    jax, jax_note = _code(d, "jax")
    results = [f"{latex(lhs)} = {latex(rhs)}" for lhs, rhs in d.results]
    return {
        "title": d.title or d.name or "Derivation",
        "name": d.name,
        "stem": stem(d.name or default_stem),
        "read": read,
        "objective": None if d.objective is None else latex(d.objective),
        "given": [
            {
                "name": latex(sp.Symbol(g.name)),
                "shape": shape_latex(g),
                "assumptions": [*g.assumptions, *((g.role,) if g.role else ())],
                "source": g.source,
            }
            for g in d.given
        ],
        "goal": d.goal,
        "rows": _rows(d),
        "results": results,
        "definitions": [f"{latex(name)} = {latex(e)}" for name, e, *_ in d.definitions],
        "remarks": [r.text + (f" — {r.marker}" if r.marker else "") for r in d.remarks],
        "verification": verification_line(d),
        "passed": None if d.verification is None else d.verification.passed,
        "copy": " \\\\\n".join(results),
        "files": {
            "tex": d.to_latex(standalone=True),
            "md": d.to_markdown(),
            "json": d.to_json(),
            "numpy": numpy,
            "jax": jax,
        },
        "code_note": numpy_note or jax_note,
    }
