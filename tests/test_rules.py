"""The rulebook: every rule is well formed, cites only checked Cookbook numbers, and holds
numerically on its examples (both sides evaluated on random inputs, differentials by jax.jvp)."""

import inspect
import re

import pytest
import sympy as sp

from derive import rules
from derive.model import Citation, DifferentialRule, Rewrite, Rule, Transform
from derive.selfcheck import self_check
from tests.conftest import EQUATIONS


def cookbook_labels() -> set[str]:
    """Equation labels in the first column of the checked table, ranges expanded."""
    labels: set[str] = set()
    for line in EQUATIONS.read_text(encoding="utf-8").splitlines():
        mt = re.match(r"^\| (\d+)(?:-(\d+))? \|", line)
        if mt:
            lo = int(mt.group(1))
            hi = int(mt.group(2) or lo)
            labels.update(str(i) for i in range(lo, hi + 1))
    return labels


ALL = rules.all_rules()


def test_the_equation_table_is_there():
    labels = cookbook_labels()
    assert {"5", "33", "37", "43", "346"} <= labels and "89" not in labels


@pytest.mark.parametrize("rule", ALL, ids=[r.id for r in ALL])
def test_rule_is_well_formed_and_cites_only_checked_numbers(rule: Rule):
    assert rule.id and rule.name and rule.statement and rule.source
    assert rule.examples is not None, "every rule needs a numeric example"
    cited = (
        set(re.findall(r"\((\d+)\)", rule.source.replace("(2012)", "")))
        if "Cookbook" in rule.source
        else set()
    )
    assert cited == set(rule.cookbook), f"source {rule.source!r} vs cookbook={rule.cookbook}"
    missing = set(rule.cookbook) - cookbook_labels()
    assert not missing, f"{rule.id} cites {missing}, not in rules/cookbook/equations.md"
    if not rule.cookbook:
        assert any(w in rule.source for w in ("elementary", "definition", "theorem", "Magnus")), (
            f"{rule.id}: a rule outside the Cookbook names its source or says it is elementary"
        )


@pytest.mark.parametrize("rule", ALL, ids=[r.id for r in ALL])
def test_rule_holds_numerically(rule: Rule):
    ok, detail = self_check(rule)
    assert ok, detail


def test_registry_refuses_duplicate_ids():
    with pytest.raises(ValueError, match="duplicate"):
        rules.register(Citation(id=ALL[0].id, name="x", source="elementary", statement="x"))


def test_lookup_and_search():
    assert rules.get("diff.logdet").cookbook == ("43",)
    assert any(r.id == "diff.logdet" for r in rules.search("log-determinant"))
    with pytest.raises(KeyError, match="did you mean"):
        rules.get("diff.logdett")


def test_a_wrong_rule_fails_its_self_check():
    """The self-check can fail: a product rule with the factors' order swapped."""
    from derive.expr import DifferentialSymbol, d
    from derive.model import RuleExample

    m, n, k = sp.symbols("m n k", integer=True, positive=True)
    X, Y = sp.MatrixSymbol("X", m, n), sp.MatrixSymbol("Y", n, k)
    A = sp.MatrixSymbol("A", m, m)
    bad = Citation(
        id="bad",
        name="bad",
        source="elementary",
        statement="",
        examples=lambda: [
            RuleExample(d(A * X), sp.MatMul(2, A, DifferentialSymbol(X)), wrt=("X",))
        ],
    )
    ok, detail = self_check(bad)
    assert not ok and "FAILED" in detail
    del Y


# --- rules as one kind of thing ----------------------------------------------------------------

KINDS = {"rewrite": Rewrite, "transform": Transform, "differential": DifferentialRule}


@pytest.mark.parametrize("rule", ALL, ids=[r.id for r in ALL])
def test_rule_is_one_of_four_kinds_with_one_signature(rule: Rule):
    assert type(rule) in (Rewrite, Transform, DifferentialRule, Citation)
    if rule.kind == "citation":
        assert not hasattr(rule, "apply"), "a citation has no machine form"
    else:
        assert isinstance(rule, KINDS[rule.kind]) and callable(rule.apply)
        params = list(inspect.signature(rule.apply).parameters.values())
        required = [p for p in params if p.default is inspect.Parameter.empty]
        assert len(params) >= 2 and len(required) <= 2, (
            f"{rule.id}: apply(expression, ctx) is the one calling convention"
        )


def test_a_rule_without_a_kind_is_refused():
    with pytest.raises(TypeError, match="Rewrite, Transform, DifferentialRule or Citation"):
        Rule(id="x", name="x", source="elementary", statement="x")


# Words a rule's name is read by: no Python class name leaks into them.
_CLASS_NAME = re.compile(r"\b[A-Z][a-z]+[A-Z]\w*\b")


@pytest.mark.parametrize("rule", ALL, ids=[r.id for r in ALL])
def test_rule_names_are_words_not_class_names(rule: Rule):
    assert not _CLASS_NAME.search(rule.name), rule.name
