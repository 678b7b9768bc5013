"""Generated code for a derivation's results: its source, or a callable.

Every distinct result is an output (`derive.codegen.results` names them): a derivation with
one result gives a function returning that result's array; with several, a function
returning a named tuple of them in result order. ``result=`` picks one output instead.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from typing import Any

from derive.arguments import names_used
from derive.codegen.emit import generate, generate_outputs, results_type_name
from derive.codegen.identifiers import identifier, keyword_arguments
from derive.codegen.load import compile_source
from derive.codegen.results import Output, asked, function_name, outputs, select
from derive.errors import UnsupportedError
from derive.evaluate import compile_function as evaluator
from derive.model import Derivation, Given
from derive.notation.text import text

Result = str | int | None


def default_name(d: Derivation) -> str:
    """The name of d's generated function: grad_w, w_hat, mlp_backprop (see `function_name`)."""
    return function_name(d, outputs(d))


def _chosen(d: Derivation, result: Result) -> tuple[tuple[Output, ...], str]:
    """The outputs to compute and the function's name."""
    outs = outputs(d)
    if result is None:
        outs = asked(outs)
        return outs, function_name(d, outs)
    one = select(outs, result)
    return (one,), one.name


def _formula(d: Derivation, outs: tuple[Output, ...]) -> str:
    """The docstring's formulas: the results computed, the definitions, the check."""
    lines = [f"{'    ' * (k > 0)}{text(o.lhs)} = {text(o.rhs)}" for k, o in enumerate(outs)]
    for symbol, definition, *compute in d.definitions:
        line = f"    where {text(symbol)} = {text(definition)}"
        if compute:  # a numeric method (an SVD), not code: its symbols are arguments
            line += ", by a numeric method: its factors are arguments here"
        lines.append(line)
    check = d.verification.summary() if d.verification else "not checked numerically"
    return "\n".join([*lines, "", f"    derive: {check}."])


def derivation_source(
    d: Derivation, backend: str = "numpy", name: str | None = None, result: Result = None
) -> str:
    """Standalone source of d's results (`generate_outputs`), or of the one `result` names
    (`generate`); the function is named by `function_name` unless `name` says otherwise."""
    outs, fn_name = _chosen(d, result)
    fn_name = name or fn_name
    formula = _formula(d, outs)
    if len(outs) == 1:
        return generate(outs[0].expr, d.given, backend=backend, name=fn_name, formula=formula)
    pairs = [(o.name, o.expr) for o in outs]
    return generate_outputs(pairs, d.given, backend=backend, name=fn_name, formula=formula)


def derivation_function(
    d: Derivation, backend: str = "numpy", result: Result = None
) -> Callable[..., Any]:
    """A keyword callable of d's results (or of the one `result` names), built from
    `derivation_source`.

    If the code generator cannot lower a result (an `UnsupportedError`), each result is
    built on its own, and one that cannot be lowered is evaluated node by node by
    `derive.evaluate` instead, which raises if it cannot either.
    """
    outs, fn_name = _chosen(d, result)
    try:
        source = derivation_source(d, backend, result=result)
        return compile_source(source, identifier(fn_name), d.given, backend)
    except UnsupportedError:
        pass
    parts = [_one_output(d, o, backend) for o in outs]
    if len(parts) == 1:
        return parts[0]
    results = namedtuple(results_type_name(identifier(fn_name)), [o.name for o in outs])

    def call(**arrays: Any) -> Any:
        return results(*(part(**arrays) for part in parts))

    call.__name__ = identifier(fn_name)
    call.__doc__ = _formula(d, outs)
    return call


def _one_output(d: Derivation, out: Output, backend: str) -> Callable[..., Any]:
    try:
        source = generate(
            out.expr, d.given, backend=backend, name=out.name, formula=_formula(d, (out,))
        )
        return compile_source(source, identifier(out.name), d.given, backend)
    except UnsupportedError:
        return _evaluated(out, d.given, backend)


def _evaluated(out: Output, given: tuple[Given, ...], backend: str) -> Callable[..., Any]:
    """derive.evaluate's callable of one output, taking the keywords generated code takes."""
    f = evaluator(out.expr, given, backend=backend)
    required = [g.name for g in given if g.name in names_used(out.expr)]

    def call(**arrays: Any) -> Any:
        return f(**keyword_arguments(arrays, given, required))

    call.__name__ = out.name
    call.__doc__ = f.__doc__
    return call
