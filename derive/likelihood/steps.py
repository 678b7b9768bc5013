"""The record every likelihood derivation keeps: its steps (by the one recorder,
`derive.record.Recorder`) and its claims, and the move both pipelines make most: an equation
solved for one unknown."""

from __future__ import annotations

from collections.abc import Callable

import sympy as sp

from derive.model import Claim, Context, Rule
from derive.record import Recorder


class Recording(Recorder):
    """The steps and claims of one derivation, in order."""

    def __init__(self, ctx: Context | None = None) -> None:
        super().__init__(ctx)
        self.claims: list[Claim] = []

    def solve_for(
        self,
        equation: sp.Basic,
        theta: sp.Basic,
        lhs: sp.Basic,
        rule: Rule,
        note: str | Callable[[sp.Basic], str],
    ) -> sp.Basic:
        """lhs = `rule` applied to `equation` (= 0) with θ the only unknown: a "solve" step.

        θ is a `Symbol` or a `MatrixSymbol`; its name is the step's wrt."""
        ctx = Context(varying=frozenset({theta}))
        return self.transform(equation, rule, lhs, note, "solve", (theta.name,), ctx=ctx)
