"""Sums over an index, read in index notation: Σᵢ, Σᵢⱼ, entries xᵢ, Aᵢⱼ, (Wx)ᵢ, rows, δᵢⱼ.

`IndexReader` (a part of `derive.latex.build.Builder`) reads a sum as the student wrote it,
into the nodes of `derive.latex.index_form`: ``\\sum_i y_i \\log\\sigma(w^\\top x_i)`` is
IndexSum(Entry(y, i)·log σ(wᵀRow(x, i)), (i, 1, n)). Matrix notation comes after, one
identity at a time (`derive.latex.contract`).

How an entry is read:

- ``A_{ij}``, ``A_{i,j}`` in a sum over i and j: entry (i, j) of the matrix A (which an
  undeclared A becomes, n_i × n_j); ``\\delta_{ij}`` is the Kronecker delta (unless a symbol
  δ is declared); ``(Wx)_i``, ``\\operatorname{softmax}(z)_k``: entry i of that vector.
- ``x_i``: entry i of the vector x, unless x is a matrix (declared, or upper case) or the
  formula uses xᵢ as a vector: transposed (``x_i^\\top``), after a transpose or a matrix
  (``w^\\top x_i``, ``W x_i``), under a norm (``\\|x_i - \\mu\\|``) or in ⟨·, ·⟩. Then xᵢ is
  row i of the data matrix x, as a column vector: sample i.
- A sum's range is its limits, or else the length its entries have.
"""

from __future__ import annotations

import sympy as sp

from derive.errors import InputError, ShapeError, UnsupportedError
from derive.expr import MatScalar, is_matrix
from derive.latex import parser as P
from derive.latex.index_form import Entry, Index, IndexProduct, IndexSum, MatrixIndexSum, Row

#: where the kind and shape of a symbol read through its entries came from
ENTRY_OF_MATRIX = "inferred: {name}_ij in a sum over i and j is entry (i, j) of this matrix"


def depends(node: object, index: str) -> bool:
    """Whether a syntax tree reads the summation index `index` (an entry, δ, (Wx)ᵢ)."""
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, P.Indexed) and index in (n.index, n.second):
            return True
        if isinstance(n, P.Subscripted) and index in n.indices:
            return True
        if isinstance(n, tuple):
            stack.extend(n)
        elif hasattr(n, "__dataclass_fields__"):
            stack.extend(getattr(n, f) for f in n.__dataclass_fields__)
    return False


def _single(node: object) -> str | None:
    """The base x of an entry xᵢ with one index, else None."""
    return node.base if isinstance(node, P.Indexed) and node.second is None else None


def _linear_entries(node: object) -> set[str]:
    """The bases of entries xᵢ that are terms of `node` (xᵢ, xᵢ − μ, −xᵢ, xᵢ + b)."""
    if isinstance(node, P.Add):
        return set().union(*(_linear_entries(t) for t in node.terms))
    if isinstance(node, P.Neg):
        return _linear_entries(node.arg)
    base = _single(node)
    return {base} if base else set()


def _vectorlike(node: object, declared: dict[str, sp.Basic]) -> bool:
    """Whether a factor is written as a vector or matrix that xᵢ may follow: wᵀ, W, A⁻¹."""
    if isinstance(node, (P.Transpose, P.Prime, P.Inverse, P.PseudoInverse)):
        return True
    if isinstance(node, P.Name):
        sym = declared.get(node.name)
        if sym is not None:
            return is_matrix(sym) and sym.shape[1] != 1
        head = node.name.split("_")[0].split("^")[0]
        return head[:1].isupper()
    return False


def rows_written(tree: object, declared: dict[str, sp.Basic]) -> set[str]:
    """The names x whose entries xᵢ the formula uses as vectors (see the module doc): the
    rows of a data matrix x."""
    out: set[str] = set()
    stack = [tree]
    while stack:
        n = stack.pop()
        if isinstance(n, (P.Transpose, P.Prime, P.Norm)):
            out |= _linear_entries(n.arg)
        elif isinstance(n, P.Inner):
            out |= _linear_entries(n.left) | _linear_entries(n.right)
        elif isinstance(n, P.Mul):
            for before, f in zip(n.factors, n.factors[1:], strict=False):
                base = _single(f)
                if base and _vectorlike(before, declared):
                    out.add(base)
        if isinstance(n, tuple):
            stack.extend(n)
        elif hasattr(n, "__dataclass_fields__"):
            stack.extend(getattr(n, f) for f in n.__dataclass_fields__)
    return out


class IndexReader:
    """Sums, entries and rows for the `Builder` (which supplies the shape-checked arithmetic:
    `build`, `name`, `unify`, `resolve`, `dimension`, …).

    While a sum's terms are built, `ranges` holds the length of each index in scope.
    """

    @property
    def ranges(self) -> dict[str, sp.Expr]:
        if "_ranges" not in self.__dict__:
            self._ranges: dict[str, sp.Expr] = {}
            self.row_bases: set[str] = set()
        return self._ranges

    def _length(self, node: P.Reduce) -> sp.Expr | None:
        """The number of terms the limits of a sum give (None: no limits)."""
        if node.upper is None:
            if node.lower is not None:
                raise UnsupportedError(f"a sum from {node.index} = … with no upper limit")
            return None
        length = self.dimension(node.upper, "the upper limit of a sum")
        lower = sp.S.One if node.lower is None else self.dimension(node.lower, "a limit")
        if lower not in (0, 1):
            raise UnsupportedError(f"a sum from {node.index} = {lower}", "start at 1 or 0")
        length = length + 1 - lower
        if length.is_number and (not length.is_Integer or length < 1):
            raise InputError(f"a sum over {node.index} of {length} terms")
        if not (length.is_Integer or length in self.dims.values() or self.is_fresh(length)):
            raise UnsupportedError(
                f"a sum over {node.index} up to {length}",
                "an upper limit is a dimension: a number, or a name not declared a scalar",
            )
        return length

    def _constant(self, node: P.Reduce, length: sp.Expr | None) -> sp.Basic:
        """A sum (or product) whose terms do not depend on its index: n t (or tⁿ)."""
        if length is None:
            raise UnsupportedError(
                f"a sum over {node.index} whose terms do not depend on {node.index}"
            )
        t = self.resolve(self.build(node.body))
        if is_matrix(t) and tuple(t.shape) == (1, 1):
            t = MatScalar(t)
        if is_matrix(t):
            raise UnsupportedError(f"a sum or product over {node.index} of a constant matrix")
        if node.op == "prod":
            return self.number_power(t, length) if t.is_number else t**length
        return length * t

    def _Reduce(self, node: P.Reduce) -> sp.Basic:
        ranges = self.ranges
        if not ranges:  # the outermost sum: how its entries are used decides rows
            self.row_bases |= rows_written(node, self.syms)
        length = self._length(node)
        if not depends(node.body, node.index):
            return self._constant(node, length)
        ranges[node.index] = length if length is not None else self._fresh()
        try:
            t = self.resolve(self.build(node.body))
        finally:
            span = self.resolve(ranges.pop(node.index))
        i = Index(node.index)
        if is_matrix(t) and tuple(t.shape) == (1, 1):
            t = MatScalar(t)
        if is_matrix(t):
            if node.op == "prod":
                raise UnsupportedError(f"a product over {node.index} of vectors")
            return MatrixIndexSum(sp.Lambda(i, t), span)
        if node.op == "prod":
            return IndexProduct(t, (i, 1, span))
        if isinstance(node.body, P.Reduce) and node.body.joint and isinstance(t, IndexSum):
            return IndexSum(t.function, *t.limits, (i, 1, span))  # Σᵢⱼ, written as one
        return IndexSum(t, (i, 1, span))

    def _index(self, base: str, index: str) -> Index:
        if index not in self.ranges:
            raise UnsupportedError(
                f"{base}_{index} outside a sum over {index}",
                "write the sum, or use vector notation",
            )
        return Index(index)

    def _span(self, index: str, size: sp.Expr, what: str) -> None:
        """The length of `index` is `size` (the entries of `what`)."""
        span = self.ranges[index]
        self.unify(
            size,
            span,
            lambda: (
                f"{what}: a sum over {index} of {self._show(span)} terms, but "
                f"{self._show(size)} entries: the lengths differ"
            ),
        )

    def _Indexed(self, node: P.Indexed) -> sp.Basic:
        if node.second is not None:
            return self._entry2(node)
        i = self._index(node.base, node.index)
        name = node.base
        if name not in self.syms and name not in self.dims and name[0].islower():
            rows = self.ranges[node.index]
            cols = self._fresh() if name in self.row_bases else sp.S.One
            self.syms[name] = sp.MatrixSymbol(name, rows, cols)
            self.source[name] = "sample"
        v = self.resolve(self.name(name))
        what = f"{name}_{node.index}"
        if not is_matrix(v):
            raise ShapeError(f"{what}: {name} is a scalar, not a vector")
        if v.shape[1] == 1 or v.shape[0] == 1:
            self._span(node.index, v.shape[0] if v.shape[1] == 1 else v.shape[1], what)
            return Entry(self.resolve(v), i)
        self._span(node.index, v.shape[0], what)
        return Row(self.resolve(v), i)

    def _entry2(self, node: P.Indexed) -> sp.Basic:
        """A_{ij}: entry (i, j) of a matrix; δ_{ij} the Kronecker delta."""
        i, j = self._index(node.base, node.index), self._index(node.base, node.second)
        name, what = node.base, f"{node.base}_{node.index}{node.second}"
        if name == "delta" and name not in self.syms:
            self.unify(
                self.ranges[node.index],
                self.ranges[node.second],
                lambda: f"δ_{node.index}{node.second} over indices of different lengths",
            )
            return sp.KroneckerDelta(i, j)
        if name not in self.syms and name not in self.dims:
            self.syms[name] = sp.MatrixSymbol(
                name, self.ranges[node.index], self.ranges[node.second]
            )
            self.source[name] = ENTRY_OF_MATRIX.format(name=name)
        v = self.resolve(self.name(name))
        if not is_matrix(v):
            raise ShapeError(f"{what}: {name} is a scalar, not a matrix")
        if v.shape[1] == 1 and not self.is_fresh(v.shape[0]) and v.shape[0] != 1:
            raise ShapeError(f"{what}: two indices on {name}, which is a vector")
        self._span(node.index, v.shape[0], what)
        self._span(node.second, self.resolve(v).shape[1], what)
        return Entry(self.resolve(v), i, j)

    def _Subscripted(self, node: P.Subscripted) -> sp.Basic:
        """(Wx)_i, softmax(z)_k, (AB)_{ij}: an entry of the vector or matrix written."""
        idx = [self._index("(…)", n) for n in node.indices]
        v = self.resolve(self.build(node.arg))
        what = f"({self._show(v)})_{''.join(node.indices)}"
        if not is_matrix(v):
            raise ShapeError(f"{what}: an entry of a scalar")
        if len(idx) == 1:
            if v.shape[1] != 1 and v.shape[0] != 1:
                raise UnsupportedError(
                    f"{what}: one index on a matrix", "write two indices, as (AB)_{ij}"
                )
            self._span(node.indices[0], v.shape[0] if v.shape[1] == 1 else v.shape[1], what)
            return Entry(self.resolve(v), *idx)
        self._span(node.indices[0], v.shape[0], what)
        self._span(node.indices[1], self.resolve(v).shape[1], what)
        return Entry(self.resolve(v), *idx)
