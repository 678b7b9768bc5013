"""JSON of a derivation, for tools: every expression as LaTeX and as plain text.

Schema version 2. A document is one object with exactly these keys:

``schema_version``  the integer 2; bumped on any incompatible change (2: remarks became
                    objects that say whether each is checked).
``name``            the derivation's short name (may be "").
``title``           its title.
``goal``            what is derived, in words.
``given``           list of the problem's symbols, each ``{"name", "shape", "assumptions"}``:
                    ``name`` the symbol's name as written in code (``"mu_hat"``); ``shape`` a
                    list of dimensions, each an integer or a dimension name (``[]`` scalar,
                    ``["n"]`` column vector, ``["m", "n"]`` matrix); ``assumptions`` a list of
                    strings (``"symmetric"``, ``"invertible"``, ``"positive"``, ...).
``objective``       the function derived from, as an expression object, or null.
``wrt``             list of the names of the symbols differentiated with respect to.
``steps``           list of steps, in order, each ``{"lhs", "before", "after", "rule",
                    "note", "relation"}``: the step turns ``lhs = before`` into
                    ``lhs = after``; ``rule`` is ``{"id", "name", "source"}`` (the rule
                    applied, its name, its citation); ``note`` a string (may be "");
                    ``relation`` how before and after relate: ``"equal"``, ``"gradient"``
                    (before = tr(afterᵀ dX)), ``"jacobian"`` (before = after · dx, for a
                    matrix X after · vec(dX), vec stacking columns), ``"hessian"`` (before =
                    vec(dX)ᵀ after vec(dX), after symmetric: a Hessian in the vec convention),
                    ``"solve"`` (after makes before vanish), ``"constant"`` (before − after
                    does not depend on the variables), ``"pointwise"`` (the integrands of
                    expectations agree), ``"monte-carlo"`` (the expectations agree, within
                    5 standard errors; for those check items ``max_rel_error`` holds the
                    error in standard errors), ``"integral"`` (∫₀¹ before = after) or
                    ``"constrained"`` (equal where the constraint holds: each variable
                    of the step scaled to unit norm, uᵀu = 1) or ``"symmetric-gradient"``
                    (before = Σ_{i≤j} after_ij dX_ij for a symmetric dX, Cookbook (138)).
``result``          the main result (right side of the first result equation) as an
                    expression object, or null when there are no results.
``results``         list of result equations, each ``{"lhs", "rhs"}`` of expression objects.
``remarks``         list of remarks, each ``{"text", "kind", "checked_by", "source"}``:
                    ``kind`` is ``"checked"`` (``checked_by`` lists the labels of the
                    claims that check its formulas, items of ``check``), ``"stated"``
                    (not checked; ``source`` says where it comes from), ``"prose"`` (no
                    formula) or ``"condition"`` (a hypothesis the result needs);
                    ``source`` is "" and ``checked_by`` empty where they do not apply.
``definitions``     optional: the named shared factors (δ₂ = p − y), each ``{"lhs", "rhs"}``.
``index_results``   optional, for a function written in index notation: the results entry by
                    entry in that notation (∂f/∂zₖ = softmax(z)ₖ − yₖ), each ``{"lhs",
                    "rhs"}`` with free indices; a check item compares each with autodiff.
``check``           null when the derivation was not checked numerically; otherwise
                    ``{"passed", "max_rel_error", "trials", "seed", "items", "failure"}``:
                    ``passed`` a boolean; ``max_rel_error`` a number (null if not finite);
                    ``trials`` and ``seed`` integers; ``items`` a list of
                    ``{"label", "passed", "max_rel_error", "method"}``, one per step or claim
                    checked; ``failure`` a string ("" when passed).

An expression object is ``{"latex": str, "text": str}``: the LaTeX printer's math-mode source
(no delimiters) and the text printer's one-line Unicode form.

`SCHEMA` is the same contract as a JSON Schema (draft 2020-12) document.
"""

from __future__ import annotations

import json
import math
from typing import Any, get_args

import sympy as sp

from derive.model import CheckReport, Derivation, Relation, RemarkKind, Step
from derive.render.latex import latex
from derive.render.text import text

__all__ = ["SCHEMA", "SCHEMA_VERSION", "render", "to_dict"]

SCHEMA_VERSION = 2

_EXPR = {
    "type": "object",
    "properties": {"latex": {"type": "string"}, "text": {"type": "string"}},
    "required": ["latex", "text"],
    "additionalProperties": False,
}
_EXPR_OR_NULL = {"anyOf": [{"$ref": "#/$defs/expr"}, {"type": "null"}]}
_NUMBER_OR_NULL = {"type": ["number", "null"]}

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "derive derivation",
    "type": "object",
    "$defs": {
        "expr": _EXPR,
        "given": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "shape": {"type": "array", "items": {"type": ["integer", "string"]}},
                "assumptions": {"type": "array", "items": {"type": "string"}},
                "source": {"type": "string"},
            },
            "required": ["name", "shape", "assumptions"],
            "additionalProperties": False,
        },
        "rule": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "name": {"type": "string"},
                "source": {"type": "string"},
            },
            "required": ["id", "name", "source"],
            "additionalProperties": False,
        },
        "step": {
            "type": "object",
            "properties": {
                "lhs": {"$ref": "#/$defs/expr"},
                "before": {"$ref": "#/$defs/expr"},
                "after": {"$ref": "#/$defs/expr"},
                "rule": {"$ref": "#/$defs/rule"},
                "note": {"type": "string"},
                "relation": {"enum": list(get_args(Relation))},
            },
            "required": ["lhs", "before", "after", "rule", "note", "relation"],
            "additionalProperties": False,
        },
        "equation": {
            "type": "object",
            "properties": {"lhs": {"$ref": "#/$defs/expr"}, "rhs": {"$ref": "#/$defs/expr"}},
            "required": ["lhs", "rhs"],
            "additionalProperties": False,
        },
        "remark": {
            "type": "object",
            "properties": {
                "text": {"type": "string"},
                "kind": {"enum": list(get_args(RemarkKind))},
                "checked_by": {"type": "array", "items": {"type": "string"}},
                "source": {"type": "string"},
            },
            "required": ["text", "kind", "checked_by", "source"],
            "additionalProperties": False,
        },
        "item": {
            "type": "object",
            "properties": {
                "label": {"type": "string"},
                "passed": {"type": "boolean"},
                "max_rel_error": _NUMBER_OR_NULL,
                "method": {"type": "string"},
            },
            "required": ["label", "passed", "max_rel_error", "method"],
            "additionalProperties": False,
        },
        "check": {
            "type": "object",
            "properties": {
                "passed": {"type": "boolean"},
                "max_rel_error": _NUMBER_OR_NULL,
                "trials": {"type": "integer"},
                "seed": {"type": "integer"},
                "items": {"type": "array", "items": {"$ref": "#/$defs/item"}},
                "failure": {"type": "string"},
            },
            "required": ["passed", "max_rel_error", "trials", "seed", "items", "failure"],
            "additionalProperties": False,
        },
    },
    "properties": {
        "schema_version": {"const": SCHEMA_VERSION},
        "name": {"type": "string"},
        "title": {"type": "string"},
        "goal": {"type": "string"},
        "given": {"type": "array", "items": {"$ref": "#/$defs/given"}},
        "objective": _EXPR_OR_NULL,
        "wrt": {"type": "array", "items": {"type": "string"}},
        "steps": {"type": "array", "items": {"$ref": "#/$defs/step"}},
        "result": _EXPR_OR_NULL,
        "results": {"type": "array", "items": {"$ref": "#/$defs/equation"}},
        "remarks": {"type": "array", "items": {"$ref": "#/$defs/remark"}},
        "definitions": {"type": "array", "items": {"$ref": "#/$defs/equation"}},
        "index_results": {"type": "array", "items": {"$ref": "#/$defs/equation"}},
        "check": {"anyOf": [{"$ref": "#/$defs/check"}, {"type": "null"}]},
    },
    "required": [
        "schema_version",
        "name",
        "title",
        "goal",
        "given",
        "objective",
        "wrt",
        "steps",
        "result",
        "results",
        "remarks",
        "check",
    ],
    "additionalProperties": False,
}


def _expr(e: sp.Basic) -> dict[str, str]:
    return {"latex": latex(e), "text": text(e)}


def _number(x: float) -> float | None:
    # JSON has no NaN or infinity; a non-finite error is reported as null.
    x = float(x)
    return x if math.isfinite(x) else None


def _step(s: Step) -> dict[str, Any]:
    return {
        "lhs": _expr(s.lhs),
        "before": _expr(s.before),
        "after": _expr(s.after),
        "rule": {"id": s.rule.id, "name": s.rule.name, "source": s.rule.source},
        "note": s.note,
        "relation": s.relation,
    }


def _check(c: CheckReport | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "passed": bool(c.passed),
        "max_rel_error": _number(c.max_rel_error),
        "trials": int(c.trials),
        "seed": int(c.seed),
        "items": [
            {
                "label": i.label,
                "passed": bool(i.passed),
                "max_rel_error": _number(i.max_rel_error),
                "method": i.method,
            }
            for i in c.items
        ],
        "failure": c.failure,
    }


def to_dict(derivation: Derivation) -> dict[str, Any]:
    """The derivation as plain data following `SCHEMA` (see the module doc)."""
    d = derivation
    return {
        "schema_version": SCHEMA_VERSION,
        "name": d.name,
        "title": d.title,
        "goal": d.goal,
        "given": [
            {
                "name": g.name,
                "shape": [int(s) if isinstance(s, (int, sp.Integer)) else str(s) for s in g.shape],
                "assumptions": list(g.assumptions),
                **({"source": g.source} if g.source else {}),
            }
            for g in d.given
        ],
        "objective": _expr(d.objective) if d.objective is not None else None,
        "wrt": list(d.wrt),
        "steps": [_step(s) for s in d.steps],
        "result": _expr(d.result) if d.results else None,
        "results": [{"lhs": _expr(lhs), "rhs": _expr(rhs)} for lhs, rhs in d.results],
        "remarks": [
            {"text": r.text, "kind": r.kind, "checked_by": list(r.checked_by), "source": r.source}
            for r in d.remarks
        ],
        **(
            {"definitions": [{"lhs": _expr(s), "rhs": _expr(e)} for s, e, *_ in d.definitions]}
            if d.definitions
            else {}
        ),
        **(
            {"index_results": [{"lhs": _expr(s), "rhs": _expr(e)} for s, e in d.index_results]}
            if d.index_results
            else {}
        ),
        "check": _check(d.verification),
    }


def render(derivation: Derivation) -> str:
    """`to_dict` as JSON text (indent 2, UTF-8 characters kept, no NaN)."""
    return json.dumps(to_dict(derivation), indent=2, ensure_ascii=False, allow_nan=False)
