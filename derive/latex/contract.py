"""From index notation to matrix notation, one sum at a time, each move with its identity.

    f = −Σᵢ yᵢ log(exp(zᵢ)/Σⱼ exp(zⱼ))
      = −Σᵢ yᵢ log(exp(zᵢ)/(𝟏ᵀexp(z)))        Σᵢ vᵢ = 𝟏ᵀv
      = −yᵀ log(exp(z)/(𝟏ᵀexp(z)))            Σᵢ xᵢyᵢ = xᵀy

`conversion` rewrites the innermost sum first (Σⱼ Aᵢⱼxⱼ inside Σᵢ becomes (Ax)ᵢ), a sum
written over two indices (Σᵢⱼ, or Σᵢ Σⱼ with nothing between) as one, and before a sum
itself: a Kronecker delta that picks one term of it (Σⱼ δᵢⱼaⱼ = aᵢ), then the samples xᵢ of a
data matrix (xᵢᵀw = (Xw)ᵢ). Each move is a `Move`: the whole expression after it, the
identity of `derive.rules.index_notation` it rests on, and the others it used as a note.
The problem records them as the derivation's first steps (`derive.problem`), and the checker
verifies each numerically like every step.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix

from derive.errors import UnsupportedError
from derive.expr import MatScalar, is_matrix, transpose
from derive.latex.index_form import Entry, Index, IndexProduct, IndexSum, MatrixIndexSum, Row
from derive.latex.lift import Factor, Lifter
from derive.model import Citation
from derive.rules import index_notation as R

__all__ = ["IndexReading", "Move", "conversion", "lengths_of"]

#: more moves than this means a loop, not a formula
_MAX_MOVES = 200


@dataclass(frozen=True)
class Move:
    """One step from index notation towards matrix notation: `after` by `rule`."""

    after: sp.Basic
    rule: Citation
    note: str = ""


@dataclass(frozen=True)
class IndexReading:
    """A formula as written in index notation (`form`) and the moves that bring it to the
    matrix notation the derivation starts from (the last move's `after`)."""

    form: sp.Basic
    moves: tuple[Move, ...]


def lengths_of(e: sp.Basic) -> dict[Index, sp.Expr]:
    """The range of each index of e, read off the sums over it (each from 1 to n)."""
    out: dict[Index, sp.Expr] = {}
    for node in sp.preorder_traversal(e):
        if isinstance(node, (IndexSum, IndexProduct)):
            for var, lo, hi in node.limits:
                out[var] = hi - lo + 1
        elif isinstance(node, MatrixIndexSum):
            out[node.index] = node.length
    return out


@dataclass(frozen=True)
class _Unit:
    """A sum to rewrite: `node` in the expression, over `indices` (a chain Σᵢ Σⱼ read as
    one), of `body`, which holds no other sum."""

    node: sp.Basic
    indices: tuple[Index, ...]
    body: sp.Basic


_SUMS = (IndexSum, IndexProduct, MatrixIndexSum)


def _chain(node: sp.Basic) -> tuple[tuple[Index, ...], sp.Basic]:
    """The indices (outermost first) and body of Σᵢ Σⱼ … t written one inside the other."""
    indices: list[Index] = []
    while isinstance(node, IndexSum):
        indices += [lim[0] for lim in reversed(node.limits)]
        if not isinstance(node.function, IndexSum):
            return tuple(indices), node.function
        node = node.function
    raise AssertionError("not a sum")  # pragma: no cover


def _ready(e: sp.Basic) -> _Unit | None:
    """The first sum (in reading order) whose terms hold no other sum."""
    inside: set[sp.Basic] = set()  # the inner sums of a chain, rewritten with their chain
    for node in sp.preorder_traversal(e):
        if not isinstance(node, _SUMS) or node in inside:
            continue
        if isinstance(node, IndexSum):
            indices, body = _chain(node)
            inner = node.function
            while isinstance(inner, IndexSum):
                inside.add(inner)
                inner = inner.function
        elif isinstance(node, IndexProduct):
            indices, body = tuple(lim[0] for lim in reversed(node.limits)), node.function
        else:
            indices, body = (node.index,), node.term
        if not any(isinstance(n, _SUMS) for n in sp.preorder_traversal(body)):
            return _Unit(node, indices, body)
    return None


def _with_body(unit: _Unit, body: sp.Basic, drop: Index | None = None) -> sp.Basic:
    """The unit's sum with a new body (and without the index `drop`)."""
    if isinstance(unit.node, IndexSum):
        limits = [lim for lim in lengths_limits(unit) if lim[0] != drop]
        return IndexSum(body, *limits) if limits else body
    if isinstance(unit.node, IndexProduct):
        return IndexProduct(body, *unit.node.limits)
    return MatrixIndexSum(sp.Lambda(unit.node.index, body), unit.node.length)


def lengths_limits(unit: _Unit) -> list[tuple]:
    """The limits (i, 1, n) of a chain's indices, innermost first (SymPy's order)."""
    found: dict[Index, tuple] = {}
    node = unit.node
    while isinstance(node, IndexSum):
        for lim in node.limits:
            found[lim[0]] = tuple(lim)
        node = node.function
    return [found[i] for i in reversed(unit.indices)]


def _by(lifter: Lifter, first: Citation | None = None) -> tuple[Citation, str]:
    """The identity a move cites (`first`, else the foremost used) and a note naming the
    others it used."""
    used = [r for r in R.RULES if r in lifter.uses]
    rule = first or (used[0] if used else R.SUM_OF_ENTRIES)
    others = [r.name.lower() for r in used if r is not rule]
    return rule, ("also: " + "; ".join(others)) if others else ""


def _sift(unit: _Unit) -> tuple[sp.Basic, Citation, str] | None:
    """Σⱼ δᵢⱼ aⱼ = aᵢ: a Kronecker delta factor on an index of the sum."""
    if not isinstance(unit.node, IndexSum):
        return None
    for factor in sp.Mul.make_args(unit.body):
        if isinstance(factor, sp.KroneckerDelta):
            a, b = factor.args
            drop, keep = (b, a) if b in unit.indices else (a, b)
            if drop not in unit.indices:
                continue
            rest = sp.Mul(*[f for f in sp.Mul.make_args(unit.body) if f is not factor])
            body = rest.xreplace({drop: keep})
            return _with_body(unit, body, drop), R.KRONECKER_DELTA, ""
    return None


def _rows(unit: _Unit, lengths: dict[Index, sp.Expr]) -> tuple[sp.Basic, Citation, str] | None:
    """xᵢᵀw = (Xw)ᵢ: each scalar product of the samples xᵢ in a sum's terms as an entry."""
    if isinstance(unit.node, MatrixIndexSum) or not unit.body.atoms(Row):
        return None
    lifter = Lifter(lengths)
    replaced: dict[sp.Basic, sp.Basic] = {}
    walk = sp.preorder_traversal(unit.body)
    for node in walk:
        if isinstance(node, MatScalar) and node.atoms(Row):
            walk.skip()
            m, scalars = node.arg, []
            if isinstance(m, sp.MatMul):  # yᵢ wᵀxᵢ: the numbers stay outside, yᵢ (Xw)ᵢ
                scalars = [a for a in m.args if not is_matrix(a)]
                m = sp.MatMul(*[a for a in m.args if is_matrix(a)])
            f = lifter.materialize(lifter.lift_matrix(m)[0])
            replaced[node] = sp.Mul(*scalars) * (Entry(f.m, *f.axes) if f.axes else f.m)
    if not replaced:
        return None
    body = unit.body.xreplace(replaced)
    notes = sorted({_row_note(r) for r in unit.body.atoms(Row)})
    return _with_body(unit, body), R.SAMPLE_ROWS, "; ".join(notes)


def _row_note(row: Row) -> str:
    """ "row i of x is the sample xᵢᵀ", in the names of the formula."""
    from derive.notation.text import text

    x, i = text(row.parent), text(row.index)
    return f"row {i} of {x} is the sample {text(row)}ᵀ"


def _read_back(f: Factor, what: str) -> sp.Basic:
    """A lifted factor as an expression: the matrix, or its entry at the indices left."""
    if any(a.name.startswith("_k") for a in f.axes):  # pragma: no cover - contracted above
        raise UnsupportedError(f"{what} that is not a number")
    if not f.axes:
        return f.m
    return Entry(f.m, *f.axes)


def _sum(unit: _Unit, lengths: dict[Index, sp.Expr]) -> tuple[sp.Basic, Citation, str]:
    """The sum itself, as matrix products."""
    lifter = Lifter(lengths)
    node = unit.node
    if isinstance(node, MatrixIndexSum):
        lin, r, c = lifter.lift_matrix(unit.body)
        f = lifter.materialize(lifter.contract(lin, unit.indices))
        if set(f.axes) - {r, c}:
            raise UnsupportedError(
                "a sum of vectors or matrices whose terms also carry an index of another sum"
            )
        m = f.m
        if r is not None and c is not None:
            m = f.along((r, c))
        elif c is not None:  # a row vector: its entries run along the columns
            m = transpose(m) if f.axes else m
        rule = R.OUTER_PRODUCTS if r is not None and c is not None else None
        return m, *_by(lifter, rule)
    lin = lifter.lift(unit.body)
    if isinstance(node, IndexProduct):
        f = lifter.materialize(lin)
        if f.axes != unit.indices:
            raise UnsupportedError(
                "a product over an index of terms that also carry another index",
                "write the product over each index separately, or as a sum of logarithms",
            )
        lifter.use(R.PRODUCT_OF_ENTRIES)
        return sp.Determinant(DiagMatrix(f.m)), *_by(lifter, R.PRODUCT_OF_ENTRIES)
    f = lifter.materialize(lifter.contract(lin, unit.indices))
    return _read_back(f, "a sum"), *_by(lifter)


def conversion(e: sp.Basic) -> list[Move]:
    """The moves from the index form e to matrix notation: the last move's `after` holds no
    sum or entry. [] when e is already in matrix notation."""
    lengths = lengths_of(e)
    moves: list[Move] = []
    while True:
        unit = _ready(e)
        if unit is None:
            return moves
        if len(moves) >= _MAX_MOVES:  # pragma: no cover - each move removes a sum or a row
            raise UnsupportedError("a formula whose sums do not come to an end")
        for move in (_sift, lambda u: _rows(u, lengths), lambda u: _sum(u, lengths)):
            found = move(unit)
            if found is not None:
                replacement, rule, note = found
                if is_matrix(replacement) and tuple(replacement.shape) == (1, 1):
                    if not isinstance(unit.node, MatrixIndexSum):
                        replacement = MatScalar(replacement)
                e = e.xreplace({unit.node: replacement})
                moves.append(Move(e, rule, note))
                break
