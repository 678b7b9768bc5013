"""The data of a derivation: rules, steps, claims, checks. All frozen; printers only read them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import sympy as sp

# How the checker verifies a step or claim (see derive/check.py for each):
#   "equal"     before and after agree at random inputs (differentials via jax.jvp)
#   "gradient"  before == tr(afterᵀ dX)              (after is the gradient read off before)
#   "jacobian"  before == after · dx                 (after is the Jacobian read off before)
#   "solve"     the parameter set to `after` makes `before` vanish
#   "constant"  before − after does not depend on the step's wrt symbols
Relation = Literal["equal", "gradient", "jacobian", "solve", "constant"]


@dataclass(frozen=True)
class RuleRef:
    """What a step records of the rule it applied."""

    id: str
    name: str
    source: str


@dataclass(frozen=True)
class RuleExample:
    """A concrete instance of a rule, for its numeric self-check: lhs `relation` rhs."""

    lhs: sp.Basic
    rhs: sp.Basic
    wrt: tuple[str, ...] = ()
    assume: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    relation: Relation = "equal"


@dataclass(frozen=True)
class Rule:
    """One identity of the rulebook.

    `source` is a citation ("Matrix Cookbook (2012) eq. (37)") or a named source; `cookbook`
    lists the Cookbook equation labels cited, which tests match against
    ``shared/cookbook/equations.md``. `apply` is the machine form the engine calls;
    `examples` builds instances for the rule's numeric test.
    """

    id: str
    name: str
    source: str
    statement: str
    conditions: tuple[str, ...] = ()
    cookbook: tuple[str, ...] = ()
    apply: Callable[..., Any] | None = field(default=None, compare=False, repr=False)
    examples: Callable[[], list[RuleExample]] | None = field(
        default=None, compare=False, repr=False
    )

    @property
    def ref(self) -> RuleRef:
        return RuleRef(self.id, self.name, self.source)


@dataclass(frozen=True)
class Given:
    """A symbol of the problem: its shape (() scalar, (n,) column vector, (m, n) matrix)."""

    name: str
    shape: tuple[int | str, ...]
    assumptions: tuple[str, ...] = ()
    role: str = ""

    @property
    def kind(self) -> str:
        return {0: "scalar", 1: "vector"}.get(len(self.shape), "matrix")


@dataclass(frozen=True)
class Step:
    """One move: ``lhs = before`` becomes ``lhs = after`` by `rule`."""

    lhs: sp.Basic
    before: sp.Basic
    after: sp.Basic
    rule: RuleRef
    note: str = ""
    relation: Relation = "equal"
    wrt: tuple[str, ...] = ()


@dataclass(frozen=True)
class Claim:
    """A statement about the result checked against an independent method.

    kind "gradient"/"hessian"/"jacobian": `expr` equals JAX's derivative of `function`
    with respect to `wrt`. kind "stationary": JAX's gradient of `function` with respect to
    `wrt` vanishes where each symbol in `at` takes its value. kind "constant": `function`
    minus `expr` does not change with `wrt`.
    """

    kind: str
    label: str
    expr: sp.Basic
    function: sp.Basic
    wrt: tuple[str, ...]
    at: tuple[tuple[str, sp.Basic], ...] = ()


@dataclass(frozen=True)
class ItemCheck:
    label: str
    passed: bool
    max_rel_error: float
    method: str


@dataclass(frozen=True)
class CheckReport:
    """The numeric verification: every step and claim, over `trials` random draws."""

    passed: bool
    max_rel_error: float
    trials: int
    seed: int
    items: tuple[ItemCheck, ...]
    failure: str = ""

    def summary(self) -> str:
        if self.passed:
            return (
                f"verified against JAX autodiff: {self.trials} trials, "
                f"max relative error {self.max_rel_error:.1e}"
            )
        return f"NOT VERIFIED: {self.failure}"


@dataclass(frozen=True)
class Derivation:
    """A derivation as immutable data: given, goal, steps, results, claims, verification.

    `objective` is the function derived from (f); `results` are (lhs, rhs) equations.
    """

    title: str
    goal: str
    given: tuple[Given, ...]
    objective: sp.Basic | None
    wrt: tuple[str, ...]
    steps: tuple[Step, ...]
    results: tuple[tuple[sp.Basic, sp.Basic], ...]
    claims: tuple[Claim, ...] = ()
    verification: CheckReport | None = None
    name: str = ""
    remarks: tuple[str, ...] = ()

    @property
    def result(self) -> sp.Basic:
        """The main result (the right side of the first result equation)."""
        return self.results[0][1]

    # --- checking ------------------------------------------------------------------------
    def check(self, trials: int = 5, seed: int = 0) -> CheckReport:
        """Verify every step and claim numerically against JAX; returns the report."""
        from derive.check import check_derivation

        return check_derivation(self, trials=trials, seed=seed)

    def verified(self, trials: int = 5, seed: int = 0) -> Derivation:
        """This derivation with `verification` filled in by `check`."""
        return replace(self, verification=self.check(trials=trials, seed=seed))

    # --- evaluation ----------------------------------------------------------------------
    def function(self, backend: str = "numpy") -> Callable[..., Any]:
        """A callable of the result taking the symbols as keyword arrays.

        Vectors are passed as 1-D arrays; the return value has the result's shape, with
        column vectors returned as 1-D arrays and scalars as 0-d arrays.
        """
        from derive.evaluate import compile_function

        return compile_function(self.result, self.given, backend=backend)

    # --- printing ------------------------------------------------------------------------
    def to_latex(self, standalone: bool = False) -> str:
        from derive.render.latex import render

        return render(self, standalone=standalone)

    def to_markdown(self) -> str:
        from derive.render.markdown import render

        return render(self)

    def to_json(self) -> str:
        from derive.render.json import render

        return render(self)

    def to_text(self) -> str:
        from derive.render.text import render

        return render(self)

    def _repr_latex_(self) -> str:
        from derive.render.latex import render_math

        return render_math(self)

    def _repr_markdown_(self) -> str:
        return self.to_markdown()

    def __str__(self) -> str:
        return self.to_text()


@dataclass(frozen=True)
class Context:
    """What the engine knows while applying rules: which symbols vary, what is assumed."""

    varying: frozenset = frozenset()
    assume: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def depends(self, e: sp.Basic) -> bool:
        """Whether e depends on a varying symbol (so d(e) may be nonzero)."""
        return any(e.has(v) for v in self.varying)

    def has(self, name: str, *kinds: str) -> bool:
        """Whether symbol `name` carries one of the assumption `kinds`."""
        return bool(self.assume.get(name, frozenset()) & set(kinds))

    def symmetric(self, e: sp.Basic) -> bool:
        return isinstance(e, sp.MatrixSymbol) and self.has(e.name, "symmetric", "spd")
