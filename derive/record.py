"""The recorder: the one way a `Step` comes to be.

Every step of every derivation (the matrix-calculus engine, the likelihood pipeline,
expectations, the worked recipes) is recorded here, by applying a rule of the rulebook
according to its kind (`derive.model.Rule`):

- `Recorder.rewrite`: `Rewrite` rules applied at every node until none matches, one step
  per pass (`derive.rewrite`);
- `Recorder.transform`: a `Transform` (or a `Rewrite` at the root) applied to the whole
  expression once;
- `Recorder.differentiate`: d(·) passed through the nodes of an expression by their
  `DifferentialRule`, one step per rule (`derive.differential`);
- `Recorder.derivative`: a scalar derivative ∂f/∂θ read off d f by a `Transform`;
- `Recorder.cite`: a step an engine algorithm computed, justified by a `Citation`.

So a citation cannot be attached to a move no rule made: a rule with a machine form is only
ever recorded with what that machine form returned. The checker verifies every step, and
that each step of a displayed chain starts where the previous one ended.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

import sympy as sp

from derive.differential import differential_passes, differential_start
from derive.distributions import Expectation
from derive.errors import UnsupportedError
from derive.expr import ScalarDifferential
from derive.model import Citation, Context, Relation, Rule, Step
from derive.rewrite import rewrite_passes

__all__ = ["Recorder", "auto_relation"]


def auto_relation(before: sp.Basic, after: sp.Basic) -> Relation:
    """ "pointwise" when an expectation is on either side (the rule rewrote an integrand),
    else "equal"."""
    return "pointwise" if before.atoms(Expectation) or after.atoms(Expectation) else "equal"


def _require(rule: Rule, *kinds: str) -> None:
    if rule.kind not in kinds:
        raise TypeError(
            f"rule {rule.id} is a {rule.kind} rule; this records only {' or '.join(kinds)} rules"
        )


class Recorder:
    """The steps of one derivation, in order; each records one rule applied.

    `ctx` is what the engine knows (which symbols vary, what is assumed); a call may pass
    its own `ctx` for one move (a derivative with respect to one parameter).
    """

    def __init__(self, ctx: Context | None = None, steps: Iterable[Step] = ()) -> None:
        self.steps: list[Step] = list(steps)  # `steps`: a derivation this one continues
        self.ctx = ctx or Context()

    def include(self, steps: Iterable[Step]) -> None:
        """Append steps another recorder made (a sub-derivation this one builds on)."""
        self.steps.extend(steps)

    def _record(
        self,
        rule: Rule,
        lhs: sp.Basic,
        before: sp.Basic,
        after: sp.Basic,
        note: str,
        relation: Relation,
        wrt: Iterable[str],
    ) -> sp.Basic:
        self.steps.append(Step(lhs, before, after, rule.ref, note, relation, tuple(wrt)))
        return after

    def rewrite(
        self,
        e: sp.Basic,
        rules: Rule | Sequence[Rule],
        lhs: sp.Basic,
        note: str = "",
        relation: Relation | None = None,
        *,
        ctx: Context | None = None,
    ) -> sp.Basic:
        """`rules` (`Rewrite`s) applied everywhere until none matches; one step per pass.

        The relation defaults to `auto_relation` of each pass."""
        rules = (rules,) if isinstance(rules, Rule) else tuple(rules)
        for rule in rules:
            _require(rule, "rewrite")
        for rule, before, after in rewrite_passes(e, rules, ctx or self.ctx):
            e = self._record(
                rule, lhs, before, after, note, relation or auto_relation(before, after), ()
            )
        return e

    def rewrite_in_turn(
        self,
        e: sp.Basic,
        rules: Sequence[Rule],
        lhs: sp.Basic,
        notes: Mapping[Rule, str] | None = None,
    ) -> sp.Basic:
        """Each of `rules` in turn, applied everywhere until it no longer matches, its steps
        noted by ``notes[rule]`` (the log of a product, then of powers, then of exponentials)."""
        for rule in rules:
            e = self.rewrite(e, rule, lhs, (notes or {}).get(rule, ""))
        return e

    def transform(
        self,
        e: sp.Basic,
        rule: Rule,
        lhs: sp.Basic,
        note: str | Callable[[sp.Basic], str] = "",
        relation: Relation | None = None,
        wrt: Sequence[str] = (),
        *,
        ctx: Context | None = None,
    ) -> sp.Basic:
        """`rule` (a `Transform`, or a `Rewrite` at the root) applied to the whole of e, once;
        refused when it does not apply. `note` may be a function of the result."""
        _require(rule, "transform", "rewrite")
        new = rule.apply(e, ctx or self.ctx)
        if new is None:
            raise UnsupportedError(f"the rule {rule.id} on {e}")
        if callable(note):
            note = note(new)
        return self._record(rule, lhs, e, new, note, relation or auto_relation(e, new), wrt)

    def differentiate(self, e: sp.Basic, lhs: sp.Basic, *, ctx: Context | None = None) -> sp.Basic:
        """d(e) with respect to ``ctx.varying``: each pass one `DifferentialRule` applied at
        every outermost d(·) it covers; returns the differential."""
        current = None
        for rule, before, after in differential_passes(e, ctx or self.ctx):
            current = self._record(rule, lhs, before, after, "", "equal", ())
        return differential_start(e, ctx or self.ctx) if current is None else current

    def derivative(
        self, f: sp.Expr, theta: sp.Symbol, lhs: sp.Basic, rule: Rule, note: str = ""
    ) -> sp.Expr:
        """lhs = ∂f/∂θ by the `Transform` `rule` (with θ the one varying symbol), read off the
        differential: recorded from d f with relation "gradient", so the checker compares the
        JVP of f in a random direction dθ with the derivative times dθ."""
        _require(rule, "transform")
        ctx = Context(varying=frozenset({theta}))
        new = rule.apply(f, ctx)
        if new is None:
            raise UnsupportedError(f"the rule {rule.id} on {f}")
        return self._record(rule, lhs, ScalarDifferential(f), new, note, "gradient", (theta.name,))

    def cite(
        self,
        rule: Citation,
        lhs: sp.Basic,
        before: sp.Basic,
        after: sp.Basic,
        note: str = "",
        relation: Relation = "equal",
        wrt: Sequence[str] = (),
    ) -> sp.Basic:
        """A step an engine algorithm computed (`before` → `after`), justified by `rule`."""
        _require(rule, "citation")
        return self._record(rule, lhs, before, after, note, relation, wrt)
