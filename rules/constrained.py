"""Constraints and definitions: the Lagrange multiplier for an equality constraint; matrices
constrained to have orthonormal columns (UᵀU = I) and the singular value decomposition A = UΣVᵀ
that has them; and naming a subexpression (δ := p − y), the equation a definition imposes.

(Naming would read better in a rules/naming.py of its own; it lives here until rules/__init__.py
imports such a module.)"""

from __future__ import annotations

import sympy as sp

from derive.expr import MatScalar, ones
from derive.model import Citation, Context, Rewrite, RuleExample
from derive.rules.registry import register

n = sp.Symbol("n", integer=True, positive=True)
LAMBDA = sp.Symbol("lambda", real=True)


def lagrangian(f: sp.Expr, g: sp.Expr, multiplier: sp.Symbol = LAMBDA) -> sp.Expr:
    """ℒ = f − λg: the Lagrangian of f under the equality constraint g = 0."""
    return sp.Add(f, sp.Mul(-1, multiplier, g, evaluate=False), evaluate=False)


def _lagrange_examples() -> list[RuleExample]:
    # On the constraint set ℒ equals f, whatever λ: u = w/‖w‖ keeps uᵀu − 1 = 0 for any w,
    # written out, and checked by the "constrained" relation (u drawn, then normalised).
    w, S = sp.MatrixSymbol("w", n, 1), sp.MatrixSymbol("S", n, n)
    unit = sp.MatMul(sp.Pow(MatScalar(sp.MatMul(sp.Transpose(w), w)), sp.Rational(-1, 2)), w)
    examples = []
    for u, relation, wrt in (
        (unit, "equal", ()),
        (sp.MatrixSymbol("u", n, 1), "constrained", ("u",)),
    ):
        f = MatScalar(sp.MatMul(sp.Transpose(u), S, u))
        g = MatScalar(sp.MatMul(sp.Transpose(u), u)) - 1
        examples.append(RuleExample(lagrangian(f, g), f, wrt=wrt, relation=relation))
    return examples


LAGRANGE = register(
    Citation(
        id="constrained.lagrange",
        name="Lagrange multiplier",
        source=(
            "Lagrange multiplier theorem (Bishop, Pattern Recognition and Machine Learning, "
            "2006, Appendix E)"
        ),
        statement=(
            r"\max_x f(x)\ \text{s.t.}\ g(x) = 0:\ \nabla_x \mathcal{L} = 0,\ "
            r"\mathcal{L}(x, \lambda) = f(x) - \lambda\, g(x)"
        ),
        conditions=("f and g differentiable", "∇g ≠ 0 at the optimum"),
        examples=_lagrange_examples,
    )
)


def _orthonormal_columns(node: sp.Basic, ctx: Context) -> sp.Basic | None:
    """… Uᵀ U … → … I … for U with orthonormal columns (assumption "orthonormal")."""
    if not isinstance(node, sp.MatMul):
        return None
    args = list(node.args)
    for i in range(len(args) - 1):
        a, b = args[i], args[i + 1]
        if (
            isinstance(a, sp.Transpose)
            and a.arg == b
            and isinstance(b, sp.MatrixSymbol)
            and ctx.has(b.name, "orthonormal")
        ):
            rest = args[:i] + args[i + 2 :]
            if not any(getattr(r, "is_Matrix", False) for r in rest):
                return sp.MatMul(*rest, sp.Identity(b.shape[1]))
            return sp.MatMul(*rest)
    return None


def _orthonormal_examples() -> list[RuleExample]:
    # The Cayley transform Q = (I − K)(I + K)⁻¹ of a skew-symmetric K = B − Bᵀ is orthogonal.
    B = sp.MatrixSymbol("B", n, n)
    eye = sp.Identity(n)
    K = sp.MatAdd(B, sp.MatMul(-1, sp.Transpose(B)))
    Q = sp.MatMul(sp.MatAdd(eye, sp.MatMul(-1, K)), sp.Inverse(sp.MatAdd(eye, K)))
    return [RuleExample(sp.MatMul(sp.Transpose(Q), Q), eye)]


ORTHONORMAL = register(
    Rewrite(
        id="constrained.orthonormal",
        name="Orthonormal columns",
        source="definition of a matrix with orthonormal columns",
        statement=r"U^{\top}U = I",
        conditions=("U has orthonormal columns",),
        apply=_orthonormal_columns,
        examples=_orthonormal_examples,
    )
)


# --- the singular value decomposition ---------------------------------------------------------


def svd_substitute(expr: sp.Basic, a: sp.MatrixSymbol, u: sp.Basic, sigma: sp.Basic, v: sp.Basic):
    """expr with the matrix `a` replaced by its SVD factors U Σ Vᵀ."""
    return expr.xreplace({a: sp.MatMul(u, sigma, sp.Transpose(v))})


def _svd_examples() -> list[RuleExample]:
    # A rank-one A = xyᵀ has the (compact) SVD U = x/‖x‖, Σ = ‖x‖‖y‖, V = y/‖y‖: its factors
    # rebuild A, and U and V have orthonormal columns (1 × 1 identities).
    m = sp.Symbol("m", integer=True, positive=True)
    x, y = sp.MatrixSymbol("x", m, 1), sp.MatrixSymbol("y", n, 1)
    a = sp.MatrixSymbol("A", m, n)
    xx = MatScalar(sp.MatMul(sp.Transpose(x), x))
    yy = MatScalar(sp.MatMul(sp.Transpose(y), y))
    half = sp.Rational(1, 2)
    u = sp.MatMul(sp.Pow(xx, -half), x)
    v = sp.MatMul(sp.Pow(yy, -half), y)
    sigma = sp.MatMul(sp.Pow(xx, half), sp.Pow(yy, half), sp.Identity(1))
    one = sp.Identity(1)
    return [
        RuleExample(sp.MatMul(x, sp.Transpose(y)), svd_substitute(a, a, u, sigma, v)),
        RuleExample(sp.MatMul(sp.Transpose(u), u), one),
        RuleExample(sp.MatMul(sp.Transpose(v), v), one),
    ]


SVD = register(
    Citation(
        id="svd.definition",
        name="Singular value decomposition",
        source=(
            "SVD theorem (Golub & Van Loan, Matrix Computations, 4th ed., 2013, sec. 2.4, "
            "Theorem 2.4.1)"
        ),
        statement=(
            r"A = U \Sigma V^{\top},\ U^{\top}U = V^{\top}V = I,\ "
            r"\Sigma = \operatorname{diag}(\sigma_1, \dots, \sigma_r),\ "
            r"\sigma_1 \ge \dots \ge \sigma_r \ge 0"
        ),
        conditions=(
            "A real m × n; thin SVD (r = n ≤ m) or compact (r = rank A)",
            "U, V have orthonormal columns; Σ diagonal with σᵢ ≥ 0",
        ),
        examples=_svd_examples,
    )
)


# --- naming a subexpression --------------------------------------------------------------------


def expand_names(expr: sp.Basic, definitions) -> sp.Basic:
    """expr with each named symbol replaced by its definition, ((s, e), ...) in order (a later
    definition may use an earlier name): the value the named form stands for."""
    for symbol, definition, *_ in reversed(tuple(definitions)):
        expr = expr.xreplace({symbol: definition})
    return expr


def _naming_examples() -> list[RuleExample]:
    # The backpropagation shape at small size: δ := s − y, γ := (Wᵀδ) ∘ (1 − h∘h); the
    # expanded form Wᵀ(s − y) − h∘h ∘ Wᵀ(s − y) equals γxᵀ with the names expanded.
    k, m = sp.symbols("k m", integer=True, positive=True)
    s, y = sp.MatrixSymbol("s", k, 1), sp.MatrixSymbol("y", k, 1)
    W, h, x = sp.MatrixSymbol("W", k, m), sp.MatrixSymbol("h", m, 1), sp.MatrixSymbol("x", n, 1)
    delta, gamma = sp.MatrixSymbol("delta", k, 1), sp.MatrixSymbol("gamma", m, 1)
    hh = sp.HadamardProduct(h, h)
    definitions = (
        (delta, sp.MatAdd(s, sp.MatMul(-1, y))),
        (gamma, sp.HadamardProduct(sp.MatMul(sp.Transpose(W), delta), ones(m) - hh)),
    )
    back = sp.MatMul(sp.Transpose(W), sp.MatAdd(s, sp.MatMul(-1, y)))
    engine_form = sp.MatMul(
        sp.MatAdd(back, sp.MatMul(-1, sp.HadamardProduct(hh, back))), sp.Transpose(x)
    )
    named = sp.MatMul(gamma, sp.Transpose(x))
    # A scalar abbreviation r := xᵀx inside a larger expression.
    r = sp.Symbol("r")
    scalar = MatScalar(sp.MatMul(sp.Transpose(x), x))
    return [
        RuleExample(engine_form, expand_names(named, definitions)),
        RuleExample(sp.log(1 + scalar) * scalar, expand_names(sp.log(1 + r) * r, ((r, scalar),))),
    ]


NAMING = register(
    Citation(
        id="naming.abbreviation",
        name="Name a subexpression",
        source="elementary: naming a subexpression (definition by abbreviation)",
        statement=r"s := e\ \Rightarrow\ F(e) = F(s)",
        conditions=("each name s stands for its definition e wherever it occurs",),
        examples=_naming_examples,
    )
)
