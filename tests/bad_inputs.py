"""Malformed and hostile inputs: each must fail with one clear line, exit code 2, no traceback.

One list shared by tests/test_bad_input.py (exit code, one stderr line, a `DeriveError` from the
library) and tests/benchmarks/bad_input.py (the wall-clock time of each through the CLI).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Bad:
    """One bad input: `latex` differentiated with respect to `wrt` under `shapes`/`assume`.

    The CLI runs ``derive grad LATEX --wrt WRT --shape … --assume …`` (or `argv`, when the bad
    part is an option the library has no spelling for); the library runs
    ``derive.gradient(latex, wrt, shapes=…, assume=…, check=False)``. `needle` is a word the
    one-line message must contain.
    """

    id: str
    latex: str
    wrt: str = "x"
    shapes: dict = field(default_factory=dict)
    assume: dict = field(default_factory=dict)
    needle: str = ""
    argv: tuple[str, ...] | None = None  # the CLI arguments, when not derived from the above
    cli: bool = True  # False: the text cannot be a command-line argument (a NUL byte)
    library: bool = True  # False: only the CLI can say it (a malformed --shape)

    def cli_args(self) -> list[str]:
        if self.argv is not None:
            return list(self.argv)
        args = ["grad", "--wrt", self.wrt, "--no-check"]
        for name, shape in self.shapes.items():
            args += ["--shape", f"{name}={','.join(map(str, shape))}"]
        for name, kinds in self.assume.items():
            for kind in (kinds,) if isinstance(kinds, str) else kinds:
                args += ["--assume", f"{name}={kind}"]
        return [*args, "--", self.latex]  # "--": LaTeX may start with a minus sign


_AX = {"A": ("m", "n")}

CORPUS: list[Bad] = [
    # --- empty and trivially broken --------------------------------------------------------
    Bad("empty", "", needle="empty"),
    Bad("whitespace", " \t \n ", needle="empty"),
    Bad("dollars-only", "$$"),
    Bad("lone-backslash", "\\", needle="backslash"),
    # --- unbalanced braces and delimiters --------------------------------------------------
    Bad("open-brace", r"\frac{x^\top x}{2", needle="expected"),
    Bad("close-brace", r"x^\top x}", needle="unmatched"),
    Bad("open-paren", r"(x^\top x", needle="expected"),
    Bad("unmatched-left", r"\left( x^\top x", needle=r"\right"),
    Bad("right-without-left", r"x^\top x \right)", needle=r"without \left"),
    Bad("open-norm", r"\|x", needle="expected"),
    # --- scripts ---------------------------------------------------------------------------
    Bad("caret-no-exponent", r"x^\top x^", needle="end of the input"),
    Bad("double-caret", r"x^^2"),
    Bad("double-superscript", r"x^1^2", needle="double superscript"),
    Bad("underscore-alone", "_"),
    Bad("subscript-missing", "x_", needle="missing"),
    # --- commands with missing or bad arguments --------------------------------------------
    Bad("frac-one-arg", r"\frac{a}", needle="end of the input"),
    Bad("frac-no-args", r"\frac", needle="end of the input"),
    Bad("frac-empty-denominator", r"\frac{1}{}", needle="unexpected"),
    Bad("sqrt-empty", r"\sqrt{}", needle="unexpected"),
    Bad("operatorname-unknown", r"\operatorname{foo}(x)", needle="unknown function"),
    Bad("mathbb-R", r"\mathbb{R}", needle=r"\mathbb{R}"),
    Bad("unknown-command", r"\foo x", needle="unknown command"),
    # --- LaTeX that is not mathematics (and must never be executed) ------------------------
    Bad("input-passwd", r"\input{/etc/passwd}", needle="unknown command"),
    Bad("def", r"\def\x{1} x", needle="unknown command"),
    Bad("newcommand", r"\newcommand{\x}{1} x", needle="unknown command"),
    Bad("begin-document", r"\begin{document} x \end{document}", needle="unknown command"),
    # --- Python and shell code -------------------------------------------------------------
    Bad("python-import", "__import__('os').system('true')"),
    Bad("shell-semicolon", "x; rm -rf /", needle="unexpected"),
    Bad("shell-backticks", "`touch /tmp/derive-pwned`", needle="unexpected character"),
    Bad("shell-subst", "$(touch /tmp/derive-pwned)", needle="ambiguous"),
    # --- characters ------------------------------------------------------------------------
    Bad("non-ascii-letter", "é^\\top é", needle="unexpected character"),
    Bad("rtl-override", "\u202ex^\\top x", needle="unexpected character"),
    Bad("bell", "x^\\top x\x07", needle="unexpected character"),
    Bad("nul-byte", "x^\\top x\x00", needle="unexpected character", cli=False),
    # --- size and depth --------------------------------------------------------------------
    Bad("100kB", "x+" * 51_200, needle="limit"),
    Bad("very-long-name", "\\mathrm{" + "a" * 5000 + "}", needle="limit"),
    Bad("nested-1000", "(" * 1000 + "x" + ")" * 1000, needle="limit"),
    Bad("nested-2000-parens", "(" * 2000 + r"x^\top x" + ")" * 2000, needle="limit"),
    Bad("nested-braces-100", "{" * 100 + r"x^\top x" + "}" * 100, needle="nested deeper"),
    Bad("nested-functions-300", r"\log" * 300 + r" x^\top x", needle="nested deeper"),
    Bad("primes-1500", "x" + "'" * 1500, needle="nested superscripts"),
    Bad("minus-1900", "-" * 1900 + "x", needle="scalar"),
    Bad("long-name-1900", r"\mathrm{" + "a" * 1900 + "}", needle="scalar"),
    Bad("huge-power", r"x^\top x \cdot 10^{10^{10}}", needle="digits"),
    # --- meaning: shapes, names, undefined values ------------------------------------------
    Bad("shape-mismatch-Ax+y", r"A x + y", shapes={**_AX, "y": ("n",)}, needle="differ"),
    Bad("shape-mismatch-product", r"x^\top A y", shapes={**_AX, "x": ("n",)}, needle="conform"),
    Bad("not-scalar", r"A x", needle="scalar function"),
    Bad("wrt-missing", r"x^\top x", wrt="q", needle="does not depend on 'q'"),
    Bad("undefined-function", r"f(x)", needle="undefined function"),
    Bad("trace-of-vector", r"\operatorname{tr}(x)", needle="square"),
    Bad("vector-power", r"x^2", needle="power of the vector"),
    Bad("matrix-plus-scalar", r"\operatorname{tr}(A + 1)", wrt="A", needle="cannot add"),
    Bad("division-by-zero", r"\frac{x^\top x}{0}", needle="division by zero"),
    Bad("log-zero", r"\log(x^\top x) + \log 0", needle="undefined"),
    # --- non-differentiable -----------------------------------------------------------------
    Bad("sign-of-scalar", r"\operatorname{sign}(x^\top x)", needle="sign"),
    Bad("max", r"\max(x)", needle="expected ','"),
    Bad("max-of-two", r"\max(x^\top x, 1)", needle="only \\max(0, x)"),
    Bad("max-over-index", r"\max_i x_i", needle="not differentiable"),
    Bad("relu-derivative-again", r"\operatorname{ReLU}'(x^\top x)", needle="step(xᵀx)"),
    Bad("relu-second-derivative", r"\operatorname{ReLU}''(x^\top x)", needle="not a function"),
    # --- options -------------------------------------------------------------------------------
    Bad(
        "shape-three-dims",
        r"x^\top A x",
        argv=("grad", r"x^\top A x", "--wrt", "x", "--shape", "A=m,n,k"),
        shapes={"A": ("m", "n", "k")},
        needle="two dimensions",
    ),
    Bad(
        "shape-no-name",
        r"x^\top x",
        argv=("grad", r"x^\top x", "--wrt", "x", "--shape", "=n"),
        shapes={"": ("n",)},
        needle="shape",
    ),
    Bad(
        "shape-no-equals",
        r"x^\top x",
        argv=("grad", r"x^\top x", "--wrt", "x", "--shape", "A"),
        shapes={"A": "n"},
        needle="shape",
    ),
    Bad(
        "shape-bad-dimension",
        r"x^\top x",
        argv=("grad", r"x^\top x", "--wrt", "x", "--shape", "x=n;rm"),
        shapes={"x": ("n;rm",)},
        needle="dimension",
    ),
    Bad("assume-unknown", r"x^\top S x", assume={"S": "round"}, needle="unknown assumption"),
    Bad("wrt-not-a-name", r"x^\top x", wrt=r"x^2", needle="wrt must name one symbol"),
    Bad(
        "assume-not-a-name",
        r"x^\top S x",
        assume={r"S^{-1}": "spd"},
        needle="must name one symbol",
    ),
    Bad("wrt-missing-option", "x^\\top x", argv=("grad", r"x^\top x"), library=False),
    Bad(
        "format-unknown",
        "",
        argv=("grad", r"x^\top x", "--wrt", "x", "--format", "pdf"),
        library=False,
        needle="invalid choice",
    ),  # fmt: skip
    Bad("option-injection", "", argv=("grad", "--wrt", "x", "--", "--shape"), library=False),
]

# More of the same kinds, checked through the library only: each CLI run costs a second of
# interpreter start-up and imports, and CORPUS already has every kind through the CLI.
MORE: list[Bad] = [
    Bad("double-backslash", r"\\", needle="unknown command"),
    Bad("close-paren", r"x^\top x)", needle="unmatched"),
    Bad("mismatched-brackets", r"(x^\top x]", needle="expected"),
    Bad("left-right-mismatch", r"\left( x^\top x \right]", needle="expected"),
    Bad("left-dot", r"\left. x^\top x \right|", needle="delimiter"),
    Bad("norm-p3", r"\|x\|_3", needle="norm subscript"),
    Bad("open-bars", r"|x^\top x", needle="expected"),
    Bad("subscript-empty", "x_{}", needle="subscript"),
    Bad("subscript-expression", r"x_{1+2}^\top x", needle="subscript"),
    Bad("hadamard-power-unbraced", r"x^\circ 2", needle="braces"),
    Bad("sqrt-no-arg", r"\sqrt", needle="end of the input"),
    Bad("sqrt-index", r"\sqrt[3]{x^\top x}", needle=r"\sqrt[n]"),
    Bad("operatorname-empty", r"\operatorname{}(x)", needle="unknown function"),
    Bad("operatorname-bare", r"\operatorname", needle="missing"),
    Bad("mathbf-bare", r"\mathbf", needle="missing"),
    Bad("mathbf-expression", r"\mathbf{x^2}", needle="unsupported argument"),
    Bad("hat-bare", r"\hat", needle="missing"),
    Bad("sum-no-index", r"\sum x_i", needle="index"),
    Bad("sum-no-body", r"\sum_i", needle="end of the input"),
    Bad("sum-from-2", r"\sum_{i=2}^{n} x_i", needle="start at 1 or 0"),
    Bad("index-outside-sum", r"\sum_i x_i + x_i", needle="scalar"),
    Bad("include", r"\include{x}", needle="unknown command"),
    Bad("write18", r"\immediate\write18{touch /tmp/derive-pwned}", needle="unknown command"),
    Bad("catcode", r"\catcode`\^=11 x", needle="unexpected character"),
    Bad("python-eval", "eval('1+1')", needle="unexpected"),
    Bad("python-lambda", "lambda: 0", needle="unexpected"),
    Bad("python-dunder", "x.__class__.__mro__", needle="unexpected"),
    Bad("shell-pipe", "x | cat /etc/passwd", needle="ambiguous"),
    Bad("fullwidth-letter", "ｘ^\\top ｘ", needle="unexpected character"),
    Bad("math-italic-letter", "𝑥^\\top 𝑥", needle="unexpected character"),
    Bad("superscript-two", "x²", needle="unexpected character"),
    Bad("escape", "x^\\top x\x1b[31m", needle="unexpected character"),
    Bad("malformed-number", r"1.2.3 x^\top x", needle="malformed number"),
    Bad("nested-sqrt-70", r"\sqrt{" * 70 + r"x^\top x" + "}" * 70, needle="nested deeper"),
    Bad("huge-negative-power", r"x^\top x \cdot 2^{-10^{10}}", needle="digits"),
    Bad("shape-mismatch-sum", r"x^\top (A x + y)", shapes={**_AX, "y": ("n",)}, needle="differ"),
    Bad("shape-conflict", r"x^\top x", shapes={"x": ("n", "n", "n")}, needle="two dimensions"),
    Bad("vector-as-scalar", r"c x^\top x", shapes={"c": ("m",)}, needle="scalar"),
    Bad("wrt-dimension", r"x^\top x", wrt="n", shapes={"x": ("n",)}, needle="does not depend"),
    Bad("undefined-function-left", r"g\left(x^\top x\right)", needle="undefined function"),
    Bad("inverse-of-vector", r"x^{-1}", needle="square"),
    Bad("log-base-one", r"\log_1(x^\top x)", needle="base 1"),
    Bad("zero-inverse", r"x^\top x \cdot 0^{-1}", needle="division by zero"),
    Bad("floor", r"\lfloor x^\top x \rfloor", needle="unknown command"),
    Bad("leaky-relu", r"\mathbf{1}^\top \operatorname{LeakyReLU}(x)", needle="unknown function"),
    Bad("assume-absent", r"x^\top x", assume={"S": "spd"}, needle="does not occur"),
    Bad("assume-spd-vector", r"x^\top x", assume={"x": "spd"}, needle="not square"),
]
