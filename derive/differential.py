"""Take the differential of an expression by applying the differential rules, step by step.

Each pass finds the outermost unevaluated d(·) nodes, picks the rule for the first of them
(dispatch on the head of its argument), applies that rule at every node it fits, and records
one step. It ends when no d(·) is left: the result is linear in dX.
"""

from __future__ import annotations

import sympy as sp

from derive.errors import UnsupportedError
from derive.expr import MatDifferential, ScalarDifferential, d
from derive.model import Context, Step
from derive.rules.differential import rule_for
from derive.simplify import tidy

MAX_STEPS = 200


def _outermost(e: sp.Basic) -> list[sp.Basic]:
    found: list[sp.Basic] = []

    def walk(node: sp.Basic) -> None:
        if isinstance(node, (ScalarDifferential, MatDifferential)):
            found.append(node)
            return
        if isinstance(node, (sp.Lambda, sp.Symbol, sp.MatrixSymbol)):
            return
        for a in node.args:
            walk(a)

    walk(e)
    return found


def differentiate(expr: sp.Basic, ctx: Context, lhs: sp.Basic) -> tuple[sp.Basic, list[Step]]:
    """The differential of `expr` with respect to ``ctx.varying``, and the steps taken."""
    current = tidy(d(expr), ctx)
    steps: list[Step] = []
    for _ in range(MAX_STEPS):
        sites = _outermost(current)
        if not sites:
            return current, steps
        chosen = None
        replacements = {}
        for node in sites:
            rule = rule_for(node.arg, ctx)
            if rule is None:
                raise UnsupportedError(
                    f"differentiating {type(node.arg).__name__}", f"in {node.arg}"
                )
            if chosen is None:
                chosen = rule
            if rule is chosen:
                replacements[node] = rule.apply(node.arg, ctx)
        new = tidy(current.xreplace(replacements), ctx)
        steps.append(Step(lhs=lhs, before=current, after=new, rule=chosen.ref))
        current = new
    raise UnsupportedError(
        f"an expression this large (differentiating it took over {MAX_STEPS} steps)",
        "split it into smaller pieces",
    )
