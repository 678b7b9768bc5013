"""Plain Unicode text of expressions, for the terminal and for messages.

`TextPrinter` writes linear notation: ``Aᵀ(Ax − b)``, ``x ∘ y``, ``tr(X⁻¹ dX)``,
``log det(X)``, ``σ(Xw)``, ``softmax(z) − y``, ``lse(z)``, ``𝟏ᵀy``, ``X⁻ᵀ``, ``∂f/∂x``,
``∂²f/∂x∂xᵀ``, ``∂g/∂xᵀ``, ``dX``; Greek names as letters (``sigma`` σ, ``mu_hat`` μ̂,
``x_bar`` x̄); simple powers as superscripts (σ², x⁻¹); ``∑ᵢ₌₁ⁿ f``; ``xᵢ``; ``a/b``; and the
minus sign U+2212. Factors of a product are juxtaposed: without a space when both are one
letter (with scripts) or a bracketed group (``Aᵀ(Ax − b)``, ``Xw``), with one otherwise
(``X⁻¹ dX``). Elementwise functions read as in the LaTeX printer: ``log(Ax)``, ``x∘²``,
``s ∘ (1 − s)``.
"""

from __future__ import annotations

import re

import sympy as sp
from sympy.printing.conventions import split_super_sub
from sympy.printing.pretty.pretty_symbology import greek_unicode
from sympy.printing.str import StrPrinter

from derive.expr import MatScalar, ScalarDifferentialSymbol, Vec
from derive.notation.common import (
    ADD,
    ATOM,
    FUNC,
    MUL,
    POW,
    NotationMixin,
    is_mat,
    is_negative,
    matmul_parts,
    negate,
    norm_power,
)

MINUS = "\u2212"

_SUP = dict(
    zip(
        "0123456789+-−=()nTabcdefghijklmoprstuvwxyz",
        "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁻⁼⁽⁾ⁿᵀᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐᵒᵖʳˢᵗᵘᵛʷˣʸᶻ",
        strict=True,
    )
)
_SUB = dict(
    zip("0123456789+-−=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", strict=True)
)
_SUPERSCRIPT_CHARS = set(_SUP.values())
_SCRIPTS = set(_SUP.values()) | set(_SUB.values()) | {"∘"}
_LETTERLIKE = {"ell": "ℓ", "hbar": "ℏ", "nabla": "∇"}
_ACCENTS = (("_hat", "\u0302"), ("_bar", "\u0304"), ("_tilde", "\u0303"))

# One letter (with combining accents), 𝟏, a number or a bracketed group, then any scripts:
# such factors are juxtaposed without a space (Aᵀ(Ax − b), 2x, μ̂ᵀx).
_SHORT = re.compile(
    r"^(?:[^\W\d_][\u0300-\u036f]*|𝟏|\d+|\(.*\))[" + re.escape("".join(_SCRIPTS)) + r"]*$"
)


_LETTER = re.compile(r"[^\W\d_][\u0300-\u036f]*")


def superscript(s: str) -> str | None:
    """s in superscript characters, or None if one has none."""
    out = [_SUP.get(c) for c in s]
    return None if None in out else "".join(out)


def subscript(s: str) -> str | None:
    """s in subscript characters, or None if one has none."""
    out = [_SUB.get(c) for c in s]
    return None if None in out else "".join(out)


def juxtapose(parts: list[str]) -> str:
    """Factors written side by side: no space between two short ones, one space otherwise."""
    out = ""
    for i, p in enumerate(parts):
        if i and not _adjacent(parts[i - 1], p):
            out += " "
        out += p
    return out


def _adjacent(a: str, b: str) -> bool:
    """Whether factor strings a and b are written without a space between them."""
    if a.isdigit():  # a coefficient: 2x, 2xᵀy, 2(x + 1), but 2 log(x) and 2 dX
        if b.startswith(("(", "𝟏")):
            return True
        m = _LETTER.match(b)
        rest = b[m.end() :] if m else ""
        return bool(m) and not (rest[:1].isalpha() and rest[0] not in _SCRIPTS)
    # a coefficient such as 2λ counts as short: 2λu, as λu
    bare = a.lstrip("0123456789") or a
    return bool(_SHORT.match(bare) and _SHORT.match(b))


class TextPrinter(NotationMixin, StrPrinter):
    """SymPy's str printer turned into linear Unicode maths (see the module doc)."""

    _NEG_LEAD = MINUS
    _NEG_SEP = f" {MINUS} "
    _POS_SEP = " + "

    def __init__(self, settings: dict | None = None) -> None:
        super().__init__(settings)
        self._init_notation()

    def _print(self, expr, **kwargs) -> str:
        # Indexed, IndexedBase and Idx print themselves for str() as x[i]; here they read xᵢ.
        # Other objects that print themselves (a density p(x | μ, σ²)) still do, through us.
        for cls, method in (
            (sp.Indexed, self._print_Indexed),
            (sp.IndexedBase, self._print_IndexedBase),
            (sp.Idx, self._print_Idx),
        ):
            if isinstance(expr, cls):
                return method(expr)
        return super()._print(expr, **kwargs)

    def doprint(self, expr) -> str:
        # SymPy's own methods (numbers, limits) write "-"; the terminal shows U+2212.
        return super().doprint(expr).replace("-", MINUS)

    @staticmethod
    def _add_parens(s: str) -> str:
        return f"({s})"

    def parenthesize(self, item, level, strict=False) -> str:
        return self._bracket(item, level, strict)

    @staticmethod
    def _has_script(s: str) -> bool:
        return bool(s) and s[-1] in _SUPERSCRIPT_CHARS

    def _sup(self, base: sp.Basic, sup: str) -> str:
        s = self._print(base)
        return f"{s}{sup}" if self._clean_base(base, s) else f"({s}){sup}"

    def _exponent(self, e: sp.Basic) -> str:
        s = self._print(e).replace("-", MINUS)
        sup = superscript(s) if (e.is_Integer or e.is_Symbol) else None
        if sup is not None:
            return sup
        return "^" + (s if self.prec(e) >= ATOM else f"({s})")

    def _call(self, name: str, arg: sp.Basic) -> str:
        return f"{name}({self._print(arg)})"

    # -- symbols ----------------------------------------------------------------------------
    def symbol_name(self, name: str) -> str:
        """A name as letters: sigma σ, W1 W₁, lambda_max λₘₐₓ, mu_hat μ̂, x_bar x̄.

        Not SymPy's `pretty_symbol`, which returns plain ASCII when SymPy decides the
        terminal cannot show Unicode.
        """
        for suffix, mark in _ACCENTS:
            if name.endswith(suffix) and len(name) > len(suffix):
                base = self.symbol_name(name[: -len(suffix)])
                return base[0] + mark + base[1:]
        base, sups, subs = split_super_sub(name)
        out = greek_unicode.get(base) or _LETTERLIKE.get(base) or base
        sups = [greek_unicode.get(x) or x for x in sups]
        subs = [greek_unicode.get(x) or x for x in subs]
        if sups:
            sup = superscript("".join(sups))
            out += sup if sup is not None else "^" + ",".join(sups)
        if subs:
            sub = subscript("".join(subs))
            out += sub if sub is not None else "_" + ",".join(subs)
        return out

    def _print_Symbol(self, expr):
        if self._ew is not None and expr == self._ew[0]:
            return self._ew[1]
        return self.symbol_name(expr.name)

    _print_Dummy = _print_Symbol
    _print_MatrixSymbol = _print_Symbol

    def _print_DifferentialSymbol(self, expr):
        return "d" + self.symbol_name(expr.base_name)

    _print_ScalarDifferentialSymbol = _print_DifferentialSymbol

    def _print_differential(self, expr):
        arg = expr.args[0]
        s = self._print(arg)
        if type(arg) is type(expr) and isinstance(arg.args[0], (sp.Symbol, sp.MatrixSymbol)):
            return "d²" + self._print(arg.args[0])  # d(df) = d²f, the second differential
        if isinstance(arg, Vec):
            return "d " + s  # d vec(F)
        return "d" + s if isinstance(arg, (sp.Symbol, sp.MatrixSymbol)) else f"d({s})"

    _print_ScalarDifferential = _print_differential
    _print_MatDifferential = _print_differential

    def _indices(self, base: str, indices: tuple) -> str:
        idx = [self._print(i) for i in indices]
        sub = subscript("".join(idx)) if all(len(i) == 1 for i in idx) else None
        if sub is not None:
            return base + sub
        return f"{base}_{idx[0]}" if len(idx) == 1 else f"{base}_({','.join(idx)})"

    def _print_Idx(self, expr):
        return self._print(expr.label)

    def _print_IndexedBase(self, expr):
        return self._print(expr.label)

    def _print_Indexed(self, expr):
        return self._indices(self._print(expr.base.label), expr.indices)

    def _print_MatrixElement(self, expr):
        return self._indices(self.parenthesize(expr.parent, ATOM, strict=True), expr.indices)

    # -- index notation (derive.latex.index_form) --------------------------------------------
    def _entry_base(self, parent: sp.Basic) -> str:
        s = self._print(parent)
        if isinstance(parent, sp.MatrixSymbol):
            return s if not any(c in _SCRIPTS or c == "_" for c in s) else f"({s})"
        return s if self._clean_base(parent, s) and not self._has_script(s) else f"({s})"

    def _print_Entry(self, expr):  # xᵢ, Aᵢⱼ, (Ax)ᵢ, softmax(z)ₖ
        return self._indices(self._entry_base(expr.parent), expr.indices)

    def _print_Row(self, expr):  # xᵢ: sample i, a row of the data matrix x
        return self._indices(self._entry_base(expr.parent), (expr.index,))

    def _print_KroneckerDelta(self, expr):
        return self._indices("δ", expr.args)

    def _index_operator(self, symbol: str, indices: tuple, body: sp.Basic) -> str:
        s = self._print(body)
        return self._indices(symbol, indices) + " " + (f"({s})" if self.prec(body) <= ADD else s)

    def _print_IndexSum(self, expr):  # Σᵢ t, Σᵢⱼ t: over every value of the indices
        indices = tuple(lim[0] for lim in reversed(expr.limits))
        return self._index_operator("∑", indices, expr.function)

    def _print_IndexProduct(self, expr):
        indices = tuple(lim[0] for lim in reversed(expr.limits))
        return self._index_operator("∏", indices, expr.function)

    def _print_MatrixIndexSum(self, expr):
        return self._index_operator("∑", (expr.index,), expr.term)

    def _print_Assemble(self, expr):  # the vector or matrix, written by its entry
        return self._print(expr.entry)

    # -- numbers ----------------------------------------------------------------------------
    def _print_Infinity(self, expr):
        return "∞"

    def _print_NegativeInfinity(self, expr):
        return "-∞"

    def _print_Pi(self, expr):
        return "π"

    def _print_Exp1(self, expr):
        return "e"

    def _print_ImaginaryUnit(self, expr):
        return "i"

    # -- matrix vocabulary ------------------------------------------------------------------
    def _print_Transpose(self, expr):
        arg = expr.arg
        if isinstance(arg, sp.Inverse):
            return self._sup(arg.arg, "⁻ᵀ")
        return self._sup(arg, "ᵀ")

    def _print_Inverse(self, expr):
        arg = expr.arg
        if isinstance(arg, sp.Transpose):
            return self._sup(arg.arg, "⁻ᵀ")
        return self._sup(arg, "⁻¹")

    def _print_PseudoInverse(self, expr):
        return self._sup(expr.arg, "⁺")

    def _print_MatPow(self, expr):
        return self._sup(expr.base, self._exponent(expr.exp))

    def _print_HadamardPower(self, expr):
        return self._sup(expr.base, "∘" + self._exponent(expr.exp).lstrip("^"))

    def _print_Trace(self, expr):
        return self._call("tr", expr.arg)

    def _print_Determinant(self, expr):
        return self._call("det", expr.arg)

    def _print_log(self, expr):
        arg = expr.args[0]
        if isinstance(arg, sp.Determinant):
            return self._call("log det", arg.arg)
        return self._call("log", arg)

    def _print_exp(self, expr):
        return self._call("exp", expr.args[0])

    def _print_sigmoid(self, expr):
        return self._call("σ", expr.args[0])

    def _print_softplus(self, expr):
        return self._call("softplus", expr.args[0])

    def _print_relu(self, expr):
        return self._call("ReLU", expr.args[0])

    def _print_step(self, expr):
        return self._call("step", expr.args[0])

    def _print_Softmax(self, expr):
        return self._call("softmax", expr.arg)

    def _print_LogSumExp(self, expr):
        return self._call("lse", expr.arg)

    def _print_MatrixFunction(self, expr):
        return self._call(expr.fn + "m", expr.arg)

    def _print_FrechetDerivative(self, expr):
        return f"L_{expr.fn}m({self._print(expr.arg)}, {self._print(expr.direction)})"

    def _print_NuclearNorm(self, expr):
        return f"‖{self._print(expr.arg)}‖_*"

    def _print_PolarFactor(self, expr):
        return self._call("polar", expr.arg)

    def _print_ExtremeEigenvalue(self, expr):
        return self._call("λₘₐₓ" if expr.which == "max" else "λₘᵢₙ", expr.arg)

    def _print_ExtremeEigenvector(self, expr):
        return self._call("vₘₐₓ" if expr.which == "max" else "vₘᵢₙ", expr.arg)

    def _print_DiagMatrix(self, expr):
        return self._call("diag", expr.args[0])

    def _print_DiagonalOf(self, expr):
        """diag(X): the diagonal of a square X as a column vector, as in the LaTeX printer."""
        return self._call("diag", expr.arg)

    _RELATIONS = {"==": "=", "!=": "≠", "<=": "≤", ">=": "≥", "<": "<", ">": ">"}

    def _print_Relational(self, expr):
        op = self._RELATIONS.get(expr.rel_op, expr.rel_op)
        return f"{self._print(expr.lhs)} {op} {self._print(expr.rhs)}"

    def _print_Max(self, expr):
        return f"max({', '.join(self._print(a) for a in expr.args)})"

    def _print_Min(self, expr):
        return f"min({', '.join(self._print(a) for a in expr.args)})"

    def _print_Abs(self, expr):
        return f"|{self._print(expr.args[0])}|"

    def _print_OneMatrix(self, expr):
        rows, cols = expr.shape
        if cols == 1:
            return "𝟏"
        return "𝟏ᵀ" if rows == 1 else "𝟏𝟏ᵀ"

    def _print_Identity(self, expr):
        return "I"

    def _print_ZeroMatrix(self, expr):
        return "0"

    def _print_HadamardProduct(self, expr):
        return " ∘ ".join(self.parenthesize(a, MUL) for a in expr.args)

    def _print_KroneckerProduct(self, expr):
        return " ⊗ ".join(self.parenthesize(a, MUL) for a in expr.args)

    def _print_Vec(self, expr):
        return self._call("vec", expr.arg)

    def _print_CommutationMatrix(self, expr):
        """K_mn: subscripts when both sizes have them (Kₘₙ), else K_(3,4)."""
        m, n = self._print(expr.m), self._print(expr.n)
        sub = subscript(m + n) if len(m) == len(n) == 1 else None
        return "K" + sub if sub is not None else f"K_({m},{n})"

    # -- products and powers ----------------------------------------------------------------
    def _coefficient(self, c: sp.Expr) -> str:
        """A scalar coefficient before matrix factors: 2, (1/2), σ², (xᵀy)."""
        plain = sp.Mul(*[f for f in sp.Mul.make_args(c) if not isinstance(f, MatScalar)])
        scalars = [f for f in sp.Mul.make_args(c) if isinstance(f, MatScalar)]
        parts = []
        if plain != 1:
            s = self._print(plain)
            parts.append(f"({s})" if "/" in s or self.prec(plain) < MUL else s)
        parts.extend(self.parenthesize(f, ATOM) for f in scalars)
        return juxtapose(parts)

    def _print_MatMul(self, expr):
        coeff, mats = matmul_parts(expr)
        sign = ""
        if is_negative(coeff):
            sign, coeff = MINUS, -coeff
        parts = [self._coefficient(coeff)] if coeff != 1 else []
        parts.extend(self.parenthesize(m, MUL, strict=True) for m in mats)
        return sign + juxtapose(parts)

    def _factor(self, f: sp.Basic, last: bool) -> str:
        s = self._print(f)
        if self.prec(f) < MUL or (not last and isinstance(f, (sp.Sum, sp.Product))):
            return f"({s})"
        if not last and _top_level_slash(s):  # (n/2) ∑ xᵢ, not n/2 ∑ xᵢ
            return f"({s})"
        return s

    def _factors(self, fs: list[sp.Basic]) -> str:
        return juxtapose([self._factor(f, i == len(fs) - 1) for i, f in enumerate(fs)])

    def _print_Mul(self, expr):
        if self._ew is not None and expr.has(self._ew[0]):
            return self._print_elementwise_mul(expr)
        sign = ""
        if is_negative(expr):
            sign, expr = MINUS, negate(expr)
        coeff, rest = expr.as_coeff_Mul()
        if coeff.is_Rational and not coeff.is_Integer and _has_matrix(rest):
            # (1/2)(Ax − b)ᵀ(Ax − b), as in the LaTeX printer.
            return sign + juxtapose([f"({self._print(coeff)})", self._factor(rest, True)])
        num: list[sp.Basic] = []
        den: list[sp.Basic] = []
        for f in sp.Mul.make_args(expr):
            if f.is_Rational and not f.is_Integer:
                if f.p != 1:
                    num.append(sp.Integer(f.p))
                den.append(sp.Integer(f.q))
            elif f.is_Pow and f.exp.is_Rational and f.exp.is_negative:
                den.append(f.base if f.exp == -1 else sp.Pow(f.base, -f.exp))
            else:
                num.append(f)
        s = self._factors(num) if num else "1"
        if den:
            d = self._factors(den)
            if len(den) > 1 or self.prec(den[0]) < POW and not den[0].is_Atom:
                d = f"({d})"
            s = f"{s}/{d}"
        return sign + s

    def _print_Pow(self, expr, rational=False):
        b, e = expr.args
        if self._ew is not None and b.has(self._ew[0]):
            return self._sup(b, "∘" + self._exponent(e).lstrip("^"))
        u, k, sub = norm_power(expr)
        if u is not None:
            norm = (
                f"‖{self._print(u)}‖"
                + ("₂" if sub == "2" else "_F")
                + ("" if abs(k) == 1 else self._exponent(sp.Integer(abs(k))))
            )
            return norm if k > 0 else f"1/{norm}"
        if e is sp.S.Half or e == -sp.S.Half:
            root = "√" + self.parenthesize(b, FUNC)
            return root if e is sp.S.Half else f"1/{root}"
        bs = self._print(b)
        if self.prec(b) <= POW or isinstance(b, ScalarDifferentialSymbol) or self._has_script(bs):
            bs = f"({bs})"
        return bs + self._exponent(e)

    def _print_elementwise_mul(self, expr: sp.Mul) -> str:
        """A product in an elementwise body: constants first, entry factors joined by ∘."""
        t = self._ew[0]
        const = sp.Mul(*[f for f in expr.args if not f.has(t)])
        dep = [f for f in expr.args if f.has(t)]
        sign = ""
        if is_negative(const):
            sign, const = MINUS, -const
        body = " ∘ ".join(self.parenthesize(f, MUL, strict=len(dep) == 1) for f in dep)
        if const != 1:
            body = juxtapose([self._coefficient(const), body])
        return sign + body

    # -- sums -------------------------------------------------------------------------------
    def _big_operator(self, symbol: str, expr: sp.Basic) -> str:
        head = ""
        for limit in expr.limits:
            var = self._print(limit[0])
            if len(limit) == 3:
                lo, hi = self._print(limit[1]), self._print(limit[2])
                sub, sup = subscript(f"{var}={lo}"), superscript(hi)
                if sub is not None and sup is not None:
                    head += f"{symbol}{sub}{sup} "
                else:
                    head += f"{symbol}_{{{var}={lo}}}^{{{hi}}} "
            else:
                head += f"{symbol}{subscript(var) or '_' + var} "
        body = expr.function
        s = self._print(body)
        return head + (f"({s})" if self.prec(body) <= ADD else s)

    def _print_Sum(self, expr):
        return self._big_operator("∑", expr)

    def _print_Product(self, expr):
        return self._big_operator("∏", expr)

    # -- derivative labels ------------------------------------------------------------------
    def _print_derivative(self, expr):
        order, f, den = self._derivative_parts(expr)
        partial = "∂" if order == 1 else "∂" + superscript(str(order))
        parts = []
        for v, how in den:
            if how == "T":
                parts.append("∂" + self._sup(v, "ᵀ"))
            elif how == "2":
                parts.append("∂" + self._sup(v, "²"))
            else:
                parts.append("∂" + self._bracket(v, POW, strict=True))
        s = self._print(f)
        if self._is_name(f):
            return f"{partial}{s}/{''.join(parts)}"
        return f"{partial}/{''.join(parts)} ({s})"

    _print_GradientOf = _print_derivative
    _print_HessianOf = _print_derivative
    _print_JacobianOf = _print_derivative


def _top_level_slash(s: str) -> bool:
    depth = 0
    for c in s:
        depth += (c == "(") - (c == ")")
        if c == "/" and depth == 0:
            return True
    return False


def _has_matrix(e: sp.Basic) -> bool:
    return any(is_mat(a) for a in sp.preorder_traversal(e))


def text(expr: sp.Basic) -> str:
    """One line of Unicode maths for a SymPy expression."""
    return TextPrinter().doprint(expr)
