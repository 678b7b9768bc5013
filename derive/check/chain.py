"""Chains: a step that continues an equation starts where the step above it ended.

A step with relation "equal", "constant", "pointwise" or "monte-carlo" and the lhs of the step
above it continues that equation: ``lhs = after₁`` then ``lhs = before₂ = after₂``. Each such
step gets an item "chain: step k starts where step k−1 ended". It passes at once, evaluating
nothing, when `before` is the `after` above symbol for symbol (SymPy ``==``), which is how the
printers then show it, one chain ``lhs = before = after₁ = after₂ …`` (`display_rows`).
Otherwise the printers start a new line ``lhs = before``, and the item compares the two
numerically at the trial's inputs, as the sides of an "equal" step are (differentials as JVPs
in random directions), or, when an expectation is on either side, as a "monte-carlo" step is
(exactly for a Bernoulli, within 5 standard errors for a Gaussian): a second route to the same
quantity (the Fisher information as −E[∂²ℓ]) must reach the value the first route reached.
A step that starts from anything else fails its item.
"""

from __future__ import annotations

from itertools import pairwise

from derive.check.relations import Item, broken, relation_runner
from derive.distributions import Expectation
from derive.errors import DeriveError
from derive.model import Derivation, Step

# The relations whose steps the printers chain under one lhs.
CHAIN_RELATIONS = ("equal", "constant", "pointwise", "monte-carlo")
# The method of a link whose start is the end of the step above, symbol for symbol.
STRUCTURAL = "structural identity"


def continues(previous: Step, step: Step) -> bool:
    """Whether `step` continues the equation `previous` ends: a chaining relation and the
    same lhs. The relation of `previous` does not enter: ``∂ℓ/∂p = G`` read off by a gradient
    step is continued by ``= G′``."""
    return step.relation in CHAIN_RELATIONS and step.lhs == previous.lhs


def continuity_item(index: int, previous: Step, step: Step, wrt: tuple[str, ...]) -> Item:
    """The item "chain: step `index` starts where step `index` − 1 ended": structural when
    ``step.before == previous.after``; else ``previous.after == step.before`` checked as an
    "equal" step (varying `wrt`), or a "monte-carlo" one when an expectation is on either
    side, its method suffixed " (chain)"."""
    name = f"chain from step {index - 1} into step {index} ({step.rule.name})"
    label = f"chain: step {index} starts where step {index - 1} ended"
    if step.before == previous.after:
        return Item(name, label, STRUCTURAL, "relative error", lambda tr: 0.0)
    expectations = previous.after.atoms(Expectation) | step.before.atoms(Expectation)
    relation = "monte-carlo" if expectations else "equal"
    try:
        run, method, measure = relation_runner(
            relation, previous.after, step.before, wrt, 2000 + index
        )
    except DeriveError as exc:
        return broken(name, label, exc)
    return Item(name, label, f"{method} (chain)", measure, run)


def continuity_items(derivation: Derivation) -> list[Item]:
    """A continuity item for each step shown continuing a chain, in the order of the steps;
    each compared with respect to ``step.wrt or derivation.wrt``."""
    return [
        continuity_item(k, previous, step, tuple(step.wrt or derivation.wrt))
        for k, (previous, step) in enumerate(pairwise(derivation.steps), start=2)
        if continues(previous, step)
    ]
