"""Apply rewrite rules anywhere in an expression, one rule per recorded step."""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from derive.errors import UnsupportedError
from derive.model import Context, Rule, Step
from derive.simplify import tidy

MAX_PASSES = 50


def _first_match(e: sp.Basic, rules: Sequence[Rule], ctx: Context) -> Rule | None:
    for node in sp.preorder_traversal(e):
        for rule in rules:
            if rule.apply(node, ctx) is not None:
                return rule
    return None


def _apply_everywhere(e: sp.Basic, rule: Rule, ctx: Context) -> sp.Basic:
    """Replace, top-down, each node where `rule` matches (not inside a replacement)."""
    new = rule.apply(e, ctx)
    if new is not None:
        return new
    if not e.args or isinstance(e, (sp.MatrixSymbol, sp.Symbol, sp.Lambda)):
        return e
    if isinstance(e, ElementwiseApplyFunction):
        inner = _apply_everywhere(e.expr, rule, ctx)
        return e if inner == e.expr else ElementwiseApplyFunction(e.function, inner)
    args = [_apply_everywhere(a, rule, ctx) for a in e.args]
    return e if tuple(args) == tuple(e.args) else e.func(*args)


def rewrite(
    e: sp.Basic, rules: Sequence[Rule], ctx: Context, lhs: sp.Basic, note: str = ""
) -> tuple[sp.Basic, list[Step]]:
    """Apply `rules` until none matches; each pass of one rule is one step ``lhs = …``."""
    steps: list[Step] = []
    for _ in range(MAX_PASSES):
        rule = _first_match(e, rules, ctx)
        if rule is None:
            return e, steps
        new = tidy(_apply_everywhere(e, rule, ctx), ctx)
        if new == e:
            return e, steps
        steps.append(Step(lhs=lhs, before=e, after=new, rule=rule.ref, note=note))
        e = new
    raise UnsupportedError(
        f"an expression this large ({MAX_PASSES} rewriting passes did not settle)",
        "split it into smaller pieces",
    )
