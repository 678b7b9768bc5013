"""Generated code for a derivation's main result: its source, or a callable."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sympy as sp

from derive.codegen.emit import generate
from derive.codegen.identifiers import identifier
from derive.codegen.load import compile_function
from derive.errors import UnsupportedError
from derive.evaluate import compile_function as evaluator
from derive.expr import GradientOf, HessianOf, JacobianOf
from derive.model import Derivation
from derive.notation.text import text


def result_expression(d: Derivation) -> sp.Basic:
    """The derivation's main result with its named definitions (δ := p − y) written in."""
    expr = d.result
    for symbol, definition in reversed(d.definitions):
        expr = expr.xreplace({symbol: definition})
    return expr


def default_name(d: Derivation) -> str:
    """grad_w, hessian_w, jacobian_x for derivative results; the result's symbol otherwise."""
    lhs = d.results[0][0]
    for cls, prefix in ((GradientOf, "grad"), (HessianOf, "hessian"), (JacobianOf, "jacobian")):
        if isinstance(lhs, cls):
            return f"{prefix}_{identifier(str(lhs.args[1]))}"
    if isinstance(lhs, (sp.Symbol, sp.MatrixSymbol)):
        return identifier(lhs.name)
    return "result"


def _formula(d: Derivation) -> str:
    lhs, rhs = d.results[0]
    lines = [f"{text(lhs)} = {text(rhs)}"]
    lines += [f"    where {text(s)} = {text(e)}" for s, e in d.definitions]
    check = d.verification.summary() if d.verification else "not checked numerically"
    return "\n".join([*lines, "", f"    derive: {check}."])


def derivation_source(d: Derivation, backend: str = "numpy", name: str | None = None) -> str:
    """`generate` for a derivation's main result, named by `default_name` unless told."""
    return generate(
        result_expression(d),
        d.given,
        backend=backend,
        name=name or default_name(d),
        formula=_formula(d),
    )


def derivation_function(d: Derivation, backend: str = "numpy") -> Callable[..., Any]:
    """`compile_function` for a derivation's main result.

    A result the code generator cannot lower (an `UnsupportedError`) is evaluated node by
    node by `derive.evaluate` instead, which raises if it cannot either.
    """
    expr = result_expression(d)
    try:
        return compile_function(
            expr, d.given, backend=backend, name=default_name(d), formula=_formula(d)
        )
    except UnsupportedError:
        return evaluator(expr, d.given, backend=backend)
