"""Operation counts of SymPy expressions: as a DAG (shared subtrees once) and as a tree."""

from __future__ import annotations

from collections.abc import Iterable

import sympy as sp


def op_count(exprs: sp.Basic | Iterable[sp.Basic]) -> int:
    """The number of operations in `exprs` as a DAG: each distinct compound node once.

    Leaves (symbols, numbers, Identity, OneMatrix, ZeroMatrix) cost nothing, and neither do a
    Lambda's wrapper and variable (its body's operations count). Several expressions given
    together share their common subtrees (the gradients of one loss by each weight).
    """
    roots = [exprs] if isinstance(exprs, sp.Basic) else list(exprs)
    seen: set[sp.Basic] = set()
    count = 0
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if _is_leaf(node):
            continue
        if isinstance(node, sp.Lambda):
            stack.append(node.expr)
            continue
        count += 1
        stack.extend(node.args)
    return count


def tree_size(expr: sp.Basic) -> int:
    """The number of compound nodes of `expr` written out as a tree (no sharing)."""
    memo: dict[sp.Basic, int] = {}

    def size(node: sp.Basic) -> int:
        if node in memo:
            return memo[node]
        if _is_leaf(node):
            out = 0
        elif isinstance(node, sp.Lambda):
            out = size(node.expr)
        else:
            out = 1 + sum(size(a) for a in node.args)
        memo[node] = out
        return out

    return size(expr)


def _is_leaf(node: sp.Basic) -> bool:
    return not node.args or isinstance(
        node, (sp.MatrixSymbol, sp.Symbol, sp.Identity, sp.ZeroMatrix, sp.OneMatrix, sp.Indexed)
    )
