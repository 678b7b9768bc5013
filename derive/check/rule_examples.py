"""Rule examples: a rule's worked example checked on random inputs read off its expressions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

import sympy as sp

from derive.arguments import names_used
from derive.check.relations import Item, broken, relation_runner
from derive.check.running import run_items
from derive.errors import DeriveError, InputError
from derive.expr import DifferentialSymbol, ScalarDifferentialSymbol
from derive.jax_runtime import import_jax
from derive.model import Given, RuleExample


def _dim(e: sp.Basic) -> int | str:
    if e.is_Integer:
        return int(e)
    if isinstance(e, sp.Symbol):
        return e.name
    raise InputError(f"cannot use {e} as a dimension of a random input")


def _shape_of(rows: sp.Basic, cols: sp.Basic) -> tuple[int | str, ...]:
    """A column vector (n,); any other shape, a 1×1 included, as a matrix (m, n)."""
    if cols == 1 and rows != 1:
        return (_dim(rows),)
    return (_dim(rows), _dim(cols))


def _data_given(node: sp.Indexed, lengths: Mapping[sp.Basic, sp.Basic]) -> Given:
    """The data x read as x[i]: its IndexedBase shape, else (n,) from a sum over i = 1..n."""
    name = node.base.label.name
    if node.base.shape is not None:
        return Given(name, tuple(_dim(s) for s in node.base.shape), role="data")
    if len(node.indices) == 1 and node.indices[0] in lengths:
        return Given(name, (_dim(lengths[node.indices[0]]),), role="data")
    raise InputError(f"cannot tell the length of the data {name}; give it a shape or pass `given`")


def given_of(*exprs: sp.Basic) -> tuple[Given, ...]:
    """The Given symbols that `exprs` read, with shapes from the matrix symbols.

    Differential symbols dX, dθ are not symbols of their own: they are the random directions
    of X and θ, which are listed even if only their differentials occur. Indexed data x[i]
    has the shape of its IndexedBase, or else (n,) when i runs over 1..n in a Sum or Product;
    its role is "data". A scalar declared positive, nonnegative or nonzero in SymPy is drawn so.
    """
    lengths = {
        var: hi
        for e in exprs
        for node in sp.preorder_traversal(e)
        if isinstance(node, (sp.Sum, sp.Product))
        for var, lo, hi in node.limits
        if lo == 1
    }
    found: dict[str, Given] = {}
    bases: dict[str, Given] = {}  # X for each dX, so that its direction dX is drawn
    skip: set[str] = set()
    for node in (n for e in exprs for n in sp.preorder_traversal(e)):
        if isinstance(node, ScalarDifferentialSymbol):
            skip.add(node.name)
            bases.setdefault(node.base_name, Given(node.base_name, ()))
            continue
        if isinstance(node, DifferentialSymbol):
            skip.add(node.name)
            rows, cols = node.shape
            shape = _shape_of(rows, cols)
            bases.setdefault(node.base_name, Given(node.base_name, shape))
            continue
        if isinstance(node, sp.MatrixSymbol):
            rows, cols = node.shape
            given = Given(node.name, _shape_of(rows, cols))
        elif isinstance(node, sp.Indexed):
            given = _data_given(node, lengths)
        else:
            continue
        if found.setdefault(given.name, given) != given:
            raise InputError(f"{given.name} is used with two shapes")
    for name, g in bases.items():
        found.setdefault(name, g)
    dims = {d for g in found.values() for d in g.shape if isinstance(d, str)}
    scalars = {
        node.name: node
        for e in exprs
        for node in sp.preorder_traversal(e)
        if isinstance(node, sp.Symbol)
    }
    for name in sorted(set().union(*(names_used(e) for e in exprs)) - set(found) - dims - skip):
        found[name] = Given(name, (), _sympy_assumptions(scalars.get(name)))
    return tuple(found.values())


def _sympy_assumptions(sym: sp.Symbol | None) -> tuple[str, ...]:
    """What a scalar's SymPy assumptions (positive=True, ...) ask of its random values."""
    if sym is None:
        return ()
    if sym.is_positive:
        return ("positive",)
    if sym.is_nonnegative:
        return ("nonnegative",)
    if sym.is_nonzero:
        return ("nonzero",)
    return ()


def check_rule_example(
    example: RuleExample, given: tuple[Given, ...] = (), trials: int = 3, seed: int = 0
) -> float:
    """The largest error of ``example.lhs <relation> example.rhs`` over `trials` draws.

    `given` lists the symbols' shapes (read off the expressions by `given_of` when empty);
    ``example.assume`` adds assumptions; ``example.wrt`` names the varying symbols. Raises
    AssertionError, naming the seed and trial, if the example fails or cannot be evaluated.
    """
    import_jax()
    try:
        given = tuple(given) or given_of(example.lhs, example.rhs)
    except InputError as exc:
        raise AssertionError(f"cannot draw inputs for the example: {exc}") from exc
    stray = set(example.assume) - {g.name for g in given}
    if stray:
        raise AssertionError(f"the example assumes something of {sorted(stray)[0]}, not a symbol")
    given = tuple(
        replace(g, assumptions=tuple(dict.fromkeys(g.assumptions + tuple(example.assume[g.name]))))
        if g.name in example.assume
        else g
        for g in given
    )
    name = f"rule example {example.lhs} {example.relation} {example.rhs}"
    try:
        run, method, measure = relation_runner(
            example.relation, example.lhs, example.rhs, tuple(example.wrt), 1
        )
        item = Item(name, name, method, measure, run)
    except DeriveError as exc:
        item = broken(name, name, exc)
    errors, failures, draw_failure = run_items([item], given, trials, seed)
    if draw_failure or failures[0]:
        raise AssertionError(draw_failure or failures[0])
    return errors[0]
