"""The nodes of index notation: a formula as the student wrote it, with sums and entries.

    Index("i")                 a summation (or free) index, a positive integer
    Entry(x, i)                xᵢ, entry i of a vector x; Entry(A, i, j) is Aᵢⱼ; the vector or
                               matrix may be an expression: Entry(W x, i) is (Wx)ᵢ
    Row(X, i)                  xᵢ, row i of the data matrix X as a column vector (a sample)
    IndexSum(t, (i, 1, n))     Σᵢ t over every value of i (printed without limits); with two
                               limits, Σᵢⱼ
    IndexProduct(t, (i, 1, n)) ∏ᵢ t
    MatrixIndexSum(λi. T, n)   Σᵢ T for terms T that are vectors or matrices (Σᵢ xᵢxᵢᵀ)
    Assemble(λk. t, m, n)      the m × n matrix (n = 1: the vector) whose entry k (k, l) is t

Positions are 1-based, as written: Entry(x, 1) is the first entry. Each node evaluates
(`derive.evaluate`) and prints (`derive.notation`) as a student reads it; the sum-to-matrix
identities that turn it into matrix notation are `derive.latex.contract`'s.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

__all__ = [
    "Assemble",
    "Entry",
    "Index",
    "IndexProduct",
    "IndexSum",
    "MatrixIndexSum",
    "Row",
    "has_index_form",
    "index_symbols",
]


class Index(sp.Symbol):
    """An index of index notation: i in Σᵢ xᵢ. A positive integer, never a value of f."""

    def __new__(cls, name: str) -> Index:
        return super().__new__(cls, name, integer=True, positive=True)

    def __getnewargs_ex__(self):
        return ((self.name,), {})


def _basic(value: sp.Basic | int) -> sp.Basic:
    """An index or a size as a SymPy object: integers wrapped, never a string parsed."""
    if isinstance(value, bool) or not isinstance(value, (int, sp.Basic)):
        raise TypeError(f"an index or size is an integer or a SymPy expression, got {value!r}")
    return sp.Integer(value) if isinstance(value, int) else value


class Entry(sp.Expr):
    """Entry i of a vector, or (i, j) of a matrix, of a matrix expression; 1-based."""

    is_commutative = True
    is_real = True
    #: printed as a name with a subscript: a superscript follows without brackets, xᵢ²
    takes_scripts = True

    def __new__(cls, parent: sp.Basic, *indices: sp.Basic) -> Entry:
        if not getattr(parent, "is_Matrix", False):
            raise TypeError(f"an entry is taken of a vector or matrix, got {parent}")
        if len(indices) not in (1, 2):
            raise TypeError(f"an entry has one or two indices, got {indices}")
        if len(indices) == 1 and 1 not in tuple(parent.shape):
            raise TypeError(f"one index on the matrix {parent}: write two, or a row")
        return sp.Basic.__new__(cls, parent, *map(_basic, indices))

    @property
    def parent(self) -> MatrixExpr:
        return self.args[0]

    @property
    def indices(self) -> tuple[sp.Basic, ...]:
        return self.args[1:]


class Row(MatrixExpr):
    """xᵢ: row i of the n × p matrix X as a p-vector (sample i of a data matrix)."""

    takes_scripts = True  # xᵢᵀ

    def __new__(cls, parent: MatrixExpr, index: sp.Basic) -> Row:
        return sp.Basic.__new__(cls, parent, _basic(index))

    @property
    def parent(self) -> MatrixExpr:
        return self.args[0]

    @property
    def index(self) -> sp.Basic:
        return self.args[1]

    @property
    def shape(self) -> tuple:
        return (self.parent.shape[1], sp.S.One)

    def _entry(self, i, j, **kwargs):  # pragma: no cover - never indexed
        raise TypeError("a row is evaluated as a whole, not by entries")


class IndexSum(sp.Sum):
    """Σᵢ t: a sum over every value of its index (or indices), written without limits."""


class IndexProduct(sp.Product):
    """∏ᵢ t: a product over every value of its index."""


class MatrixIndexSum(MatrixExpr):
    """Σᵢ T(i) of vector or matrix terms T, over i = 1, …, n: MatrixIndexSum(λi. T, n)."""

    def __new__(cls, term: sp.Lambda, length: sp.Expr) -> MatrixIndexSum:
        if not isinstance(term, sp.Lambda) or len(term.variables) != 1:
            raise TypeError(f"the terms of a sum are a function of one index, got {term}")
        return sp.Basic.__new__(cls, term, _basic(length))

    @property
    def index(self) -> sp.Symbol:
        return self.args[0].variables[0]

    @property
    def term(self) -> MatrixExpr:
        return self.args[0].expr

    @property
    def length(self) -> sp.Expr:
        return self.args[1]

    @property
    def shape(self) -> tuple:
        return self.term.shape

    def _entry(self, i, j, **kwargs):  # pragma: no cover - never indexed
        raise TypeError("a sum of matrices is evaluated as a whole, not by entries")


class Assemble(MatrixExpr):
    """The rows × cols matrix whose entry k (for a vector) or (k, l) is the scalar t:
    Assemble(λk. t, n, 1) is the vector (t)ₖ. Printed as t, the entry written out."""

    def __new__(cls, entry: sp.Lambda, rows: sp.Expr, cols: sp.Expr = sp.S.One) -> Assemble:
        return sp.Basic.__new__(cls, entry, _basic(rows), _basic(cols))

    @property
    def indices(self) -> tuple[sp.Symbol, ...]:
        return tuple(self.args[0].variables)

    @property
    def entry(self) -> sp.Expr:
        return self.args[0].expr

    @property
    def shape(self) -> tuple:
        return (self.args[1], self.args[2])

    def _entry(self, i, j, **kwargs):  # pragma: no cover - never indexed
        raise TypeError("an assembled matrix is evaluated as a whole, not by entries")


_INDEX_NODES = (Entry, Row, IndexSum, IndexProduct, MatrixIndexSum, Assemble, sp.KroneckerDelta)


def has_index_form(e: sp.Basic) -> bool:
    """Whether e is written in index notation anywhere (a sum over an index, an entry)."""
    return any(isinstance(node, _INDEX_NODES) for node in sp.preorder_traversal(e))


def index_symbols(e: sp.Basic) -> set[Index]:
    """The index symbols that occur in e, bound or free."""
    return {s for s in e.atoms(Index)}
