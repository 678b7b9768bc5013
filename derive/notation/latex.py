r"""LaTeX of expressions: textbook matrix-calculus notation (math mode, no delimiters).

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

`escape_text` and `math_text` (from `derive.notation.latex_text`) write plain text (a rule
name, a note) as LaTeX text.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.latex import LatexPrinter as _SympyLatexPrinter

from derive.expr import (
    DifferentialSymbol,
    MatDifferential,
    MatScalar,
    ScalarDifferential,
    ScalarDifferentialSymbol,
    Vec,
)
from derive.notation.common import (
    ADD,
    ATOM,
    MUL,
    POW,
    NotationMixin,
    is_mat,
    is_negative,
    matmul_parts,
    negate,
    norm_power,
)
from derive.notation.latex_text import escape_text, math_text  # noqa: F401  (re-exported)

# σ written just before a bracket reads back as the sigmoid σ(·) (the input convention), so a
# product of the scalar σ and a bracketed factor is written with a \cdot: σ · (t + 1).
_SIGMA_BEFORE_BRACKET = re.compile(r"(?<![A-Za-z])(\\sigma) (?=\\left\(|\()")


def _unambiguous(tex: str) -> str:
    return _SIGMA_BEFORE_BRACKET.sub(r"\1 \\cdot ", tex)


def _is_entry(e: sp.Basic) -> bool:
    """An entry xᵢ, Aᵢⱼ of index notation (derive.latex.index_form), or a power of one."""
    return getattr(e.base if isinstance(e, sp.Pow) else e, "takes_scripts", False)


def _entries_first(expr: sp.Mul) -> bool:
    """Whether a product holds entries among other factors and no quotient: printed with
    the entries first, y_{i} \\log(…), not SymPy's order."""
    factors = sp.Mul.make_args(expr.as_coeff_Mul()[1])
    entries = [f for f in factors if _is_entry(f)]
    return (
        0 < len(entries) < len(factors)
        and not any(isinstance(f, sp.Pow) and f.exp.is_negative for f in factors)
        and not any(is_mat(f) for f in factors)
    )


def _tall(s: str) -> bool:
    """Whether printed LaTeX is taller than a line, so brackets around it should grow."""
    return any(k in s for k in (r"\frac", r"\sum", r"\prod", r"\int", r"\left", r"\begin"))


_ACCENT_SUFFIXES = (("_hat", r"\hat"), ("_bar", r"\bar"), ("_tilde", r"\tilde"))


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
        if type(arg) is type(expr) and isinstance(arg.args[0], (sp.Symbol, sp.MatrixSymbol)):
            return r"\mathrm{d}^2" + self._print(arg.args[0])  # d(df): the second differential
        if isinstance(arg, Vec):
            return r"\mathrm{d}" + s  # d vec(F)
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

    def _print_relu(self, expr, exp=None):
        return self._call(r"\operatorname{ReLU}", expr.args[0], exp)

    def _print_step(self, expr, exp=None):
        return self._call(r"\operatorname{step}", expr.args[0], exp)

    def _print_Softmax(self, expr):
        return self._call(r"\operatorname{softmax}", expr.arg)

    def _print_LogSumExp(self, expr, exp=None):
        return self._call(r"\operatorname{lse}", expr.arg, exp)

    def _print_MatrixFunction(self, expr, exp=None):
        return self._call(rf"\operatorname{{{expr.fn}m}}", expr.arg, exp)

    def _print_FrechetDerivative(self, expr):
        x, e = self._print(expr.arg), self._print(expr.direction)
        return rf"L_{{\operatorname{{{expr.fn}m}}}}\left({x}, {e}\right)"

    def _print_NuclearNorm(self, expr, exp=None):
        tex = rf"\left\|{self._print(expr.arg)}\right\|_*"
        return f"{tex}^{{{exp}}}" if exp is not None else tex

    def _print_PolarFactor(self, expr):
        return self._call(r"\operatorname{polar}", expr.arg)

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

    def _print_Vec(self, expr):
        return self._call(r"\operatorname{vec}", expr.arg)

    def _print_CommutationMatrix(self, expr):
        return rf"K_{{{self._print(expr.m)}{self._print(expr.n)}}}"

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
        if _entries_first(expr):
            return self._print_entries_first(expr)
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

    def _print_entries_first(self, expr: sp.Mul) -> str:
        """y_{i} \\log(…): a product of entries and other factors, the entries first (as
        index notation is written), the coefficient before them."""
        coeff, rest = expr.as_coeff_Mul()
        factors = sp.Mul.make_args(rest)
        factors = [f for f in factors if _is_entry(f)] + [f for f in factors if not _is_entry(f)]
        sign = self._NEG_LEAD if coeff.is_negative else ""
        parts = [] if abs(coeff) == 1 else [self._print(abs(coeff))]
        for k, f in enumerate(factors):
            tex = self._print(f)
            if self._needs_mul_brackets(f, first=not parts, last=k == len(factors) - 1):
                tex = rf"\left({tex}\right)"
            parts.append(tex)
        return _unambiguous(sign + " ".join(parts))

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

    # -- index notation (derive.latex.index_form) --------------------------------------------
    def _subscripted(self, parent: sp.Basic, indices: tuple) -> str:
        """base_{ij}: bracketed unless the base is a plain name or a function's value."""
        s = self._print(parent)
        if isinstance(parent, sp.MatrixSymbol):
            clean = "_" not in s and "^" not in s
        else:
            clean = self._clean_base(parent, s) and "_" not in s and "^" not in s
        base = s if clean else rf"\left({s}\right)"
        return f"{base}_{{{''.join(self._print(i) for i in indices)}}}"

    def _print_Entry(self, expr):
        return self._subscripted(expr.parent, expr.indices)

    def _print_Row(self, expr):
        return self._subscripted(expr.parent, (expr.index,))

    def _index_operator(self, command: str, indices: tuple, body: sp.Basic) -> str:
        s = self._print(body)
        if self.prec(body) <= ADD:
            s = rf"\left({s}\right)"
        return rf"{command}_{{{','.join(self._print(i) for i in indices)}}} {s}"

    def _print_IndexSum(self, expr):
        indices = tuple(lim[0] for lim in reversed(expr.limits))
        return self._index_operator(r"\sum", indices, expr.function)

    def _print_IndexProduct(self, expr):
        indices = tuple(lim[0] for lim in reversed(expr.limits))
        return self._index_operator(r"\prod", indices, expr.function)

    def _print_MatrixIndexSum(self, expr):
        return self._index_operator(r"\sum", (expr.index,), expr.term)

    def _print_Assemble(self, expr):
        return self._print(expr.entry)

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
