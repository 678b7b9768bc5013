"""The terms of a sum over indices as matrices: the algebra behind the sum-to-matrix identities.

A scalar written with indices is *lifted* to a sum of products of factors, each factor a
matrix expression with the indices it runs over as its axes: xᵢ is (x, (i,)), Aᵢⱼ is
(A, (i, j)), a number (c, ()). So xᵢAᵢⱼxⱼ is the product of (x, (i,)), (A, (i, j)) and
(x, (j,)). Summing over j contracts the factors that carry j, by the definition of the
matrix product (Σⱼ Aᵢⱼxⱼ = (Ax)ᵢ); a function of a lifted term applies entrywise to its
single factor; and what is left is read back as one matrix expression (`materialize`).

A vector or matrix written inside a sum (wᵀxᵢ with xᵢ a row of the data matrix X) is lifted
with axes of its own for its rows and columns (`lift_matrix`): xᵢ is (X, (i, r)), wᵀ is
(w, (c,)), and their product contracts c with r, giving (Xw, (i,)).

Each lift records the identities of `derive.rules.index_notation` it used (`uses`), which the
steps cite. Anything with no matrix reading (three indices at once, an exponent that depends
on an index) is refused by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf

from derive.errors import UnsupportedError
from derive.expr import MatScalar, elementwise, is_matrix, transpose
from derive.latex.index_form import Entry, Index, Row
from derive.latex.shapes import entrywise_power
from derive.model import Rule
from derive.rules import index_notation as R

Axes = tuple[Index, ...]


@dataclass(frozen=True)
class Factor:
    """A matrix expression `m` whose entries run over `axes`: () a scalar, (i,) a column
    vector over i, (i, j) a matrix with rows over i and columns over j."""

    m: sp.Basic
    axes: Axes = ()

    def rename(self, mapping: dict[Index, Index]) -> Factor:
        return Factor(self.m, tuple(mapping.get(a, a) for a in self.axes))

    def along(self, axes: Axes) -> sp.Basic:
        """m with its two axes in the order `axes` (transposed if need be)."""
        return self.m if self.axes == axes else transpose(self.m)


@dataclass(frozen=True)
class Term:
    """coeff × the entrywise product of `factors` (coeff depends on no index)."""

    coeff: sp.Expr = sp.S.One
    factors: tuple[Factor, ...] = ()

    def times(self, other: Term) -> Term:
        return Term(self.coeff * other.coeff, self.factors + other.factors)

    def rename(self, mapping: dict[Index, Index]) -> Term:
        return Term(self.coeff, tuple(f.rename(mapping) for f in self.factors))

    @property
    def axes(self) -> Axes:
        return _union(f.axes for f in self.factors)


def term(factor: Factor) -> Term:
    """The term of one factor (a scalar factor becomes the coefficient)."""
    return Term(factor.m) if not factor.axes else Term(sp.S.One, (factor,))


def product(a: Sequence[Term], b: Sequence[Term]) -> list[Term]:
    """(Σ aₖ)(Σ bₗ) = Σ aₖbₗ."""
    return [s.times(t) for s in a for t in b]


def _union(groups: Iterable[Axes]) -> Axes:
    out: list[Index] = []
    for axes in groups:
        out += [a for a in axes if a not in out]
    return tuple(out)


def _hadamard(ms: Sequence[sp.Basic]) -> sp.Basic:
    """The entrywise product, named vectors first (y ∘ (Xw), as written by hand)."""
    ms = sorted(ms, key=lambda m: not isinstance(m, sp.MatrixSymbol))
    return ms[0] if len(ms) == 1 else sp.HadamardProduct(*ms)


def _total(m: sp.Basic) -> sp.Basic:
    """𝟏ᵀv for a column vector v, as a scalar."""
    return MatScalar(sp.MatMul(sp.OneMatrix(1, m.shape[0]), m))


def _named_first(a: sp.Basic, b: sp.Basic) -> tuple[sp.Basic, sp.Basic]:
    """The two vectors of aᵀb with a symbol first where only the second is one: xᵀ(Ax)."""
    if isinstance(b, sp.MatrixSymbol) and not isinstance(a, sp.MatrixSymbol):
        return b, a
    return a, b


class Lifter:
    """Lifts index expressions over the indices whose lengths it knows, and contracts them.

    `lengths` maps each index to its range (Σᵢ over i = 1, …, n); the axes `lift_matrix`
    makes for rows and columns are added to it. `uses` lists the identities used, in order.
    """

    def __init__(self, lengths: dict[Index, sp.Expr]) -> None:
        self.lengths = dict(lengths)
        self.uses: list[Rule] = []
        self._axes = 0

    def use(self, rule: Rule) -> None:
        if rule not in self.uses:
            self.uses.append(rule)

    def axis(self, length: sp.Expr) -> Index:
        """A fresh axis for the rows or columns of a vector or matrix written in a sum."""
        self._axes += 1
        a = Index(f"_k{self._axes}")
        self.lengths[a] = length
        return a

    def is_axis(self, a: Index) -> bool:
        return a.name.startswith("_k")

    # --- lifting ------------------------------------------------------------------------
    def lift(self, e: sp.Basic) -> list[Term]:
        """The scalar index expression e as a sum of products of factors."""
        if not e.atoms(Index):
            return [Term(e)]
        if isinstance(e, Entry):
            return self._entry(e)
        if isinstance(e, sp.KroneckerDelta):
            a, b = e.args
            return [Term(sp.S.One, (Factor(sp.Identity(self.lengths[a]), (a, b)),))]
        if isinstance(e, sp.Add):
            return [t for a in e.args for t in self.lift(a)]
        if isinstance(e, sp.Mul):
            out = [Term()]
            for a in e.args:
                out = product(out, self._factor(self.lift(a)))
            return out
        if isinstance(e, sp.Pow):
            return self._power(self.lift(e.base), e.exp)
        if isinstance(e, MatScalar):
            lin, rows, cols = self.lift_matrix(e.arg)
            return lin
        if isinstance(e, sp.Function) and len(e.args) == 1:
            f = self.materialize(self.lift(e.args[0]))
            if not f.axes:
                return [Term(e.func(f.m))]
            self.use(R.ENTRYWISE)
            return [term(Factor(elementwise(e.func, f.m), f.axes))]
        raise UnsupportedError(f"{type(e).__name__} of terms that depend on a summation index")

    def _factor(self, lin: list[Term]) -> list[Term]:
        """A sum that is a factor of a product, kept whole when its terms run over the same
        indices (or none): (xᵢ − μᵢ)Pᵢⱼ(xⱼ − μⱼ) is (x − μ)ᵀP(x − μ), not four products."""
        if len(lin) < 2:
            return lin
        axes = _union(t.axes for t in lin)
        if not axes or any(set(t.axes) not in (set(axes), set()) for t in lin):
            return lin
        return [term(self.materialize(lin))]

    def _power(self, base: list[Term], exp: sp.Expr) -> list[Term]:
        """tᵏ: a square as the product t·t (Σᵢ xᵢ² = xᵀx); other powers entrywise."""
        if exp.atoms(Index):
            raise UnsupportedError("an exponent that depends on a summation index")
        if exp == 2 and len(base) == 1:
            return [base[0].times(base[0])]
        f = self.materialize(base)
        if not f.axes:
            return [Term(sp.Pow(f.m, exp))]
        if exp == 2:
            return [Term(sp.S.One, (f, f))]
        self.use(R.ENTRYWISE)
        return [term(Factor(entrywise_power(f.m, exp), f.axes))]

    def _entry(self, e: Entry) -> list[Term]:
        parent, idx = e.parent, e.indices
        if parent.atoms(Index):  # (W xᵢ)ⱼ: an entry of what a sum's index runs through
            lin, rows, cols = self.lift_matrix(parent)
            if len(idx) == 1:
                axis = rows if rows is not None else cols
                mapping = {axis: idx[0]} if axis is not None else {}
            elif idx[0] != idx[1] and rows is not None and cols is not None:
                mapping = {rows: idx[0], cols: idx[1]}
            else:
                raise UnsupportedError(f"the entry {e} of a matrix that depends on an index")
            return [t.rename(mapping) for t in lin]
        if len(idx) == 1:
            v = parent if parent.shape[1] == 1 else transpose(parent)
            return [Term(sp.S.One, (Factor(v, idx),))]
        a, b = idx
        if a == b:
            return [Term(sp.S.One, (Factor(DiagonalOf(parent), (a,)),))]
        return [Term(sp.S.One, (Factor(parent, (a, b)),))]

    def lift_matrix(self, e: sp.Basic) -> tuple[list[Term], Index | None, Index | None]:
        """A vector or matrix expression inside a sum, with axes for its rows and columns:
        (terms, row axis, column axis), an axis None where the size is 1."""
        rows, cols = e.shape
        if not e.atoms(Index):
            r = self.axis(rows) if rows != 1 else None
            c = self.axis(cols) if cols != 1 else None
            if r is not None and c is not None:
                return [term(Factor(e, (r, c)))], r, c
            if r is not None:
                return [term(Factor(e, (r,)))], r, None
            if c is not None:
                return [term(Factor(transpose(e), (c,)))], None, c
            return [Term(MatScalar(e))], None, None
        if isinstance(e, Row):
            x, i = e.parent, e.index
            self.use(R.SAMPLE_ROWS)
            if x.shape[1] == 1:
                return [term(Factor(x, (i,)))], None, None
            r = self.axis(x.shape[1])
            return [term(Factor(x, (i, r)))], r, None
        if isinstance(e, sp.Transpose):
            lin, r, c = self.lift_matrix(e.arg)
            return lin, c, r
        if isinstance(e, sp.MatMul):
            return self._matmul(e)
        if isinstance(e, (sp.MatAdd, sp.HadamardProduct)):
            parts = [self.lift_matrix(a) for a in e.args]
            lin0, r, c = parts[0]
            out: list[Term] = [] if isinstance(e, sp.MatAdd) else [Term()]
            for lin, r1, c1 in parts:
                mapping = {k: v for k, v in ((r1, r), (c1, c)) if k is not None}
                lin = [t.rename(mapping) for t in lin]
                out = out + lin if isinstance(e, sp.MatAdd) else product(out, lin)
            if isinstance(e, sp.HadamardProduct):
                self.use(R.ENTRYWISE)
            return out, r, c
        if isinstance(e, ElementwiseApplyFunction):
            lin, r, c = self.lift_matrix(e.expr)
            f = self.materialize(lin)
            if not f.axes:
                return [Term(e.function(f.m))], r, c
            self.use(R.ENTRYWISE)
            return [term(Factor(elementwise(e.function, f.m), f.axes))], r, c
        if isinstance(e, sp.HadamardPower):
            lin, r, c = self.lift_matrix(e.base)
            return self._power(lin, e.exp), r, c
        raise UnsupportedError(
            f"{type(e).__name__} of vectors or matrices that depend on a summation index"
        )

    def _matmul(self, e: sp.MatMul) -> tuple[list[Term], Index | None, Index | None]:
        """A product: each inner dimension a contraction (the definition of the product)."""
        out = [Term()]
        for s in (a for a in e.args if not is_matrix(a)):
            out = product(out, self.lift(s))
        mats = [a for a in e.args if is_matrix(a)]
        cur, r0, c0 = self.lift_matrix(mats[0])
        for m in mats[1:]:
            nxt, r1, c1 = self.lift_matrix(m)
            if c0 is not None and r1 is not None:
                k = self.axis(self.lengths[c0])
                cur = product([t.rename({c0: k}) for t in cur], [t.rename({r1: k}) for t in nxt])
                cur = [self.contract_one(t, k) for t in cur]
            else:  # an inner dimension of 1: an outer product, nothing summed
                cur = product(cur, nxt)
            c0 = c1
        return product(out, cur), r0, c0

    # --- summing over an index ----------------------------------------------------------
    def contract(self, lin: Sequence[Term], indices: Sequence[Index]) -> list[Term]:
        """Σ over `indices` of each term, innermost first; the outermost two together when
        the term carries no other index (the trace and bilinear-form identities)."""
        out = []
        for t in lin:
            for j in reversed(indices[2:]):
                t = self.contract_one(t, j)
            joint = self._joint(t, indices[:2]) if len(indices) >= 2 else None
            if joint is None:
                for j in reversed(indices[:2]):
                    t = self.contract_one(t, j)
            out.append(joint or t)
        return out

    def contract_one(self, t: Term, j: Index) -> Term:
        """Σⱼ of one term: the factors carrying j multiplied as matrices over j."""
        inside = [f for f in t.factors if j in f.axes]
        rest = tuple(f for f in t.factors if j not in f.axes)
        if not inside:
            self.use(R.CONSTANT_TERM)
            return Term(t.coeff * self.lengths[j], rest)
        vectors = [f.m for f in inside if len(f.axes) == 1]
        groups: dict[Index, list[sp.Basic]] = {}
        for f in inside:
            if len(f.axes) == 2:
                other = f.axes[0] if f.axes[1] == j else f.axes[1]
                groups.setdefault(other, []).append(f.along((other, j)))
        u = _hadamard(vectors) if vectors else None
        if len(vectors) > 1 and groups:
            self.use(R.ENTRYWISE)
        mats = [(a, _hadamard(ms)) for a, ms in groups.items()]
        if not mats:
            return Term(t.coeff * self._sum_of_vector(vectors), rest)
        self.use(R.MATRIX_PRODUCT)
        if len(mats) == 1:
            ((a, m),) = mats
            v = u if u is not None else sp.OneMatrix(self.lengths[j], 1)
            return Term(t.coeff, (*rest, Factor(sp.MatMul(m, v), (a,))))
        if len(mats) == 2:
            (a, m), (b, n) = mats
            if self.is_axis(a) and not self.is_axis(b):  # rows of samples first: X Wᵀ
                (a, m), (b, n) = (b, n), (a, m)
            middle = [DiagMatrix(u)] if u is not None else []
            return Term(t.coeff, (*rest, Factor(sp.MatMul(m, *middle, transpose(n)), (a, b))))
        raise UnsupportedError(
            "a sum over one index of entries that carry three other indices",
            "write it with at most two free indices at a time",
        )

    def _sum_of_vector(self, vectors: list[sp.Basic]) -> sp.Expr:
        """Σⱼ of the entrywise product of `vectors` over j, as a scalar."""
        if len(vectors) == 1:
            (v,) = vectors
            if isinstance(v, DiagonalOf):
                self.use(R.TRACE)
                return sp.Trace(v.arg)
            self.use(R.SUM_OF_ENTRIES)
            return _total(v)
        self.use(R.INNER_PRODUCT)
        if len(vectors) > 2:
            self.use(R.ENTRYWISE)
            # Σᵢ xᵢ² log yᵢ = (x ∘ x)ᵀ log(y): a repeated factor on one side
            twice = max(vectors, key=vectors.count)
            if vectors.count(twice) > 1:
                rest = [v for v in vectors if v != twice]
                same = [v for v in vectors if v == twice]
                if rest:
                    return MatScalar(sp.MatMul(transpose(_hadamard(same)), _hadamard(rest)))
        a, b = _named_first(vectors[0], _hadamard(vectors[1:]))
        return MatScalar(sp.MatMul(transpose(a), b))

    def _joint(self, t: Term, indices: Sequence[Index]) -> Term | None:
        """Σᵢⱼ of a term whose factors carry only i and j: tr(AᵀB), xᵀAy, 𝟏ᵀA𝟏 (None for
        other terms, summed one index at a time)."""
        i, j = indices
        if not t.factors or any(not set(f.axes) <= {i, j} for f in t.factors):
            return None
        us = [f.m for f in t.factors if f.axes == (i,)]
        vs = [f.m for f in t.factors if f.axes == (j,)]
        ms = [f.along((i, j)) for f in t.factors if len(f.axes) == 2]
        pair = [f for f in t.factors if len(f.axes) == 2]
        if len(pair) == 2 and not us and not vs and pair[0].axes != pair[1].axes:
            self.use(R.TRACE_INNER_PRODUCT)  # Σᵢⱼ AᵢⱼBⱼᵢ = tr(AB)
            return Term(t.coeff * sp.Trace(sp.MatMul(pair[0].m, pair[1].m)))
        if not ms:
            if us and vs:
                self.use(R.SEPARABLE_SUM)
            return None
        m = _hadamard(ms)
        if us or vs:
            self.use(R.BILINEAR_FORM)
            if len(ms) > 1 or len(us) > 1 or len(vs) > 1:
                self.use(R.ENTRYWISE)
            u = _hadamard(us) if us else sp.OneMatrix(self.lengths[i], 1)
            v = _hadamard(vs) if vs else sp.OneMatrix(self.lengths[j], 1)
            return Term(t.coeff * MatScalar(sp.MatMul(transpose(u), m, v)))
        if len(ms) == 1:
            self.use(R.SUM_OF_ENTRIES)
            ones = sp.OneMatrix(1, self.lengths[i]), sp.OneMatrix(self.lengths[j], 1)
            return Term(t.coeff * MatScalar(sp.MatMul(ones[0], m, ones[1])))
        self.use(R.TRACE_INNER_PRODUCT)
        if len(ms) > 2:
            self.use(R.ENTRYWISE)
        a, b = _named_first(ms[0], _hadamard(ms[1:]))
        return Term(t.coeff * sp.Trace(sp.MatMul(transpose(a), b)))

    # --- reading back ---------------------------------------------------------------------
    def materialize(self, lin: Sequence[Term]) -> Factor:
        """The sum of the terms as one factor: each term's factors multiplied entrywise,
        then the terms added (a term carrying fewer indices spread over the others)."""
        factors = [self._combine(t) for t in lin]
        axes = _union(f.axes for f in factors)
        if len(axes) > 2:
            raise UnsupportedError(
                "terms that carry three indices at once",
                "a sum over one index of vectors and matrices has at most two free indices",
            )
        if len(factors) == 1:
            return factors[0]
        ms = [self._spread(f, axes) for f in factors]
        if not axes:
            return Factor(sp.Add(*ms))
        return Factor(sp.MatAdd(*ms), axes)

    def _combine(self, t: Term) -> Factor:
        """The entrywise product of a term's factors, times its coefficient."""
        axes = t.axes
        if len(axes) > 2:
            raise UnsupportedError(
                "a product of entries that carry three indices at once",
                "sum over one of them first",
            )
        if not t.factors:
            return Factor(t.coeff)
        if len(t.factors) > 1:
            self.use(R.ENTRYWISE)
        if len(axes) == 1:
            m = _hadamard([f.m for f in t.factors])
        else:
            mats = [f for f in t.factors if len(f.axes) == 2]
            if mats:
                axes = mats[0].axes
            a, b = axes
            ua = [f.m for f in t.factors if f.axes == (a,)]
            vb = [f.m for f in t.factors if f.axes == (b,)]
            if mats:
                m = _hadamard([f.along(axes) for f in mats])
                if ua:
                    m = sp.MatMul(DiagMatrix(_hadamard(ua)), m)
                if vb:
                    m = sp.MatMul(m, DiagMatrix(_hadamard(vb)))
            else:
                m = sp.MatMul(_hadamard(ua), transpose(_hadamard(vb)))
        if t.coeff != 1:
            m = sp.MatMul(t.coeff, m)
        return Factor(m, axes)

    def _spread(self, f: Factor, axes: Axes) -> sp.Basic:
        """f as a matrix over `axes` (a superset of its own): c𝟏, u𝟏ᵀ, 𝟏vᵀ."""
        if f.axes == axes:
            return f.m
        if len(f.axes) == 2:
            return f.along(axes)
        ones = [sp.OneMatrix(self.lengths[a], 1) for a in axes]
        if not f.axes:
            if len(axes) == 1:
                return sp.MatMul(f.m, ones[0])
            return sp.MatMul(f.m, ones[0], transpose(ones[1]))
        if f.axes[0] == axes[0]:
            return sp.MatMul(f.m, transpose(ones[1]))
        return sp.MatMul(ones[0], transpose(f.m))
