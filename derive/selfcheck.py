"""The numeric self-check of a rule: each of its examples, both sides, on random inputs."""

from __future__ import annotations

from derive.model import Rule


def self_check(rule: Rule, trials: int = 3, seed: int = 0) -> tuple[bool, str]:
    """(passed, one-line report) for all examples of `rule`, checked against JAX."""
    from derive.check import check_rule_example

    if rule.examples is None:
        return False, "FAILED: the rule has no numeric example"
    examples = rule.examples()
    worst = 0.0
    for i, ex in enumerate(examples, 1):
        try:
            worst = max(worst, check_rule_example(ex, trials=trials, seed=seed))
        except AssertionError as e:
            return False, f"FAILED on example {i}: {e}"
    return True, (
        f"passed: {len(examples)} example(s) x {trials} random trials against JAX, "
        f"max relative error {worst:.1e}"
    )
