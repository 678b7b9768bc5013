"""Take the differential of an expression by applying the differential rules, step by step.

Each pass finds the outermost unevaluated d(·) nodes, picks the rule for the first of them
(dispatch on the head of its argument), applies that rule at every node it fits, and records
one step. It ends when no d(·) is left: the result is linear in dX.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

import sympy as sp

from derive.errors import UnsupportedError
from derive.expr import MatDifferential, PseudoInverse, ScalarDifferential, d
from derive.model import Context, DifferentialRule
from derive.rules.differential import rule_for
from derive.simplify import tidy

MAX_STEPS = 200


@functools.lru_cache(maxsize=16384)
def _holds_differential(node: sp.Basic) -> bool:
    if isinstance(node, (ScalarDifferential, MatDifferential)):
        return True
    if isinstance(node, (sp.Lambda, sp.Symbol, sp.MatrixSymbol)):
        return False
    return any(_holds_differential(a) for a in node.args)


def _outermost(e: sp.Basic) -> list[sp.Basic]:
    """The unevaluated d(·) nodes of e not inside another, each shared subtree visited once."""
    found: list[sp.Basic] = []
    seen: set[sp.Basic] = set()

    def walk(node: sp.Basic) -> None:
        if node in seen or not _holds_differential(node):
            return
        seen.add(node)
        if isinstance(node, (ScalarDifferential, MatDifferential)):
            found.append(node)
            return
        for a in node.args:
            walk(a)

    walk(e)
    return found


def _replace(e: sp.Basic, mapping: dict, memo: dict) -> sp.Basic:
    """e with each node in `mapping` replaced: `xreplace` visiting each shared subtree once."""
    if e in mapping:
        return mapping[e]
    if e in memo:
        return memo[e]
    if not e.args or isinstance(e, sp.Lambda) or not _holds_differential(e):
        out = e
    else:
        args = [_replace(a, mapping, memo) for a in e.args]
        out = e if tuple(args) == tuple(e.args) else e.func(*args)
    memo[e] = out
    return out


def differential_start(expr: sp.Basic, ctx: Context) -> sp.Basic:
    """d(expr), before any rule has passed d through a node."""
    return tidy(d(expr), ctx)


def differential_passes(
    expr: sp.Basic, ctx: Context
) -> Iterator[tuple[DifferentialRule, sp.Basic, sp.Basic]]:
    """The differential of `expr` with respect to ``ctx.varying``, one rule at a time: each
    pass applies the rule of the first outermost d(·) at every outermost d(·) that same rule
    covers; yields (rule, before, after). `derive.record.Recorder.differentiate` records them."""
    current = differential_start(expr, ctx)
    for _ in range(MAX_STEPS):
        sites = _outermost(current)
        if not sites:
            return
        chosen = None
        replacements = {}
        for node in sites:
            rule = rule_for(node.arg, ctx)
            if rule is None and isinstance(node.arg, PseudoInverse):
                raise UnsupportedError(
                    f"the derivative of the pseudo-inverse {node.arg.arg}⁺ without a rank "
                    "assumption",
                    f"assume {node.arg.arg} 'full-column-rank' or 'full-row-rank'",
                )
            if rule is None:
                raise UnsupportedError(
                    f"differentiating {type(node.arg).__name__}", f"in {node.arg}"
                )
            if chosen is None:
                chosen = rule
            if rule is chosen:
                replacements[node] = rule.apply(node.arg, ctx)
        new = tidy(_replace(current, replacements, {}), ctx)
        yield chosen, current, new
        current = new
    raise UnsupportedError(
        f"an expression this large (differentiating it took over {MAX_STEPS} steps)",
        "split it into smaller pieces",
    )
