"""Lowering the nodes of the vec convention: vec(A), the commutation matrix K_mn, and the
Kronecker product's broadcast form (a mixin of `derive.codegen.lower.Lowering`)."""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixExpr

from derive.codegen.program import ATOM, C, M, Node, R, S
from derive.errors import UnsupportedError
from derive.expr import CommutationMatrix, Vec, mat_mul, split_coeff
from derive.notation.text import text

#: A ⊗ B for 2-D A (r × c) and B (p × q), {2} = cq: one broadcast product, each entry written
#: once, and reshaped (a view); entry (i·p + k, j·q + l) is A_ij B_kl
KRON = "xp.reshape({0}[:, None, :, None] * {1}[None, :, None, :], (-1, {2}))"
#: (A ⊗ B)K_nq for A m × n and B p × q, {2} = qn: the same product with the column axes in
#: the other order, (A ⊗ B)K_nq having entry (i·p + k, l·n + j) = A_ij B_kl
KRON_COMMUTED = "xp.reshape({0}[:, None, None, :] * {1}[None, :, :, None], (-1, {2}))"


class KroneckerCommuted(MatrixExpr):
    """(A ⊗ B)K_nq for A m × n, B p × q: a product the code generator writes in one pass
    (no permutation of the Kronecker product's columns afterwards). Internal to code
    generation; results never hold it."""

    def __new__(cls, a: sp.Basic, b: sp.Basic) -> KroneckerCommuted:
        return sp.Basic.__new__(cls, a, b)

    @property
    def shape(self) -> tuple:
        (m, n), (p, q) = self.args[0].shape, self.args[1].shape
        return (m * p, n * q)

    def _entry(self, i, j, **kwargs):  # pragma: no cover - never indexed
        raise TypeError("evaluated as a whole")


def _commuted(prev: sp.Basic, k: CommutationMatrix) -> sp.Basic | None:
    """prev · K as `KroneckerCommuted` terms, for prev = Σ cᵢ (Aᵢ ⊗ Bᵢ) with K = K_nq
    matching the columns of every Aᵢ and Bᵢ; else None."""
    terms = prev.args if isinstance(prev, sp.MatAdd) else (prev,)
    out = []
    for t in terms:
        coeff, mats = split_coeff(t)
        if len(mats) != 1 or not isinstance(mats[0], sp.KroneckerProduct):
            return None
        kron = mats[0]
        if len(kron.args) != 2 or (k.m, k.n) != (kron.args[0].shape[1], kron.args[1].shape[1]):
            return None
        out.append(mat_mul(coeff, [KroneckerCommuted(*kron.args)]))
    return out[0] if len(out) == 1 else sp.MatAdd(*out)


class VecLowering:
    """`_Vec` and `_CommutationMatrix` for `Lowering`, which provides ``p`` (the program),
    ``dimension``, ``dim_names`` and calling itself on a subexpression."""

    def _Vec(self, e: Vec) -> Node:  # noqa: N802
        """vec(A): the columns stacked, the rows of Aᵀ read in order."""
        a = self.p.full(self(e.arg))
        if a.kind in (S, C):
            return a
        if a.kind == R:
            return self.p.T(a)
        return self.p.fmt("vec", (a,), C, "xp.reshape({0}.T, (-1,))")

    def fuse_kronecker(
        self, scalars: list[sp.Basic], factors: list[sp.Basic]
    ) -> tuple[list[sp.Basic], list[sp.Basic]]:
        """The factors of a product with each (A ⊗ B)K_nq, K matching the columns of A and
        B, made one `KroneckerCommuted` (over a sum of such products, term by term); the
        scalars of a product that is one Kronecker product moved onto its first factor
        (c(A ⊗ B) = (cA) ⊗ B: no pass over the result to scale it)."""
        out: list[sp.Basic] = []
        for f in factors:
            fused = _commuted(out[-1], f) if out and isinstance(f, CommutationMatrix) else None
            if fused is not None:
                out[-1] = fused
            else:
                out.append(f)
        if (
            scalars
            and len(out) == 1
            and isinstance(out[0], (sp.KroneckerProduct, KroneckerCommuted))
        ):
            a, b = out[0].args[0], out[0].args[1:]
            small = sp.MatMul(*scalars, a)
            return [], [type(out[0])(small, *b)]
        return scalars, out

    def _KroneckerCommuted(self, e: KroneckerCommuted) -> Node:  # noqa: N802
        a, b = (self._as2d(self(f), f.shape) for f in e.args)
        cols = self.dimension(e.args[0].shape[1] * e.args[1].shape[1])
        return self.p.fmt("kron_k", (a, b, cols), M, KRON_COMMUTED, ATOM, (ATOM, ATOM, 0))

    def _CommutationMatrix(self, e: CommutationMatrix) -> Node:  # noqa: N802
        """K_mn as a dense permutation matrix; a product with it is an index permutation
        (`Program.matmul`), never a matrix product."""
        for size in (e.m, e.n):
            if not (size.is_Integer or getattr(size, "name", None) in self.dim_names):
                raise UnsupportedError(
                    f"code generation of {text(e)} (CommutationMatrix)",
                    f"its size {size} is not the size of an argument",
                )
        return self.p.commutation(self.dimension(e.m), self.dimension(e.n))
