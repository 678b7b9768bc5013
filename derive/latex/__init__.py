r"""LaTeX input: a function written as in a paper becomes an expression the engine derives.

    parse_latex(r"\frac12\|Ax - b\|_2^2", shapes={"A": ("m", "n")})

Our own tokenizer and recursive-descent parser (lexer.py, parser.py) give a syntax tree;
build.py gives it meaning with the conventions documented in the README. No user text ever
reaches eval, exec, sympify or parse_expr.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from derive.errors import InputError
from derive.latex.build import build
from derive.latex.lexer import LatexSyntaxError
from derive.latex.parser import parse

__all__ = ["LatexSyntaxError", "parse_latex"]


def parse_latex(
    text: str,
    shapes: Mapping[str, tuple] | None = None,
    assume: Mapping[str, str | tuple[str, ...]] | None = None,
) -> sp.Basic:
    """The expression `text` denotes; raises a `derive.InputError` subclass if it is malformed
    (and `derive.UnsupportedError` for a construct the engine has no meaning for)."""
    if not isinstance(shapes or {}, Mapping) or not isinstance(assume or {}, Mapping):
        raise InputError("shapes and assume map names to shapes and assumption kinds")
    kinds: dict[str, tuple[str, ...]] = {}
    for name, kind in (assume or {}).items():
        kind = (kind,) if isinstance(kind, str) else kind
        if not isinstance(kind, tuple | list) or not all(isinstance(k, str) for k in kind):
            raise InputError(f"the assumption on {name!r} must be a kind or kinds, got {kind!r}")
        kinds[name] = tuple(kind)
    try:
        return build(parse(text), dict(shapes or {}), kinds)
    except RecursionError:  # a safety net: the parser bounds nesting at MAX_DEPTH
        raise LatexSyntaxError("the expression is nested too deeply") from None
