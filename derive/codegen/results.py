"""A derivation's results as the named outputs of generated code, and picking one by name.

Each distinct result equation ``lhs = rhs`` of a `Derivation` is one output, in result order
(an equation repeated verbatim, as when two routes reach the same Fisher information, is one
output). Its expression is the right side with the named definitions (δ := p − y) written
in; a definition computed by a numeric method (U, Σ, V of an SVD) is not code, so its symbols
stay arguments of the function.

An output's name, which is its field in the returned named tuple, follows one rule:

- ∂f/∂X is ``grad_X``, ∂²f/∂x∂xᵀ ``hessian_x``, ∂g/∂xᵀ ``jacobian_x``;
- a named quantity is its name as a Python identifier (`identifier`): ŵ ``w_hat``, KL ``KL``,
  σ̂² ``sigma_2_hat``, I₁₁ ``I_11``;
- anything else (the equation Su = λu, the density p(θ | D)) is ``result_k``, k its position
  among the derivation's results counted from 1;
- a name an earlier, different result already has gets ``_2``, ``_3``, … appended.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from derive.codegen.identifiers import identifier
from derive.errors import InputError
from derive.expr import GradientOf, HessianOf, JacobianOf
from derive.model import Derivation

_DERIVATIVES = ((GradientOf, "grad"), (HessianOf, "hessian"), (JacobianOf, "jacobian"))


@dataclass(frozen=True)
class Output:
    """One result as code: its field `name`, the equation, and the names that select it."""

    name: str
    lhs: sp.Basic
    rhs: sp.Basic
    expr: sp.Basic  # rhs with the definitions written in
    aliases: tuple[str, ...]
    #: whether the name was read off the result (not the positional result_k)
    named: bool


def result_expression(d: Derivation, rhs: sp.Basic | None = None) -> sp.Basic:
    """A right side of d (default: the main result) with its named definitions written in.

    Definitions are substituted last to first, so one may use an earlier one; a definition
    computed by a numeric method (an entry ``(lhs, rhs, compute)``) is left as its symbols.
    """
    expr = d.result if rhs is None else rhs
    for symbol, definition, *compute in reversed(d.definitions):
        if not compute:
            expr = expr.xreplace({symbol: definition})
    return expr


def _read_name(lhs: sp.Basic) -> tuple[str, tuple[str, ...]] | None:
    """(name, aliases) read off a result's left side, or None if it names nothing."""
    for cls, prefix in _DERIVATIVES:
        if isinstance(lhs, cls):
            var = str(lhs.args[1])
            try:
                return f"{prefix}_{identifier(var)}", (var, identifier(var))
            except InputError:
                return None
    if isinstance(lhs, (sp.Symbol, sp.MatrixSymbol)):
        try:
            return identifier(lhs.name), (lhs.name,)
        except InputError:
            return None
    return None


def outputs(d: Derivation) -> tuple[Output, ...]:
    """The distinct results of d as outputs, in result order, named by the module's rule."""
    out: list[Output] = []
    seen: set[tuple[sp.Basic, sp.Basic]] = set()
    taken: set[str] = set()
    for k, (lhs, rhs) in enumerate(d.results, start=1):
        if (lhs, rhs) in seen:
            continue
        seen.add((lhs, rhs))
        read = _read_name(lhs)
        base, aliases = read if read is not None else (f"result_{k}", ())
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}_{n}"
        taken.add(name)
        expr = result_expression(d, rhs)
        out.append(Output(name, lhs, rhs, expr, tuple(dict.fromkeys((name, *aliases))), bool(read)))
    if not out:
        raise InputError("the derivation has no result to compute")
    return tuple(out)


def asked(outs: tuple[Output, ...]) -> tuple[Output, ...]:
    """The outputs a derivation was asked for: all of them, except a gradient listed after
    the Hessian of the same function and variable, which is the step that led to the Hessian
    (derive.hessian's derivation gives H; its gradient stays reachable by name, grad_x)."""
    hessians = {o.lhs.args for o in outs if isinstance(o.lhs, HessianOf)}
    kept, seen_hessian = [], set()
    for o in outs:
        if isinstance(o.lhs, HessianOf):
            seen_hessian.add(o.lhs.args)
        elif isinstance(o.lhs, GradientOf) and o.lhs.args in hessians & seen_hessian:
            continue
        kept.append(o)
    return tuple(kept)


def select(outs: tuple[Output, ...], result: str | int) -> Output:
    """The output `result` names: its field name, the variable of a derivative ("W_2" for
    ∂f/∂W₂), the symbol of a named result ("w_hat"), or its position in the tuple (from 0).
    A name that fits several outputs, or none, raises `InputError` listing the names."""
    names = ", ".join(o.name for o in outs)
    if isinstance(result, bool) or not isinstance(result, (str, int)):
        raise InputError(f"pick a result by name or position, not {result!r}; the names: {names}")
    if isinstance(result, int):
        if not -len(outs) <= result < len(outs):
            raise InputError(f"no result {result}: there are {len(outs)} ({names})")
        return outs[result]
    exact = [o for o in outs if o.name == result]
    if exact:
        return exact[0]
    fits = [o for o in outs if result in o.aliases]
    if len(fits) == 1:
        return fits[0]
    if fits:
        which = ", ".join(o.name for o in fits)
        raise InputError(f"{result!r} fits several results ({which}); name one of them")
    hint = " (the backend is a keyword: backend='jax')" if result in ("numpy", "jax") else ""
    raise InputError(f"no result named {result!r}{hint}; the results are {names}")


def function_name(d: Derivation, outs: tuple[Output, ...]) -> str:
    """The generated function's name: one output's name (grad_w, w_hat), else the
    derivation's name (mlp_backprop), else the first output's name (hessian_x)."""
    if len(outs) == 1 and outs[0].named:
        return outs[0].name
    if d.name:
        try:
            return identifier(d.name.replace("-", "_"))
        except InputError:
            pass
    return outs[0].name
