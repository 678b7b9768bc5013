"""Chain continuity: a step shown continuing a chain starts where the step above ended.

The printers (`derive.render.layout.display_rows`) show a step as continuing the chain above,
``lhs = before = after₁ = after₂ …``, exactly when `derive.check.chain.continues` says so;
each such step gets a checker item "chain: step k starts where step k−1 ended". In a
derivation these items are structural (no numeric work); `continuity_item` also compares two
different forms numerically, as an "equal" step's sides are compared.
"""

import pytest
import sympy as sp

import derive
from derive.check import check_derivation
from derive.check.chain import STRUCTURAL, continuity_item, continuity_items
from derive.check.running import run_items
from derive.expr import DifferentialSymbol, GradientOf, MatScalar, ScalarDifferential
from derive.model import Derivation, Given, RuleRef, Step
from derive.render.layout import display_rows

m, n = sp.symbols("m n", integer=True, positive=True)
A = sp.MatrixSymbol("A", m, n)
x = sp.MatrixSymbol("x", n, 1)
b = sp.MatrixSymbol("b", m, 1)
dx = DifferentialSymbol(x)
F = sp.Symbol("f")
T = sp.Transpose

GIVEN = (Given("x", ("n",)), Given("A", ("m", "n")), Given("b", ("m",)))
f = MatScalar(T(A * x) * b)
bAx = MatScalar(T(b) * A * x)
xAb = MatScalar(T(x) * T(A) * b)


def ref(name: str) -> RuleRef:
    return RuleRef(name.lower().replace(" ", "-"), name, "elementary")


def derivation(steps) -> Derivation:
    return Derivation(
        title="test",
        goal="test",
        given=GIVEN,
        objective=f,
        wrt=("x",),
        steps=tuple(steps),
        results=((F, xAb),),
    )


FIRST = Step(F, f, bAx, ref("A scalar is its own transpose"))


def continuing_numbers(steps) -> set[int]:
    """The steps the printers show continuing a chain: chained, not right after a start."""
    rows = display_rows(steps)
    return {
        r.number
        for i, r in enumerate(rows)
        if r.kind == "step" and r.chained and (i == 0 or rows[i - 1].kind != "start")
    }


def chain_items(report):
    return [i for i in report.items if i.label.startswith("chain:")]


# --- the worked derivations ------------------------------------------------------------------


def linked_numbers(steps) -> set[int]:
    """The steps that continue the equation above them: a chaining relation, the same lhs."""
    return {
        k
        for k, (prev, step) in enumerate(zip(steps, steps[1:], strict=False), start=2)
        if step.lhs == prev.lhs
        and step.relation in ("equal", "constant", "pointwise", "monte-carlo")
    }


@pytest.mark.parametrize("name", [name for name, _ in derive.catalog()])
def test_every_worked_derivation_has_chain_items_and_they_pass(name):
    d = derive.worked(name, check=False)
    items = continuity_items(d)
    assert items, f"{name} has no step continuing an equation"
    numbers = {int(item.label.split()[2]) for item in items}
    assert numbers == linked_numbers(d.steps)
    # The steps shown as one chain are linked symbol for symbol, evaluating nothing.
    structural = {int(i.label.split()[2]) for i in items if i.method == STRUCTURAL}
    assert structural == continuing_numbers(d.steps)
    errors, failures, draw_failure = run_items(items, d.given, 2, 0, d.definitions, d.objective)
    assert not draw_failure and not any(failures), failures


def test_the_fisher_information_second_route_is_linked_to_the_first():
    """−E[∂²ℓ/∂p²] starts a new line under the lhs I(p) that E[s²] ended: the link is
    checked by expectation (exactly, for a Bernoulli), not skipped."""
    d = derive.worked("fisher-bernoulli", check=False)
    numeric = [i for i in continuity_items(d) if i.method != STRUCTURAL]
    assert numeric and all("(chain)" in i.method for i in numeric)


# --- hand-built derivations ------------------------------------------------------------------


def test_a_step_continuing_a_chain_gets_a_passing_item():
    second = Step(F, bAx, xAb, ref("Transpose"))
    report = check_derivation(derivation([FIRST, second]), trials=2)
    assert report.passed, report.failure
    assert continuing_numbers([FIRST, second]) == {2}
    (item,) = chain_items(report)
    assert item.label == "chain: step 2 starts where step 1 ended"
    assert item.method == STRUCTURAL and item.passed and item.max_rel_error == 0.0
    assert report.items[-1] == item  # after the steps and claims
    assert report.summary().startswith("verified by evaluation at random inputs")


def test_a_step_with_another_lhs_is_not_a_chain_item():
    second = Step(
        ScalarDifferential(F), ScalarDifferential(bAx), MatScalar(T(b) * A * dx), ref("Factors")
    )
    assert [r.kind for r in display_rows([FIRST, second])] == ["start", "step", "start", "step"]
    report = check_derivation(derivation([FIRST, second]), trials=2)
    assert report.passed, report.failure
    assert not chain_items(report)


def test_a_chain_continued_after_a_read_off_step_is_an_item():
    # ∂f/∂x = Aᵀb read off by a gradient step, continued by ``= (bᵀA)ᵀ``: one chain on screen.
    steps = [
        Step(ScalarDifferential(F), ScalarDifferential(bAx), MatScalar(T(b) * A * dx), ref("D")),
        Step(GradientOf(F, x), MatScalar(T(b) * A * dx), T(A) * b, ref("G"), relation="gradient"),
        Step(GradientOf(F, x), T(A) * b, T(T(b) * A), ref("Transpose")),
    ]
    assert continuing_numbers(steps) == {3}
    report = check_derivation(derivation(steps), trials=2)
    assert report.passed, report.failure
    assert [i.label for i in chain_items(report)] == ["chain: step 3 starts where step 2 ended"]


def test_a_step_starting_elsewhere_fails_the_derivation():
    # Step 2 starts from 2bᵀAx, not from bᵀAx: the printers start a new line f = 2bᵀAx, and
    # the chain item linking it to step 1 fails, naming the step.
    second = Step(F, 2 * bAx, 2 * xAb, ref("Transpose"))
    rows = display_rows([FIRST, second])
    assert [(r.kind, r.expr) for r in rows][2] == ("start", 2 * bAx)
    report = check_derivation(derivation([FIRST, second]), trials=2)
    assert not report.passed
    assert "chain from step 1 into step 2" in report.failure


# --- one link, compared numerically ----------------------------------------------------------


def run_link(previous: Step, step: Step):
    item = continuity_item(2, previous, step, ("x",))
    errors, failures, draw_failure = run_items([item], GIVEN, 3, 0)
    assert not draw_failure
    return item, errors[0], failures[0]


def test_a_link_to_a_numerically_different_start_fails_naming_the_step():
    item, error, failure = run_link(FIRST, Step(F, 2 * bAx, 2 * xAb, ref("Transpose")))
    assert item.label == "chain: step 2 starts where step 1 ended"
    assert item.method == "evaluation (chain)"
    assert error > 0.1
    assert failure.startswith(
        "chain from step 1 into step 2 (Transpose) differs at seed 0 trial 0: relative error"
    )


def test_a_link_to_an_equal_form_passes_numerically():
    item, error, failure = run_link(FIRST, Step(F, xAb, bAx, ref("Transpose")))
    assert item.method == "evaluation (chain)"
    assert failure == "" and error < 1e-12


def test_a_link_between_differentials_is_compared_by_jvp():
    d1 = Step(ScalarDifferential(F), ScalarDifferential(bAx), MatScalar(T(b) * A * dx), ref("D"))
    same = Step(ScalarDifferential(F), MatScalar(T(dx) * T(A) * b), sp.S.Zero, ref("T"))
    item, error, failure = run_link(d1, same)
    assert item.method == "evaluation (chain)" and failure == "" and error < 1e-12
    item, _, failure = run_link(
        d1, Step(ScalarDifferential(F), ScalarDifferential(xAb), sp.S.Zero, ref("T"))
    )
    assert item.method == "jax.jvp (chain)" and failure == ""
    item, _, failure = run_link(
        d1, Step(ScalarDifferential(F), ScalarDifferential(2 * f), sp.S.Zero, ref("T"))
    )
    assert item.method == "jax.jvp (chain)" and "differs" in failure


def test_a_structural_link_evaluates_nothing():
    item = continuity_item(2, FIRST, Step(F, bAx, xAb, ref("Transpose")), ("x",))
    assert item.method == STRUCTURAL and item.run(None) == 0.0


def test_a_chain_link_names_its_method_once_in_the_summary():
    d = derive.worked("fisher-bernoulli")
    summary = d.verification.summary()
    assert summary.count("exact expectation (enumeration)") == 1 and "(chain)" not in summary
