"""Kronecker products, vec and the commutation matrix: the identities that turn a second
differential into vec(dX)ᵀ H vec(dX), and a matrix differential into J vec(dX), and that bring
the H and J read off them to textbook form.

The vec convention is Magnus and Neudecker's (Matrix Differential Calculus): vec stacks the
columns of a matrix, the Hessian of f with respect to an m × n matrix X is the mn × mn matrix
∂²f/∂vec(X)∂vec(X)ᵀ, and the Jacobian of a p × q matrix function F is the pq × mn matrix
∂vec(F)/∂vec(X)ᵀ. K_mn is the commutation matrix, K_mn vec(A) = vec(Aᵀ) for A m × n.
Cookbook numbers are those of chapter 10 (505)–(524) in rules/cookbook/equations.md; the
identification theorems and the commutation matrix are Magnus and Neudecker's.
"""

from __future__ import annotations

import sympy as sp

from derive.expr import (
    CommutationMatrix,
    DifferentialSymbol,
    MatScalar,
    Vec,
    mat_mul,
    split_coeff,
)
from derive.model import Citation, Context, Rewrite, Rule, RuleExample
from derive.rules.registry import register
from derive.rules.symbols import ms as _ms
from derive.rules.transpose import tp

m, n, k, q = sp.symbols("m n k q", integer=True, positive=True)

MAGNUS = "Magnus & Neudecker, Matrix Differential Calculus"


def _kron(*factors: sp.Basic) -> sp.Basic:
    return sp.KroneckerProduct(*factors)


def quadratic_form(b: sp.Basic, v: sp.Basic) -> sp.Basic:
    """vᵀ B v as a scalar."""
    return MatScalar(sp.MatMul(sp.Transpose(v), b, v))


# --- reading a second differential and a matrix differential in the vec convention ---------

VEC_TRACE = register(
    Citation(
        id="vec.trace",
        name="A trace as an inner product of vecs",
        source="Matrix Cookbook (2012) eqs. (13) and (521)",
        statement=(
            r"\operatorname{tr}(P^{\top}\mathrm{d}X) = \operatorname{tr}(\mathrm{d}X^{\top}P)"
            r" = \operatorname{vec}(\mathrm{d}X)^{\top}\operatorname{vec}(P)"
        ),
        cookbook=("13", "521"),
        examples=lambda: [
            RuleExample(
                sp.Trace(sp.Transpose(_ms("P", m, n)) * DifferentialSymbol(_ms("X", m, n))),
                MatScalar(
                    sp.Transpose(Vec(DifferentialSymbol(_ms("X", m, n)))) * Vec(_ms("P", m, n))
                ),
                wrt=("X",),
            )
        ],
    )
)


def _vec_examples() -> list[RuleExample]:
    X, A, B = _ms("X", m, n), _ms("A", k, m), _ms("B", n, q)
    dX = DifferentialSymbol(X)
    C, D = _ms("C", k, n), _ms("D", m, q)
    return [
        RuleExample(Vec(A * dX * B), _kron(sp.Transpose(B), A) * Vec(dX), wrt=("X",)),  # (520)
        RuleExample(
            Vec(C * sp.Transpose(dX) * D),
            _kron(sp.Transpose(D), C) * CommutationMatrix(m, n) * Vec(dX),
            wrt=("X",),
        ),  # (520) with vec(dXᵀ) = K vec(dX)
        RuleExample(
            Vec(sp.HadamardProduct(_ms("G", m, n), dX)),
            sp.DiagMatrix(Vec(_ms("G", m, n))) * Vec(dX),
            wrt=("X",),
        ),
        RuleExample(
            Vec(sp.MatMul(sp.Trace(sp.Transpose(_ms("G", m, n)) * dX), _ms("P", k, q))),
            Vec(_ms("P", k, q)) * sp.Transpose(Vec(_ms("G", m, n))) * Vec(dX),
            wrt=("X",),
        ),
    ]


VEC_PRODUCT = register(
    Citation(
        id="vec.differential",
        name="The vec of a differential",
        source=(
            "Matrix Cookbook (2012) eqs. (520), (522) and (523); vec(Aᵀ) = K vec(A), the "
            f"commutation matrix ({MAGNUS}); a Hadamard factor entry by entry"
        ),
        statement=(
            r"\operatorname{vec}(L\,\mathrm{d}X\,R) = (R^{\top}\otimes L)"
            r"\operatorname{vec}(\mathrm{d}X),\ "
            r"\operatorname{vec}(L\,\mathrm{d}X^{\top}R) = (R^{\top}\otimes L)K"
            r"\operatorname{vec}(\mathrm{d}X),\ "
            r"\operatorname{vec}(A\circ\mathrm{d}X) = \operatorname{diag}(\operatorname{vec}A)"
            r"\operatorname{vec}(\mathrm{d}X)"
        ),
        cookbook=("520", "522", "523"),
        examples=_vec_examples,
    )
)

IDENTIFY_HESSIAN = register(
    Citation(
        id="identify.hessian-vec",
        name="Read off the Hessian (second identification theorem)",
        source=f"second identification theorem ({MAGNUS})",
        statement=(
            r"\mathrm{d}^2 f = \operatorname{vec}(\mathrm{d}X)^{\top} B\,"
            r"\operatorname{vec}(\mathrm{d}X)\ \Rightarrow\ "
            r"\frac{\partial^2 f}{\partial\operatorname{vec}(X)\,"
            r"\partial\operatorname{vec}(X)^{\top}}"
            r" = \tfrac12\left(B + B^{\top}\right)"
        ),
        conditions=(
            "X unstructured: every entry an independent variable",
            "B = ∂vec(∇f)/∂vec(X)ᵀ, the derivative of the gradient, is symmetric (f twice "
            "continuously differentiable), so ½(B + Bᵀ) = B",
        ),
        examples=lambda: [
            RuleExample(
                quadratic_form(
                    _kron(_ms("S", n, n), _ms("T", m, m)), Vec(DifferentialSymbol(_ms("X", m, n)))
                ),
                _kron(_ms("S", n, n), _ms("T", m, m)),
                wrt=("X",),
                assume={"S": ("symmetric",), "T": ("symmetric",)},
                relation="hessian",
            )
        ],
    )
)

IDENTIFY_JACOBIAN = register(
    Citation(
        id="identify.jacobian-vec",
        name="Read off the Jacobian (first identification theorem)",
        source=f"first identification theorem ({MAGNUS})",
        statement=(
            r"\mathrm{d}\operatorname{vec}F = J\,\mathrm{d}\operatorname{vec}X\ \Rightarrow\ "
            r"\frac{\partial\operatorname{vec}F}{\partial\operatorname{vec}(X)^{\top}} = J"
        ),
        conditions=("X unstructured: every entry an independent variable",),
        examples=lambda: [
            RuleExample(
                _kron(sp.Transpose(_ms("B", n, q)), _ms("A", k, m))
                * Vec(DifferentialSymbol(_ms("X", m, n))),
                _kron(sp.Transpose(_ms("B", n, q)), _ms("A", k, m)),
                wrt=("X",),
                relation="jacobian",
            )
        ],
    )
)


# --- textbook form: Kronecker algebra and the commutation matrix ---------------------------


def _kron_transpose(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """(A ⊗ B)ᵀ = Aᵀ ⊗ Bᵀ."""
    if isinstance(node, sp.Transpose) and isinstance(node.arg, sp.KroneckerProduct):
        return _kron(*[tp(a) for a in node.arg.args])
    return None


KRON_TRANSPOSE = register(
    Rewrite(
        id="kron.transpose",
        name="Transpose of a Kronecker product",
        source="Matrix Cookbook (2012) eq. (510)",
        statement=r"(A\otimes B)^{\top} = A^{\top}\otimes B^{\top}",
        cookbook=("510",),
        apply=_kron_transpose,
        examples=lambda: [
            RuleExample(
                sp.Transpose(_kron(_ms("A", m, n), _ms("B", k, q))),
                _kron(sp.Transpose(_ms("A", m, n)), sp.Transpose(_ms("B", k, q))),
            )
        ],
    )
)


def _kron_scalar(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """(αA) ⊗ (βB) = αβ (A ⊗ B): scalar factors taken out of a Kronecker product."""
    if not isinstance(node, sp.KroneckerProduct):
        return None
    parts = [split_coeff(a) for a in node.args]
    coeff = sp.Mul(*[c for c, _ in parts])
    if coeff == 1:
        return None
    return mat_mul(coeff, [_kron(*[mat_mul(sp.S.One, fs) for _, fs in parts])])


KRON_SCALAR = register(
    Rewrite(
        id="kron.scalar",
        name="Scalars out of a Kronecker product",
        source="Matrix Cookbook (2012) eq. (509)",
        statement=r"(\alpha A)\otimes(\beta B) = \alpha\beta\,(A\otimes B)",
        cookbook=("509",),
        apply=_kron_scalar,
        examples=lambda: [
            RuleExample(
                _kron(sp.MatMul(2, _ms("A", m, n)), sp.MatMul(-3, _ms("B", k, q))),
                sp.MatMul(-6, _kron(_ms("A", m, n), _ms("B", k, q))),
            )
        ],
    )
)


def _kron_terms(node: sp.MatAdd, side: int) -> sp.Basic | None:
    """c₁ A ⊗ B + c₂ A ⊗ C = A ⊗ (c₁B + c₂C) (side 0: the left factors agree), or
    c₁ A ⊗ C + c₂ B ⊗ C = (c₁A + c₂B) ⊗ C (side 1): the first pair of terms that share one."""
    terms = list(node.args)
    for i in range(len(terms)):
        for j in range(i + 1, len(terms)):
            (ci, fi), (cj, fj) = split_coeff(terms[i]), split_coeff(terms[j])
            if not (len(fi) == len(fj) == 1 and isinstance(fi[0], sp.KroneckerProduct)):
                continue
            if not isinstance(fj[0], sp.KroneckerProduct):
                continue
            a, b = fi[0].args, fj[0].args
            if len(a) != 2 or len(b) != 2 or a[side] != b[side]:
                continue
            other = 1 - side
            summed = sp.MatAdd(mat_mul(ci, [a[other]]), mat_mul(cj, [b[other]]))
            new = _kron(a[0], summed) if side == 0 else _kron(summed, a[1])
            rest = [t for r, t in enumerate(terms) if r not in (i, j)]
            return sp.MatAdd(new, *rest) if rest else new
    return None


KRON_SUM = register(
    Rewrite(
        id="kron.distribute",
        name="Collect a common Kronecker factor",
        source="Matrix Cookbook (2012) eq. (506)",
        statement=r"A\otimes B + A\otimes C = A\otimes(B + C)",
        cookbook=("506",),
        apply=lambda node, ctx: _kron_terms(node, 0) if isinstance(node, sp.MatAdd) else None,
        examples=lambda: [
            RuleExample(
                _kron(_ms("A", m, n), _ms("B", k, q)) + _kron(_ms("A", m, n), _ms("C", k, q)),
                _kron(_ms("A", m, n), _ms("B", k, q) + _ms("C", k, q)),
            )
        ],
    )
)

KRON_SUM_LEFT = register(
    Rewrite(
        id="kron.distribute-left",
        name="Collect a common right Kronecker factor",
        source=f"elementary: the Kronecker product is bilinear ({MAGNUS})",
        statement=r"A\otimes C + B\otimes C = (A + B)\otimes C",
        apply=lambda node, ctx: _kron_terms(node, 1) if isinstance(node, sp.MatAdd) else None,
        examples=lambda: [
            RuleExample(
                _kron(_ms("A", m, n), _ms("C", k, q)) - _kron(_ms("B", m, n), _ms("C", k, q)),
                _kron(_ms("A", m, n) - _ms("B", m, n), _ms("C", k, q)),
            )
        ],
    )
)


def _commutation_transpose(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """K_mnᵀ = K_nm."""
    if isinstance(node, sp.Transpose) and isinstance(node.arg, CommutationMatrix):
        return CommutationMatrix(node.arg.n, node.arg.m)
    return None


COMMUTATION_TRANSPOSE = register(
    Rewrite(
        id="commutation.transpose",
        name="Transpose of the commutation matrix",
        source=f"definition of the commutation matrix ({MAGNUS})",
        statement=r"K_{mn}^{\top} = K_{mn}^{-1} = K_{nm}",
        apply=_commutation_transpose,
        examples=lambda: [
            RuleExample(  # applied to vec(Y), Y n × m: the sizes come from Y
                sp.Transpose(CommutationMatrix(m, n)) * Vec(_ms("Y", n, m)),
                CommutationMatrix(n, m) * Vec(_ms("Y", n, m)),
            )
        ],
    )
)


def _commutation_kron(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """K_pm (A ⊗ B) = (B ⊗ A) K_qn for A m × n, B p × q: K moved to the right of a
    Kronecker product it multiplies from the left, the form results are written in."""
    if not isinstance(node, sp.MatMul):
        return None
    coeff, factors = split_coeff(node)
    for i in range(len(factors) - 1):
        kmat, kron = factors[i], factors[i + 1]
        if not (isinstance(kmat, CommutationMatrix) and isinstance(kron, sp.KroneckerProduct)):
            continue
        if len(kron.args) != 2:
            continue
        a, b = kron.args
        (rows_a, cols_a), (rows_b, cols_b) = a.shape, b.shape
        if (kmat.m, kmat.n) != (rows_b, rows_a):
            continue
        moved = [_kron(b, a), CommutationMatrix(cols_b, cols_a)]
        return mat_mul(coeff, [*factors[:i], *moved, *factors[i + 2 :]])
    return None


COMMUTATION_KRON = register(
    Rewrite(
        id="commutation.kronecker",
        name="The commutation matrix passes a Kronecker product",
        source=f"commutation property of K ({MAGNUS}, Theorem 3.9)",
        statement=r"K_{pm}(A\otimes B) = (B\otimes A)K_{qn}\quad (A\ m\times n,\ B\ p\times q)",
        apply=_commutation_kron,
        examples=lambda: [
            RuleExample(
                CommutationMatrix(k, m) * _kron(_ms("A", m, n), _ms("B", k, q)),
                _kron(_ms("B", k, q), _ms("A", m, n)) * CommutationMatrix(q, n),
            )
        ],
    )
)


def _vec_scalar(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """vec(αA) = α vec(A)."""
    if not isinstance(node, Vec):
        return None
    coeff, factors = split_coeff(node.arg)
    if coeff == 1:
        return None
    return mat_mul(coeff, [Vec(mat_mul(sp.S.One, factors))])


VEC_SCALAR = register(
    Rewrite(
        id="vec.scalar",
        name="A scalar out of a vec",
        source="Matrix Cookbook (2012) eq. (523)",
        statement=r"\operatorname{vec}(\alpha A) = \alpha\operatorname{vec}(A)",
        cookbook=("523",),
        apply=_vec_scalar,
        examples=lambda: [
            RuleExample(
                Vec(sp.MatMul(sp.Symbol("alpha"), _ms("A", m, n))),
                sp.MatMul(sp.Symbol("alpha"), Vec(_ms("A", m, n))),
            )
        ],
    )
)


def _kron_terms_of(e: sp.Basic) -> list[tuple[sp.Expr, sp.KroneckerProduct]] | None:
    """e as Σ cᵢ (Aᵢ ⊗ Bᵢ) with two factors each, or None."""
    out = []
    for t in e.args if isinstance(e, sp.MatAdd) else (e,):
        c, fs = split_coeff(t)
        if len(fs) != 1 or not isinstance(fs[0], sp.KroneckerProduct) or len(fs[0].args) != 2:
            return None
        out.append((c, fs[0]))
    return out


def _mixed(left: sp.Basic, right: sp.Basic) -> sp.Basic | None:
    """(Σ cᵢ Aᵢ ⊗ Bᵢ)(Σ dⱼ Cⱼ ⊗ Dⱼ) = Σ cᵢdⱼ (AᵢCⱼ) ⊗ (BᵢDⱼ) when the factors conform."""
    ls, rs = _kron_terms_of(left), _kron_terms_of(right)
    if ls is None or rs is None:
        return None
    terms = []
    for c, (a, b) in ((c, k.args) for c, k in ls):
        for e, (cc, dd) in ((e, k.args) for e, k in rs):
            if a.shape[1] != cc.shape[0] or b.shape[1] != dd.shape[0]:
                return None
            product = _kron(_times(a, cc), _times(b, dd))
            terms.append(mat_mul(c * e, [product]))
    return terms[0] if len(terms) == 1 else sp.MatAdd(*terms)


def _times(a: sp.Basic, b: sp.Basic) -> sp.Basic:
    """ab with identity factors dropped."""
    if isinstance(a, sp.Identity):
        return b
    if isinstance(b, sp.Identity):
        return a
    return sp.MatMul(a, b)


def _kron_mixed(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """The first adjacent pair of Kronecker products (or sums of them) in a product, multiplied
    factor by factor."""
    if not isinstance(node, sp.MatMul):
        return None
    coeff, factors = split_coeff(node)
    for i in range(len(factors) - 1):
        merged = _mixed(factors[i], factors[i + 1])
        if merged is not None:
            rest = [*factors[:i], merged, *factors[i + 2 :]]
            return rest[0] if len(rest) == 1 and coeff == 1 else mat_mul(coeff, rest)
    return None


KRON_MIXED = register(
    Rewrite(
        id="kron.mixed-product",
        name="Mixed-product property",
        source="Matrix Cookbook (2012) eqs. (511) and (506)",
        statement=r"(A\otimes B)(C\otimes D) = AC\otimes BD",
        conditions=("A, C and B, D conformable",),
        cookbook=("511", "506"),
        apply=_kron_mixed,
        examples=lambda: [
            RuleExample(
                _kron(_ms("A", m, n), _ms("B", k, q)) * _kron(_ms("C", n, m), _ms("D", q, k)),
                _kron(_ms("A", m, n) * _ms("C", n, m), _ms("B", k, q) * _ms("D", q, k)),
            ),
            RuleExample(
                (_kron(_ms("A", m, m), sp.Identity(k)) + _kron(sp.Identity(m), _ms("B", k, k)))
                * _kron(_ms("C", m, n), _ms("D", k, q)),
                _kron(_ms("A", m, m) * _ms("C", m, n), _ms("D", k, q))
                + _kron(_ms("C", m, n), _ms("B", k, k) * _ms("D", k, q)),
            ),
        ],
    )
)

#: applied to a Hessian or Jacobian read off in the vec convention, before the matrix rules
TEXTBOOK_RULES: tuple[Rule, ...] = (
    KRON_TRANSPOSE,
    COMMUTATION_TRANSPOSE,
    VEC_SCALAR,
    KRON_MIXED,
    COMMUTATION_KRON,
    KRON_SCALAR,
    KRON_SUM,
    KRON_SUM_LEFT,
)
