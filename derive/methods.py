"""The convenience methods of `Derivation`, attached by the API layer.

`derive.model` is data under the engine and imports nothing above it; the methods users call
on a derivation (``d.check()``, ``d.to_latex()``, ``d.function()``) need the checker, the code
generator and the printers, which sit above it. As JAX attaches `Array` methods from the
numpy layer, this module sets them on the class when the API is imported (`derive.api`, and
``import derive`` before any public name is used). Each method imports its implementation when
called, so printing a derivation never imports JAX.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from derive.model import CheckReport, Derivation


def check(self: Derivation, trials: int = 5, seed: int = 0) -> CheckReport:
    """Verify every step and claim numerically against JAX; returns the report."""
    from derive.check import check_derivation

    return check_derivation(self, trials=trials, seed=seed)


def verified(self: Derivation, trials: int = 5, seed: int = 0) -> Derivation:
    """This derivation with `verification` filled in by `check`."""
    return replace(self, verification=check(self, trials=trials, seed=seed))


def function(self: Derivation, backend: str = "numpy") -> Callable[..., Any]:
    """A callable of the result taking the symbols as keyword arrays.

    Vectors are passed as 1-D arrays; the return value has the result's shape, with column
    vectors returned as 1-D arrays and scalars as 0-d arrays. Built from the generated
    `source`; a result the code generator cannot lower is evaluated node by node
    (derive.evaluate) instead.
    """
    from derive.codegen import derivation_function

    return derivation_function(self, backend)


def source(self: Derivation, backend: str = "numpy") -> str:
    """Standalone Python source of the result for "numpy" or "jax" (see derive.codegen).

    One function, ``grad_x(...)`` for ∂f/∂x, with the formula in its docstring, common
    subexpressions computed once, solves instead of inverses; it needs NumPy or JAX only.
    """
    from derive.codegen import derivation_source

    return derivation_source(self, backend)


def to_latex(self: Derivation, standalone: bool = False) -> str:
    """The derivation as LaTeX: a fragment, or with standalone=True a document for pdflatex."""
    from derive.render.latex import render

    return render(self, standalone=standalone)


def to_markdown(self: Derivation) -> str:
    """The derivation as Markdown with $…$ math (GitHub, Jupyter)."""
    from derive.render.markdown import render

    return render(self)


def to_json(self: Derivation) -> str:
    """The derivation as JSON (schema version 1, `derive.render.json.SCHEMA`)."""
    from derive.render.json import render

    return render(self)


def to_text(self: Derivation) -> str:
    """The derivation as terminal text."""
    from derive.render.text import render

    return render(self)


def _repr_latex_(self: Derivation) -> str:
    from derive.render.latex import render_math

    return render_math(self)


def _repr_markdown_(self: Derivation) -> str:
    return to_markdown(self)


METHODS: dict[str, Callable[..., Any]] = {
    "check": check,
    "verified": verified,
    "function": function,
    "source": source,
    "to_latex": to_latex,
    "to_markdown": to_markdown,
    "to_json": to_json,
    "to_text": to_text,
    "_repr_latex_": _repr_latex_,
    "_repr_markdown_": _repr_markdown_,
    "__str__": to_text,
}

for _name, _method in METHODS.items():
    setattr(Derivation, _name, _method)
