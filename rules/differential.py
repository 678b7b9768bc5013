"""Differential rules: how d(·) passes through each kind of node (Cookbook section 2 opening).

One chapter of the rulebook, one rule per kind of node with its citation and examples, and
the dispatch table over them; it is long because there are two dozen kinds of node.

`BY_TYPE` is the dispatch table the engine uses: node type of the argument of d(·) → rule.
Each rule's `apply(arg, ctx)` returns the replacement for d(arg), with d(·) left unevaluated
on the sub-expressions it still has to pass through.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf

from derive.errors import UnsupportedError
from derive.expr import (
    DifferentialSymbol,
    ExtremeEigenvalue,
    ExtremeEigenvector,
    FrechetDerivative,
    LogSumExp,
    MatrixFunction,
    MatScalar,
    NuclearNorm,
    PolarFactor,
    PseudoInverse,
    ScalarDifferentialSymbol,
    Softmax,
    d,
    transpose,
)
from derive.model import Context, DifferentialRule, Rule, RuleExample
from derive.rules import entrywise, matrix_function
from derive.rules.registry import register
from derive.rules.symbols import ms as _ms

m, n, k = sp.symbols("m n k", integer=True, positive=True)
_t = sp.Symbol("t", real=True)


def _zero_like(e: sp.Basic) -> sp.Basic:
    if getattr(e, "is_Matrix", False):
        return sp.ZeroMatrix(*e.shape)
    return sp.S.Zero


def _mul(factors: list[sp.Basic]) -> sp.Basic:
    if any(getattr(f, "is_Matrix", False) for f in factors):
        return sp.MatMul(*factors)
    return sp.Mul(*factors, evaluate=False) if len(factors) > 1 else factors[0]


def _add(terms: list[sp.Basic]) -> sp.Basic:
    if len(terms) == 1:
        return terms[0]
    if any(getattr(t, "is_Matrix", False) for t in terms):
        return sp.MatAdd(*terms)
    return sp.Add(*terms, evaluate=False)


# --- (33) constants, the variable itself ----------------------------------------------------


def _constant(arg: sp.Basic, ctx: Context) -> sp.Basic:
    return _zero_like(arg)


CONSTANT = register(
    DifferentialRule(
        id="diff.constant",
        name="Differential of a constant",
        source="Matrix Cookbook (2012) eq. (33)",
        statement=r"\partial A = 0",
        conditions=("A constant",),
        cookbook=("33",),
        apply=_constant,
        examples=lambda: [
            RuleExample(
                sp.MatMul(_ms("A", m, n), d(_ms("X", n, k))),
                sp.MatMul(_ms("A", m, n), DifferentialSymbol(_ms("X", n, k))),
                wrt=("X",),
            )  # noqa: E501
        ],
    )
)


# --- (34), (37): products -----------------------------------------------------------------


def _split_product(arg: sp.Basic) -> list[sp.Basic]:
    if isinstance(arg, sp.MatMul):
        return list(arg.args)
    return list(sp.Mul.make_args(arg))


def _product(arg: sp.Basic, ctx: Context) -> sp.Basic:
    """Σ over varying factors F_i of F_1 ⋯ d(F_i) ⋯ F_k; constant factors have d = 0."""
    factors = _split_product(arg)
    varying = [i for i, f in enumerate(factors) if ctx.depends(f)]
    terms = []
    for i in varying:
        fs = list(factors)
        fs[i] = d(fs[i])
        terms.append(_mul(fs))
    return _add(terms)


def _product_rule_for(arg: sp.Basic, ctx: Context) -> Rule:
    factors = _split_product(arg)
    nvary = sum(1 for f in factors if ctx.depends(f))
    if nvary >= 2:
        return PRODUCT
    if all(not getattr(f, "is_Matrix", False) for f in factors if not ctx.depends(f)):
        return SCALE
    return LINEAR


SCALE = register(
    DifferentialRule(
        id="diff.scale",
        name="Constant scalar factor",
        source="Matrix Cookbook (2012) eq. (34)",
        statement=r"\partial(\alpha X) = \alpha\,\partial X",
        conditions=(r"\alpha constant",),
        cookbook=("34",),
        apply=_product,
        examples=lambda: [
            RuleExample(
                d(sp.MatMul(sp.Symbol("alpha"), _ms("X", m, n))),
                sp.MatMul(sp.Symbol("alpha"), DifferentialSymbol(_ms("X", m, n))),
                wrt=("X",),
            )
        ],
    )
)

LINEAR = register(
    DifferentialRule(
        id="diff.linear",
        name="Constant matrix factors",
        source="Matrix Cookbook (2012) eqs. (37) and (33)",
        statement=r"\partial(AXB) = A(\partial X)B",
        conditions=("A, B constant",),
        cookbook=("37", "33"),
        apply=_product,
        examples=lambda: [
            RuleExample(
                d(_ms("A", m, n) * _ms("X", n, k) * _ms("B", k, m)),
                _ms("A", m, n) * DifferentialSymbol(_ms("X", n, k)) * _ms("B", k, m),
                wrt=("X",),
            )
        ],
    )
)

PRODUCT = register(
    DifferentialRule(
        id="diff.product",
        name="Product rule",
        source="Matrix Cookbook (2012) eq. (37)",
        statement=r"\partial(XY) = (\partial X)Y + X(\partial Y)",
        cookbook=("37",),
        apply=_product,
        examples=lambda: [
            RuleExample(
                d(_ms("X", m, n) * _ms("Y", n, k)),
                DifferentialSymbol(_ms("X", m, n)) * _ms("Y", n, k)
                + _ms("X", m, n) * DifferentialSymbol(_ms("Y", n, k)),
                wrt=("X", "Y"),
            ),
            RuleExample(
                d(sp.Symbol("a") * sp.Symbol("b")),
                ScalarDifferentialSymbol(sp.Symbol("a")) * sp.Symbol("b")
                + sp.Symbol("a") * ScalarDifferentialSymbol(sp.Symbol("b")),
                wrt=("a", "b"),
            ),
        ],
    )
)


# --- (90): integer powers of a matrix; entrywise powers ----------------------------------


def _matpow(arg: sp.MatPow, ctx: Context) -> sp.Basic:
    """d(X^k) = Σ_{r=0}^{k-1} X^r (dX) X^{k-1-r} for a positive integer k."""
    base, k = arg.base, arg.exp
    if not (k.is_Integer and k > 0):
        raise UnsupportedError(
            f"differentiating the matrix power {arg}", "only positive integer powers are supported"
        )
    k = int(k)

    def power(r: int) -> list[sp.Basic]:
        return [] if r == 0 else [base] if r == 1 else [sp.MatPow(base, r)]

    return _add([_mul([*power(r), d(base), *power(k - 1 - r)]) for r in range(k)])


MATPOW = register(
    DifferentialRule(
        id="diff.matpow",
        name="Power of a matrix",
        source="Matrix Cookbook (2012) eq. (90), in differential form",
        statement=r"\partial(X^{k}) = \sum_{r=0}^{k-1} X^{r}(\partial X)X^{k-1-r}",
        conditions=("X square", "k a positive integer"),
        cookbook=("90",),
        apply=_matpow,
        examples=lambda: [
            RuleExample(
                d(sp.MatPow(_ms("X", n, n), 3)),
                sp.MatAdd(
                    DifferentialSymbol(_ms("X", n, n)) * sp.MatPow(_ms("X", n, n), 2),
                    _ms("X", n, n) * DifferentialSymbol(_ms("X", n, n)) * _ms("X", n, n),
                    sp.MatPow(_ms("X", n, n), 2) * DifferentialSymbol(_ms("X", n, n)),
                ),
                wrt=("X",),
            )
        ],
    )
)


def _hadamard_power(arg: sp.HadamardPower, ctx: Context) -> sp.Basic:
    """d(X∘ᵖ) = p X∘⁽ᵖ⁻¹⁾ ∘ dX for a constant exponent p."""
    base, p = arg.base, arg.exp
    if ctx.depends(p):
        raise UnsupportedError(f"differentiating {arg}", "the exponent must not vary")
    lower = base if p - 1 == 1 else sp.HadamardPower(base, p - 1)
    factor = sp.OneMatrix(*base.shape) if p - 1 == 0 else lower
    return sp.MatMul(p, sp.HadamardProduct(factor, d(base)))


HADAMARD_POWER = register(
    DifferentialRule(
        id="diff.hadamard-power",
        name="Entrywise power",
        source="elementary: the scalar power rule applied to each entry",
        statement=r"\partial(X^{\circ p}) = p\,X^{\circ (p-1)} \circ \partial X",
        conditions=("p constant; for p < 1, no entry of X is zero",),
        apply=_hadamard_power,
        examples=lambda: [
            RuleExample(
                d(sp.HadamardPower(_ms("X", m, n), 3)),
                sp.MatMul(
                    3,
                    sp.HadamardProduct(
                        sp.HadamardPower(_ms("X", m, n), 2), DifferentialSymbol(_ms("X", m, n))
                    ),
                ),
                wrt=("X",),
            ),
            RuleExample(
                d(sp.HadamardPower(_ms("x", n), -1)),
                sp.MatMul(
                    -1,
                    sp.HadamardProduct(
                        sp.HadamardPower(_ms("x", n), -2), DifferentialSymbol(_ms("x", n))
                    ),
                ),
                wrt=("x",),
                assume={"x": ("positive",)},
            ),
        ],
    )
)


# --- diag: linear maps ------------------------------------------------------------------------


def _diag(arg: sp.Basic, ctx: Context) -> sp.Basic:
    """d diag(v) = diag(dv); d diag(X) = diag(dX) (the vector of the diagonal)."""
    return type(arg)(d(arg.args[0]))


DIAG = register(
    DifferentialRule(
        id="diff.diag",
        name="diag is linear",
        source="elementary: diag(·) is a linear map, so it commutes with d",
        statement=(
            r"\partial\operatorname{diag}(v) = \operatorname{diag}(\partial v),\quad "
            r"\partial\operatorname{diag}(X) = \operatorname{diag}(\partial X)"
        ),
        apply=_diag,
        examples=lambda: [
            RuleExample(
                d(DiagMatrix(_ms("v", n))),
                DiagMatrix(DifferentialSymbol(_ms("v", n))),
                wrt=("v",),
            ),
            RuleExample(
                d(DiagonalOf(_ms("X", n, n))),
                DiagonalOf(DifferentialSymbol(_ms("X", n, n))),
                wrt=("X",),
            ),
        ],
    )
)


# --- (67): an extreme eigenvalue of a symmetric matrix ---------------------------------------


def _eigenvalue(arg: ExtremeEigenvalue, ctx: Context) -> sp.Basic:
    """d λ = vᵀ (dA) v for a simple eigenvalue λ of a symmetric A with unit eigenvector v."""
    if not ctx.symmetric(arg.arg):
        raise UnsupportedError(
            f"the eigenvalue λ_{arg.which}({arg.arg}) of a matrix not known to be symmetric",
            "declare it symmetric (or spd); a non-symmetric matrix can have complex "
            "eigenvalues, and Cookbook (67) holds for symmetric ones",
        )
    v = ExtremeEigenvector(arg.arg, arg.which)
    return MatScalar(sp.MatMul(sp.Transpose(v), d(arg.arg), v))


EIGENVALUE = register(
    DifferentialRule(
        id="diff.eigenvalue",
        name="Eigenvalue of a symmetric matrix",
        source="Matrix Cookbook (2012) eq. (67)",
        statement=r"\partial\lambda = v^{\top}(\partial A)\,v",
        conditions=(
            "A real symmetric",
            "λ a simple eigenvalue (distinct from the others), v its unit eigenvector",
        ),
        cookbook=("67",),
        apply=_eigenvalue,
        examples=lambda: [
            RuleExample(
                d(ExtremeEigenvalue(_ms("S", n, n), which)),
                MatScalar(
                    sp.MatMul(
                        sp.Transpose(ExtremeEigenvector(_ms("S", n, n), which)),
                        DifferentialSymbol(_ms("S", n, n)),
                        ExtremeEigenvector(_ms("S", n, n), which),
                    )
                ),
                wrt=("S",),
                assume={"S": ("symmetric",)},
            )
            for which in ("max", "min")
        ],
    )
)


#: the context of the rule examples: S declared symmetric
_SYMMETRIC_S = Context(assume={"S": frozenset({"symmetric"})})


def _eigenvector(arg: ExtremeEigenvector, ctx: Context) -> sp.Basic:
    """d v = (λI − A)⁺ (dA) v for the unit eigenvector v of a simple eigenvalue λ (68)."""
    a = arg.arg
    if not ctx.symmetric(a):
        raise UnsupportedError(f"the eigenvector of {a}, a matrix not known to be symmetric")
    lam = ExtremeEigenvalue(a, arg.which)
    shifted = sp.MatAdd(sp.MatMul(lam, sp.Identity(a.shape[0])), sp.MatMul(-1, a))
    return sp.MatMul(PseudoInverse(shifted), d(a), arg)


EIGENVECTOR = register(
    DifferentialRule(
        id="diff.eigenvector",
        name="Eigenvector of a symmetric matrix",
        source="Matrix Cookbook (2012) eq. (68)",
        statement=r"\partial v = (\lambda I - A)^{+}(\partial A)\,v",
        conditions=(
            "A real symmetric",
            "λ a simple eigenvalue, v its unit eigenvector (sign fixed along the path)",
        ),
        cookbook=("68",),
        apply=_eigenvector,
        examples=lambda: [
            RuleExample(
                sp.MatMul(
                    sp.Transpose(ExtremeEigenvector(_ms("S", n, n), which)),
                    _ms("B", n, n),
                    d(ExtremeEigenvector(_ms("S", n, n), which)),
                ),
                sp.MatMul(
                    sp.Transpose(ExtremeEigenvector(_ms("S", n, n), which)),
                    _ms("B", n, n),
                    _eigenvector(ExtremeEigenvector(_ms("S", n, n), which), _SYMMETRIC_S),
                ),
                wrt=("S",),
                assume={"S": ("symmetric",)},
            )
            for which in ("max", "min")
        ],
    )
)

# --- (35) sums ----------------------------------------------------------------------------


def _sum(arg: sp.Basic, ctx: Context) -> sp.Basic:
    terms = [d(t) for t in arg.args if ctx.depends(t)]
    return _add(terms)


SUM = register(
    DifferentialRule(
        id="diff.sum",
        name="Sum rule",
        source="Matrix Cookbook (2012) eqs. (35) and (33)",
        statement=r"\partial(X + Y) = \partial X + \partial Y",
        cookbook=("35", "33"),
        apply=_sum,
        examples=lambda: [
            RuleExample(
                d(_ms("X", m, n) + _ms("Y", m, n) + _ms("A", m, n)),
                DifferentialSymbol(_ms("X", m, n)) + DifferentialSymbol(_ms("Y", m, n)),
                wrt=("X", "Y"),
            )
        ],
    )
)


# --- (36) trace, (44) transpose, (40) inverse, (42) det, (43) log det ---------------------

TRACE = register(
    DifferentialRule(
        id="diff.trace",
        name="Trace",
        source="Matrix Cookbook (2012) eq. (36)",
        statement=r"\partial\operatorname{tr}(X) = \operatorname{tr}(\partial X)",
        cookbook=("36",),
        apply=lambda arg, ctx: sp.Trace(d(arg.arg)),
        examples=lambda: [
            RuleExample(
                d(sp.Trace(_ms("X", n, n))),
                sp.Trace(DifferentialSymbol(_ms("X", n, n))),
                wrt=("X",),
            )
        ],
    )
)

TRANSPOSE = register(
    DifferentialRule(
        id="diff.transpose",
        name="Transpose",
        source="Matrix Cookbook (2012) eq. (44)",
        statement=r"\partial X^{\top} = (\partial X)^{\top}",
        cookbook=("44",),
        apply=lambda arg, ctx: sp.Transpose(d(arg.arg)),
        examples=lambda: [
            RuleExample(
                d(sp.Transpose(_ms("X", m, n))),
                sp.Transpose(DifferentialSymbol(_ms("X", m, n))),
                wrt=("X",),
            )
        ],
    )
)

INVERSE = register(
    DifferentialRule(
        id="diff.inverse",
        name="Inverse",
        source="Matrix Cookbook (2012) eq. (40)",
        statement=r"\partial(X^{-1}) = -X^{-1}(\partial X)X^{-1}",
        conditions=("X invertible",),
        cookbook=("40",),
        apply=lambda arg, ctx: sp.MatMul(-1, arg, d(arg.arg), arg),
        examples=lambda: [
            RuleExample(
                d(sp.Inverse(_ms("X", n, n))),
                sp.MatMul(
                    -1,
                    sp.Inverse(_ms("X", n, n)),
                    DifferentialSymbol(_ms("X", n, n)),
                    sp.Inverse(_ms("X", n, n)),
                ),
                wrt=("X",),
                assume={"X": ("invertible",)},
            )
        ],
    )
)

DET = register(
    DifferentialRule(
        id="diff.det",
        name="Determinant",
        source="Matrix Cookbook (2012) eq. (42)",
        statement=r"\partial\det(X) = \det(X)\operatorname{tr}(X^{-1}\partial X)",
        conditions=("X invertible",),
        cookbook=("42",),
        apply=lambda arg, ctx: arg * sp.Trace(sp.MatMul(sp.Inverse(arg.arg), d(arg.arg))),
        examples=lambda: [
            RuleExample(
                d(sp.Determinant(_ms("X", n, n))),
                sp.Determinant(_ms("X", n, n))
                * sp.Trace(sp.Inverse(_ms("X", n, n)) * DifferentialSymbol(_ms("X", n, n))),
                wrt=("X",),
                assume={"X": ("invertible",)},
            )
        ],
    )
)


NUCLEAR = register(
    DifferentialRule(
        id="diff.nuclear",
        name="Nuclear norm",
        source=(
            "elementary: ‖X‖_* = tr((XᵀX)^{1/2}) and d tr(S^{1/2}) = ½ tr(S^{-1/2} dS) give "
            "tr((X(XᵀX)^{-1/2})ᵀ dX), and X(XᵀX)^{-1/2} = UVᵀ for the thin SVD X = UΣVᵀ"
        ),
        statement=r"\partial\|X\|_* = \operatorname{tr}(\operatorname{polar}(X)^\top \partial X),"
        r"\quad \operatorname{polar}(X) = U V^\top",
        conditions=("X of full rank (no singular value 0)",),
        apply=lambda arg, ctx: sp.Trace(sp.MatMul(sp.Transpose(PolarFactor(arg.arg)), d(arg.arg))),
        examples=lambda: [
            RuleExample(
                d(NuclearNorm(_ms("X", m, n))),
                sp.Trace(
                    sp.MatMul(
                        sp.Transpose(PolarFactor(_ms("X", m, n))),
                        DifferentialSymbol(_ms("X", m, n)),
                    )
                ),
                wrt=("X",),
            )
        ],
    )
)


def _logdet(arg: sp.Basic, ctx: Context) -> sp.Basic:
    det = arg.args[0]
    if isinstance(det, sp.Abs):
        det = det.args[0]
    return sp.Trace(sp.MatMul(sp.Inverse(det.arg), d(det.arg)))


LOGDET = register(
    DifferentialRule(
        id="diff.logdet",
        name="Log-determinant",
        source="Matrix Cookbook (2012) eq. (43)",
        statement=r"\partial\ln\det(X) = \operatorname{tr}(X^{-1}\partial X)",
        conditions=(r"\det X > 0",),
        cookbook=("43",),
        apply=_logdet,
        examples=lambda: [
            RuleExample(
                d(sp.log(sp.Determinant(_ms("X", n, n)))),
                sp.Trace(sp.Inverse(_ms("X", n, n)) * DifferentialSymbol(_ms("X", n, n))),
                wrt=("X",),
                assume={"X": ("posdet",)},
            )
        ],
    )
)

LOGABSDET = register(
    DifferentialRule(
        id="diff.logabsdet",
        name="Log-absolute-determinant",
        source="Matrix Cookbook (2012) eq. (57), in differential form",
        statement=r"\partial\ln\lvert\det X\rvert = \operatorname{tr}(X^{-1}\partial X)",
        conditions=("X invertible",),
        cookbook=("57",),
        apply=_logdet,
        examples=lambda: [
            RuleExample(
                d(sp.log(sp.Abs(sp.Determinant(_ms("X", n, n))))),
                sp.Trace(sp.Inverse(_ms("X", n, n)) * DifferentialSymbol(_ms("X", n, n))),
                wrt=("X",),
                assume={"X": ("invertible",)},
            )
        ],
    )
)


# --- (38) Hadamard, (39) Kronecker ---------------------------------------------------------


def _leibniz(arg: sp.Basic, ctx: Context) -> sp.Basic:
    """d(X₁ ⋆ ⋯ ⋆ Xₖ) = Σᵢ X₁ ⋆ ⋯ ⋆ dXᵢ ⋆ ⋯ ⋆ Xₖ for a product ⋆ that is linear in each factor
    and keeps their order (Hadamard (38), Kronecker (39)): one term per varying factor."""
    factors = list(arg.args)
    terms = []
    for i, f in enumerate(factors):
        if ctx.depends(f):
            fs = list(factors)
            fs[i] = d(f)
            terms.append(arg.func(*fs))
    return _add(terms)


HADAMARD = register(
    DifferentialRule(
        id="diff.hadamard",
        name="Hadamard product rule",
        source="Matrix Cookbook (2012) eq. (38)",
        statement=r"\partial(X\circ Y) = (\partial X)\circ Y + X\circ(\partial Y)",
        cookbook=("38",),
        apply=_leibniz,
        examples=lambda: [
            RuleExample(
                d(sp.HadamardProduct(_ms("X", m, n), _ms("Y", m, n))),
                sp.HadamardProduct(DifferentialSymbol(_ms("X", m, n)), _ms("Y", m, n))
                + sp.HadamardProduct(_ms("X", m, n), DifferentialSymbol(_ms("Y", m, n))),
                wrt=("X", "Y"),
            )
        ],
    )
)


KRONECKER = register(
    DifferentialRule(
        id="diff.kronecker",
        name="Kronecker product rule",
        source="Matrix Cookbook (2012) eq. (39)",
        statement=r"\partial(X\otimes Y) = (\partial X)\otimes Y + X\otimes(\partial Y)",
        cookbook=("39",),
        apply=_leibniz,
        examples=lambda: [
            RuleExample(
                d(sp.KroneckerProduct(_ms("X", m, n), _ms("Y", k, m))),
                sp.KroneckerProduct(DifferentialSymbol(_ms("X", m, n)), _ms("Y", k, m))
                + sp.KroneckerProduct(_ms("X", m, n), DifferentialSymbol(_ms("Y", k, m))),
                wrt=("X", "Y"),
            )
        ],
    )
)


# --- elementwise functions, scalar functions -----------------------------------------------


def _differentiable(derivative: sp.Expr, what: sp.Basic) -> sp.Expr:
    """Refuse a derivative that exists only as a distribution (sign, Heaviside, |t| at 0...)."""
    if derivative.has(sp.DiracDelta, sp.Heaviside) or derivative.has(sp.Derivative):
        from derive.errors import UnsupportedError
        from derive.notation.text import text

        raise UnsupportedError(
            f"differentiating {text(what)}",
            "it is not differentiable everywhere (a step or a kink)",
        )
    return derivative


def derivative_lambda(fn: sp.Lambda) -> sp.Lambda:
    """The scalar derivative f' of a one-variable Lambda f (SymPy's scalar `diff`)."""
    (var,) = fn.variables
    return sp.Lambda(var, _differentiable(sp.diff(fn.expr, var), fn.expr))


def _elementwise(arg: ElementwiseApplyFunction, ctx: Context) -> sp.Basic:
    fprime = derivative_lambda(arg.function)
    return sp.HadamardProduct(entrywise.applied(fprime, arg.expr), d(arg.expr))


ELEMENTWISE = register(
    DifferentialRule(
        id="diff.elementwise",
        name="Chain rule, entrywise",
        source="elementary: the scalar chain rule applied to each entry",
        statement=r"\partial f(X) = f'(X)\circ\partial X \quad (f \text{ applied entrywise})",
        conditions=("f differentiable at every entry of X",),
        apply=_elementwise,
        examples=lambda: [
            RuleExample(
                d(ElementwiseApplyFunction(sp.Lambda(_t, sp.exp(_t)), _ms("X", m, n))),
                sp.HadamardProduct(
                    ElementwiseApplyFunction(sp.Lambda(_t, sp.exp(_t)), _ms("X", m, n)),
                    DifferentialSymbol(_ms("X", m, n)),
                ),
                wrt=("X",),
            ),
            RuleExample(
                d(ElementwiseApplyFunction(sp.Lambda(_t, sp.log(_t)), _ms("x", n))),
                sp.HadamardProduct(
                    ElementwiseApplyFunction(sp.Lambda(_t, 1 / _t), _ms("x", n)),
                    DifferentialSymbol(_ms("x", n)),
                ),
                wrt=("x",),
                assume={"x": ("positive",)},
            ),
        ],
    )
)


def _chain_scalar(arg: sp.Basic, ctx: Context) -> sp.Basic:
    """d g(u) = g'(u) du for a one-argument scalar function g (log, exp, sqrt, u**c, ...)."""
    if isinstance(arg, sp.Pow):
        base, expo = arg.args
        if ctx.depends(expo):
            if ctx.depends(base):
                from derive.errors import UnsupportedError

                raise UnsupportedError(
                    f"a power whose base and exponent both vary ({arg})",
                    "rewrite it with exp and log",
                )
            return sp.Mul(arg, sp.log(base), d(expo), evaluate=False)
        return sp.Mul(expo, sp.Pow(base, expo - 1), d(base), evaluate=False)
    (u,) = arg.args
    g = arg.func
    outer = _differentiable(sp.diff(g(_t), _t), arg).subs(_t, u)
    return sp.Mul(outer, d(u), evaluate=False)


CHAIN = register(
    DifferentialRule(
        id="diff.chain",
        name="Chain rule",
        source="elementary: the scalar chain rule",
        statement=r"\partial g(u) = g'(u)\,\partial u",
        conditions=("g differentiable at u",),
        apply=_chain_scalar,
        examples=lambda: [
            RuleExample(
                d(sp.log(sp.Symbol("a"))),
                ScalarDifferentialSymbol(sp.Symbol("a")) / sp.Symbol("a"),
                wrt=("a",),
                assume={"a": ("positive",)},
            ),
            RuleExample(
                d(sp.Symbol("a") ** 3),
                3 * sp.Symbol("a") ** 2 * ScalarDifferentialSymbol(sp.Symbol("a")),
                wrt=("a",),
            ),
        ],
    )
)


# --- softmax and log-sum-exp ----------------------------------------------------------------


def _softmax(arg: Softmax, ctx: Context) -> sp.Basic:
    s = arg
    return sp.MatMul(sp.MatAdd(DiagMatrix(s), -sp.MatMul(s, transpose(s))), d(arg.arg))


SOFTMAX = register(
    DifferentialRule(
        id="diff.softmax",
        name="Softmax",
        source="elementary: differentiate exp(z)/(1ᵀexp(z)) by the quotient rule",
        statement=(
            r"\partial\operatorname{softmax}(z) = "
            r"\left(\operatorname{diag}(s) - s s^{\top}\right)\partial z,"
            r"\ s = \operatorname{softmax}(z)"
        ),
        apply=_softmax,
        examples=lambda: [
            RuleExample(
                d(Softmax(_ms("z", n))),
                sp.MatMul(
                    sp.MatAdd(
                        DiagMatrix(Softmax(_ms("z", n))),
                        -sp.MatMul(Softmax(_ms("z", n)), sp.Transpose(Softmax(_ms("z", n)))),
                    ),
                    DifferentialSymbol(_ms("z", n)),
                ),
                wrt=("z",),
            )
        ],
    )
)

LSE = register(
    DifferentialRule(
        id="diff.lse",
        name="Log-sum-exp",
        source="elementary: differentiate log(1ᵀexp(z)) by the chain rule",
        statement=r"\partial\operatorname{lse}(z) = \operatorname{softmax}(z)^{\top}\partial z",
        apply=lambda arg, ctx: MatScalar(sp.MatMul(sp.Transpose(Softmax(arg.arg)), d(arg.arg))),
        examples=lambda: [
            RuleExample(
                d(LogSumExp(_ms("z", n))),
                MatScalar(
                    sp.MatMul(sp.Transpose(Softmax(_ms("z", n))), DifferentialSymbol(_ms("z", n)))
                ),
                wrt=("z",),
            )
        ],
    )
)


# --- dispatch -------------------------------------------------------------------------------

BY_TYPE: dict[type, Rule] = {
    sp.Inverse: INVERSE,  # an Inverse is a MatPow: looked up first
    sp.MatPow: MATPOW,
    sp.HadamardPower: HADAMARD_POWER,
    ExtremeEigenvalue: EIGENVALUE,
    ExtremeEigenvector: EIGENVECTOR,
    DiagMatrix: DIAG,
    DiagonalOf: DIAG,
    sp.MatAdd: SUM,
    sp.Add: SUM,
    sp.Transpose: TRANSPOSE,
    sp.Trace: TRACE,
    sp.Determinant: DET,
    NuclearNorm: NUCLEAR,
    sp.HadamardProduct: HADAMARD,
    sp.KroneckerProduct: KRONECKER,
    ElementwiseApplyFunction: ELEMENTWISE,
    Softmax: SOFTMAX,
    LogSumExp: LSE,
    MatrixFunction: matrix_function.MATRIX_FUNCTION,
    FrechetDerivative: matrix_function.FRECHET_LINEAR,
}

#: scalar functions of one argument that the chain rule handles by SymPy's scalar `diff`
SCALAR_FUNCTIONS = (sp.log, sp.exp, sp.tanh, sp.sin, sp.cos, sp.sinh, sp.cosh, sp.Pow)


def rule_for(arg: sp.Basic, ctx: Context) -> Rule | None:
    """The rule that passes d(·) through the head of `arg`, or None if there is none."""
    if not ctx.depends(arg):
        return CONSTANT
    if isinstance(arg, (sp.MatMul, sp.Mul)):
        return _product_rule_for(arg, ctx)
    if isinstance(arg, sp.log) and isinstance(arg.args[0], sp.Determinant):
        return LOGDET
    if (
        isinstance(arg, sp.log)
        and isinstance(arg.args[0], sp.Abs)
        and isinstance(arg.args[0].args[0], sp.Determinant)
    ):
        return LOGABSDET
    for cls in type(arg).__mro__:
        if cls in BY_TYPE:
            return BY_TYPE[cls]
    if isinstance(arg, SCALAR_FUNCTIONS) or _is_scalar_function(arg):
        return CHAIN
    return None


def _is_scalar_function(arg: sp.Basic) -> bool:
    """A SymPy function of one scalar argument with a known derivative (sigmoid, softplus)."""
    return (
        isinstance(arg, sp.Function)
        and len(arg.args) == 1
        and not getattr(arg.args[0], "is_Matrix", False)
        and hasattr(arg, "fdiff")
        and type(arg).fdiff is not sp.Function.fdiff
    )
