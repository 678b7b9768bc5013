r"""LaTeX input: a function written as in a paper becomes an expression the engine derives.

    parse_latex(r"\frac12\|Ax - b\|_2^2", shapes={"A": ("m", "n")})

Our own tokenizer and recursive-descent parser (lexer.py, parser.py) give a syntax tree;
build.py gives it meaning with the conventions documented in the README. No user text ever
reaches eval, exec, sympify or parse_expr.
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy as sp

from derive.latex.build import build
from derive.latex.lexer import LatexSyntaxError
from derive.latex.parser import parse

__all__ = ["LatexSyntaxError", "parse_latex"]


def parse_latex(
    text: str,
    shapes: Mapping[str, tuple] | None = None,
    assume: Mapping[str, str | tuple[str, ...]] | None = None,
) -> sp.Basic:
    """The expression `text` denotes; raises a `derive.InputError` subclass if it is malformed."""
    kinds = {k: ((v,) if isinstance(v, str) else tuple(v)) for k, v in (assume or {}).items()}
    return build(parse(text), dict(shapes or {}), kinds)
