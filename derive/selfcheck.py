"""The numeric self-check of a rule: each of its examples, both sides, on random inputs."""

from __future__ import annotations

import sympy as sp

from derive.expr import DifferentialSymbol
from derive.model import Given, Rule, RuleExample
from derive.problem import shape_of, symbols_of


def example_given(ex: RuleExample) -> tuple[Given, ...]:
    """The symbols of an example with their shapes and the example's assumptions."""
    syms: dict = {}
    for e in (ex.lhs, ex.rhs):
        syms.update(symbols_of(e))
        for node in sp.preorder_traversal(e):  # X may occur only as dX
            if isinstance(node, DifferentialSymbol) and node.base_name not in syms:
                syms[node.base_name] = sp.MatrixSymbol(node.base_name, *node.shape)
    return tuple(
        Given(name, shape_of(sym), tuple(ex.assume.get(name, ())))
        for name, sym in sorted(syms.items())
    )


def self_check(rule: Rule, trials: int = 3, seed: int = 0) -> tuple[bool, str]:
    """(passed, one-line report) for all examples of `rule`, checked against JAX."""
    from derive.check import check_rule_example

    if rule.examples is None:
        return False, "FAILED: the rule has no numeric example"
    examples = rule.examples()
    worst = 0.0
    for i, ex in enumerate(examples, 1):
        try:
            worst = max(worst, check_rule_example(ex, example_given(ex), trials=trials, seed=seed))
        except AssertionError as e:
            return False, f"FAILED on example {i}: {e}"
    return True, (
        f"passed: {len(examples)} example(s) x {trials} random trials against JAX, "
        f"max relative error {worst:.1e}"
    )
