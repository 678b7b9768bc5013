r"""LaTeX for derivations: textbook matrix-calculus notation, and documents that compile.

`LatexPrinter` extends SymPy's LaTeX printer with the notation of the Matrix Cookbook and of
machine-learning texts:

- ``X^{\top}``, ``\left(A x - b\right)^{\top}``, ``X^{-1}``, ``X^{-\top}`` (for (X⁻¹)ᵀ and (Xᵀ)⁻¹);
- ``\operatorname{tr}\left(M\right)``, ``\det(X)``, ``\log\det(X)``, ``x \odot y``, ``A \otimes B``;
- ``\mathbf{1}``, ``\mathbf{1}^{\top}``, ``\mathbf{1}\mathbf{1}^{\top}``, ``I``, ``0``,
  ``\operatorname{diag}(v)``;
- `MatScalar` (a 1×1 matrix read as a scalar) prints as the matrix expression itself;
- differentials ``\mathrm{d}X`` and ``\mathrm{d}\left(A x\right)``, set off by a thin space
  in products (``A \,\mathrm{d}x``);
- ``\operatorname{softmax}(z)``, ``\operatorname{lse}(z)``, ``\sigma(t)``,
  ``\operatorname{softplus}(t)``, ``\log`` for the natural logarithm;
- labels ``\frac{\partial f}{\partial X}``, ``\frac{\partial^2 f}{\partial x\,\partial x^{\top}}``,
  ``\frac{\partial g}{\partial x^{\top}}``;
- elementwise functions as the function of the matrix: ``\log(A x)``, ``\sigma(X w)``,
  ``\exp(z)``; ``x^{\circ 2}`` for t ↦ t², ``x^{\circ -1}`` for t ↦ 1/t, and
  ``s \odot \left(1 - s\right)`` for t ↦ t(1 − t);
- names ``mu_hat`` as ``\hat{\mu}``, ``x_bar`` as ``\bar{x}``, Greek as SymPy writes it.

An elementwise function whose body is not one function call is written in Hadamard notation:
products of entries become ``\odot``, powers (and quotients) become Hadamard powers
``^{\circ k}``; scalar constants multiply or add as they do entrywise. Sums print with
negative terms as subtraction, positive terms first (otherwise in SymPy's order), and a
matrix product prints its scalar coefficient first (``\frac{1}{2} A^{\top} x``, ``-A x``).

`render` walks a `Derivation`: an ``align*`` chain per left-hand side, every step cited by its
rule, then the results and the numeric verification; `render(d, standalone=True)` and
`render_book` make documents that compile with ``pdflatex -halt-on-error``.

The small structural readings the printers share (the sign of a term, the coefficient of a
matrix product, the order of terms, the rows a derivation displays) live here too, so the
LaTeX, text and Markdown printers cannot disagree on them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.printing.latex import LatexPrinter as _SympyLatexPrinter
from sympy.printing.precedence import PRECEDENCE, precedence_traditional

from derive.expr import (
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
)
from derive.model import Derivation, Given, Step

__all__ = [
    "LatexPrinter",
    "NotationMixin",
    "Row",
    "citation",
    "dimension",
    "display_rows",
    "escape_text",
    "is_negative",
    "latex",
    "math_text",
    "matmul_parts",
    "negate",
    "positive_first",
    "render",
    "render_book",
    "render_math",
    "shape_latex",
    "verification_line",
]

ADD = PRECEDENCE["Add"]
MUL = PRECEDENCE["Mul"]
POW = PRECEDENCE["Pow"]
FUNC = PRECEDENCE["Func"]
ATOM = PRECEDENCE["Atom"]
# x ⊙ y and A ⊗ B bind like a product but are bracketed as a factor of a matrix product.
HADAMARD = MUL - 1
# dX: a factor needing no brackets, but (dσ)² needs them as the base of a power.
DIFFERENTIAL = POW - 5

# Relations of a step other than "=" (see derive/model.py): "constant" means equal up to an
# additive constant, which textbooks write with a dotted or c-decorated equals sign.
RELATION_NOTE = {
    "constant": "equal up to an additive constant",
    "integral": "integrated over (0, 1)",
    "constrained": "equal where the constraint holds",
}


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


@dataclass(frozen=True)
class Row:
    """One displayed line of a derivation.

    kind "start": ``lhs = expr`` opens a chain (no rule cited); kind "from": the expression
    a read-off step (relation "gradient", "jacobian", "solve") starts from, shown when it is
    not the line just above (``expr = 0`` for "solve"); kind "step": step number `number`
    gives ``lhs rel expr``. `chained` says the step continues the chain of the line above,
    so a chaining printer need not repeat its lhs.
    """

    kind: str
    lhs: sp.Basic | None
    expr: sp.Basic
    step: Step | None = None
    number: int = 0
    chained: bool = False


def display_rows(steps: Sequence[Step]) -> list[Row]:
    """The lines that display `steps`: each step, plus the start of each chain.

    A step with relation "equal" or "constant" (or "pointwise" or "monte-carlo", which
    rewrite an expectation) continues the chain above when its lhs is the
    chain's and its `before` is the line above; otherwise a new chain starts with
    ``lhs = before``. A read-off step, or a "constrained" one (a Lagrangian from its
    objective), states a new equation ``lhs = after`` whose `before` is the line above (or is
    shown on a "from" line).
    """
    rows: list[Row] = []
    shown_lhs: sp.Basic | None = None
    shown: sp.Basic | None = None
    for k, s in enumerate(steps, 1):
        follows = shown is not None and s.before == shown
        if s.relation in ("equal", "constant", "pointwise", "monte-carlo"):
            if not (follows and s.lhs == shown_lhs):
                rows.append(Row("start", s.lhs, s.before))
            rows.append(Row("step", s.lhs, s.after, s, k, chained=True))
        else:
            if not follows:
                rows.append(Row("from", None, s.before, s))
            rows.append(Row("step", s.lhs, s.after, s, k, chained=False))
        shown_lhs, shown = s.lhs, s.after
    return rows


def citation(step: Step, sep: str = ", ") -> str:
    """The plain-text citation of a step: "rule name, source" (+ what a relation means)."""
    parts = [p for p in (step.rule.name, step.rule.source) if p]
    text = sep.join(parts)
    if step.relation in RELATION_NOTE:
        text += f" ({RELATION_NOTE[step.relation]})"
    return text


# --- the printer -------------------------------------------------------------------------------


# σ written just before a bracket reads back as the sigmoid σ(·) (the input convention), so a
# product of the scalar σ and a bracketed factor is written with a \cdot: σ · (t + 1).
_SIGMA_BEFORE_BRACKET = re.compile(r"(?<![A-Za-z])(\\sigma) (?=\\left\(|\()")


def _unambiguous(tex: str) -> str:
    return _SIGMA_BEFORE_BRACKET.sub(r"\1 \\cdot ", tex)


def _tall(s: str) -> bool:
    """Whether printed LaTeX is taller than a line, so brackets around it should grow."""
    return any(k in s for k in (r"\frac", r"\sum", r"\prod", r"\int", r"\left", r"\begin"))


_ACCENT_SUFFIXES = (("_hat", r"\hat"), ("_bar", r"\bar"), ("_tilde", r"\tilde"))


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
        if isinstance(e, (sp.MatrixSymbol, sp.Symbol)):
            return not self._has_script(s)
        if isinstance(e, sp.OneMatrix):
            return e.shape[1] == 1
        if isinstance(e, (sp.Function, sp.DiagMatrix, Softmax, LogSumExp, MatrixFunction)):
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


class LatexPrinter(NotationMixin, _SympyLatexPrinter):
    """SymPy's LaTeX printer with textbook matrix-calculus notation (see the module doc)."""

    def __init__(self, settings: dict | None = None) -> None:
        super().__init__(settings)
        self._init_notation()

    @staticmethod
    def _has_script(s: str) -> bool:
        return "^" in s

    def parenthesize(self, item, level, is_neg=False, strict=False) -> str:
        if is_neg and strict:
            return self._add_parens(self._print(item))
        return self._bracket(item, level, strict)

    def _needs_mul_brackets(self, expr, first=False, last=False) -> bool:
        if isinstance(expr, MatScalar):
            return self.prec(expr) < MUL
        return super()._needs_mul_brackets(expr, first=first, last=last)

    def _needs_add_brackets(self, expr) -> bool:
        if isinstance(expr, MatScalar):
            return self.prec(expr) <= ADD
        return super()._needs_add_brackets(expr)

    def _call(self, name: str, arg: sp.Basic, exp: str | None = None) -> str:
        """name(arg), with growing brackets around tall arguments; ``^{exp}`` after."""
        s = self._print(arg)
        tex = rf"{name}\left({s}\right)" if _tall(s) else f"{name}({s})"
        return f"{tex}^{{{exp}}}" if exp is not None else tex

    def _sup(self, base: sp.Basic, sup: str) -> str:
        s = self._print(base)
        if self._clean_base(base, s):
            return f"{s}^{{{sup}}}"
        return rf"\left({s}\right)^{{{sup}}}"

    # -- symbols ----------------------------------------------------------------------------
    def symbol_name(self, name: str, style: str = "plain") -> str:
        """A symbol's name in LaTeX: SymPy's Greek and sub/superscripts, x_hat as x̂, and
        names of several letters upright (``\\mathrm{NLL}``)."""
        for suffix, accent in _ACCENT_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                return f"{accent}{{{self.symbol_name(name[: -len(suffix)], style)}}}"
        base, sups, subs = self._split_super_sub(name)
        if len(base) > 1 and base.isascii() and base.isalpha():
            base = rf"\mathrm{{{base}}}"  # NLL, not the product N·L·L in italics
        if style == "bold":
            base = rf"\mathbf{{{base}}}"
        if sups:
            base += "^{" + " ".join(sups) + "}"
        if subs:
            base += "_{" + " ".join(subs) + "}"
        return base

    def _print_Symbol(self, expr, style="plain"):
        if self._ew is not None and expr == self._ew[0]:
            return self._ew[1]
        name = self._settings["symbol_names"].get(expr)
        if name is not None:
            return name
        return self.symbol_name(expr.name, style)

    _print_Dummy = _print_Symbol

    def _print_MatrixSymbol(self, expr):
        return self._print_Symbol(expr, style=self._settings["mat_symbol_style"])

    def _print_DifferentialSymbol(self, expr):
        return r"\mathrm{d}" + self.symbol_name(expr.base_name)

    def _print_ScalarDifferentialSymbol(self, expr):
        return r"\mathrm{d}" + self.symbol_name(expr.base_name)

    def _print_differential(self, expr):
        arg = expr.args[0]
        s = self._print(arg)
        if isinstance(arg, (sp.Symbol, sp.MatrixSymbol)):
            return r"\mathrm{d}" + s
        return rf"\mathrm{{d}}\left({s}\right)"

    _print_ScalarDifferential = _print_differential
    _print_MatDifferential = _print_differential

    # -- matrix vocabulary ------------------------------------------------------------------
    def _print_Transpose(self, expr):
        arg = expr.arg
        if isinstance(arg, sp.Inverse):
            return self._sup(arg.arg, r"-\top")
        return self._sup(arg, r"\top")

    def _print_Inverse(self, expr):
        arg = expr.arg
        if isinstance(arg, sp.Transpose):
            return self._sup(arg.arg, r"-\top")
        return self._sup(arg, "-1")

    def _print_PseudoInverse(self, expr):
        return self._sup(expr.arg, "+")

    def _print_MatPow(self, expr):
        return self._sup(expr.base, self._print(expr.exp))

    def _print_HadamardPower(self, expr):
        return self._sup(expr.base, r"\circ " + self._print(expr.exp))

    def _print_Trace(self, expr):
        return rf"\operatorname{{tr}}\left({self._print(expr.arg)}\right)"

    def _print_Determinant(self, expr, exp=None):
        return self._call(r"\det", expr.arg, exp)

    def _print_log(self, expr, exp=None):
        arg = expr.args[0]
        if isinstance(arg, sp.Determinant):
            return self._call(r"\log\det", arg.arg, exp)
        return self._call(r"\log", arg, exp)

    def _print_exp(self, expr, exp=None):
        if self._ew is not None:
            # e^{Ax} would read as a matrix exponential; exp(Ax) entrywise is unambiguous.
            return self._call(r"\exp", expr.args[0], exp)
        return self._print_ExpBase(expr, exp)

    def _print_sigmoid(self, expr, exp=None):
        return self._call(r"\sigma", expr.args[0], exp)

    def _print_softplus(self, expr, exp=None):
        return self._call(r"\operatorname{softplus}", expr.args[0], exp)

    def _print_Softmax(self, expr):
        return self._call(r"\operatorname{softmax}", expr.arg)

    def _print_LogSumExp(self, expr, exp=None):
        return self._call(r"\operatorname{lse}", expr.arg, exp)

    def _print_MatrixFunction(self, expr, exp=None):
        return self._call(rf"\operatorname{{{expr.fn}m}}", expr.arg, exp)

    def _print_FrechetDerivative(self, expr):
        x, e = self._print(expr.arg), self._print(expr.direction)
        return rf"L_{{\operatorname{{{expr.fn}m}}}}\left({x}, {e}\right)"

    def _print_ExtremeEigenvalue(self, expr, exp=None):
        return self._call(rf"\lambda_{{\{expr.which}}}", expr.arg, exp)

    def _print_ExtremeEigenvector(self, expr):
        return self._call(rf"v_{{\{expr.which}}}", expr.arg)

    def _print_DiagMatrix(self, expr):
        return self._call(r"\operatorname{diag}", expr.args[0])

    def _print_DiagonalOf(self, expr):
        """diag(X) of a square matrix: its diagonal, a column vector (diag(v) of a vector v is
        the diagonal matrix; the argument's shape tells which)."""
        return self._call(r"\operatorname{diag}", expr.arg)

    def _print_OneMatrix(self, expr):
        rows, cols = expr.shape
        if cols == 1:
            return r"\mathbf{1}"
        if rows == 1:
            return r"\mathbf{1}^{\top}"
        return r"\mathbf{1}\mathbf{1}^{\top}"

    def _print_Identity(self, expr):
        return "I"

    def _print_ZeroMatrix(self, expr):
        return "0"

    def _print_HadamardProduct(self, expr):
        return r" \odot ".join(self.parenthesize(a, MUL, strict=False) for a in expr.args)

    def _print_KroneckerProduct(self, expr):
        return r" \otimes ".join(self.parenthesize(a, MUL, strict=False) for a in expr.args)

    def _coefficient(self, c: sp.Expr) -> str:
        """A scalar coefficient written before matrix factors: 2, \\frac{1}{2}, (xᵀy)."""
        plain = [f for f in sp.Mul.make_args(c) if not isinstance(f, MatScalar)]
        scalars = [f for f in sp.Mul.make_args(c) if isinstance(f, MatScalar)]
        parts = []
        p = sp.Mul(*plain)
        if p != 1:
            parts.append(self.parenthesize(p, MUL, strict=True))
        # (xᵀy) z: without brackets xᵀ y z would read as xᵀ(y z).
        parts.extend(self.parenthesize(f, ATOM) for f in scalars)
        return " ".join(parts)

    def _print_MatMul(self, expr):
        coeff, mats = matmul_parts(expr)
        sign = ""
        if is_negative(coeff):
            sign, coeff = self._NEG_LEAD, -coeff
        parts = [self._coefficient(coeff)] if coeff != 1 else []
        for m in mats:
            s = self.parenthesize(m, MUL, strict=True)
            # A\,dx: TeX would otherwise set "A dx" as the word "Adx".
            parts.append(r"\," + s if parts and _is_differential(m) else s)
        return _unambiguous(sign + " ".join(parts))

    def _print_Mul(self, expr):
        if self._ew is not None and expr.has(self._ew[0]):
            return self._print_elementwise_mul(expr)
        diffs = [f for f in expr.args if _is_differential(f)]
        if diffs and len(diffs) < len(expr.args):
            # g dθ with the differential last and set off: \frac{n}{\sigma} \,\mathrm{d}\sigma.
            rest = sp.Mul(*[f for f in expr.args if not _is_differential(f)])
            sign = ""
            if is_negative(rest):
                sign, rest = self._NEG_LEAD, negate(rest)
            tail = " ".join(r"\," + self._print(f) for f in diffs)
            return f"{sign}{self.parenthesize(rest, MUL, strict=True)} {tail}"
        coeff, rest = expr.as_coeff_Mul()
        if coeff.is_Rational and not coeff.is_Integer and _has_matrix(rest):
            # ½ (Ax − b)ᵀ(Ax − b), as textbooks write it, not a fraction over 2.
            sign = self._NEG_LEAD if coeff < 0 else ""
            frac = self._print(abs(coeff))
            return f"{sign}{frac} {self.parenthesize(rest, MUL, strict=True)}"
        tex = _unambiguous(super()._print_Mul(expr))
        # SymPy writes "- 2 x"; a leading minus is "-2 x" here, as in "-A x".
        return self._NEG_LEAD + tex[2:] if tex.startswith("- ") else tex

    def _print_Pow(self, expr):
        if self._ew is not None and expr.base.has(self._ew[0]):
            return self._sup(expr.base, r"\circ " + self._print(expr.exp))
        u, k, sub = norm_power(expr)
        if u is not None:
            norm = rf"\left\|{self._print(u)}\right\|_{sub}"
            shown = norm if abs(k) == 1 else f"{norm}^{{{abs(k)}}}"
            return shown if k > 0 else rf"\frac{{1}}{{{shown}}}"
        if isinstance(expr.base, ScalarDifferentialSymbol):
            return rf"\left({self._print(expr.base)}\right)^{{{self._print(expr.exp)}}}"
        return super()._print_Pow(expr)

    def _print_elementwise_mul(self, expr: sp.Mul) -> str:
        """A product in an elementwise body: constants first, entry factors joined by ⊙."""
        t = self._ew[0]
        const = sp.Mul(*[f for f in expr.args if not f.has(t)])
        dep = [f for f in expr.args if f.has(t)]
        sign = ""
        if is_negative(const):
            sign, const = self._NEG_LEAD, -const
        level_strict = len(dep) == 1
        parts = [self.parenthesize(f, MUL, strict=level_strict) for f in dep]
        body = r" \odot ".join(parts)
        if const != 1:
            body = f"{self.parenthesize(const, MUL, strict=True)} {body}"
        return sign + body

    # -- derivative labels ------------------------------------------------------------------
    def _print_derivative(self, expr):
        order, f, den = self._derivative_parts(expr)
        partial = r"\partial" if order == 1 else rf"\partial^{order}"
        parts = []
        for v, how in den:
            if how == "T":
                parts.append(r"\partial " + self._sup(v, r"\top"))
            elif how == "2":
                parts.append(r"\partial " + self._sup(v, "2"))
            else:
                parts.append(r"\partial " + self._bracket(v, POW, strict=True))
        den_tex = r"\,".join(parts)
        s = self._print(f)
        if self._is_name(f):
            return rf"\frac{{{partial} {s}}}{{{den_tex}}}"
        return rf"\frac{{{partial}}}{{{den_tex}}} \left({s}\right)"

    _print_GradientOf = _print_derivative
    _print_HessianOf = _print_derivative
    _print_JacobianOf = _print_derivative


def _is_differential(e: sp.Basic) -> bool:
    return isinstance(
        e, (DifferentialSymbol, ScalarDifferentialSymbol, MatDifferential, ScalarDifferential)
    )


def _has_matrix(e: sp.Basic) -> bool:
    return any(is_mat(a) for a in sp.preorder_traversal(e))


def latex(expr: sp.Basic) -> str:
    """LaTeX (math mode, no delimiters) of a SymPy expression in textbook notation."""
    return LatexPrinter().doprint(expr)


# --- text ---------------------------------------------------------------------------------------

_TEXT_SPECIALS = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\ensuremath{\sim}",  # in notes, "x ~ N(0, 1)": distributed as
    "^": r"\textasciicircum{}",
}

_GREEK = {
    "α": r"\alpha",
    "β": r"\beta",
    "γ": r"\gamma",
    "δ": r"\delta",
    "ε": r"\varepsilon",
    "ϵ": r"\epsilon",
    "ζ": r"\zeta",
    "η": r"\eta",
    "θ": r"\theta",
    "ϑ": r"\vartheta",
    "ι": r"\iota",
    "κ": r"\kappa",
    "λ": r"\lambda",
    "μ": r"\mu",
    "ν": r"\nu",
    "ξ": r"\xi",
    "ο": "o",
    "π": r"\pi",
    "ρ": r"\rho",
    "σ": r"\sigma",
    "ς": r"\varsigma",
    "τ": r"\tau",
    "υ": r"\upsilon",
    "φ": r"\varphi",
    "ϕ": r"\phi",
    "χ": r"\chi",
    "ψ": r"\psi",
    "ω": r"\omega",
    "Γ": r"\Gamma",
    "Δ": r"\Delta",
    "Θ": r"\Theta",
    "Λ": r"\Lambda",
    "Ξ": r"\Xi",
    "Π": r"\Pi",
    "Σ": r"\Sigma",
    "Υ": r"\Upsilon",
    "Φ": r"\Phi",
    "Ψ": r"\Psi",
    "Ω": r"\Omega",
}
_GREEK.update({u: u_latin for u, u_latin in zip("ΑΒΕΖΗΙΚΜΝΟΡΤΧ", "ABEZHIKMNOPTX", strict=True)})

_MATH_SYMBOLS = {
    "−": "-",
    "∘": r"\circ",
    "⊙": r"\odot",
    "⊗": r"\otimes",
    "≥": r"\geq",
    "≤": r"\leq",
    "≠": r"\neq",
    "≈": r"\approx",
    "≐": r"\doteq",
    "≡": r"\equiv",
    "∝": r"\propto",
    "±": r"\pm",
    "∑": r"\sum",
    "∏": r"\prod",
    "∫": r"\int",
    "∂": r"\partial",
    "∇": r"\nabla",
    "·": r"\cdot",
    "×": r"\times",
    "→": r"\to",
    "←": r"\leftarrow",
    "↦": r"\mapsto",
    "⇒": r"\Rightarrow",
    "⇔": r"\Leftrightarrow",
    "∈": r"\in",
    "∉": r"\notin",
    "⊂": r"\subset",
    "∀": r"\forall",
    "∃": r"\exists",
    "∞": r"\infty",
    "√": r"\surd",
    "‖": r"\|",
    "⊤": r"\top",
    "ℝ": r"\mathbb{R}",
    "𝟏": r"\mathbf{1}",
    "∅": r"\emptyset",
    "⋅": r"\cdot",
    "∣": r"\mid",
    "∧": r"\wedge",
    "∨": r"\vee",
    "¬": r"\neg",
    "½": r"\tfrac{1}{2}",
    "¼": r"\tfrac{1}{4}",
    "¾": r"\tfrac{3}{4}",
}

_SUPERSCRIPTS = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀ", "0123456789+-=()niT", strict=True))
_SUPERSCRIPTS["ᵀ"] = r"\top"
_SUPERSCRIPTS.update({"ʲ": "j", "ᵏ": "k"})
_SUBSCRIPTS = dict(
    zip("₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₒₓₕₖₗₘₙₚₛₜᵢⱼᵣᵤᵥ", "0123456789+-=()aeoxhklmnpstijruv", strict=True)
)

_TEXT_PUNCTUATION = {
    "—": "---",
    "–": "--",
    "“": "``",
    "”": "''",
    "‘": "`",
    "’": "'",
    "…": r"\ldots{}",
    "\u00a0": "~",
    "\u2009": r"\,",
}

_ACCENTS = {"\u0302": r"\hat", "\u0304": r"\bar", "\u0305": r"\bar", "\u0303": r"\tilde"}


def _math_char(c: str) -> str | None:
    if c in _GREEK:
        return _GREEK[c]
    if c in _MATH_SYMBOLS:
        return _MATH_SYMBOLS[c]
    if c.isascii() and c.isalnum():
        return c
    return None


def escape_text(s: str) -> str:
    r"""Plain text as LaTeX text-mode source that pdflatex (T1, utf8) compiles.

    The specials ``& % $ # _ { } ~ ^ \`` are escaped; Greek letters, maths symbols (−, ∘, ≥,
    ∑, ∂, ∇, ·, ×, →, ⇒, …), runs of superscripts (², ᵀ, ⁻¹) and subscripts, and letters with
    a combining hat or bar become ``\ensuremath{…}``; Latin-1 text passes through; any other
    character is shown by its code point rather than breaking the build.
    """
    out: list[str] = []
    i, n = 0, len(s)
    while i < n:
        c = s[i]
        if i + 1 < n and s[i + 1] in _ACCENTS and _math_char(c) is not None:
            out.append(rf"\ensuremath{{{_ACCENTS[s[i + 1]]}{{{_math_char(c)}}}}}")
            i += 2
            continue
        for table, mark in ((_SUPERSCRIPTS, "^"), (_SUBSCRIPTS, "_")):
            if c in table:
                j = i
                while j < n and s[j] in table:
                    j += 1
                out.append(rf"\ensuremath{{{mark}{{{''.join(table[x] for x in s[i:j])}}}}}")
                i = j
                break
        else:
            if c in _TEXT_SPECIALS:
                out.append(_TEXT_SPECIALS[c])
            elif c in _TEXT_PUNCTUATION:
                out.append(_TEXT_PUNCTUATION[c])
            elif c in _GREEK or c in _MATH_SYMBOLS:
                out.append(rf"\ensuremath{{{_math_char(c)}}}")
            elif c in "\n\t\r":
                out.append(" ")  # a blank line would end the paragraph inside \text{}
            elif ord(c) < 0x100 and c.isprintable():
                out.append(c)
            elif unicodedata.category(c) == "Mn":
                pass  # a combining mark on a character we could not accent
            else:
                out.append(rf"\texttt{{[U+{ord(c):04X}]}}")
            i += 1
    return "".join(out)


_MATH_TEXT_SPECIALS = {
    "\\": r"\backslash",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\sim",
    "^": r"\hat{\ }",
}


def math_text(s: str) -> str:
    r"""``\text{s}`` for MathJax and LaTeX alike: TeX specials are set in maths, outside the text.

    MathJax shows the inside of ``\text`` verbatim, so ``\&`` there would print a backslash;
    outside it, ``\&`` means the same in both. Unicode stays as text.
    """
    parts: list[str] = []
    buf = ""
    for c in s:
        if c in _MATH_TEXT_SPECIALS:
            if buf:
                parts.append(rf"\text{{{buf}}}")
                buf = ""
            parts.append(_MATH_TEXT_SPECIALS[c])
        else:
            buf += c
    if buf:
        parts.append(rf"\text{{{buf}}}")
    return "".join(parts) or r"\text{}"


# --- derivations --------------------------------------------------------------------------------

NOT_CHECKED = "not checked numerically"


def verification_line(d: Derivation, unchecked: str = NOT_CHECKED) -> str:
    """The verification summary of d, or `unchecked` when it was not checked."""
    return d.verification.summary() if d.verification is not None else unchecked


def _relation(step: Step | None) -> str:
    return r"\doteq" if step is not None and step.relation == "constant" else "="


def _visual_len(tex: str) -> int:
    """Roughly how many characters wide LaTeX math is once typeset (a layout heuristic)."""
    s = re.sub(r"\\(left|right|mathrm|operatorname|mathbf|hat|bar|top)\b", "", tex)
    s = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", lambda m: max(m[1], m[2], key=len), s)
    s = re.sub(r"\^\{[^{}]*\}", "x", s)
    s = re.sub(r"\\[a-zA-Z]+", "x", s)
    return len(re.sub(r"[{}\s]", "", s))


# Beyond this width (math characters, citation characters counting 0.7) a line and its
# citation do not fit side by side in an article's text width, so citations go below.
_PAGE_WIDTH = 48
_SCREEN_WIDTH = 110


def _align_body(steps: Sequence[Step], text, width: int, keep: str = r"\\*") -> str:
    """The inside of an align*/aligned block of the steps; `text` typesets a citation.

    Steps whose chain continues print ``&= after && (k) citation``; if the widest line and
    the longest citation do not fit side by side within `width`, each citation goes on its
    own line below its equation instead (``&\\qquad (k) citation``), joined to it by `keep`
    (``\\\\*``: no page break between them; MathJax wants a plain ``\\\\``).
    """
    rows = []  # (math, citation, note): math has its & already
    for row in display_rows(steps):
        if row.kind == "start":
            rows.append((f"{latex(row.lhs)} &= {latex(row.expr)}", None, None))
        elif row.kind == "from":
            zero = " = 0" if row.step.relation == "solve" else ""
            rows.append((rf"{text('from')}\quad & {latex(row.expr)}{zero}", None, None))
        else:
            lhs = "" if row.chained else latex(row.lhs)
            math = f"{lhs} &{_relation(row.step)} {latex(row.expr)}"
            cite = f"({row.number}) {citation(row.step)}"
            rows.append((math, cite, row.step.note or None))
    widest = max((_visual_len(m) for m, _, _ in rows), default=0)
    longest = max((len(c) for _, c, _ in rows if c), default=0)
    side = widest + 0.7 * longest <= width
    lines: list[str] = []
    for math, cite, note in rows:
        if cite is None:
            lines.append(math + r" \\")
        elif side:
            lines.append(f"{math} && {text(cite)}" + r" \\")
            if note:
                lines.append(f"&&& {text(note)}" + r" \\")
        else:
            lines.append(f"{math} {keep}")
            lines.append(rf"&\qquad {text(cite)} " + (keep if note else r"\\"))
            if note:
                lines.append(rf"&\qquad {text(note)}" + r" \\")
    if lines:  # no line break after the last line
        lines[-1] = re.sub(r" \\\\\*?$", "", lines[-1])
    return "\n".join(lines)


# Citations longer than this wrap in a paragraph box below their equation.
_LONG_TEXT = 60


def _doc_text(s: str) -> str:
    """Text inside a displayed equation of a document; long text wraps within the page."""
    if len(s) <= _LONG_TEXT:
        return rf"\text{{{escape_text(s)}}}"
    return rf"\parbox[t]{{0.75\linewidth}}{{\raggedright {escape_text(s)}}}"


def dimension(d: int | str | sp.Basic) -> sp.Basic:
    """A dimension of a `Given` shape as an expression: 3 → 3, "n" → the symbol n."""
    if isinstance(d, sp.Basic):
        return d
    return sp.Integer(d) if isinstance(d, int) else sp.Symbol(str(d))


def shape_latex(g: Given) -> str:
    """The space a given symbol lives in: ``\\mathbb{R}``, ``\\mathbb{R}^{m \\times n}``."""
    dims = [latex(dimension(d)) for d in g.shape]
    if not dims:
        return r"\mathbb{R}"
    return r"\mathbb{R}^{" + r" \times ".join(dims) + "}"


def _fragment(d: Derivation) -> str:
    """The steps (align*), the results and the verification line."""
    out: list[str] = []
    body = _align_body(d.steps, _doc_text, _PAGE_WIDTH)
    if body:
        out += [r"\begin{align*}", body, r"\end{align*}"]
    if d.results:
        results = [f"{latex(lhs)} &= {latex(rhs)}" for lhs, rhs in d.results]
        out += [r"\noindent Result:", r"\begin{align*}", " \\\\\n".join(results), r"\end{align*}"]
    if d.definitions:
        where = [f"{latex(name)} &= {latex(e)}" for name, e, *_ in d.definitions]
        out += [r"\noindent where", r"\begin{align*}", " \\\\\n".join(where), r"\end{align*}"]
    out.append(rf"\noindent\textit{{{escape_text(verification_line(d))}}}")
    return "\n".join(out) + "\n"


def _body(d: Derivation) -> str:
    """Given, goal, objective, the fragment, remarks: one derivation in a document."""
    out: list[str] = []
    if d.given:
        out.append(r"\paragraph{Given.}")
        out.append(r"\begin{itemize}")
        for g in d.given:
            extra = ", ".join(g.assumptions)
            if g.role:
                extra = f"{extra} ({g.role})" if extra else g.role
            item = rf"\item ${latex(sp.Symbol(g.name))} \in {shape_latex(g)}$"
            out.append(item + (f", {escape_text(extra)}" if extra else ""))
        out.append(r"\end{itemize}")
    if d.goal:
        out.append(rf"\paragraph{{Goal.}} {escape_text(d.goal)}")
    if d.objective is not None:
        out += [r"\paragraph{Objective.}", rf"\[ {latex(d.objective)} \]"]
    out.append(r"\paragraph{Derivation.}")
    out.append(_fragment(d).rstrip("\n"))
    if d.remarks:
        out.append(r"\paragraph{Remarks.}")
        out.append(r"\begin{itemize}")
        out += [rf"\item {escape_text(r)}" for r in d.remarks]
        out.append(r"\end{itemize}")
    return "\n".join(out) + "\n"


_PREAMBLE = r"""\documentclass{article}
\usepackage[T1]{fontenc}
\usepackage[utf8]{inputenc}
\usepackage{amsmath}
\usepackage{amssymb}
\allowdisplaybreaks
"""


def render(derivation: Derivation, standalone: bool = False) -> str:
    """LaTeX of a derivation.

    By default a fragment for an existing document (amsmath): the steps as ``align*``, one
    chain per left-hand side, each step ``&= after && \\text{(k) rule, source}``; then the
    results and the verification line. With `standalone`, a whole article (title, given
    symbols, goal, objective, steps, results, remarks, verification) that compiles with
    ``pdflatex -halt-on-error``.
    """
    if not standalone:
        return _fragment(derivation)
    title = escape_text(derivation.title or derivation.name or "Derivation")
    return (
        _PREAMBLE
        + rf"\title{{{title}}}"
        + "\n\\date{}\n\\begin{document}\n\\maketitle\n"
        + _body(derivation)
        + "\\end{document}\n"
    )


def render_math(derivation: Derivation) -> str:
    """``$$\\begin{aligned} … \\end{aligned}$$`` of the steps, for Jupyter's ``_repr_latex_``.

    Citations are ``\\text{…}`` with TeX specials set outside the text, so MathJax and LaTeX
    show the same; with no steps, the results are shown instead.
    """
    body = _align_body(derivation.steps, math_text, _SCREEN_WIDTH, keep=r"\\")
    if not body:
        body = " \\\\\n".join(f"{latex(lhs)} &= {latex(rhs)}" for lhs, rhs in derivation.results)
    return "$$\\begin{aligned}\n" + body + "\n\\end{aligned}$$"


def render_book(derivations: Sequence[Derivation], title: str) -> str:
    """One standalone document: a table of contents and a section per derivation."""
    parts = [_PREAMBLE, rf"\title{{{escape_text(title)}}}", "\\date{}\n\\begin{document}"]
    parts += [r"\maketitle", r"\tableofcontents"]
    for d in derivations:
        parts.append(rf"\section{{{escape_text(d.title or d.name)}}}")
        parts.append(_body(d).rstrip("\n"))
    parts.append(r"\end{document}")
    return "\n".join(parts) + "\n"
