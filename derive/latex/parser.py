"""Parse the LaTeX input language into a small syntax tree (no meaning attached yet).

One recursive-descent grammar, kept whole so that its precedence levels read top to bottom.

Precedence, loosest first: sums ``+ −``; Hadamard and Kronecker products ``\\odot \\circ
\\otimes``; products by juxtaposition, ``\\cdot``, ``\\times`` or ``*`` (order kept: matrix
products never commute), and ``a / b`` (what precedes the slash over the next factor); unary
signs; scripts ``^ _ '`` (``x^{\\circ 2}`` is a Hadamard power). A function written without
parentheses (``\\log 2\\pi``, ``\\det X``) takes the juxtaposed product after it;
``\\tanh^{2}(t)`` is (tanh t)²; f(x), g(x), h(x) are calls of undefined functions.

Hostile input is bounded: the lexer refuses more than MAX_LENGTH characters, and every
nesting (brackets, function calls, scripts, sums) is counted against MAX_DEPTH, so neither
the parser nor the builder nor SymPy can exhaust the stack; runs of signs and primes are
loops, not recursions.
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.errors import UnsupportedError
from derive.latex.lexer import MAX_DEPTH, LatexSyntaxError, Token, tokenize

#: functions a reader may write that the engine knows and refuses, with the reason
_EIGEN = (
    "all the eigenvalues, eig(A)",
    "write \\lambda_{\\max}(A) or \\lambda_{\\min}(A) of a symmetric A (Cookbook (67)), "
    "or tr(A) = Σλᵢ, det(A) = ∏λᵢ",
)
KNOWN_UNSUPPORTED: dict[str, tuple[str, str]] = {
    "eig": _EIGEN,
    "eigmax": _EIGEN,
    "eigmin": _EIGEN,
    "rank": ("the rank of a matrix", "it is integer-valued, so not differentiable"),
}

GREEK = {
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta",
    "vartheta", "iota", "kappa", "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau",
    "upsilon", "phi", "varphi", "chi", "psi", "omega", "Gamma", "Delta", "Theta", "Lambda",
    "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega",
}  # fmt: skip
FONTS = {r"\mathbf", r"\boldsymbol", r"\bm", r"\mathrm", r"\mathit", r"\vec", r"\mathsf"}
ACCENTS = {r"\hat": "hat", r"\widehat": "hat", r"\bar": "bar", r"\overline": "bar",
           r"\tilde": "tilde", r"\widetilde": "tilde"}  # fmt: skip
NAMED_FUNCTIONS = {
    r"\log": "log", r"\ln": "log", r"\exp": "exp", r"\tanh": "tanh", r"\sin": "sin",
    r"\cos": "cos", r"\det": "det", r"\tr": "tr", r"\sqrt": "sqrt",
}  # fmt: skip
OPERATOR_NAMES = {
    "tr": "tr", "Tr": "tr", "trace": "tr", "softmax": "softmax", "softplus": "softplus",
    "diag": "diag", "sigmoid": "sigma", "lse": "lse", "logsumexp": "lse", "det": "det",
    "log": "log", "exp": "exp", "tanh": "tanh", "sign": "sign", "sgn": "sign",
    "expm": "expm", "sinm": "sinm", "cosm": "cosm", "sinhm": "sinhm", "coshm": "coshm",
}  # fmt: skip
TRANSPOSE_MARKS = {"T", r"\top", r"\intercal", r"\mathsf"}
UNDEFINED_FUNCTIONS = {"f", "g", "h"}  # f(x) is a function call in any paper, not f times x


# --- the syntax tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class Num:
    text: str


@dataclass(frozen=True)
class Name:
    name: str
    bold: bool = False


@dataclass(frozen=True)
class Ones:
    pass


@dataclass(frozen=True)
class Indexed:
    base: str
    index: str


@dataclass(frozen=True)
class Neg:
    arg: object


@dataclass(frozen=True)
class Add:
    terms: tuple


@dataclass(frozen=True)
class Mul:
    factors: tuple


@dataclass(frozen=True)
class Elementwise:  # Hadamard "odot" or Kronecker "otimes"
    op: str
    factors: tuple


@dataclass(frozen=True)
class Frac:
    num: object
    den: object


@dataclass(frozen=True)
class Power:
    base: object
    exp: object


@dataclass(frozen=True)
class HadamardPower:  # x^{\circ k}: every entry to the power k
    base: object
    exp: object


@dataclass(frozen=True)
class Transpose:
    arg: object


@dataclass(frozen=True)
class Inverse:
    arg: object


@dataclass(frozen=True)
class PseudoInverse:
    arg: object


@dataclass(frozen=True)
class Call:
    fn: str
    arg: object
    base: object = None  # \log_b


@dataclass(frozen=True)
class Apply:  # f(x), g(x), h(x): a function nobody defined, unless f is a declared factor
    name: str
    arg: object


@dataclass(frozen=True)
class Norm:
    arg: object
    p: str  # "2", "1", "F"


@dataclass(frozen=True)
class Bars:
    arg: object


@dataclass(frozen=True)
class Reduce:  # \sum_i body or \prod_i body
    op: str
    index: str
    lower: object
    upper: object
    body: object


# --- the parser -----------------------------------------------------------------------------


class Parser:
    def __init__(self, text: str) -> None:
        self.toks: list[Token] = tokenize(text)
        self.i = 0
        self.indices: list[str] = []
        self.depth = 0  # nested atoms being parsed (see atom)
        self._norm_depth = 0
        self._bars_depth = 0

    # token helpers
    @property
    def tok(self) -> Token:
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Token:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def at(self, *texts: str) -> bool:
        return self.tok.kind != "end" and self.tok.text in texts

    def take(self) -> Token:
        t = self.tok
        if t.kind != "end":  # the end token stays current however often it is taken
            self.i += 1
        return t

    def expect(self, text: str) -> Token:
        if not self.at(text):
            raise LatexSyntaxError(
                f"expected {text!r} at position {self.tok.pos}, found {self.tok}"
            )
        return self.take()

    def fail(self, what: str) -> LatexSyntaxError:
        return LatexSyntaxError(f"{what} at position {self.tok.pos} (found {self.tok})")

    # grammar
    def parse(self) -> object:
        tree = self.expr()
        if self.at(r"\right"):
            raise self.fail(r"\right without \left")
        if self.at(")", "]", "}"):
            raise self.fail(f"an unmatched {self.tok.text!r}")
        if self.tok.kind != "end":
            raise self.fail("unexpected input")
        return tree

    def expr(self) -> object:
        terms = []
        sign = 1
        if self.at("+", "-"):
            sign = -1 if self.take().text == "-" else 1
        while True:
            t = self.hadamard()
            terms.append(Neg(t) if sign < 0 else t)
            if self.at("+", "-"):
                sign = -1 if self.take().text == "-" else 1
                continue
            break
        return terms[0] if len(terms) == 1 else Add(tuple(terms))

    def hadamard(self) -> object:
        first = self.product()
        for op, cmds in (("odot", (r"\odot", r"\circ")), ("otimes", (r"\otimes",))):
            if self.at(*cmds):
                factors = [first]
                while self.at(*cmds):
                    self.take()
                    factors.append(self.product())
                return Elementwise(op, tuple(factors))
        return first

    def _starts_factor(self) -> bool:
        t = self.tok
        if t.kind == "end":
            return False
        if t.kind == "punct":
            return t.text in "({[|"
        if t.kind == "cmd":
            return t.text not in (
                r"\odot",
                r"\circ",
                r"\otimes",
                r"\right",
                r"\cdot",
                r"\times",
                r"\|",
            )
        return True

    def product(self) -> object:
        factors = [self.unary()]
        while True:
            if self.at(r"\cdot", r"\times", "*"):
                self.take()
                factors.append(self.unary())
            elif self.at("/"):  # a / b: what is written before the slash over the next factor
                self.take()
                num = factors[0] if len(factors) == 1 else Mul(tuple(factors))
                factors = [Frac(num, self.unary())]
            elif self.at(r"\|") and not self._closing_norm():
                factors.append(self.unary())
            elif self._starts_factor() and not (self.at("|") and self._closing_bars()):
                factors.append(self.unary())
            else:
                break
        return factors[0] if len(factors) == 1 else Mul(tuple(factors))

    def unary(self) -> object:
        # A loop, not a recursion per sign: "-" * 1500 + "x" must not exhaust the stack.
        negative = False
        while self.at("-", "+"):
            negative ^= self.take().text == "-"
        e = self.postfix(self.atom())
        return Neg(e) if negative else e

    # Inside an open ‖·‖ or |·|, the next bar closes it rather than starting a factor.
    def _closing_norm(self) -> bool:
        return self._norm_depth > 0

    def _closing_bars(self) -> bool:
        return self._bars_depth > 0

    def postfix(self, base: object) -> object:
        count = 0
        script = False
        while self.at("^", "'"):
            count += 1
            if self.depth + count > MAX_DEPTH:
                raise self.fail(f"more than {MAX_DEPTH} nested superscripts and primes")
            if self.take().text == "'":
                base = Transpose(base)
                continue
            if script:
                raise self.fail("a double superscript (write {x^a}^b)")
            script = True
            base = self.superscript(base)
        return base

    def superscript(self, base: object) -> object:
        # ^T ^\top ^\intercal ^{T} ^{\top} ^{\mathsf T} ^{-1} ^{-T} ^{-\top} ^2 ^{expr}
        # ^+ ^{+} ^\dagger ^{\dagger} ^{+T} ^{+\top}: the Moore–Penrose pseudo-inverse
        if self.at("+", r"\dagger"):
            self.take()
            return PseudoInverse(base)
        if self.at("{"):
            start = self.i
            self.take()
            if self.at("+", r"\dagger"):
                self.take()
                if self.at("}"):
                    self.take()
                    return PseudoInverse(base)
                if self.tok.text in TRANSPOSE_MARKS and self.tok.text != r"\mathsf":
                    self.take()
                    self.expect("}")
                    return Transpose(PseudoInverse(base))
                raise self.fail("a pseudo-inverse mark followed by more than a transpose")
            if self.at("-") and self.peek().text in TRANSPOSE_MARKS and self.peek(2).text == "}":
                self.i += 3
                return Transpose(Inverse(base))
            if self.at("-") and self.peek().text == r"\mathsf":
                self.take()
                self._mark()
                self.expect("}")
                return Transpose(Inverse(base))
            if self.tok.text in TRANSPOSE_MARKS:
                self._mark()
                if self.at("}"):
                    self.take()
                    return Transpose(base)
            if self.at(r"\circ"):
                self.take()
                e = self.expr()
                self.expect("}")
                return HadamardPower(base, e)
            self.i = start
            self.take()
            e = self.expr()
            self.expect("}")
            if e == Neg(Num("1")):
                return Inverse(base)
            return Power(base, e)
        if self.at(r"\circ"):  # ^\circ 2 (TeX takes one token after ^: \circ)
            raise self.fail(r"write a Hadamard power with braces, as x^{\circ 2}")
        if self.tok.text in TRANSPOSE_MARKS and self.tok.text != r"\mathsf":
            self.take()
            return Transpose(base)
        if self.tok.kind == "number":
            t = self.take()
            if len(t.text) > 1 and "." not in t.text:  # x^23 is x^2 3 in TeX
                self.toks.insert(self.i, Token("number", t.text[1:], t.pos + 1))
                return Power(base, Num(t.text[0]))
            return Power(base, Num(t.text))
        return Power(base, self.atom())

    def _mark(self) -> None:
        """Consume a transpose mark: T, \\top, \\intercal, \\mathsf T, \\mathsf{T}."""
        t = self.take()
        if t.text == r"\mathsf":
            if self.at("{"):
                self.take()
                if not self.at("T"):
                    raise self.fail(r"\mathsf in a superscript must be \mathsf{T}")
                self.take()
                self.expect("}")
            elif self.at("T"):
                self.take()
            else:
                raise self.fail(r"\mathsf in a superscript must be \mathsf T")

    def group(self) -> object:
        """{expr} or a single token as a TeX argument."""
        if self.at("{"):
            self.take()
            e = self.expr()
            self.expect("}")
            return e
        t = self.tok
        if t.kind == "number":
            self.take()
            if len(t.text) > 1 and "." not in t.text:
                self.toks.insert(self.i, Token("number", t.text[1:], t.pos + 1))
                return Num(t.text[0])
            return Num(t.text)
        return self.atom()

    def raw_group(self) -> str:
        """The letters of {word} or a single letter (for operator names, indices)."""
        if self.at("{"):
            self.take()
            parts = []
            while not self.at("}"):
                t = self.take()
                if t.kind == "end":
                    raise self.fail("unbalanced braces")
                parts.append(t.text)
            self.take()
            return "".join(parts)
        t = self.take()
        if t.kind == "end":
            raise self.fail("a missing argument")
        return t.text

    def name_with_subscript(self, base: str) -> object:
        if self.at("_"):
            self.take()
            sub = self.raw_group()
            if sub in self.indices:
                return Indexed(base, sub)
            if base == "lambda" and sub in (r"\max", r"\min", "max", "min"):
                return self.function("lambda_" + sub.lstrip("\\"))  # λ_max(A), λ_min(A)
            if not sub.replace("_", "").isalnum():
                raise self.fail(f"unsupported subscript {sub!r} on {base}")
            return Name(f"{base}_{sub}")
        return Name(base)

    def call_argument(self) -> object:
        if self.at("(", "["):
            close = ")" if self.take().text == "(" else "]"
            e = self.expr()
            self.expect(close)
            return e
        if self.at(r"\left"):
            self.take()
            if self.at("(", "["):
                close = ")" if self.take().text == "(" else "]"
                e = self.expr()
                self.expect(r"\right")
                self.expect(close)
                return e
            return self.atom_after_left()
        if self.at("{"):
            return self.group()
        return self.product_for_function()

    def product_for_function(self) -> object:
        """The argument of \\log 2\\pi: juxtaposed factors up to the next operator."""
        factors = [self.unary()]
        while self._starts_factor() and not self.at("|", r"\|"):
            factors.append(self.unary())
        return factors[0] if len(factors) == 1 else Mul(tuple(factors))

    def atom_after_left(self) -> object:
        if self.at(r"\|"):
            return self.norm(left=True)
        if self.at("|"):
            return self.bars(left=True)
        raise self.fail(r"unsupported delimiter after \left")

    def norm(self, left: bool = False) -> object:
        """‖e‖ with an optional subscript 2, 1 or F; the opening bar is the current token."""
        self.take()
        self._norm_depth += 1
        e = self.expr()
        self._norm_depth -= 1
        if left:
            self.expect(r"\right")
        self.expect(r"\|")
        p = "2"
        if self.at("_"):
            self.take()
            p = self.raw_group()
            if p not in ("2", "1", "F"):
                raise self.fail(f"unsupported norm subscript {p!r} (2, 1 or F)")
        return Norm(e, p)

    def bars(self, left: bool = False) -> object:
        self.take()
        self._bars_depth += 1
        e = self.expr()
        self._bars_depth -= 1
        if left:
            self.expect(r"\right")
        self.expect("|")
        return Bars(e)

    def atom(self) -> object:
        # Every nesting (brackets, \frac, \sqrt, \log \log x, scripts, sums) passes through
        # here, so one counter bounds the recursion of the parser, the builder and SymPy.
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.fail(f"the expression is nested deeper than {MAX_DEPTH} levels")
        try:
            return self._atom()
        finally:
            self.depth -= 1

    def _atom(self) -> object:
        t = self.tok
        if t.kind == "number":
            self.take()
            return Num(t.text)
        if t.kind == "letter":
            self.take()
            if t.text == "e" and self.at("^"):
                self.take()
                return Call("exp", self.group())
            if t.text in UNDEFINED_FUNCTIONS and (
                self.at("(") or (self.at(r"\left") and self.peek().text == "(")
            ):
                return Apply(t.text, self.call_argument())
            return self.name_with_subscript(t.text)
        if t.kind == "punct":
            if t.text in "([":
                self.take()
                e = self.expr()
                self.expect(")" if t.text == "(" else "]")
                return e
            if t.text == "{":
                g = self.group()
                if isinstance(g, Name) and "_" not in g.name and self.at("_"):
                    return self.name_with_subscript(g.name)  # {x}_{i}, as SymPy writes x_i
                return g
            if t.text == "|":
                return self.bars()
            raise self.fail("unexpected symbol")
        if t.kind == "cmd":
            return self.command()
        raise self.fail("unexpected end of input")

    def command(self) -> object:
        cmd = self.take().text
        word = cmd[1:]
        if word in GREEK:
            # σ applied to a bracketed argument is the logistic sigmoid; σ alone, σ², σ_1 and
            # σ|t| (σ times |t|) are names.
            if word == "sigma" and (
                self.at("(") or (self.at(r"\left") and self.peek().text == "(")
            ):
                return Call("sigma", self.call_argument())
            return self.name_with_subscript(word)
        if cmd in FONTS:
            inner = self.raw_group()
            if inner == "1":
                return Ones()
            if cmd in (r"\mathrm", r"\mathsf") and inner in OPERATOR_NAMES and len(inner) > 1:
                return self.function(OPERATOR_NAMES[inner])  # \mathrm{tr}(X)
            if inner.startswith("\\") and inner[1:] in GREEK:
                inner = inner[1:]
            base, _, sub = inner.replace("{", "").replace("}", "").partition("_")
            if sub and base.isascii() and base.isalpha() and sub.isascii() and sub.isalnum():
                return Name(f"{base}_{sub}")  # \mathbf{x_1}
            if not (inner.isascii() and inner.isalpha()):
                raise self.fail(f"unsupported argument of {cmd}")
            return self.name_with_subscript(inner)
        if cmd == r"\mathbb":
            inner = self.raw_group()
            if inner == "1":
                return Ones()
            raise self.fail(f"unsupported \\mathbb{{{inner}}}")
        if cmd in ACCENTS:
            inner = self.raw_group()
            if inner.startswith("\\"):
                inner = inner[1:]
            if inner not in GREEK and not inner.isalpha():
                raise self.fail(f"unsupported argument of {cmd}")
            return self.name_with_subscript(f"{inner}_{ACCENTS[cmd]}")
        if cmd in (r"\frac", r"\dfrac", r"\tfrac"):
            num = self.group()
            den = self.group()
            return Frac(num, den)
        if cmd == r"\sqrt":
            if self.at("["):
                raise self.fail(r"\sqrt[n] is not supported")
            return Call("sqrt", self.group())
        if cmd in (r"\operatorname", r"\mathrm", r"\text", r"\textrm"):
            name = self.raw_group()
            if name in KNOWN_UNSUPPORTED:
                raise UnsupportedError(*KNOWN_UNSUPPORTED[name])
            if name not in OPERATOR_NAMES:
                raise LatexSyntaxError(f"unknown function {name!r}")
            return self.function(OPERATOR_NAMES[name])
        if cmd in NAMED_FUNCTIONS:
            return self.function(NAMED_FUNCTIONS[cmd])
        if cmd == r"\|":
            self.i -= 1  # norm() reads its own opening bar
            return self.norm()
        if cmd == r"\left":
            if self.at("(", "["):
                close = ")" if self.take().text == "(" else "]"
                e = self.expr()
                self.expect(r"\right")
                self.expect(close)
                return e
            return self.atom_after_left()
        if cmd in (r"\sum", r"\prod"):
            return self.reduction(word)
        if cmd == r"\right":
            raise LatexSyntaxError(rf"\right at position {self.toks[self.i - 1].pos} without \left")
        raise LatexSyntaxError(f"unknown command {cmd}")

    def function(self, fn: str) -> object:
        base = None
        if fn == "log" and self.at("_"):
            self.take()
            base = self.group()
        if self.at("^"):  # \tanh^{2}(t) = (tanh t)², as SymPy prints it
            self.take()
            exp = self.group()
            if exp in (Neg(Num("1")), Num("-1")):  # tanh⁻¹: the inverse function or 1/tanh?
                raise self.fail(f"{fn}^{{-1}} is ambiguous: write the reciprocal as a fraction")
            if exp == Name("T"):
                raise self.fail(f"a transpose of {fn} before its argument")
            return Power(Call(fn, self.call_argument(), base), exp)
        return Call(fn, self.call_argument(), base)

    def reduction(self, op: str) -> object:
        if not self.at("_"):
            raise self.fail(f"\\{op} needs an index, as in \\{op}_i")
        self.take()
        lower = upper = None
        if self.at("{"):
            self.take()
            index = self.take()
            if index.kind != "letter":
                raise self.fail("a summation index must be a letter")
            if self.at("="):
                self.take()
                lower = self.expr()
            self.expect("}")
        else:
            index = self.take()
            if index.kind != "letter":
                raise self.fail("a summation index must be a letter")
        if self.at("^"):
            self.take()
            upper = self.group()
        self.indices.append(index.text)
        body = self.hadamard()
        self.indices.pop()
        return Reduce(op, index.text, lower, upper, body)


def parse(text: str) -> object:
    """The syntax tree of `text`; raises `LatexSyntaxError` with a position on bad input."""
    return Parser(text).parse()
