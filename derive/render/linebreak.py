r"""Long LaTeX formulas broken over lines, for documents of a fixed text width.

`width` estimates how wide a formula is typeset (in points, at 10 pt, display style) from
rough Latin Modern metrics; `break_lines` cuts a formula into lines that each fit a width,
as a book would: before the outermost + or − where possible (the operator starts the next
line), then before ⊙, ⊗, ·, ×; only if a line is still too wide, inside brackets, whose
``\left( … \right)`` then become ``\bigl( … \bigr)`` (a ``\left`` cannot end a line).
Nothing inside braces (a fraction, a script, a function's argument) is broken.

The estimate errs on the wide side; tests/test_export.py holds the typeset book to it
(no line more than 10 pt over the text width in the pdflatex log).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

_TOKEN = re.compile(r"\\[A-Za-z]+|\\.|\s+|.", re.S)
_DELIMITER = re.compile(r"\s*(\\[A-Za-z]+|\\.|.)", re.S)

# Functions SymPy prints as \tanh{\left(x \right)}: their braces only group the argument.
_FUNCTIONS = frozenset(
    r"\sin \cos \tan \cot \sec \csc \sinh \cosh \tanh \coth \arcsin \arccos \arctan \log \ln"
    r" \exp \det".split()
)
# Operators a line may start with, in order of preference (+ and − first).
_BREAK_AT = {"+": 0, "-": 0, r"\odot": 1, r"\otimes": 1, r"\cdot": 2, r"\times": 2}
_BINARY = frozenset({"+", "-", r"\pm", r"\mp", r"\odot", r"\otimes", r"\cdot", r"\times"})
_BINARY |= frozenset({r"\circ", r"\oplus", r"\cup", r"\cap", "*", "/"})
_RELATIONS = frozenset({"=", r"\doteq", r"\approx", r"\leq", r"\geq", r"\neq", r"\sim", "<", ">"})
_RELATIONS |= frozenset({r"\propto", r"\equiv", r"\in", r"\mid", r"\to", r"\mapsto"})
# Tokens after which a + or − is unary: nothing to its left to add to.
_OPENERS = frozenset({"", "(", "[", "{", "&", ",", "^", "_"}) | _BINARY | _RELATIONS

# Widths in points at 10 pt in Latin Modern, display style, of each kind of glyph with the
# space TeX puts around it (fitted to the pdflatex widths of the catalogue's formulas).
_WIDTH = {
    "upper": 8.8,
    "lower": 5.0,
    "digit": 5.0,
    "Greek": 8.0,
    "greek": 5.8,
    "upright": 4.6,
    "opspace": 1.0,
    "textchar": 4.9,
    "binary": 12.0,
    "unary": 9.5,
    "relation": 13.4,
    "delimiter": 5.3,
    "frac": 2.4,
    "sqrt": 8.4,
    "other": 5.0,
    ",": 5.0,
    ".": 2.8,
    "'": 2.8,
    r"\top": 10.0,
    r"\prime": 2.8,
    r"\partial": 5.7,
    r"\nabla": 8.4,
    r"\infty": 10.0,
    r"\sum": 17.0,
    r"\prod": 12.5,
    r"\int": 8.4,
    r"\dots": 13.8,
    r"\ldots": 13.4,
    r"\cdots": 13.4,
    r"\ell": 4.2,
    r"\,": 2.3,
    r"\;": 2.8,
    r"\:": 2.2,
    r"\!": -1.7,
    r"\ ": 3.3,
    r"\quad": 10.0,
    r"\qquad": 20.0,
    r"\|": 5.0,
    r"\{": 5.0,
    r"\}": 5.0,
    r"\&": 7.8,
    r"\%": 8.4,
    r"\#": 8.4,
    r"\$": 5.0,
    r"\_": 5.0,
    r"\backslash": 5.0,
    r"\langle": 3.9,
    r"\rangle": 3.9,
    r"\emptyset": 5.0,
    r"\surd": 8.4,
    r"\lVert": 5.0,
    r"\rVert": 5.0,
}
_BIG_OPERATORS = frozenset({r"\sum", r"\prod", r"\int"})
_UPRIGHT_NAMES = _FUNCTIONS | frozenset({r"\max", r"\min", r"\lim", r"\sup", r"\inf", r"\arg"})
_STYLED = frozenset(
    r"\mathbf \mathrm \mathcal \mathbb \mathsf \mathtt \mathfrak \mathit \boldsymbol \hat \bar"
    r" \tilde \check \breve \dot \ddot \vec \widehat \widetilde \overline \underline".split()
)
_TEXT = frozenset({r"\text", r"\textrm", r"\textit", r"\textbf", r"\texttt", r"\mbox"})
_SIZES = frozenset({r"\big", r"\Big", r"\bigg", r"\Bigg"})
_SIZES |= frozenset(s + side for s in tuple(_SIZES) for side in "lrm")


def tokens(tex: str) -> list[str]:
    r"""tex as tokens: a control word or symbol, ``\left(`` with its delimiter, a run of
    spaces, or one character."""
    out: list[str] = []
    i = 0
    while i < len(tex):
        m = _TOKEN.match(tex, i)
        tok = m.group(0)
        i = m.end()
        if tok in (r"\left", r"\right") or tok in _SIZES:
            d = _DELIMITER.match(tex, i)
            if d:
                tok += d.group(1)
                i = d.end()
        out.append(tok)
    return out


@dataclass
class _Cursor:
    toks: Sequence[str]
    i: int = 0

    def peek(self) -> str:
        while self.i < len(self.toks) and self.toks[self.i].isspace():
            self.i += 1
        return self.toks[self.i] if self.i < len(self.toks) else ""

    def take(self) -> str:
        tok = self.peek()
        self.i += 1
        return tok


def _group(c: _Cursor) -> list[str]:
    """The tokens of the next argument: a braced group's inside, or one token."""
    tok = c.take()
    if tok != "{":
        return [tok] if tok else []
    depth, start = 1, c.i
    while c.i < len(c.toks):
        t = c.toks[c.i]
        depth += {"{": 1, "}": -1}.get(t, 0)
        c.i += 1
        if depth == 0:
            return list(c.toks[start : c.i - 1])
    return list(c.toks[start:])


def width(tex: str | Sequence[str]) -> float:
    """The estimated typeset width of LaTeX maths in points (10 pt, display style)."""
    acc: dict[str, float] = {}
    _measure(tokens(tex) if isinstance(tex, str) else tex, 1.0, acc)
    return sum(_WIDTH.get(k, _WIDTH["other"]) * v for k, v in acc.items())


def _add(acc: dict[str, float], key: str, amount: float) -> None:
    acc[key] = acc.get(key, 0.0) + amount


def _measure(toks: Sequence[str], scale: float, acc: dict[str, float]) -> None:
    """Adds to acc, per kind of glyph or space (the keys of _WIDTH), how many there are,
    each counted at its size (a script counts 0.7)."""
    c = _Cursor(toks)
    prev = ""
    while c.peek():
        tok = c.take()
        if prev in _BIG_OPERATORS and tok in ("^", "_") and scale == 1.0:
            _group(c)  # limits stacked above and below ∑: no wider than it
            continue
        _measure_token(tok, c, scale, prev, acc)
        if tok not in ("^", "_") or prev not in _BIG_OPERATORS:
            prev = tok


def _measure_token(tok: str, c: _Cursor, scale: float, prev: str, acc: dict[str, float]) -> None:
    small = max(scale * 0.7, 0.5)
    if tok in ("^", "_"):
        _measure(_group(c), small, acc)
    elif tok == "{":
        c.i -= 1
        _measure(_group(c), scale, acc)
    elif tok == "}":
        pass
    elif tok in (r"rac", r"	frac", r"\dfrac"):
        inner = scale if tok != r"\tfrac" and scale == 1.0 else small
        top, bottom = {}, {}
        _measure(_group(c), inner, top)
        _measure(_group(c), inner, bottom)
        wider = max((top, bottom), key=lambda a: sum(_WIDTH.get(k, 1) * v for k, v in a.items()))
        for k, v in wider.items():
            _add(acc, k, v)
        _add(acc, "frac", scale)
    elif tok == r"\operatorname":
        _add(acc, "upright", scale * len("".join(_group(c))))
        _add(acc, "opspace", scale)
    elif tok in _TEXT:
        _add(acc, "textchar", scale * len("".join(_group(c))))
    elif tok in _STYLED:
        _measure(_group(c), scale, acc)
    elif tok == r"\sqrt":
        _measure(_group(c), scale, acc)
        _add(acc, "sqrt", scale)
    elif tok.startswith((r"\left", r"\right")) or tok in _SIZES or tok[:-1] in _SIZES:
        delim = tok.removeprefix(r"\left").removeprefix(r"\right")
        if delim != ".":
            _add(acc, "delimiter", scale)
    elif tok in _BINARY:
        unary = prev in _OPENERS or prev.startswith(r"\left")
        _add(acc, "unary" if unary else "binary", scale)
    elif tok in _RELATIONS:
        _add(acc, "relation", scale)
    elif tok in _UPRIGHT_NAMES:
        _add(acc, "upright", scale * (len(tok) - 1))
        _add(acc, "opspace", scale)
    elif tok in _WIDTH:
        _add(acc, tok, scale)
    elif tok.startswith("\\"):
        _add(acc, "Greek" if tok[1:2].isupper() else "greek", scale)
    elif tok in "()[]|":
        _add(acc, "delimiter", scale)
    elif tok.isdigit():
        _add(acc, "digit", scale)
    elif tok.isalpha():
        _add(acc, "upper" if tok.isupper() else "lower", scale)
    elif not tok.isspace():
        _add(acc, "other", scale)


@dataclass(frozen=True)
class _Break:
    at: int  # the token the next line starts with
    level: int  # how many \left … \right pairs enclose it
    rank: int  # _BREAK_AT's preference


def _structure(toks: list[str]) -> tuple[list[_Break], list[tuple[int, int]]]:
    """(the break points, the (\\left, \\right) pairs by token index) of toks."""
    breaks: list[_Break] = []
    pairs: list[tuple[int, int]] = []
    depth, open_lefts, prev = 0, [], ""
    for i, tok in enumerate(toks):
        if tok.isspace():
            continue
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
        elif tok.startswith(r"\left"):
            open_lefts.append((i, depth))
        elif tok.startswith(r"\right") and open_lefts:
            j, _ = open_lefts.pop()
            pairs.append((j, i))
        elif tok in _BREAK_AT and depth == 0 and i > 0:
            binary = not (prev in _OPENERS or prev.startswith(r"\left"))
            if binary and all(d == 0 for _, d in open_lefts):
                breaks.append(_Break(i, len(open_lefts), _BREAK_AT[tok]))
        prev = tok
    if open_lefts:  # a \left never closed: nothing after it may be cut
        breaks = [b for b in breaks if b.at < open_lefts[0][0]]
    return breaks, pairs


def _unbrace_functions(toks: list[str]) -> list[str]:
    r"""``\tanh{\left(x\right)}`` as ``\tanh\left(x\right)``, so that its inside may break."""
    out = list(toks)
    i = 0
    while i < len(out):
        if out[i] in _FUNCTIONS and i + 2 < len(out) and out[i + 1] == "{":
            depth, j = 0, i + 1
            while j < len(out):
                depth += {"{": 1, "}": -1}.get(out[j], 0)
                if depth == 0:
                    break
                j += 1
            inner = [t for t in out[i + 2 : j] if not t.isspace()]
            if inner and inner[0].startswith(r"\left") and inner[-1].startswith(r"\right"):
                # one \left … \right group, whole: the braces only grouped it
                del out[j]
                del out[i + 1]
                continue
        i += 1
    return out


def _opened(tok: str, tall: bool) -> str:
    r"""\left( as \bigl( (or \Bigl( around a fraction), \right) as \bigr)."""
    size = r"\Big" if tall else r"\big"
    if tok.startswith(r"\left"):
        delim = tok.removeprefix(r"\left")
        return "" if delim == "." else f"{size}l{delim}"
    delim = tok.removeprefix(r"\right")
    return "" if delim == "." else f"{size}r{delim}"


def break_lines(tex: str, first: float, rest: float | None = None) -> list[str]:
    r"""tex cut into lines: the first at most `first` points wide, the others `rest` (default
    `first`); each later line starts with the operator it was cut before. A formula that fits
    comes back whole; one that cannot be cut enough comes back cut as far as it can be."""
    rest = first if rest is None else rest
    if width(tex) <= first:
        return [tex]
    toks = _unbrace_functions(tokens(tex))
    breaks, pairs = _structure(toks)
    widths = {k: width(toks[:k]) for k in {0, len(toks), *(b.at for b in breaks)}}

    def span(a: int, b: int) -> float:
        return widths[b] - widths[a]

    chosen: list[int] = []
    for deepest in range(max((b.level for b in breaks), default=0) + 1):
        chosen, fits = _greedy(
            [b for b in breaks if b.level <= deepest], span, len(toks), first, rest
        )
        if fits:
            break
    if not chosen:
        return [tex]
    opened = {
        k for left, right in pairs if any(left < at < right for at in chosen) for k in (left, right)
    }
    tall = {k: _is_tall(toks[left + 1 : right]) for left, right in pairs for k in (left, right)}
    text = [_opened(t, tall[k]) if k in opened else t for k, t in enumerate(toks)]
    cuts = [0, *chosen, len(toks)]
    lines = ["".join(text[a:b]).strip() for a, b in zip(cuts, cuts[1:], strict=False)]
    return [lines[0]] + ["{} " + line for line in lines[1:]]


def _greedy(
    breaks: list[_Break], span: Callable[[int, int], float], end: int, first: float, rest: float
) -> tuple[list[int], bool]:
    """Where to cut, filling each line as far as it fits: at the shallowest level that fills
    it at least half, else as far as any break fits, else (too wide whatever we do) at the
    first break. Returns the cuts and whether every line fits."""
    chosen: list[int] = []
    start, limit, fits = 0, first, True
    while span(start, end) > limit:
        later = [b for b in breaks if b.at > start]
        if not later:
            return chosen, False
        fitting = [b for b in later if span(start, b.at) <= limit]
        if not fitting:
            pick, fits = later[0], False
        else:
            pick = max(fitting, key=lambda b: b.at)
            for level in sorted({b.level for b in fitting}):
                shallow = [b for b in fitting if b.level <= level]
                best = max(shallow, key=lambda b: (span(start, b.at) >= 0.5 * limit, -b.rank, b.at))
                if span(start, best.at) >= 0.5 * limit:
                    pick = best
                    break
        chosen.append(pick.at)
        start, limit = pick.at, rest
    return chosen, fits


def _is_tall(toks: Sequence[str]) -> bool:
    return any(t in (r"\frac", r"\sum", r"\prod", r"\int", r"\dfrac") for t in toks)
