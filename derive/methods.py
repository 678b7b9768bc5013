"""The convenience methods of `Derivation`, attached by the API layer.

`derive.model` is data under the engine and imports nothing above it; the methods users call
on a derivation (``d.check()``, ``d.to_latex()``, ``d.function()``) need the checker, the code
generator and the printers, which sit above it. As JAX attaches `Array` methods from the
numpy layer, this module sets them on the class when the API is imported (`derive.api`, and
``import derive`` before any public name is used). Each method imports its implementation when
called, so printing a derivation never imports JAX.
"""

from __future__ import annotations

from collections.abc import Callable, Container
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


def function(
    self: Derivation,
    result: str | int | None = None,
    backend: str = "numpy",
    *,
    form: str = "dense",
) -> Callable[..., Any]:
    """A callable of the results, taking the symbols as keyword arrays.

    With one result it returns that result; with several, a named tuple of them in result
    order (MLP backprop: ``grad_W_2, grad_b_2, grad_W_1, grad_b_1``). The gradient that a
    Hessian derivation goes through is not among them: ``derive.hessian(…).function()``
    returns H, and ``d.function("grad_x")`` the gradient. ``result`` picks one:
    ``d.function("W_2")`` returns ∂f/∂W₂ alone; it may be a field name (``"grad_W_2"``), the
    variable of a derivative (``"W_2"``), a result's symbol (``"w_hat"``) or a position.
    Fields are named by one rule (derive.codegen.results): ∂f/∂X is ``grad_X``, ∂²f/∂x∂xᵀ
    ``hessian_x``, a named result its name (``w_hat``, ``KL``), anything else ``result_k``.

    Keywords follow the generated docstring: a symbol's name as a Python identifier
    (``lambda_`` for λ, ``sigma_2`` for σ²; derive.codegen.identifier), or the name itself.
    Vectors are passed as 1-D arrays; each result has its own shape, with column vectors
    returned as 1-D arrays and scalars as 0-d arrays. Built from the generated `source`; a
    result the code generator cannot lower is evaluated node by node (derive.evaluate).

    ``form="hvp"`` gives instead, for a Hessian H with respect to x or X, the Hessian-vector
    product ``hvp(V=…, **symbols)`` = H vec(V) shaped as X, with Kronecker factors applied as
    matrix products, (B ⊗ A) vec(V) = vec(A V Bᵀ), never forming H (derive.codegen.hvp).
    """
    if form == "hvp":
        from derive.codegen.hvp import hvp_function

        return hvp_function(self, backend)
    if form != "dense":
        from derive.errors import InputError

        raise InputError(f"unknown form {form!r}; use 'dense' or 'hvp'")
    from derive.codegen import derivation_function

    return derivation_function(self, backend, result=result)


def source(self: Derivation, backend: str = "numpy", result: str | int | None = None) -> str:
    """Standalone Python source of the results for "numpy" or "jax" (see derive.codegen).

    One function, named for the result (``grad_x`` for ∂f/∂x, ``w_hat`` for ŵ) or, with
    several results, for the derivation (``mlp_backprop``, returning a named tuple); the
    formulas are in its docstring, common subexpressions computed once, solves instead of
    inverses; it needs NumPy or JAX only. ``result`` picks one result, as in `function`.
    """
    from derive.codegen import derivation_source

    return derivation_source(self, backend, result=result)


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
    """The derivation as one KaTeX- and MathJax-safe ``$$\\begin{aligned}…$$`` block."""
    from derive.render.latex import render_math

    return render_math(self)


def _repr_markdown_(self: Derivation) -> str:
    return to_markdown(self)


def _repr_mimebundle_(
    self: Derivation, include: Container[str] | None = None, exclude: Container[str] | None = None
) -> dict[str, str]:
    """What Jupyter, VS Code and GitHub choose from: text/plain (the title, the results and
    the verification line), text/latex (`_repr_latex_`) and text/markdown (`to_markdown`).
    `include` and `exclude` are IPython's MIME-type filters."""
    from derive.render.summary import summary

    makers = {
        "text/plain": summary,
        "text/latex": _repr_latex_,
        "text/markdown": to_markdown,
    }
    return {
        mime: make(self)
        for mime, make in makers.items()
        if (include is None or mime in include) and (exclude is None or mime not in exclude)
    }


def _repr(self: Derivation) -> str:
    """One line: ``<Derivation 'softmax-ce': ∂f/∂z = softmax(z) − y (9 steps, verified)>``."""
    from derive.render.summary import one_line

    return one_line(self)


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
    "_repr_mimebundle_": _repr_mimebundle_,
    "__str__": to_text,
    "__repr__": _repr,
}

for _name, _method in METHODS.items():
    setattr(Derivation, _name, _method)
