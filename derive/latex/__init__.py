r"""LaTeX input: a function written as in a paper becomes an expression the engine derives.

    parse_latex(r"\frac12\|Ax - b\|_2^2", shapes={"A": ("m", "n")})

Our own tokenizer and recursive-descent parser (lexer.py, parser.py) give a syntax tree;
build.py gives it meaning with the conventions documented in the README, on top of shapes.py
(names, dimensions by unification, shape-checked arithmetic) and sums.py (sums over an index).
No user text ever reaches eval, exec, sympify or parse_expr.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import sympy as sp

from derive.errors import InputError
from derive.latex.build import build
from derive.latex.contract import IndexReading
from derive.latex.lexer import LatexSyntaxError
from derive.latex.parser import Name, parse

__all__ = [
    "IndexReading",
    "LatexSyntaxError",
    "Reading",
    "parse_latex",
    "read_latex",
    "symbol_name",
]

_PLAIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def symbol_name(text: str, what: str = "a name") -> str:
    r"""The name of the symbol `text` writes in LaTeX, as the parser names it: ``\Sigma`` →
    ``Sigma``, ``W_{1}`` → ``W_1``, ``\mathbf{x}`` → ``x``, ``\hat\theta`` → ``theta_hat``.

    A plain name (letters, digits, underscores) is returned as it is; anything that is not one
    symbol raises `derive.InputError`, whose message starts with `what` ("wrt", "a shape").
    """
    if not isinstance(text, str):
        raise InputError(f"{what} must be a string, got {type(text).__name__}")
    if _PLAIN_NAME.fullmatch(text):
        return text
    try:
        tree = parse(text)
    except LatexSyntaxError:
        tree = None
    if not isinstance(tree, Name):
        raise InputError(f"{what} must name one symbol (such as x, W_1 or \\Sigma), got {text!r}")
    return tree.name


@dataclass(frozen=True)
class Reading:
    """What a formula was read as: the expression, for each of its symbols where its kind
    and shape came from ("given", "convention: …" or "inferred: …"), and for a formula
    written with sums over indices, that index form and the cited moves from it to `expr`."""

    expr: sp.Basic
    sources: Mapping[str, str]
    index: IndexReading | None = None


def parse_latex(
    text: str,
    shapes: Mapping[str, tuple] | None = None,
    assume: Mapping[str, str | tuple[str, ...]] | None = None,
) -> sp.Basic:
    """The expression `text` denotes; raises a `derive.InputError` subclass if it is malformed
    (`derive.AmbiguityError` where two conventional readings differ, and
    `derive.UnsupportedError` for a construct the engine has no meaning for)."""
    return read_latex(text, shapes, assume).expr


def read_latex(
    text: str,
    shapes: Mapping[str, tuple] | None = None,
    assume: Mapping[str, str | tuple[str, ...]] | None = None,
) -> Reading:
    """`parse_latex`, with where each symbol's kind and shape came from."""
    if not isinstance(shapes or {}, Mapping) or not isinstance(assume or {}, Mapping):
        raise InputError("shapes and assume map names to shapes and assumption kinds")
    kinds: dict[str, tuple[str, ...]] = {}
    for name, kind in (assume or {}).items():
        kind = (kind,) if isinstance(kind, str) else kind
        if not isinstance(kind, tuple | list) or not all(isinstance(k, str) for k in kind):
            raise InputError(f"the assumption on {name!r} must be a kind or kinds, got {kind!r}")
        key = symbol_name(name, "an assumption")
        kinds[key] = kinds.get(key, ()) + tuple(kind)
    named: dict[str, tuple] = {}
    for name, shape in (shapes or {}).items():
        key = symbol_name(name, "a shape")
        if named.setdefault(key, shape) != shape:
            raise InputError(f"two different shapes are given for {key}")
    try:
        return Reading(*build(parse(text), named, kinds))
    except RecursionError:  # a safety net: the parser bounds nesting at MAX_DEPTH
        raise LatexSyntaxError("the expression is nested too deeply") from None
