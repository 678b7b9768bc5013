"""Running the checks: every step, claim and chain link of a derivation on random draws.

Every step is checked by its `relation` (see `derive.model.Relation`), every claim by its
kind, and every step the printers show continuing a chain by `derive.check.chain`, on
`trials` random draws (`derive.check.trial`). An item passes when its error is at most
`TOLERANCE` on every trial (`derive.check.measure`). An item that cannot be evaluated (an
unsupported node, a shape mismatch, a NaN) fails, with the reason; it never passes.
"""

from __future__ import annotations

import functools
import math

import numpy as np
import sympy as sp

from derive.arguments import names_used
from derive.check import compiled
from derive.check.chain import continuity_items
from derive.check.claims import claim_item
from derive.check.measure import MC_TOLERANCE, TOLERANCE, has_differential, value_of
from derive.check.relations import STANDARD_ERRORS, Item, broken, step_item
from derive.check.trial import Trial
from derive.errors import DeriveError, DomainError, UnsupportedError
from derive.jax_runtime import import_jax
from derive.model import CheckReport, Derivation, Given, ItemCheck

# What a wrong or unevaluable expression raises inside NumPy or JAX: the item fails with the
# message instead of crashing the checker. (LinAlgError is a ValueError.)
_EVALUATION_ERRORS = (DeriveError, ArithmeticError, ValueError, TypeError, IndexError)


def _attempt(item: Item, tr: Trial) -> tuple[float, str]:
    """The item's error on one trial, and a failure message ("" when it passed)."""
    where = f"at seed {tr.seed} trial {tr.index}"
    try:
        with np.errstate(all="ignore"):
            error = float(item.run(tr))
    except _EVALUATION_ERRORS as exc:
        return math.inf, f"{item.name} could not be checked {where}: {exc}"
    tolerance = MC_TOLERANCE if item.measure == STANDARD_ERRORS else TOLERANCE
    if not error <= tolerance:  # also catches NaN
        return error, f"{item.name} differs {where}: {item.measure} {error:.1e}"
    return error, ""


_SINGULAR = 1e8  # a condition number above this: the matrix is singular up to round-off


@functools.lru_cache(maxsize=1024)
def _inverted(objective: sp.Basic) -> tuple[sp.Basic, ...]:
    """The inverses and determinants in `objective`, in preorder."""
    return tuple(
        n for n in sp.preorder_traversal(objective) if isinstance(n, (sp.Inverse, sp.Determinant))
    )


def _in_domain(objective: sp.Basic | None, tr: Trial) -> bool:
    """Whether the function is defined at the draw: finite, and every matrix it inverts or
    takes the determinant of is invertible (log det XᵀX needs X tall, not wide; round-off
    makes the determinant of a singular XᵀX tiny rather than zero). A function the evaluator
    cannot compute on its own counts as in its domain."""
    if objective is None:
        return True
    try:
        with np.errstate(all="ignore"):
            if not np.all(np.isfinite(value_of(objective, tr.values, tr.dims))):
                return False
            for node in _inverted(objective):
                a = np.asarray(value_of(node.args[0], tr.values, tr.dims), float)
                if a.ndim == 2 and a.shape[0] > 1 and np.linalg.cond(a) > _SINGULAR:
                    return False
    except np.linalg.LinAlgError:
        return False
    except DeriveError:
        return True
    return True


#: fresh draws tried per trial, each with the sizes in both orders, for a point where the
#: function is defined (√θ needs θ > 0: half the draws of θ; log det XᵀX needs X tall)
DOMAIN_ATTEMPTS = 32


def _draw_in_domain(
    given: tuple[Given, ...],
    seed: int,
    t: int,
    definitions: tuple,
    objective: sp.Basic | None,
) -> Trial:
    """Trial t's draw if the function is defined there; else the first of further draws that
    is (the sizes assigned in the other order first: X drawn wide where XᵀX must be
    invertible). Raises `InputError` when the function is real-valued at none of them: a
    derivative of a function defined nowhere it was tried is not shown, let alone verified."""
    error: DeriveError | None = None
    tried = 0
    for attempt in range(DOMAIN_ATTEMPTS):
        for reverse in (False, True):
            try:
                tr = Trial.draw(given, seed, t, definitions, reverse, attempt)
            except DeriveError as exc:  # a full-rank matrix assumed tall and drawn wide, say
                error = error or exc
                continue
            tried += 1
            if _in_domain(objective, tr):
                return tr
    if not tried and error is not None:
        raise error
    raise DomainError(
        f"f is not real-valued at any point tried ({tried} random draws at seed {seed}, "
        f"trial {t}); its domain may be empty, or the inputs may need an assumption that puts "
        "them in it (--assume NAME=positive)"
    )


def run_items(
    items: list[Item],
    given: tuple[Given, ...],
    trials: int,
    seed: int,
    definitions: tuple[tuple[sp.Basic, sp.Basic], ...] = (),
    objective: sp.Basic | None = None,
) -> tuple[list[float], list[str], str]:
    """Per item: the largest error and the first failure message over the trials.

    The trials are drawn first; the JAX work of every item on every trial is then planned and
    computed at once (`derive.check.compiled`), and the items run trial by trial."""
    with compiled.session() as session:
        draws: list[Trial] = []
        message = ""
        for t in range(trials):
            try:
                draws.append(_draw_in_domain(given, seed, t, definitions, objective))
            except DomainError:
                raise  # nothing to check: the caller refuses the function
            except DeriveError as exc:
                message = f"could not draw random inputs at seed {seed} trial {t}: {exc}"
                break
        _plan(session, items, draws)
        session.compute()
        errors = [0.0] * len(items)
        failures = [""] * len(items)
        for tr in draws:
            for k, item in enumerate(items):
                if failures[k]:
                    continue  # already failed; its first failure is the one reported
                error, failures[k] = _attempt(item, tr)
                errors[k] = max(errors[k], error)
    if message:
        return [math.inf] * len(items), [f or message for f in failures], message
    return errors, failures, ""


def _plan(session: compiled.Session, items: list[Item], draws: list[Trial]) -> None:
    """A dry run of the items, recording the JAX work they ask for. Items that ask for none
    on the first trial are not planned on the others (their NumPy values are computed, and
    kept, when they run)."""
    planned = list(items)
    with session.plan(), np.errstate(all="ignore"):
        for t, tr in enumerate(draws):
            asking = []
            for item in planned:
                asked = session.asked
                try:
                    item.run(tr)
                except Exception:  # noqa: BLE001, S110 - the run after the plan reports it
                    pass
                if session.asked > asked:
                    asking.append(item)
            if t == 0:
                planned = asking


def _defined_inside_derivative(defined: set[str], name: str, *exprs: sp.Basic) -> Item | None:
    """A failing item where a defined symbol (δ₂ := p − y) would be differentiated: the
    checker holds it fixed, so the derivative would silently miss its dependence."""
    for e in exprs:
        used = sorted(defined & set(names_used(e)))
        if used and (has_differential(e) or name.startswith("claim")):
            error = UnsupportedError(f"a derivative through the defined symbol {used[0]}")
            return broken(name, name, error)
    return None


def check_derivation(derivation: Derivation, trials: int = 5, seed: int = 0) -> CheckReport:
    """Verify every step and claim of `derivation` on `trials` random draws.

    Steps are checked by their relation with respect to ``step.wrt or derivation.wrt``,
    claims by their kind against jax.grad, jax.hessian or jax.jacobian, and each step shown
    continuing a chain by starting where the step above ended (`derive.check.chain`). The
    report passes iff every item passes on every trial; `failure` names the first failing
    item (in the order of the steps, then the claims, then the chain links) with the seed,
    the trial and the error.
    """
    import_jax()
    defined = {str(entry[0]) for entry in derivation.definitions}
    items = [
        _defined_inside_derivative(defined, f"step {i} ({step.rule.name})", step.before, step.after)
        or step_item(i, step, tuple(step.wrt or derivation.wrt))
        for i, step in enumerate(derivation.steps, start=1)
    ]
    for i, claim in enumerate(derivation.claims, start=1):
        refused = None
        if claim.kind != "reference":  # the others differentiate `function` with JAX
            refused = _defined_inside_derivative(defined, f"claim {claim.label!r}", claim.function)
        items.append(refused or claim_item(i, claim))
    items.extend(continuity_items(derivation))
    errors, failures, draw_failure = run_items(
        items, derivation.given, trials, seed, derivation.definitions, derivation.objective
    )
    checks = tuple(
        ItemCheck(item.label, not failure, error, item.method)
        for item, error, failure in zip(items, errors, failures, strict=True)
    )
    failure = draw_failure or next((f for f in failures if f), "")
    if not items:
        failure = "the derivation has no steps or claims to check"
    return CheckReport(
        passed=not failure,
        max_rel_error=max(
            (e for e, item in zip(errors, items, strict=True) if item.measure != STANDARD_ERRORS),
            default=0.0,
        ),
        max_standard_errors=max(
            (e for e, item in zip(errors, items, strict=True) if item.measure == STANDARD_ERRORS),
            default=None,
        ),
        trials=trials,
        seed=seed,
        items=checks,
        failure=failure,
    )
