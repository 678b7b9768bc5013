"""What the LaTeX and text printers of expressions share, so that they cannot disagree.

The precedences, the small structural readings of an expression (the sign of a term, the
coefficient of a matrix product, the order of terms, the power of a norm) and
`NotationMixin`: brackets, sums and the bodies of elementwise functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.printing.precedence import PRECEDENCE, precedence_traditional

from derive.expr import (
    CommutationMatrix,
    DifferentialSymbol,
    GradientOf,
    HessianOf,
    JacobianOf,
    LogSumExp,
    MatDifferential,
    MatrixFunction,
    MatScalar,
    ScalarDifferential,
    ScalarDifferentialSymbol,
    Softmax,
    Vec,
)

ADD = PRECEDENCE["Add"]
MUL = PRECEDENCE["Mul"]
POW = PRECEDENCE["Pow"]
FUNC = PRECEDENCE["Func"]
ATOM = PRECEDENCE["Atom"]
# x ⊙ y and A ⊗ B bind like a product but are bracketed as a factor of a matrix product.
HADAMARD = MUL - 1
# dX: a factor needing no brackets, but (dσ)² needs them as the base of a power.
DIFFERENTIAL = POW - 5


# --- structure shared by the printers ---------------------------------------------------------


def is_mat(e: sp.Basic) -> bool:
    return bool(getattr(e, "is_Matrix", False))


def matmul_parts(e: sp.MatMul) -> tuple[sp.Expr, list[sp.Basic]]:
    """A matrix product as (scalar coefficient, matrix factors), read off without evaluating.

    Nested products are read through (the product is associative): −xᵀ(2Ax) gives
    (−2, [xᵀ, A, x]).
    """
    scalars: list[sp.Expr] = []
    mats: list[sp.Basic] = []
    for a in e.args:
        if isinstance(a, sp.MatMul):
            c, m = matmul_parts(a)
            scalars.append(c)
            mats.extend(m)
        elif is_mat(a):
            mats.append(a)
        else:
            scalars.append(a)
    return sp.Mul(*scalars), mats


def is_negative(e: sp.Basic) -> bool:
    """Whether e is written with a leading minus: −3, −2x, −Ax, −xᵀy (as a scalar)."""
    if isinstance(e, MatScalar):
        return is_negative(e.arg)
    if isinstance(e, sp.MatMul):
        e = matmul_parts(e)[0]
    if is_mat(e) or not isinstance(e, sp.Expr):
        return False
    if e.is_Number:
        return bool(e.is_negative)
    if e.is_Mul:
        return bool(e.as_coeff_Mul()[0].is_negative)
    return False


def negate(e: sp.Basic) -> sp.Basic:
    """−e for a term with a leading minus, moving only the sign of its coefficient.

    Matrix products are rebuilt from their factors, never evaluated, so the printed form is
    the form the derivation holds.
    """
    if isinstance(e, MatScalar):
        return MatScalar(negate(e.arg))
    if isinstance(e, sp.MatMul):
        coeff, mats = matmul_parts(e)
        c = -coeff
        if c == 1 and len(mats) == 1:
            return mats[0]
        return sp.MatMul(*([c] if c != 1 else []), *mats)
    if is_mat(e):
        return sp.MatMul(sp.S.NegativeOne, e)
    return -e


def positive_first(terms: Iterable[sp.Basic]) -> list[sp.Basic]:
    """Terms reordered so that the positive ones come first, each group in its given order."""
    terms = list(terms)
    return [t for t in terms if not is_negative(t)] + [t for t in terms if is_negative(t)]


def elementwise_parts(e: ElementwiseApplyFunction) -> tuple[sp.Symbol, sp.Expr]:
    """(t, body) of f∘(X) with f = (t ↦ body)."""
    fn = e.function
    if isinstance(fn, sp.Lambda) and len(fn.variables) == 1:
        return fn.variables[0], fn.expr
    t = sp.Dummy("t")
    return t, fn(t)


def norm_power(expr: sp.Basic) -> tuple[sp.Basic | None, int, str]:
    """(u, k, "2") when expr is (uᵀu)^(k/2) with k odd, printed ‖u‖₂ᵏ; (X, k, "F") when it is
    tr(XᵀX)^(k/2), printed ‖X‖_Fᵏ: as written by hand. (None, 0, "") otherwise."""
    if not isinstance(expr, sp.Pow):
        return None, 0, ""
    k = 2 * expr.exp
    if not (k.is_Integer and k % 2 == 1):
        return None, 0, ""
    base = expr.base
    if isinstance(base, MatScalar):
        inner, sub = base.arg, "2"
    elif isinstance(base, sp.Trace):
        inner, sub = base.arg, "F"
    else:
        return None, 0, ""
    if (
        isinstance(inner, sp.MatMul)
        and len(inner.args) == 2
        and inner.args[0] == sp.Transpose(inner.args[1])
    ):
        return inner.args[1], int(k), sub
    return None, 0, ""


# --- the mixin -------------------------------------------------------------------------------


class NotationMixin:
    """What the LaTeX and text printers share: precedence, brackets, sums, elementwise bodies.

    A printer using it defines `_add_parens`, `_has_script` (whether printed text already
    carries a superscript) and the strings `_NEG_LEAD`, `_NEG_SEP`, `_POS_SEP`.
    """

    _NEG_LEAD = "-"
    _NEG_SEP = " - "
    _POS_SEP = " + "

    def _init_notation(self) -> None:
        # While printing the body of an elementwise function f∘(X) with f = (t ↦ body):
        # (t, printed X, precedence of X, whether X takes a superscript without brackets).
        self._ew: tuple[sp.Symbol, str, int, bool] | None = None

    def prec(self, e: sp.Basic) -> int:
        """How tightly e binds as printed (SymPy's traditional precedence scale)."""
        if self._ew is not None and e == self._ew[0]:
            return self._ew[2]
        if isinstance(e, MatScalar):
            return self.prec(e.arg)
        if isinstance(e, (sp.MatAdd, sp.Add)):
            return ADD
        if isinstance(e, sp.MatMul):
            return ADD if is_negative(e) else MUL
        if isinstance(e, sp.Mul):
            if self._ew is not None and e.has(self._ew[0]):
                return self._product_prec(e, self._ew[0])
            return ADD if is_negative(e) else MUL
        if isinstance(e, (sp.HadamardProduct, sp.KroneckerProduct)):
            return HADAMARD
        if isinstance(e, (DifferentialSymbol, ScalarDifferentialSymbol)):
            return DIFFERENTIAL
        if isinstance(e, ElementwiseApplyFunction):
            t, body = elementwise_parts(e)
            if body == t:
                return self.prec(e.expr)
            if isinstance(body, sp.Pow):
                return POW
            if isinstance(body, sp.Mul):
                return self._product_prec(body, t)
            return ADD if isinstance(body, sp.Add) else FUNC
        if isinstance(e, (sp.Transpose, sp.MatPow, sp.HadamardPower)):
            return POW
        if isinstance(e, sp.Number):
            if e.is_negative:
                return ADD
            return ATOM if e.is_Integer or e.is_Float else MUL
        return precedence_traditional(e)

    @staticmethod
    def _product_prec(e: sp.Mul, t: sp.Symbol) -> int:
        """A product in an elementwise body: a Hadamard product if two factors involve t."""
        if sum(1 for f in e.args if f.has(t)) > 1:
            return HADAMARD
        return ADD if is_negative(e) else MUL

    def _bracket(self, item: sp.Basic, level: int, strict: bool = False) -> str:
        """item printed, in brackets if it binds less tightly than `level` (or as tightly,
        unless `strict`)."""
        p = self.prec(item)
        if p < level or (not strict and p <= level):
            return self._add_parens(self._print(item))
        return self._print(item)

    def _clean_base(self, e: sp.Basic, s: str) -> bool:
        """Whether printed e (as s) takes a superscript without brackets: X, 𝟏, softmax(z)."""
        if self._ew is not None and e == self._ew[0]:
            return self._ew[3]
        if isinstance(e, (DifferentialSymbol, sp.Identity)):
            return True
        if isinstance(e, (sp.MatrixSymbol, sp.Symbol)) or getattr(e, "takes_scripts", False):
            return not self._has_script(s)  # (entries xᵢ, Aᵢⱼ say so: takes_scripts)
        if isinstance(e, sp.OneMatrix):
            return e.shape[1] == 1
        if isinstance(
            e,
            (
                sp.Function,
                sp.DiagMatrix,
                Softmax,
                LogSumExp,
                MatrixFunction,
                Vec,
                CommutationMatrix,
            ),
        ):
            return True
        if isinstance(e, ElementwiseApplyFunction):
            t, body = elementwise_parts(e)
            return isinstance(body, sp.Function) or (body == t and self._clean_base(e.expr, s))
        return isinstance(e, (MatDifferential, ScalarDifferential)) and isinstance(
            e.arg, (sp.Symbol, sp.MatrixSymbol)
        )

    def _signed_sum(self, terms: Sequence[sp.Basic]) -> str:
        """Positive terms first, negative ones subtracted: A x − b, softmax(z) − y."""
        out = ""
        for i, term in enumerate(positive_first(terms)):
            neg = is_negative(term)
            if neg:
                term = negate(term)
            s = self._print(term)
            if self.prec(term) <= ADD and (i > 0 or neg):
                s = self._add_parens(s)
            if i == 0:
                out = (self._NEG_LEAD if neg else "") + s
            else:
                out += (self._NEG_SEP if neg else self._POS_SEP) + s
        return out

    def _print_MatAdd(self, expr):
        return self._signed_sum(expr.args)

    def _is_name(self, f: sp.Basic) -> bool:
        """Whether f is written inside ∂f/∂x (a name or a call) rather than after ∂/∂x."""
        return self.prec(f) >= FUNC or isinstance(f, (sp.Symbol, sp.MatrixSymbol, AppliedUndef))

    @staticmethod
    def _derivative_parts(expr: sp.Basic) -> tuple[int, sp.Basic, list[tuple[sp.Basic, str]]]:
        """A derivative label as (order, f, [(variable, form)]), form "" for ∂x, "T" for ∂xᵀ
        and "2" for ∂x²: ∂f/∂X, ∂²f/∂x∂xᵀ, ∂g/∂xᵀ, and for scalars ∂²f/∂σ², ∂²f/∂σ∂μ (the
        gradient of a gradient, outer variable first)."""
        f, x = expr.args
        if isinstance(expr, (HessianOf, JacobianOf)) and is_mat(x) and x.shape[1] != 1:
            x = Vec(x)  # with respect to a matrix: the vec convention, ∂²f/∂vec(X)∂vec(X)ᵀ
        if isinstance(expr, HessianOf):
            return 2, f, [(x, ""), (x, "T")] if is_mat(x) else [(x, "2")]
        if isinstance(expr, JacobianOf):
            return 1, f, [(x, "T" if is_mat(x) else "")]
        if isinstance(f, GradientOf) and not is_mat(x) and not is_mat(f.args[1]):
            g, y = f.args
            return 2, g, [(x, "2")] if x == y else [(x, ""), (y, "")]
        return 1, f, [(x, "")]

    def _print_Add(self, expr, order=None):
        return self._signed_sum(self._as_ordered_terms(expr, order=order))

    def _print_MatScalar(self, expr):
        return self._print(expr.arg)

    def _print_ElementwiseApplyFunction(self, expr):
        """f∘(X) as f's body with X for t: log(Ax), σ(Xw), x∘², s ⊙ (1 − s)."""
        t, body = elementwise_parts(expr)
        arg = expr.expr
        s = self._print(arg)
        saved = self._ew
        self._ew = (t, s, self.prec(arg), self._clean_base(arg, s))
        try:
            return self._print(body)
        finally:
            self._ew = saved
