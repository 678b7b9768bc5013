"""Check your own answer: compare a claimed gradient with the derived one, and say what slipped.

(One idea, judging a claim; a little over 600 lines with the report's counterexample and the
printing of its small integer arrays, which exist only for that report.)

    check_answer(r"2Ax", r"x^\\top A x", "x").message
    # 'Not quite: your answer 2Ax is right only for symmetric A; for a general A,
    #  ∂f/∂x = (A + Aᵀ)x. …'

The truth is derived by `derive.api.gradient` and must pass its own JAX verification. The claim
is parsed with the same symbols (every symbol of f keeps its shape), must have the shape of the
variable (the Cookbook layout), and is compared numerically at `trials` random draws (float64,
distinct sizes, inputs honouring the assumptions); numeric agreement decides. A wrong claim is
diagnosed by trying simple repairs in a fixed order and naming the first that makes it agree
on every draw:

    Gᵀ (transpose), 2G (factor-2), G/2 (half), −G (sign), −Gᵀ (sign-transpose), and G with
    every square matrix not assumed symmetric drawn symmetric (symmetric-only).

A claim of the transposed shape is "layout" (written as a row / in numerator layout); one of
another shape, or whose own products do not conform, is "shape"; anything else is "differs".
Unless the claim is correct, the report carries a small counterexample: sizes 2, 3, 4, ...,
nonzero integer inputs in [−3, 3] where the assumptions allow (an spd matrix is B Bᵀ + I with
integer B, a positive entry is 1, 2 or 3, a probability vector integers over their sum; a
singular draw is redrawn), and the values of the claim and of the true gradient there.
"""

from __future__ import annotations

import dataclasses
import json
import math
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy as sp

from derive.arguments import names_used
from derive.check import TOLERANCE
from derive.check.measure import value_and_size
from derive.errors import InputError, ShapeError, VerificationError
from derive.evaluate import evaluate
from derive.expr import MatScalar, is_matrix, normalize, transpose
from derive.model import Given
from derive.notation.text import text
from derive.problem import Shape, shape_of, symbols_of
from derive.sampling import choose_dims, draw

__all__ = ["DIAGNOSES", "AnswerReport", "check_answer"]

SCHEMA_VERSION = 1

DIAGNOSES = (
    "correct",
    "transpose",
    "factor-2",
    "half",
    "sign",
    "sign-transpose",
    "symmetric-only",
    "layout",
    "shape",
    "differs",
)


@dataclass(frozen=True)
class AnswerReport:
    """The verdict on a claimed gradient.

    `correct` is decided numerically; `identical` says whether the claim is also the same
    expression as the derived gradient (compared in `derive.simplify.canonical` form).
    `diagnosis` is one of `DIAGNOSES`; `message` says it in sentences, with the true gradient.
    `counterexample` (None when correct, or when the claim cannot be evaluated) holds
    ``dims`` (size by dimension name), ``inputs`` (array by symbol name, vectors as columns),
    ``claim`` and ``truth`` (the two values there). `max_rel_error` is the largest relative
    difference between claim and truth over the random draws (infinite if the shapes differ).
    """

    correct: bool
    identical: bool
    diagnosis: str
    message: str
    truth: sp.Basic
    claim: sp.Basic | None
    counterexample: dict[str, Any] | None
    max_rel_error: float
    wrt: str = ""

    def to_text(self) -> str:
        """The message, then the counterexample laid out as assignments."""
        lines = [self.message]
        cx = self.counterexample
        if cx is not None:
            sizes = ", ".join(f"{text(sp.Symbol(k))} = {v}" for k, v in cx["dims"].items())
            lines.append(f"Counterexample{f' ({sizes})' if sizes else ''}:")
            for name, value in cx["inputs"].items():
                lines += _assignment(f"  {text(sp.Symbol(name))} = ", value)
            claim, truth = np.asarray(cx["claim"]), np.asarray(cx["truth"])
            rows = [
                (f"your answer ({_size_words(claim)})", claim),
                (f"∂f/∂{text(sp.Symbol(self.wrt))} ({_size_words(truth)})", truth),
            ]
            width = max(len(label) for label, _ in rows)
            for label, value in rows:
                lines += _assignment(f"  {label:<{width}} = ", value)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: every expression as ``{latex, text}``, arrays as nested lists."""
        from derive.notation.latex import latex

        def expr(e: sp.Basic | None) -> dict[str, str] | None:
            return None if e is None else {"latex": latex(e), "text": text(e)}

        cx = self.counterexample
        if cx is not None:
            cx = {
                "dims": dict(cx["dims"]),
                "inputs": {k: np.asarray(v).tolist() for k, v in cx["inputs"].items()},
                "claim": np.asarray(cx["claim"]).tolist(),
                "truth": np.asarray(cx["truth"]).tolist(),
            }
        err = float(self.max_rel_error)
        return {
            "schema_version": SCHEMA_VERSION,
            "correct": self.correct,
            "identical": self.identical,
            "diagnosis": self.diagnosis,
            "message": self.message,
            "wrt": self.wrt,
            "truth": expr(self.truth),
            "claim": expr(self.claim),
            "max_rel_error": err if math.isfinite(err) else None,
            "counterexample": cx,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False)

    def __str__(self) -> str:
        return self.to_text()


def check_answer(
    claim: str | sp.Basic,
    f: str | sp.Basic,
    wrt: str,
    *,
    shapes: Mapping[str, Shape] | None = None,
    assume: Mapping[str, str | tuple[str, ...]] | None = None,
    trials: int = 5,
    seed: int = 0,
) -> AnswerReport:
    """Whether `claim` is ∂f/∂wrt (Cookbook layout), and if not, the slip that explains it.

    `claim` and `f` are LaTeX strings or SymPy expressions; `shapes` and `assume` are as for
    `derive.gradient`, and the claim sees every symbol of f with the shape it has in f.
    Raises `InputError` for a malformed claim or one using a symbol f does not have, and
    `VerificationError` if the true gradient itself fails its numeric verification.
    """
    if trials < 1:
        raise InputError(f"trials must be at least 1, got {trials}")
    from derive.api import VerificationWarning, gradient

    if isinstance(f, str):
        from derive.latex import parse_latex

        f = parse_latex(f, shapes, assume)
    # The claim first: a malformed one is reported before the (slower) verified derivation.
    syms = symbols_of(normalize(f)) if isinstance(f, sp.Basic) else {}
    known = {**dict(shapes or {}), **{name: shape_of(s) for name, s in syms.items()}}
    try:
        claim_expr, unconforming = _parse_claim(claim, known, assume, syms), ""
    except ShapeError as exc:
        claim_expr, unconforming = None, str(exc)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", VerificationWarning)
        d = gradient(f, wrt, shapes=shapes, assume=assume, check=True)
    if d.verification is None or not d.verification.passed:
        why = d.verification.failure if d.verification is not None else "not checked"
        raise VerificationError(f"the reference gradient could not be verified: {why}")
    wrt = d.wrt[0]
    ctx = _Context(
        wrt=wrt,
        var=syms[wrt],
        truth=d.result,
        given=d.given,
        trials=trials,
        seed=seed,
    )
    if claim_expr is None:
        return _unconforming(ctx, unconforming)
    return _judge(ctx, claim_expr)


# --- the problem and the claim ----------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    wrt: str
    var: sp.Basic  # the variable's symbol
    truth: sp.Basic
    given: tuple[Given, ...]
    trials: int
    seed: int

    @property
    def gradient(self) -> str:
        return f"∂f/∂{text(self.var)}"

    @property
    def shape(self) -> tuple[sp.Expr, ...]:
        return tuple(self.var.shape) if is_matrix(self.var) else ()


def _parse_claim(
    claim: str | sp.Basic,
    shapes: Mapping[str, Shape],
    assume: Mapping[str, str | tuple[str, ...]] | None,
    syms: Mapping[str, sp.Basic],
) -> sp.Basic:
    if isinstance(claim, str):
        from derive.latex import parse_latex

        claim = parse_latex(claim, shapes, assume)
    if not isinstance(claim, sp.Basic):
        raise InputError(f"the claim must be LaTeX or a SymPy expression, got {type(claim)}")
    claim = normalize(claim)
    dims = {s.name for v in syms.values() if is_matrix(v) for s in _free_dims(v)}
    extra = sorted(names_used(claim) - set(syms) - dims)
    if extra:
        raise InputError(
            f"your answer uses {', '.join(extra)}, which f does not have "
            f"(its symbols: {', '.join(sorted(syms))})"
        )
    for name, node in symbols_of(claim).items():
        if name in syms and is_matrix(node) and node.shape != syms[name].shape:
            raise ShapeError(
                f"{name} is {_shape_words(node.shape)} in your answer but "
                f"{_shape_words(syms[name].shape)} in f"
            )
    return claim


def _free_dims(m: sp.Basic) -> set[sp.Symbol]:
    return set().union(*(d.free_symbols for d in m.shape))


def _shape_of_expr(e: sp.Basic) -> tuple[sp.Expr, ...]:
    return tuple(e.shape) if is_matrix(e) else ()


def _shape_words(shape: tuple[sp.Expr, ...]) -> str:
    return "a scalar" if not shape else "×".join(text(d) for d in shape)


# --- numbers ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Point:
    """One draw: sizes, inputs (vectors as columns), and the values of claim and truth."""

    dims: dict[str, int]
    values: dict[str, np.ndarray]
    claim: np.ndarray
    truth: np.ndarray
    scale: float  # the size of the terms of claim and truth (derive.check.measure)


def _columns(given: tuple[Given, ...], raw: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {
        g.name: raw[g.name].reshape(-1, 1) if g.kind == "vector" else raw[g.name] for g in given
    }


def _maxabs(a: np.ndarray) -> float:
    return float(np.max(np.abs(a))) if np.size(a) else 0.0


def _relative(a: np.ndarray, b: np.ndarray, scale: float) -> float:
    """max|a − b| / max(|a|, |b|, scale), `scale` the size of the terms of the two sides:
    the measure of `derive.check` (`derive.check.measure.relative`)."""
    if a.shape != b.shape:
        if a.size == b.size == 1:
            a, b = a.reshape(()), b.reshape(())
        else:
            return math.inf
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
        return math.inf
    size = max(_maxabs(a), _maxabs(b), scale)
    return _maxabs(a - b) / size if size > 0 else 0.0


def _value(e: sp.Basic, point_values: Mapping[str, np.ndarray], dims: Mapping[str, int]):
    with np.errstate(all="ignore"):
        return np.asarray(evaluate(e, point_values, dims), dtype=np.float64)


def _points(ctx: _Context, claim: sp.Basic, given: tuple[Given, ...], salt: int) -> list[_Point]:
    out = []
    for t in range(ctx.trials):
        dims = choose_dims(given, t)
        rng = np.random.default_rng([ctx.seed, t, salt])
        values = _columns(given, draw(given, rng, dims))
        with np.errstate(all="ignore"):
            c, c_size = value_and_size(claim, values, dims)
            t_, t_size = value_and_size(ctx.truth, values, dims)
        out.append(_Point(dims, values, c, t_, max(_maxabs(c_size), _maxabs(t_size))))
    return out


def _agrees(points: list[_Point], repair: Callable[[np.ndarray], np.ndarray]) -> bool:
    return all(_relative(repair(p.claim), p.truth, p.scale) <= TOLERANCE for p in points)


# --- judging ----------------------------------------------------------------------------------


def _judge(ctx: _Context, claim: sp.Basic) -> AnswerReport:
    target, got = ctx.shape, _shape_of_expr(claim)
    if not target and got == (1, 1):
        claim, got = MatScalar(claim), ()
    if got == target:
        return _compare(ctx, claim)
    if len(got) == 2 and len(target) == 2 and got == target[::-1]:
        return _layout(ctx, claim)
    message = (
        f"Not quite: your answer {text(claim)} is {_shape_words(got)}, but {ctx.gradient} has "
        f"the shape of {text(ctx.var)}, {_shape_words(target)}: {ctx.gradient} = "
        f"{text(ctx.truth)}."
    )
    return _wrong(ctx, "shape", message, claim, _counterexample(ctx, claim, lambda c, t: True))


def _wrong(
    ctx: _Context, diagnosis: str, message: str, claim: sp.Basic | None, counterexample
) -> AnswerReport:
    """A wrong claim that has no comparable value (a shape or layout slip)."""
    return AnswerReport(
        correct=False,
        identical=False,
        diagnosis=diagnosis,
        message=message,
        truth=ctx.truth,
        claim=claim,
        counterexample=counterexample,
        max_rel_error=math.inf,
        wrt=ctx.wrt,
    )


def _unconforming(ctx: _Context, why: str) -> AnswerReport:
    """The claim's own products or sums do not conform: it has no value to compare."""
    message = (
        f"Not quite: your answer is not a well-formed expression: {why}. {ctx.gradient} has the "
        f"shape of {text(ctx.var)}, {_shape_words(ctx.shape)}: {ctx.gradient} = "
        f"{text(ctx.truth)}."
    )
    return _wrong(ctx, "shape", message, None, None)


def _layout(ctx: _Context, claim: sp.Basic) -> AnswerReport:
    """The claim has the transposed shape: judge its transpose, then say so first."""
    flipped = transpose(claim)
    points = _points(ctx, flipped, ctx.given, 0)
    message = (
        f"Not quite: your answer {text(claim)} is {_shape_words(_shape_of_expr(claim))}, but "
        f"{ctx.gradient} has the shape of {text(ctx.var)}, {_shape_words(ctx.shape)}: you "
        f"wrote the derivative in numerator layout; transpose it"
    )
    if _agrees(points, lambda c: c):
        message += f": {ctx.gradient} = {text(ctx.truth)}."
    else:
        message += f". Even transposed, it {_diagnose(ctx, flipped, points)[1]}"
    return _wrong(ctx, "layout", message, claim, _counterexample(ctx, claim, lambda c, t: True))


def _compare(ctx: _Context, claim: sp.Basic) -> AnswerReport:
    from derive.simplify import canonical

    points = _points(ctx, claim, ctx.given, 0)
    error = max(_relative(p.claim, p.truth, p.scale) for p in points)
    identical = canonical(claim) == canonical(ctx.truth)
    if error <= TOLERANCE:
        how = (
            "and it is the same expression"
            if identical
            else "though it is written differently from the derived form"
        )
        message = (
            f"Correct: your answer {text(claim)} equals {ctx.gradient} = {text(ctx.truth)} at "
            f"{ctx.trials} random inputs (max relative error {error:.1e}), {how}."
        )
        return AnswerReport(
            correct=True,
            identical=identical,
            diagnosis="correct",
            message=message,
            truth=ctx.truth,
            claim=claim,
            counterexample=None,
            max_rel_error=error,
            wrt=ctx.wrt,
        )
    diagnosis, said = _diagnose(ctx, claim, points)
    if error < 1e-6:  # a near miss: the counterexample agrees to the digits it shows
        said += (
            f" It is close: the largest relative difference is {error:.1e} (float64, against "
            f"the size of the terms), above the tolerance {TOLERANCE:.0e}."
        )
    return AnswerReport(
        correct=False,
        identical=identical,
        diagnosis=diagnosis,
        message=f"Not quite: your answer {text(claim)} {said}",
        truth=ctx.truth,
        claim=claim,
        counterexample=_counterexample(ctx, claim, _differs),
        max_rel_error=error,
        wrt=ctx.wrt,
    )


# Repairs of a wrong claim G, tried in this order; the first that agrees on every draw names
# the slip: (diagnosis, the repair on values, whether it transposes, what to tell the student
# as a predicate of "your answer …"; the true gradient is appended).
_REPAIRS: tuple[tuple[str, Callable[[np.ndarray], np.ndarray], bool, str], ...] = (
    (
        "transpose",
        lambda c: c.T,
        True,
        "is the transpose of the gradient. {grad} has entry (i, j) equal to ∂f/∂{var}ᵢⱼ, so "
        "it is laid out like {var} itself; transpose your answer",
    ),
    (
        "factor-2",
        lambda c: 2.0 * c,
        False,
        "is half the gradient: a factor of 2 is missing. It usually goes missing in a "
        "quadratic term, where {var} occurs twice and each occurrence contributes a term",
    ),
    (
        "half",
        lambda c: c / 2.0,
        False,
        "is twice the gradient: there is an extra factor of 2. Check the constant in front "
        "of f (a ½ that cancels the 2 of a square) and whether a term was counted twice",
    ),
    (
        "sign",
        lambda c: -c,
        False,
        "has the wrong sign. Check the sign of each term, and of f itself: a minus sign in "
        "front of f that was dropped, or a difference written the other way round",
    ),
    (
        "sign-transpose",
        lambda c: -c.T,
        True,
        "is minus the transpose of the gradient: fix the sign, and lay the result out like "
        "{var} (entry (i, j) is ∂f/∂{var}ᵢⱼ)",
    ),
)


def _diagnose(ctx: _Context, claim: sp.Basic, points: list[_Point]) -> tuple[str, str]:
    """The first repair that makes the claim agree, and a predicate for "your answer …"."""
    words = {"grad": ctx.gradient, "var": text(ctx.var)}
    truth = f"{ctx.gradient} = {text(ctx.truth)}"
    square = len(ctx.shape) == 2 and ctx.shape[0] == ctx.shape[1]
    for diagnosis, repair, transposes, say in _REPAIRS:
        if transposes and not square:
            continue
        if _agrees(points, repair):
            return diagnosis, f"{say.format(**words)}: {truth}."
    names = _symmetric_only(ctx, claim)
    if names:
        which = _and(names)
        verb = "is" if len(names) == 1 else "are"
        return "symmetric-only", (
            f"is right only for symmetric {which}; for a general {which}, {truth}. If {which} "
            f"{verb} symmetric in your problem, say so ("
            + " ".join(f"--assume {n}=symmetric" for n in names)
            + "), and your answer is the gradient."
        )
    return "differs", (
        f"differs from {truth}, and not by a transpose, a factor of 2, a sign or a symmetry "
        "assumption; see the counterexample."
    )


def _and(names: list[str]) -> str:
    shown = [text(sp.Symbol(n)) for n in names]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " and " + shown[-1]


def _can_be_symmetric(g: Given) -> bool:
    kinds = set(g.assumptions)
    return (
        g.kind == "matrix"
        and g.shape[0] == g.shape[1]
        and not kinds & {"symmetric", "spd"}
        # Entry-wise kinds the sampler cannot symmetrise.
        and not kinds & {"onehot", "binary", "prob"}
    )


def _symmetric_only(ctx: _Context, claim: sp.Basic) -> list[str]:
    """The square matrices (fewest first) whose symmetry makes the claim agree; [] if none."""
    names = [g.name for g in ctx.given if _can_be_symmetric(g)]
    if not names:
        return []

    def agrees_when_symmetric(chosen: list[str]) -> bool:
        given = tuple(
            dataclasses.replace(g, assumptions=(*g.assumptions, "symmetric"))
            if g.name in chosen
            else g
            for g in ctx.given
        )
        return _agrees(_points(ctx, claim, given, 1), lambda c: c)

    if not agrees_when_symmetric(names):
        return []
    if len(names) > 1:
        for name in names:
            if agrees_when_symmetric([name]):
                return [name]
    return names


# --- the counterexample -----------------------------------------------------------------------

_ATTEMPTS = 200


def _differs(claim: np.ndarray, truth: np.ndarray) -> bool:
    return _relative(claim, truth, 0.0) > TOLERANCE  # as the check judges: a near miss too


def _counterexample(
    ctx: _Context, claim: sp.Basic, wanted: Callable[[np.ndarray, np.ndarray], bool]
) -> dict[str, Any] | None:
    """A small integer instance where `wanted(claim value, truth value)` holds, or None."""
    dims = _small_dims(ctx.given)
    rng = np.random.default_rng([ctx.seed, 7])
    for _ in range(_ATTEMPTS):
        values = _columns(ctx.given, {g.name: _small(g, rng, dims) for g in ctx.given})
        try:
            c, t = _value(claim, values, dims), _value(ctx.truth, values, dims)
        except (np.linalg.LinAlgError, ArithmeticError, ValueError):
            continue  # a singular draw: draw again
        if not all(np.all(np.isfinite(a)) and _maxabs(a) < 1e6 for a in (c, t)):
            continue
        if wanted(c, t):
            return {"dims": dims, "inputs": values, "claim": c, "truth": t}
    return None


def _small_dims(given: tuple[Given, ...]) -> dict[str, int]:
    """Sizes 2, 3, 4, ... for the dimension names, in order of first appearance."""
    taken = {d for g in given for d in g.shape if isinstance(d, int)}
    sizes = (s for s in range(2, 100) if s not in taken)
    dims: dict[str, int] = {}
    for g in given:
        for d in g.shape:
            if isinstance(d, str) and d not in dims:
                dims[d] = next(sizes)
    return dims


def _small(g: Given, rng: np.random.Generator, dims: Mapping[str, int]) -> np.ndarray:
    """Small integer-valued entries honouring g's assumptions; floats only where they must be."""
    shape = tuple(d if isinstance(d, int) else dims[d] for d in g.shape)
    kinds = set(g.assumptions)
    square = len(shape) == 2 and shape[0] == shape[1] and shape[0] > 1
    symmetric = square and bool(kinds & {"symmetric", "spd"})
    for _ in range(_ATTEMPTS):
        if square and "spd" in kinds and not kinds & {"positive", "nonnegative", "unit"}:
            b = rng.integers(-2, 3, shape).astype(float)
            a = b @ b.T + np.eye(shape[0])
        else:
            a = _small_entries(kinds, rng, shape)
            if symmetric:
                a = np.triu(a) + np.triu(a, 1).T
        if square and kinds & {"invertible", "posdet", "spd"}:
            det = np.linalg.det(a)
            if abs(det) < 0.5 or ("posdet" in kinds and det < 0):
                continue
            if "spd" in kinds and np.linalg.eigvalsh(a).min() <= 0:
                continue
        elif not square and kinds & {"invertible", "posdet", "spd"} and np.any(a == 0):
            continue  # a 1×1 or scalar: nonzero (positive for spd, posdet)
        if not square and kinds & {"posdet", "spd"} and np.any(a <= 0):
            continue
        return a
    # No small integer instance (say an spd matrix that must also be a probability): use
    # the ordinary random draw.
    return draw((g,), rng, dict(dims))[g.name].reshape(shape)


def _small_entries(kinds: set[str], rng: np.random.Generator, shape: tuple[int, ...]):
    size = math.prod(shape)
    if "onehot" in kinds:
        rows, cols = (shape + (1, 1))[:2] if shape else (1, 1)
        out = np.zeros((rows, cols))
        out[rng.integers(rows, size=cols), np.arange(cols)] = 1.0
        return out.reshape(shape)
    if "binary" in kinds:
        out = rng.integers(0, 2, shape).astype(float)
        if size >= 2 and np.all(out == out.flat[0]):
            out.flat[0] = 1.0 - out.flat[0]
        return out
    if "prob" in kinds:
        w = rng.integers(1, 4, shape).astype(float)
        return w / w.sum() if size > 1 else np.full(shape, 0.5)
    if "unit" in kinds:
        return rng.choice([0.25, 0.5, 0.75], shape)
    if "positive" in kinds:
        return rng.integers(1, 4, shape).astype(float)
    if "nonnegative" in kinds:
        return rng.integers(0, 4, shape).astype(float)
    if "nonzero" in kinds:
        return rng.choice([-1.0, 1.0], shape) * rng.integers(1, 4, shape)
    # No zeros: a zero entry hides the terms it multiplies, and the point is to show them.
    return rng.choice([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0], shape)


# --- printing arrays --------------------------------------------------------------------------


def _compact(a: np.ndarray) -> str:
    """An array in few characters: 4 significant digits, a column vector as [..]ᵀ."""
    a = np.round(np.asarray(a, dtype=float), 12) + 0.0  # no rounding noise, no "-0"
    if a.ndim == 2 and a.shape[1] == 1 and a.shape[0] > 1:
        return _compact(a[:, 0]) + "ᵀ"
    # Columns of a matrix are aligned; a row is written tight.
    width = max((len(f"{v:.4g}") for v in a.flat), default=0) if a.ndim == 2 and len(a) > 1 else 0
    return np.array2string(
        a,
        separator=", ",
        formatter={"float_kind": lambda v: f"{v:.4g}".rjust(width)},
        max_line_width=90,
    )


def _size_words(value: np.ndarray) -> str:
    return "×".join(str(s) for s in value.shape) if value.ndim else "scalar"


def _assignment(prefix: str, value: np.ndarray) -> list[str]:
    body = _compact(value).splitlines()
    return [prefix + body[0]] + [" " * len(prefix) + line for line in body[1:]]
