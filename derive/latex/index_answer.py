"""The answer in the student's notation: a gradient written entry by entry.

For a function read in index notation, the gradient is also given entrywise,

    ∂f/∂zₖ = softmax(z)ₖ − yₖ          ∂f/∂xₖ = Σⱼ (Aₖⱼ + Aⱼₖ)xⱼ          ∂f/∂Aₖₗ = xₖyₗ

by taking entry k (or (k, l)) of the matrix result through its operations: sums, scalar
multiples, Hadamard products and entrywise functions act on each entry (f(x)ₖ = f(xₖ)), a
matrix product is the sum over its inner index ((Ax)ₖ = Σⱼ Aₖⱼxⱼ, at the outermost level;
inside a function an entry (Xw)ᵢ is kept, written wᵀxᵢ when X holds the samples xᵢ as rows),
and an entry of anything else (softmax(z)ₖ, (A⁻¹)ₖₗ) is left as that entry.

It is checked like every result: a claim that the matrix assembled from these entries equals
JAX's gradient of f, entry by entry (`with_index_answer`).
"""

from __future__ import annotations

from dataclasses import replace

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix

from derive.expr import GradientOf, MatScalar, is_matrix, transpose
from derive.latex.index_form import Assemble, Entry, Index, IndexSum, Row
from derive.model import Claim, Derivation
from derive.notation.text import text

__all__ = ["entry_of", "index_answer", "with_index_answer"]

#: the names of an answer's own indices (∂f/∂Xₖₗ), then of those it sums over (Σᵢ)
_FREE, _SUMMED = "klmn", "ijpqrstuvabcgh"


class _Namer:
    """Index names for an answer: not a symbol of the problem, not one already used;
    called with summed=True for the index of a sum."""

    def __init__(self, taken: set[str]) -> None:
        self.taken = set(taken)

    def __call__(self, summed: bool = True) -> Index:
        for name in (_SUMMED + _FREE) if summed else (_FREE + _SUMMED):
            if name not in self.taken:
                self.taken.add(name)
                return Index(name)
        raise ValueError("no index name left")  # pragma: no cover - eighteen in one answer


def entry_of(
    m: sp.Basic, idx: tuple, fresh: _Namer, rows: frozenset[str] = frozenset(), top: bool = True
) -> sp.Expr:
    """Entry `idx` of the matrix expression m as a scalar expression (see the module doc).

    `idx` is (k,) for a vector (a column, or a row vector's column k), (k, l) for a matrix;
    `rows` names the data matrices whose rows are samples; `top` is False inside a function,
    where a matrix product's entry is kept rather than written as a sum."""
    if not is_matrix(m):
        return m
    if isinstance(m, sp.MatAdd):
        return sp.Add(*[entry_of(a, idx, fresh, rows, top) for a in m.args])
    if isinstance(m, sp.HadamardProduct):
        return sp.Mul(*[entry_of(a, idx, fresh, rows, top) for a in m.args])
    if isinstance(m, sp.HadamardPower):
        return sp.Pow(entry_of(m.base, idx, fresh, rows, top), m.exp)
    if isinstance(m, ElementwiseApplyFunction):
        return m.function(entry_of(m.expr, idx, fresh, rows, top=False))
    if isinstance(m, sp.MatMul):
        return _product_entry(m, idx, fresh, rows, top)
    if isinstance(m, sp.Transpose) and len(idx) == 2:
        return entry_of(m.arg, idx[::-1], fresh, rows, top)
    if isinstance(m, sp.Transpose):  # the row vector vᵀ: its entry k is vₖ
        return entry_of(m.arg, idx, fresh, rows, top)
    if isinstance(m, sp.OneMatrix):
        return sp.S.One
    if isinstance(m, sp.ZeroMatrix):
        return sp.S.Zero
    if isinstance(m, sp.Identity):
        return sp.KroneckerDelta(*idx)
    if isinstance(m, DiagMatrix) and len(idx) == 2:
        return sp.KroneckerDelta(*idx) * entry_of(m.arg, idx[:1], fresh, rows, top)
    return Entry(m, *idx)


def _product_entry(m: sp.MatMul, idx: tuple, fresh: _Namer, rows: frozenset, top: bool):
    """(cAB)ₖₗ = c Σⱼ AₖⱼBⱼₗ, or AₖBₗ when the inner size is 1."""
    coeff = sp.Mul(*[a for a in m.args if not is_matrix(a)])
    mats = [a for a in m.args if is_matrix(a)]
    if len(mats) == 1:
        return coeff * entry_of(mats[0], idx, fresh, rows, top)
    left, right = mats[0], sp.MatMul(*mats[1:]) if len(mats) > 2 else mats[1]
    if tuple(right.shape) == (1, 1):  # u (vᵀw): a vector times a number
        return coeff * entry_of(left, idx, fresh, rows, top) * MatScalar(right)
    if tuple(left.shape) == (1, 1):
        return coeff * MatScalar(left) * entry_of(right, idx, fresh, rows, top)
    if right.shape[1] == 1:  # a column: entry k
        k, col = idx[0], None
    elif left.shape[0] == 1:  # a row: entry l
        k, col = None, idx[-1]
    else:
        k, col = idx
    if left.shape[1] == 1:  # an outer product uvᵀ: entries uₖvₗ
        return coeff * _at(left, k, fresh, rows, top) * _at(transpose(right), col, fresh, rows, top)
    if not top:
        sample = _sample_product(left, right, k, rows)
        return coeff * (sample if sample is not None else Entry(sp.MatMul(*mats), *idx))
    j = fresh()
    inner = _at(left, (k, j), fresh, rows, top) * _at(right, (j, col), fresh, rows, top)
    return coeff * IndexSum(inner, (j, 1, left.shape[1]))


def _at(m: sp.Basic, idx: object, fresh: _Namer, rows: frozenset, top: bool) -> sp.Expr:
    """Entry of m at idx, where idx may hold None for a dimension of size 1."""
    idx = idx if isinstance(idx, tuple) else (idx,)
    if m.shape[1] == 1:
        idx = idx[:1]
    elif m.shape[0] == 1:
        idx = idx[-1:]
    if tuple(m.shape) == (1, 1):
        return MatScalar(m)
    return entry_of(m, idx, fresh, rows, top)


def _sample_product(left: sp.Basic, right: sp.Basic, i: Index, rows: frozenset) -> sp.Expr | None:
    """(Xw)ᵢ as wᵀxᵢ when X holds the samples xᵢ as its rows; None otherwise."""
    if isinstance(left, sp.MatrixSymbol) and left.name in rows and right.shape[1] == 1:
        return MatScalar(sp.MatMul(transpose(right), Row(left, i)))
    return None


def index_answer(
    lhs_f: sp.Basic, x: sp.Basic, g: sp.Basic, taken: set[str], rows: frozenset[str] = frozenset()
) -> tuple[sp.Basic, sp.Expr, sp.Basic] | None:
    """(∂f/∂xₖ, the entry of g, the matrix of those entries) for the gradient g of f with
    respect to the vector or matrix x; None for a scalar x."""
    if not is_matrix(x):
        return None
    fresh = _Namer(taken)
    idx = (fresh(False),) if x.shape[1] == 1 else (fresh(False), fresh(False))
    rhs = entry_of(g, idx, fresh, rows)
    lam = sp.Lambda(idx, rhs)
    terms = sp.Add.make_args(rhs)
    # term by term, so that the check measures each against the size of the terms it sums
    whole = sp.MatAdd(*[Assemble(sp.Lambda(idx, t), *x.shape) for t in terms])
    return (
        GradientOf(lhs_f, Entry(x, *idx)),
        rhs,
        whole if len(terms) > 1 else Assemble(lam, *x.shape),
    )


def with_index_answer(
    d: Derivation, f: sp.Basic, x: sp.Basic, lhs_f: sp.Basic, g: sp.Basic | None = None
) -> Derivation:
    """d with its gradient g (by default its result) also written entry by entry
    (`Derivation.index_results`), and a claim that checks those entries against JAX's
    gradient of f."""
    taken = {g.name for g in d.given} | {s.name for s in f.free_symbols if hasattr(s, "name")}
    taken |= {dim for g in d.given for dim in g.shape if isinstance(dim, str)}
    rows = frozenset(
        g.name for g in d.given if "row i of this data matrix" in g.source and len(g.shape) == 2
    )
    found = index_answer(lhs_f, x, d.result if g is None else g, taken, rows)
    if found is None:
        return d
    lhs, rhs, whole = found
    name = str(x)
    claim = Claim("gradient", f"{text(lhs)} entry by entry against jax.grad", whole, f, (name,))
    return replace(d, index_results=((lhs, rhs),), claims=d.claims + (claim,))
