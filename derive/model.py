"""The data of a derivation: rules, steps, claims, checks. All frozen; printers only read them.

This module sits under the rulebook and the engine and imports nothing of theirs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal, get_args

import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix

from derive.expr import PseudoInverse

# How the checker verifies a step or claim (see derive/check/relations.py for each):
#   "equal"     before and after agree at random inputs (differentials via jax.jvp)
#   "gradient"  before == tr(afterᵀ dX)              (after is the gradient read off before)
#   "jacobian"  before == after · dx                 (after is the Jacobian read off before;
#               for a matrix X, after · vec(dX), vec stacking columns)
#   "hessian"   before == vec(dX)ᵀ after vec(dX), after symmetric (the Hessian read off a
#               second differential: the second identification theorem)
#   "solve"     the parameter set to `after` makes `before` vanish
#   "constant"  before − after does not depend on the step's wrt symbols
#   "pointwise" the integrands of before and after (affine in E_{x∼D}[·]) agree at draws x ∼ D
#   "monte-carlo"  E[before] = E[after]: exactly for a discrete D, else within 5 standard
#               errors of a Monte Carlo mean (derive/expectation.py)
#   "integral"  the integral of before over wrt[0] ∈ (0, 1) is after (quadrature)
#   "symmetric-gradient"  before == Σ_{i≤j} after_ij dX_ij for a random symmetric dX
#   "constrained"  before and after agree on the constraint set: each wrt symbol drawn, then
#               scaled to unit norm (uᵀu = 1), as a Lagrangian agrees with its objective
Relation = Literal[
    "equal",
    "gradient",
    "jacobian",
    "hessian",
    "solve",
    "constant",
    "pointwise",
    "monte-carlo",
    "integral",
    "symmetric-gradient",
    "constrained",
]


RuleKind = Literal["rewrite", "transform", "differential", "citation"]


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


@dataclass(frozen=True, kw_only=True)
class Rule:
    """One identity of the rulebook: the record every kind of rule shares.

    `source` is a citation ("Matrix Cookbook (2012) eq. (37)") or a named source; `cookbook`
    lists the Cookbook equation labels cited, which tests match against the checked table
    ``rules/cookbook/equations.md`` (vendored from shared/cookbook/); `examples` builds
    instances for the rule's numeric test. A rule is one of four kinds, each with one calling
    convention for its machine form `apply` (the engine's recorder, `derive.record`, is the one
    place that calls it):

    - `Rewrite`: ``apply(node, ctx) -> replacement | None`` at any node of an expression;
    - `Transform`: ``apply(e, ctx) -> new | None`` on a whole expression, once;
    - `DifferentialRule`: ``apply(arg, ctx) -> d(arg)``, the differential of one node;
    - `Citation`: no machine form; the identity justifies a step an engine algorithm computed
      (the read-off of a gradient, a Lagrangian), which the checker verifies like any other.
    """

    kind: ClassVar[RuleKind]

    id: str
    name: str
    source: str
    statement: str
    conditions: tuple[str, ...] = ()
    cookbook: tuple[str, ...] = ()
    examples: Callable[[], list[RuleExample]] | None = field(
        default=None, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        if type(self) is Rule:
            raise TypeError("a rule is a Rewrite, Transform, DifferentialRule or Citation")

    @property
    def ref(self) -> RuleRef:
        return RuleRef(self.id, self.name, self.source)


@dataclass(frozen=True, kw_only=True)
class Rewrite(Rule):
    """A rewrite of one node: ``apply(node, ctx)`` is its replacement, None where it does not
    match. Applied at every node until it no longer matches (one step per pass), or at the root."""

    kind: ClassVar[RuleKind] = "rewrite"
    apply: Callable[[sp.Basic, Context], sp.Basic | None] = field(compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class Transform(Rule):
    """A move on a whole expression: ``apply(e, ctx)`` is the new expression (for a "solve"
    step, the value of the parameter), None where it does not apply. Applied once."""

    kind: ClassVar[RuleKind] = "transform"
    apply: Callable[[sp.Basic, Context], sp.Basic | None] = field(compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class DifferentialRule(Rule):
    """The differential of one kind of node: ``apply(arg, ctx)`` is d(arg), by this identity,
    with d(·) left on the operands (the engine passes d through them by their own rules)."""

    kind: ClassVar[RuleKind] = "differential"
    apply: Callable[[sp.Basic, Context], sp.Basic] = field(compare=False, repr=False)


@dataclass(frozen=True, kw_only=True)
class Citation(Rule):
    """An identity cited by a step that an engine algorithm computed; no machine form."""

    kind: ClassVar[RuleKind] = "citation"


@dataclass(frozen=True)
class Given:
    """A symbol of the problem: its shape (() scalar, (n,) column vector, (m, n) matrix)."""

    name: str
    shape: tuple[int | str, ...]
    assumptions: tuple[str, ...] = ()
    role: str = ""
    #: where the kind and shape came from, for a formula read from LaTeX: "given" (declared),
    #: "convention: …" (the reader's convention for the name) or "inferred: …"; "" otherwise
    source: str = ""

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

    kind "expectation": `function`, affine in expectations over one x ∼ D, has the value
    `expr` (exactly for a Bernoulli D, else by Monte Carlo within 5 standard errors).
    kind "integral": the integral of `function` over wrt[0] ∈ (0, 1) is `expr` (quadrature).
    kind "gradient"/"hessian"/"jacobian": `expr` equals JAX's derivative of `function`
    with respect to `wrt`. kind "symmetric-gradient": `expr` equals JAX's gradient of
    `function` with respect to the free entries X_ij, i ≤ j, of a symmetric X.
    kind "stationary": JAX's gradient of `function` with respect to
    `wrt` vanishes where each symbol in `at` takes its value. kind "constant": `function`
    minus `expr` does not change with `wrt`. kind "newton-step": `expr` equals w − H⁻¹g with
    g and H JAX's gradient and Hessian of `function` in the one vector `wrt`. kind
    "stationary-equation": `expr` is a Tuple (lhs, rhs), and lhs − rhs is a constant multiple
    of JAX's gradient of `function` in `wrt` (so ∇f = 0 exactly where lhs = rhs).
    kind "reference": an independent numeric method named by `method` (e.g.
    "numpy.linalg.eigh") agrees with the derived expressions:
    ``reference(values, value)`` returns (derived, expected) arrays that must be equal, where
    `values` are the trial's inputs by name and ``value(e, values)`` evaluates an expression.
    """

    kind: str
    label: str
    expr: sp.Basic
    function: sp.Basic
    wrt: tuple[str, ...]
    at: tuple[tuple[str, sp.Basic], ...] = ()
    method: str = ""
    reference: Callable[..., tuple[Any, Any]] | None = field(
        default=None, compare=False, repr=False
    )


RemarkKind = Literal["checked", "stated", "prose", "condition"]


@dataclass(frozen=True)
class Remark:
    """A sentence printed under a derivation, with its standing declared by its author.

    - "checked": its formulas are what the claims labelled `checked_by` check; those claims
      belong to the derivation, so its verification covers the remark;
    - "stated": it states a formula (or a result in words) that nothing here checks;
      `source` says where it comes from, and every printer marks it
      "stated, not checked (source: …)";
    - "prose": it asserts no formula: an explanation in words, or how the check works;
    - "condition": a hypothesis the result needs (log det W is defined for det W > 0),
      assumed rather than asserted; the numeric check draws inside it.

    Build one with `Remark.checked`, `Remark.stated`, `Remark.prose` or `Remark.condition`;
    a Derivation refuses a plain string, so every remark's kind is a decision.
    """

    text: str
    kind: RemarkKind
    checked_by: tuple[str, ...] = ()
    source: str = ""

    def __post_init__(self) -> None:
        if self.kind not in get_args(RemarkKind):
            raise ValueError(f"a remark is checked, stated, prose or condition, not {self.kind!r}")
        if not self.text.strip():
            raise ValueError("a remark needs its text")
        if (self.kind == "checked") != bool(self.checked_by):
            raise ValueError(f"only a checked remark names the claims that check it: {self.text!r}")
        if (self.kind == "stated") != bool(self.source.strip()):
            raise ValueError(f"only a stated remark gives a source, and it must: {self.text!r}")

    @classmethod
    def checked(cls, text: str, *claims: Claim | str) -> Remark:
        """A remark whose formulas the given claims (or claim labels) check."""
        labels = tuple(c.label if isinstance(c, Claim) else c for c in claims)
        return cls(text, "checked", checked_by=labels)

    @classmethod
    def stated(cls, text: str, source: str) -> Remark:
        """A remark stated from `source` (a citation, or "definition of …"), not checked."""
        return cls(text, "stated", source=source)

    @classmethod
    def prose(cls, text: str) -> Remark:
        return cls(text, "prose")

    @classmethod
    def condition(cls, text: str) -> Remark:
        return cls(text, "condition")

    @property
    def marker(self) -> str:
        """The words that mark a stated remark, "stated, not checked (source: …)"; else ""."""
        return f"stated, not checked (source: {self.source})" if self.kind == "stated" else ""

    def __str__(self) -> str:
        """The remark as one line of text, a stated one followed by its marker."""
        return f"{self.text} — {self.marker}" if self.marker else self.text


@dataclass(frozen=True)
class ItemCheck:
    label: str
    passed: bool
    max_rel_error: float
    method: str


#: What "passed" means: an item passes when its relative error, in float64 and against the
#: size of the terms each side is summed from, is at most this on every trial (the measure
#: and the measurements behind the value: derive/check/measure.py).
TOLERANCE = 1e-11
#: What the relative error of a check is measured against, as the summary line says it.
MEASURED = "float64, each side against the size of its terms"


@dataclass(frozen=True)
class CheckReport:
    """The numeric verification: every step and claim, over `trials` random draws."""

    passed: bool
    max_rel_error: float
    trials: int
    seed: int
    items: tuple[ItemCheck, ...]
    failure: str = ""
    #: the largest |Monte Carlo mean − closed form| in standard errors (None: no such item);
    #: those items' `max_rel_error` holds this measure, and `max_rel_error` above omits them
    max_standard_errors: float | None = None

    def summary(self) -> str:
        error = (
            f"max relative error {self.max_rel_error:.1e} ({MEASURED}; tolerance {TOLERANCE:.0e})"
        )
        if self.passed:
            # Methods other than JAX's (a "reference" claim's numpy.linalg.eigh) are named too;
            # JAX only when an item used it: a claim against jax.grad, or a step whose random
            # direction dX was pushed through jax.jvp.
            named = ("numpy", "tanh-sinh", "exact expectation")  # and the expectation checks
            # A chain link checked by one of those methods names it once ("… (chain)").
            methods = {i.method.removesuffix(" (chain)") for i in self.items}
            others = sorted(m for m in methods if m.startswith(named))
            jax = any(i.method.startswith("jax") or " random" in i.method for i in self.items)
            if jax:
                how = "against " + " and ".join(["JAX autodiff", *others])
            else:
                how = " and against ".join(["by evaluation at random inputs", *others])
            line = f"verified {how}: {self.trials} trials, {error}"
            if self.max_standard_errors is not None:  # the Monte Carlo items, in their measure
                line += (
                    f"; Monte Carlo expectations within {self.max_standard_errors:.1f} standard "
                    "errors (5 allowed)"
                )
            return line
        return f"NOT VERIFIED: {self.failure}"


@dataclass(frozen=True)
class Derivation:
    """A derivation as immutable data: given, goal, steps, results, claims, verification.

    `objective` is the function derived from (f); `results` are (lhs, rhs) equations.
    Its convenience methods (`check`, `verified`, `function`, `source`, `to_latex`,
    `to_markdown`, `to_json`, `to_text` and the Jupyter hooks) are attached by the API layer
    (`derive.methods`), so that this data module imports nothing above it.
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
    remarks: tuple[Remark, ...] = ()
    # Named shared factors (δ₂ := p − y), each (symbol, expression) in order; a later one may
    # use an earlier one. Printed as "where"; the checker computes each symbol from its
    # expression on every trial. An entry (lhs, rhs, compute) is computed instead by
    # compute(values) -> {name: array}, a numeric method (U, Σ, V of A = UΣVᵀ by an SVD).
    definitions: tuple[tuple[Any, ...], ...] = ()
    # For a function read in index notation: the results written entry by entry in that
    # notation (∂f/∂zₖ = softmax(z)ₖ − yₖ), each (lhs, rhs) with its free indices; a claim
    # checks each against the derivative (derive.latex.index_answer).
    index_results: tuple[tuple[sp.Basic, sp.Basic], ...] = ()

    def __post_init__(self) -> None:
        for r in self.remarks:
            if not isinstance(r, Remark):
                raise TypeError(
                    "a remark is a Remark (checked, stated, prose or condition), "
                    f"not a {type(r).__name__}: {r!r}"
                )

    @property
    def result(self) -> sp.Basic:
        """The main result (the right side of the first result equation)."""
        return self.results[0][1]


@dataclass(frozen=True)
class Context:
    """What the engine knows while applying rules: which symbols vary, what is assumed.

    An assumption that confines a symbol to a set (prob, onehot, symmetric) may rewrite a
    function only where the symbol is held fixed: rewriting 1ᵀy as 1 in f before
    differentiating with respect to y changes f off the set, and so its gradient. Once the
    derivative is taken (`at_point`), the expression is its value at a point of the set, and
    every assumption may be used.
    """

    varying: frozenset = frozenset()
    assume: Mapping[str, frozenset[str]] = field(default_factory=dict)
    #: True for a derivative already taken: an expression valued at a point of the set
    at_point: bool = False
    #: memo of `derive.simplify.tidy` under this context (expressions are immutable)
    tidied: dict = field(default_factory=dict, init=False, compare=False, repr=False)

    def depends(self, e: sp.Basic) -> bool:
        """Whether e depends on a varying symbol (so d(e) may be nonzero)."""
        return any(e.has(v) for v in self.varying)

    def at_a_point(self) -> Context:
        """This context for a derivative already taken (see `at_point`)."""
        return replace(self, at_point=True)

    def constrains(self, e: sp.Basic) -> bool:
        """Whether the assumptions confining e to a set may rewrite it here: e is held fixed,
        or the expression is a derivative's value at a point of the set."""
        return self.at_point or not self.depends(e)

    def has(self, name: str, *kinds: str) -> bool:
        """Whether symbol `name` carries one of the assumption `kinds`."""
        return bool(self.assume.get(name, frozenset()) & set(kinds))

    def symmetric(self, e: sp.Basic, assumed: bool = True) -> bool:
        """Whether e is symmetric: declared so (unless assumed=False), or by structure (I,
        diag(v), XᵀX, XᵀSX, S⁻¹, Sᵀ, sums and scalar multiples of symmetric matrices)."""
        if isinstance(e, sp.MatrixSymbol):
            return assumed and self.has(e.name, "symmetric", "spd")
        if not getattr(e, "is_Matrix", False) or e.shape[0] != e.shape[1]:
            return False
        if isinstance(e, (sp.Identity, sp.ZeroMatrix, sp.OneMatrix, DiagMatrix)):
            return True
        if isinstance(e, (sp.Inverse, sp.Transpose, PseudoInverse)):
            return self.symmetric(e.arg, assumed)
        if isinstance(e, sp.MatAdd):
            return all(self.symmetric(t, assumed) for t in e.args)
        if isinstance(e, sp.MatMul):
            mats = [a for a in e.args if getattr(a, "is_Matrix", False)]
            half, odd = divmod(len(mats), 2)
            palindrome = all(_transposed(mats[i]) == mats[-1 - i] for i in range(half))
            return palindrome and (not odd or self.symmetric(mats[half], assumed))
        return False


def _transposed(e: sp.Basic) -> sp.Basic:
    """Xᵀ as a node, (Xᵀ)ᵀ = X: enough to recognise XᵀX and XᵀSX by structure."""
    return e.arg if isinstance(e, sp.Transpose) else sp.Transpose(e)
