"""Apply rewrite rules anywhere in an expression, one rule per recorded step."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction

from derive.errors import UnsupportedError
from derive.model import Context, Rule
from derive.simplify import tidy

MAX_PASSES = 50


def _first_match(e: sp.Basic, rules: Sequence[Rule], ctx: Context) -> Rule | None:
    """The first rule, in preorder of the nodes of e, that matches; shared subtrees once."""
    seen: set[sp.Basic] = set()
    stack = [e]
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        for rule in rules:
            if rule.apply(node, ctx) is not None:
                return rule
        if not isinstance(node, sp.Lambda):
            stack.extend(reversed(node.args))
    return None


def _apply_everywhere(e: sp.Basic, rule: Rule, ctx: Context, memo: dict | None = None) -> sp.Basic:
    """Replace, top-down, each node where `rule` matches (not inside a replacement)."""
    memo = {} if memo is None else memo
    if e in memo:
        return memo[e]
    new = rule.apply(e, ctx)
    if new is not None:
        out = new
    elif not e.args or isinstance(e, (sp.MatrixSymbol, sp.Symbol, sp.Lambda)):
        out = e
    elif isinstance(e, ElementwiseApplyFunction):
        inner = _apply_everywhere(e.expr, rule, ctx, memo)
        out = e if inner == e.expr else ElementwiseApplyFunction(e.function, inner)
    else:
        args = [_apply_everywhere(a, rule, ctx, memo) for a in e.args]
        out = e if tuple(args) == tuple(e.args) else e.func(*args)
    memo[e] = out
    return out


def rewrite_passes(
    e: sp.Basic, rules: Sequence[Rule], ctx: Context
) -> Iterator[tuple[Rule, sp.Basic, sp.Basic]]:
    """Apply `rules` until none changes e: each pass, the first rule that matches (in preorder)
    replaces every node it matches, and the result is tidied; yields (rule, before, after).
    A rule that matches but whose replacement tidies back to e is passed over until e changes,
    so it cannot stop the others. `derive.record.Recorder.rewrite` records each pass as a step."""
    inert: list[Rule] = []
    passes = 0
    while passes < MAX_PASSES:
        rule = _first_match(e, [r for r in rules if r not in inert], ctx)
        if rule is None:
            return
        new = tidy(_apply_everywhere(e, rule, ctx), ctx)
        if new == e:
            inert.append(rule)  # at most len(rules) times before e changes
            continue
        inert.clear()
        passes += 1
        yield rule, e, new
        e = new
    raise UnsupportedError(
        f"an expression this large ({MAX_PASSES} rewriting passes did not settle)",
        "split it into smaller pieces",
    )
