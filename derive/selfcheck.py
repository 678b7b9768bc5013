"""The numeric self-check of a rule: each of its examples, both sides, on random inputs."""

from __future__ import annotations

from derive.model import Rule


def self_check(rule: Rule, trials: int = 3, seed: int = 0) -> tuple[bool, str]:
    """(passed, one-line report) for all examples of `rule`, checked on random inputs.

    A Monte Carlo example ("monte-carlo" relation) reports its error in standard errors of
    the sample mean; every other example reports a relative error.
    """
    from derive.check import check_rule_example

    if rule.examples is None:
        return False, "FAILED: the rule has no numeric example"
    examples = rule.examples()
    worst = {"relative": None, "standard": None}
    for i, ex in enumerate(examples, 1):
        try:
            error = check_rule_example(ex, trials=trials, seed=seed)
        except AssertionError as e:
            return False, f"FAILED on example {i}: {e}"
        kind = "standard" if ex.relation == "monte-carlo" else "relative"
        worst[kind] = max(worst[kind] or 0.0, error)
    figures = []
    if worst["relative"] is not None:
        figures.append(f"max relative error {worst['relative']:.1e}")
    if worst["standard"] is not None:
        figures.append(f"Monte Carlo within {worst['standard']:.1f} standard errors")
    return True, (
        f"passed: {len(examples)} example(s) x {trials} random trials, " + ", ".join(figures)
    )
