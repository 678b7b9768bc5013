"""The rule registry: every rule once, by a stable id."""

from __future__ import annotations

from derive.errors import UnknownNameError
from derive.model import Rule

_RULES: dict[str, Rule] = {}


def register(rule: Rule) -> Rule:
    """Add a rule; a second rule with the same id is a programming error."""
    if rule.id in _RULES:
        raise ValueError(f"duplicate rule id {rule.id!r}")
    _RULES[rule.id] = rule
    return rule


def get(rule_id: str) -> Rule:
    try:
        return _RULES[rule_id]
    except KeyError:
        raise UnknownNameError("rule", rule_id, sorted(_RULES)) from None


def all_rules() -> list[Rule]:
    return list(_RULES.values())


def search(query: str) -> list[Rule]:
    """Rules whose id, name, source or statement contains every word of `query`."""
    words = query.lower().split()
    return [
        r
        for r in _RULES.values()
        if all(w in f"{r.id} {r.name} {r.source} {r.statement}".lower() for w in words)
    ]
