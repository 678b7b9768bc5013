"""Tokens of the LaTeX input language: commands, single letters, numbers, punctuation.

Our own tokenizer: latex2sympy2's lexer longest-matches only the commands it knows, so
``\\top`` reads as ``\\to`` + ``p`` and ``\\odot`` as four letters (checked with 1.9.1).
"""

from __future__ import annotations

from dataclasses import dataclass

from derive.errors import InputError

# Kept as they were, with what they now bound measured: at MAX_LENGTH a flat sum or product
# of a thousand terms parses in under 0.1 s; MAX_DEPTH bounds brackets here and every other
# nesting in the parser (about six Python frames a level, well inside the default recursion
# limit of 1000 for the parser, the builder and SymPy's printers). Losses written by hand
# are far shorter and shallower (a two-layer network's loss nests about ten deep).
MAX_LENGTH = 2000  # characters
MAX_DEPTH = 64  # nested groups, function calls, scripts and sums


class LatexSyntaxError(InputError):
    """The text is not LaTeX of the input language; the message says where."""


@dataclass(frozen=True)
class Token:
    kind: str  # "cmd", "letter", "number", "punct", "end"
    text: str
    pos: int
    #: an explicit spacing command (\, \; \quad …) stood just before this token
    spaced: bool = False

    def __str__(self) -> str:
        return "the end of the input" if self.kind == "end" else repr(self.text)


_PUNCT = set("+-*/^_'(){}[]|,=!<>.:;&")
_DIGITS = set("0123456789")
_SPACING = {r"\,", r"\;", r"\:", r"\!", r"\ ", r"\quad", r"\qquad"}


def tokenize(text: str) -> list[Token]:
    """The tokens of `text`; spacing commands and whitespace are dropped."""
    if not isinstance(text, str):
        raise LatexSyntaxError(f"expected LaTeX text, got {type(text).__name__}")
    if not text.strip():
        raise LatexSyntaxError("empty input")
    if len(text) > MAX_LENGTH:
        raise LatexSyntaxError(f"input of {len(text)} characters; the limit is {MAX_LENGTH}")
    out: list[Token] = []
    i, n = 0, len(text)
    depth = 0
    spaced = False
    while i < n:
        c = text[i]
        if c.isspace() or c == "$":
            i += 1
            continue
        if c == "\\":
            j = i + 1
            if j < n and text[j].isalpha():
                while j < n and text[j].isalpha():
                    j += 1
            elif j < n:
                j += 1
            else:
                raise LatexSyntaxError(f"a lone backslash at position {i}")
            word = text[i:j]
            if word in _SPACING:
                spaced = True
            else:
                out.append(Token("cmd", word, i, spaced))
                spaced = False
            i = j
            continue
        if c in _DIGITS or (c == "." and i + 1 < n and text[i + 1] in _DIGITS):
            j = i
            while j < n and (text[j] in _DIGITS or text[j] == "."):
                j += 1
            # str.isdigit would take "²" or "٣"; float() would take "1e5": ASCII only, one dot.
            word = text[i:j].rstrip(".") if text[i:j].count(".") == 1 else text[i:j]
            if word.count(".") > 1:
                raise LatexSyntaxError(f"malformed number {word!r} at position {i}")
            out.append(Token("number", word, i, spaced))
            spaced = False
            i += len(word)
            continue
        if c.isascii() and c.isalpha():
            out.append(Token("letter", c, i, spaced))
            spaced = False
            i += 1
            continue
        if c in _PUNCT:
            if c in "({[":
                depth += 1
                if depth > MAX_DEPTH:
                    raise LatexSyntaxError(f"groups nested deeper than {MAX_DEPTH}")
            elif c in ")}]":
                depth -= 1
            out.append(Token("punct", c, i, spaced))
            spaced = False
            i += 1
            continue
        raise LatexSyntaxError(f"unexpected character {c!r} at position {i}")
    out.append(Token("end", "", n))
    return out
