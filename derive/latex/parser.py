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

import re

from derive.errors import AmbiguityError, UnsupportedError
from derive.latex.lexer import MAX_DEPTH, LatexSyntaxError, Token, tokenize
from derive.latex.tree import (
    Add,
    Apply,
    Bars,
    Call,
    Elementwise,
    Frac,
    HadamardPower,
    Indexed,
    Inner,
    Inverse,
    Mul,
    Name,
    Neg,
    Norm,
    Num,
    Ones,
    Power,
    Prime,
    PseudoInverse,
    Reduce,
    Subscripted,
    Transpose,
)
from derive.latex.vocabulary import (
    _BLACKBOARD,
    _FUNCTION_COMMANDS,
    ACCENTS,
    FONTS,
    GREEK,
    KNOWN_UNSUPPORTED,
    NAMED_FUNCTIONS,
    OPERATOR_NAMES,
    TRANSPOSE_MARKS,
    UNDEFINED_FUNCTIONS,
)

# --- the parser -----------------------------------------------------------------------------


class Parser:
    def __init__(self, text: str) -> None:
        self.text = text
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
                r"\rangle",
                r"\cdot",
                r"\times",
                r"\|",
            )
        return True

    def _juxtaposed(self) -> bool:
        """Whether the next token starts a factor multiplied by juxtaposition."""
        if self.at(r"\|"):
            return not self._closing_norm()
        return self._starts_factor() and not (self.at("|") and self._closing_bars())

    def product(self) -> object:
        start = self.tok.pos
        factors = [self.unary()]
        while True:
            if self.at(r"\cdot", r"\times", "*"):
                self.take()
                factors.append(self.unary())
            elif self.at("/"):  # a / b: what is written before the slash over the next factor
                slash = self.take()
                num = factors[0] if len(factors) == 1 else Mul(tuple(factors))
                den_start = self.tok.pos
                factors = [Frac(num, self.unary())]
                if self._juxtaposed():  # a/2b: a/(2b) or (a/2)b? Both are written.
                    raise self._ambiguous_slash(start, slash.pos, den_start)
            elif self._juxtaposed():
                factors.append(self.unary())
            else:
                break
        return factors[0] if len(factors) == 1 else Mul(tuple(factors))

    def _source(self, start: int, end: int | None = None) -> str:
        """The input text from position start to end (the current token when None), without
        the spacing around it."""
        return _SPACES_AT_END.sub("", self.text[start : self.tok.pos if end is None else end])

    def _ambiguous_slash(self, start: int, slash: int, den: int) -> AmbiguityError:
        num_src, den_src = self._source(start, slash), self._source(den)
        rest_start = self.tok.pos
        while self._juxtaposed():
            self.unary()
        rest = self._source(rest_start)
        num, den, after = _plain(num_src), _plain(den_src), _plain(rest)
        return AmbiguityError(
            f"{num_src}/{den_src}{rest}",
            [
                (f"({num}/{den})·{after}", rf"\frac{{{num_src}}}{{{den_src}}}{rest}"),
                (f"{num}/({den}·{after})", rf"\frac{{{num_src}}}{{{den_src}{rest}}}"),
            ],
        )

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
        if not isinstance(base, (Name, Indexed)):  # (Wx)_i, softmax(z)_k: an entry
            indices = self._subscript_indices()
            if indices is not None:
                base = Subscripted(base, indices)
        count = 0
        script = False
        while self.at("^", "'") or (self.at("_") and script and _subscriptable(base)):
            count += 1
            if self.depth + count > MAX_DEPTH:
                raise self.fail(f"more than {MAX_DEPTH} nested superscripts and primes")
            if self.at("_"):  # x^2_i, W^{(2)}_1: sub- and superscript in either order
                base = _with_subscript(base, self)
                continue
            if self.take().text == "'":
                base = Prime(base)
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
        label = self._label() if isinstance(base, Name) else None
        if label is not None:  # W^{(2)}: the second layer's W, a name, not a power
            stem, _, sub = base.name.partition("_")  # x_2^{(1)} is x^{(1)}_2
            named = Name(f"{stem}^({label[0]})" + (f"_{sub}" if sub else ""), base.bold)
            return Transpose(named, label[1]) if label[1] is not None else named
        if self.at("{"):
            start = self.i
            self.take()
            if self.at("+", r"\dagger"):
                self.take()
                if self.at("}"):
                    self.take()
                    return PseudoInverse(base)
                if self.tok.text in TRANSPOSE_MARKS and self.tok.text != r"\mathsf":
                    letter = self.take().text == "T"
                    self.expect("}")
                    return Transpose(PseudoInverse(base), letter)
                raise self.fail("a pseudo-inverse mark followed by more than a transpose")
            if self.at("-") and self.peek().text in TRANSPOSE_MARKS and self.peek(2).text == "}":
                letter = self.peek().text == "T"
                self.i += 3
                return Transpose(Inverse(base), letter)
            if self.at("-") and self.peek().text == r"\mathsf":
                self.take()
                self._mark()
                self.expect("}")
                return Transpose(Inverse(base))
            if self.tok.text in TRANSPOSE_MARKS:
                letter = self._mark()
                if self.at("}"):
                    self.take()
                    return Transpose(base, letter)
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
        if self.tok.text in TRANSPOSE_MARKS:  # ^T ^\top ^\intercal ^\mathsf{T} ^\mathsf T
            return Transpose(base, self._mark())
        if self.tok.kind == "number":
            t = self.take()
            if len(t.text) > 1 and "." not in t.text:  # x^23 is x^2 3 in TeX
                self.toks.insert(self.i, Token("number", t.text[1:], t.pos + 1))
                return Power(base, Num(t.text[0]))
            return Power(base, Num(t.text))
        return Power(base, self.atom())

    def _label(self) -> tuple[str, bool | None] | None:
        """The k of a superscript label ^{(k)} (k letters, digits, + and −) and, for ^{(k)\\top},
        whether the transpose was written with the letter T (None: no transpose), consumed;
        None (nothing consumed) if the superscript is not a label."""
        if not (self.at("{") and self.peek().text == "("):
            return None
        k, parts = 2, []
        while self.peek(k).kind in ("letter", "number") or self.peek(k).text in ("+", "-"):
            parts.append(self.peek(k).text)
            k += 1
        if not parts or self.peek(k).text != ")":
            return None
        mark = self.peek(k + 1)
        if (
            mark.text in TRANSPOSE_MARKS
            and mark.text != r"\mathsf"
            and self.peek(k + 2).text == "}"
        ):
            self.i += k + 3
            return "".join(parts), mark.text == "T"
        if mark.text != "}":
            return None
        self.i += k + 2
        return "".join(parts), None

    def _mark(self) -> bool:
        """Consume a transpose mark: T, \\top, \\intercal, \\mathsf T, \\mathsf{T}; whether
        it was the bare letter T (which a symbol T would make ambiguous)."""
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
        return t.text == "T"

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
            pair = self._index_pair(sub, base)
            if pair is not None:
                return Indexed(base, *pair)
            if base == "lambda" and sub in (r"\max", r"\min", "max", "min"):
                return self.function("lambda_" + sub.lstrip("\\"))  # λ_max(A), λ_min(A)
            if not sub.replace("_", "").isalnum():
                raise self.fail(f"unsupported subscript {sub!r} on {base}")
            return Name(f"{base}_{sub}")
        return Name(base)

    def _index_pair(self, sub: str, base: str) -> tuple[str, str] | None:
        """(i, j) when the subscript `sub` of `base` is two summation indices (A_{ij},
        A_{i,j}); None when it names no summation index (W_{12}, x_{ab}: part of the name).
        A subscript that mixes summation indices with other letters is refused by name."""
        parts = sub.split(",") if "," in sub else list(sub) if sub.isalpha() else [sub]
        active = [p for p in parts if p in self.indices]
        if not active:
            return None
        if len(active) != len(parts):
            raise UnsupportedError(
                f"the subscript {sub!r} of {base}, which mixes the summation index "
                f"{active[0]} with other letters",
                "write the entry with summation indices only, as A_{ij}",
            )
        if len(parts) != 2:
            raise UnsupportedError(
                f"{base}_{{{sub}}}, an entry with {len(parts)} indices",
                "entries of vectors (x_i) and matrices (A_{ij}) are supported",
            )
        return parts[0], parts[1]

    def _subscript_indices(self) -> tuple[str, ...] | None:
        """The summation indices of a subscript ``_i``, ``_{ij}`` or ``_{i,j}`` at the current
        position, consumed; None (nothing consumed) if the subscript is anything else."""
        if not (self.at("_") and self.indices):
            return None
        k, letters = 1, []
        if self.peek(1).text == "{":
            k = 2
            while self.peek(k).kind == "letter" or self.peek(k).text == ",":
                if self.peek(k).kind == "letter":
                    letters.append(self.peek(k).text)
                k += 1
            if self.peek(k).text != "}":
                return None
            k += 1
        elif self.peek(1).kind == "letter":
            letters, k = [self.peek(1).text], 2
        if not letters or len(letters) > 2 or not all(x in self.indices for x in letters):
            return None
        self.i += k
        return tuple(letters)

    def call_argument(self, start: int | None = None) -> object:
        """A function's argument: bracketed, a braced group, or (when `start`, the position of
        the function, is given) the juxtaposed factors that follow."""
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
        if start is None:
            raise self.fail("a function argument in brackets")
        return self.product_for_function(start)

    def product_for_function(self, start: int) -> object:
        """The argument of \\log 2\\pi or \\sin 2\\theta: the juxtaposed factors after the
        function up to the next function or operator (\\sin\\theta\\cos\\theta is sin θ · cos θ),
        except after a transpose, which opens a product (\\log\\mathbf 1^\\top\\exp(z)).
        A spacing command inside (\\log\\theta\\,\\theta) makes the extent ambiguous: refused.
        `start` is where the function was written."""
        arg_start = self.tok.pos
        factors = [self.unary()]
        while (
            self._starts_factor()
            and not self.at("|", r"\|")
            # a row xᵀ cannot end an argument: \log\mathbf 1^\top\exp(z) is log(1ᵀexp z)
            and (not self._starts_function() or isinstance(factors[-1], Transpose))
        ):
            if self.tok.spaced:
                fn, arg, rest_start = (
                    self._source(start, arg_start),
                    self._source(arg_start),
                    self.tok.pos,
                )
                self.unary()
                rest = self._source(rest_start)
                name, x, y = _plain(fn), _plain(arg), _plain(rest)
                raise AmbiguityError(
                    self._source(start),
                    [
                        (f"{name}({x}·{y})", rf"{fn}\left({arg}{rest}\right)"),
                        (f"{name}({x})·{y}", rf"{rest}{fn} {arg}"),
                    ],
                )
            factors.append(self.unary())
        return factors[0] if len(factors) == 1 else Mul(tuple(factors))

    def _starts_function(self) -> bool:
        """Whether the next token begins a function or an operator (\\cos, \\operatorname{tr},
        \\sum, e^{…}, \\sigma(…), f(…)): where an unparenthesised argument ends."""
        t, nxt = self.tok, self.peek()
        if t.kind == "cmd":
            if t.text in _FUNCTION_COMMANDS:
                return True
            if t.text in (r"\mathrm", r"\mathsf", r"\text", r"\textrm") and nxt.text == "{":
                word, k = [], 2
                while self.peek(k).kind == "letter":
                    word.append(self.peek(k).text)
                    k += 1
                return "".join(word) in OPERATOR_NAMES and len(word) > 1
            if t.text in (r"\sigma", r"\ell"):
                return nxt.text in ("(", "'") or (nxt.text == r"\left" and self.peek(2).text == "(")
            return (
                t.text == r"\lambda"
                and nxt.text == "_"
                and self.peek(2).text in (r"\max", r"\min", "{")
            )
        if t.kind == "letter":
            if t.text == "e" and nxt.text == "^":
                return True
            return t.text in UNDEFINED_FUNCTIONS and nxt.text in ("(", "'")
        return False

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
        p = self._norm_subscript() or "2"
        if self.at("^") and not self.at_transpose_mark(1):  # ‖x‖^2_2: scripts in either order
            self.take()
            exp = self.group()
            return Power(Norm(e, self._norm_subscript() or p), exp)
        return Norm(e, p)

    def at_transpose_mark(self, k: int = 0) -> bool:
        return self.peek(k).text in TRANSPOSE_MARKS

    def _norm_subscript(self) -> str | None:
        """The p of ‖·‖_p (2, 1, F, or * for the nuclear norm), consumed; None if absent."""
        if not self.at("_"):
            return None
        self.take()
        p = self.raw_group()
        if p not in ("2", "1", "F", "*"):
            raise self.fail(f"unsupported norm subscript {p!r} (2, 1, F or *)")
        return p

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
            if (
                t.text in UNDEFINED_FUNCTIONS
                and self.at("'")
                and self.peek().text in ("(", r"\left")
            ):
                raise UnsupportedError(
                    f"the derivative {t.text}' of the undefined function {t.text}",
                    "write the function out with known functions; primes are read as derivatives "
                    "only on them (\\sigma'(t), \\tanh'(t))",
                )
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
        start = self.tok.pos
        cmd = self.take().text
        word = cmd[1:]
        if word in GREEK:
            # σ applied to a bracketed argument is the logistic sigmoid (σ' its derivative); σ
            # alone, σ², σ_1 and σ|t| (σ times |t|) are names.
            if word == "sigma" and self.at("'"):
                return self.function("sigma", start)
            if word == "sigma" and (
                self.at("(") or (self.at(r"\left") and self.peek().text == "(")
            ):
                return Call("sigma", self.call_argument())
            return self.name_with_subscript(word)
        if cmd == r"\ell":  # ℓ: a name (ℓ(θ) would be a function nobody defined)
            if self.at("(", "'") or (self.at(r"\left") and self.peek().text == "("):
                raise UnsupportedError(
                    "the undefined function \\ell(·)", "write the loss out with known functions"
                )
            return self.name_with_subscript("ell")
        if cmd in FONTS:
            bold = cmd in (r"\mathbf", r"\boldsymbol", r"\bm", r"\vec")
            inner = self.raw_group()
            if inner == "1":
                return Ones()
            if cmd in (r"\mathrm", r"\mathsf") and inner in OPERATOR_NAMES and len(inner) > 1:
                return self.function(OPERATOR_NAMES[inner], start)  # \mathrm{tr}(X)
            if inner.startswith("\\") and inner[1:] in GREEK:
                inner = inner[1:]
            base, _, sub = inner.replace("{", "").replace("}", "").partition("_")
            if sub and base.isascii() and base.isalpha() and sub.isascii() and sub.isalnum():
                return Name(f"{base}_{sub}", bold)  # \mathbf{x_1}
            if not (inner.isascii() and inner.isalpha()):
                raise self.fail(f"unsupported argument of {cmd}")
            named = self.name_with_subscript(inner)
            return Name(named.name, bold) if isinstance(named, Name) else named
        if cmd == r"\mathbb":
            inner = self.raw_group()
            if inner == "1":
                return Ones()
            if inner in _BLACKBOARD:
                raise UnsupportedError(*_BLACKBOARD[inner])
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
            return self.function(OPERATOR_NAMES[name], start)
        if cmd in NAMED_FUNCTIONS:
            return self.function(NAMED_FUNCTIONS[cmd], start)
        if cmd in (r"\max", r"\min"):
            return self.extremum(word)
        if cmd == r"\langle":
            return self.inner_product()
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
            if self.at(r"\langle"):
                self.take()
                return self.inner_product(left=True)
            return self.atom_after_left()
        if cmd in (r"\sum", r"\prod"):
            return self.reduction(word)
        if cmd == r"\right":
            raise LatexSyntaxError(rf"\right at position {self.toks[self.i - 1].pos} without \left")
        raise LatexSyntaxError(f"unknown command {cmd}")

    def function(self, fn: str, start: int | None = None) -> object:
        if start is None:
            start = self.toks[self.i - 1].pos
        base = None
        if fn == "log" and self.at("_"):
            self.take()
            base = self.group()
        order = 0
        while self.at("'"):  # \sigma'(t), \tanh''(t): derivatives of the function
            self.take()
            order += 1
            if order > 2:
                raise self.fail("more than two primes on a function")
        if order:
            if not (self.at("(", "[") or (self.at(r"\left") and self.peek().text in "([")):
                raise self.fail(f"a derivative {fn}' needs its argument in brackets")
            return Call(fn, self.call_argument(), base, order)
        if self.at("^"):  # \tanh^{2}(t) = (tanh t)², as SymPy prints it
            self.take()
            exp = self.group()
            if exp in (Neg(Num("1")), Num("-1")):  # tanh⁻¹: the inverse function or 1/tanh?
                raise self.fail(f"{fn}^{{-1}} is ambiguous: write the reciprocal as a fraction")
            if exp == Name("T"):
                raise self.fail(f"a transpose of {fn} before its argument")
            return Power(Call(fn, self.call_argument(start), base), exp)
        return Call(fn, self.call_argument(start), base)

    def extremum(self, word: str) -> object:
        """\\max(0, x) is the ReLU, entrywise; \\min(0, x) = −ReLU(−x). Other maxima and
        minima are refused by name (they are not differentiable where the arguments tie)."""
        if self.at("_"):
            raise UnsupportedError(
                f"\\{word} over an index", "it is not differentiable where two entries tie"
            )
        left = self.at(r"\left")
        if left:
            self.take()
        if not self.at("("):
            raise self.fail(f"\\{word} needs its arguments in brackets, as \\{word}(0, x)")
        self.take()
        a = self.expr()
        self.expect(",")
        b = self.expr()
        if left:
            self.expect(r"\right")
        self.expect(")")
        zero = Num("0")
        if a != zero and b != zero:
            raise UnsupportedError(
                f"\\{word} of two expressions", f"only \\{word}(0, x) is supported (the ReLU)"
            )
        x = b if a == zero else a
        if word == "max":
            return Call("relu", x)
        return Neg(Call("relu", Neg(x)))

    def inner_product(self, left: bool = False) -> object:
        """⟨a, b⟩ = aᵀb of vectors, tr(AᵀB) of matrices (the opening bracket is taken)."""
        a = self.expr()
        self.expect(",")
        b = self.expr()
        if left:
            self.expect(r"\right")
        self.expect(r"\rangle")
        return Inner(a, b)

    def reduction(self, op: str) -> object:
        """\\sum_i, \\sum_{i=1}^n, and over several indices at once \\sum_{i,j},
        \\sum_{ij}, \\sum_{i,j=1}^n (one sum inside the other, the limits on each)."""
        if not self.at("_"):
            raise self.fail(f"\\{op} needs an index, as in \\{op}_i")
        self.take()
        lower = upper = None
        names: list[str] = []
        if self.at("{"):
            self.take()
            while True:
                index = self.take()
                if index.kind != "letter":
                    raise self.fail("a summation index must be a letter")
                names.append(index.text)
                if self.at(","):
                    self.take()
                elif self.tok.kind != "letter":
                    break
            if self.at("="):
                self.take()
                lower = self.expr()
            self.expect("}")
        else:
            index = self.take()
            if index.kind != "letter":
                raise self.fail("a summation index must be a letter")
            names.append(index.text)
        if self.at("^"):
            self.take()
            upper = self.group()
        for name in names:
            if name in self.indices or names.count(name) > 1:
                raise UnsupportedError(
                    f"a sum over {name} inside a sum over {name}", "give each sum its own index"
                )
        self.indices.extend(names)
        body = self.hadamard()
        del self.indices[-len(names) :]
        for k, name in reversed(list(enumerate(names))):
            body = Reduce(op, name, lower, upper, body, joint=k > 0)
        return body


_SPACES_AT_END = re.compile(r"(\s|\\[,;:! ]|\\q?quad)+$")
_COMMAND = re.compile(r"\\([A-Za-z]+)")


def _plain(src: str) -> str:
    """LaTeX source made readable in a one-line message: \\theta → θ, \\log → log."""
    from sympy.printing.pretty.pretty_symbology import greek_unicode

    def word(m: re.Match) -> str:
        w = m.group(1)
        if w in GREEK:
            return greek_unicode.get(w, w)
        return "" if w in ("left", "right") else w

    return _COMMAND.sub(word, src).replace(" ", "")


def _subscriptable(node: object) -> bool:
    """x^2, x^\\top, W^{(2)}: a name under a superscript, which a subscript may follow."""
    while isinstance(node, (Power, Transpose, Inverse, Prime)):
        node = node.base if isinstance(node, Power) else node.arg
    return isinstance(node, Name) and "_" not in node.name.split("^")[0]


def _with_subscript(node: object, parser: Parser) -> object:
    """node with the subscript at the parser's position put on its innermost name."""
    if isinstance(node, Name):
        named = parser.name_with_subscript(node.name)
        return Name(named.name, node.bold) if isinstance(named, Name) else named
    if isinstance(node, Power):
        return Power(_with_subscript(node.base, parser), node.exp)
    if isinstance(node, Transpose):
        return Transpose(_with_subscript(node.arg, parser), node.letter)
    return type(node)(_with_subscript(node.arg, parser))


def parse(text: str) -> object:
    """The syntax tree of `text`; raises `LatexSyntaxError` with a position on bad input."""
    return Parser(text).parse()
