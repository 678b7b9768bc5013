"""A request's query string read into a `Job`, or refused with a one-line reason.

Only the text's size is judged here, in the server process: the LaTeX, the shapes and the
assumptions are read by the worker (derive.options, derive.latex), so that nothing a user
types is interpreted outside a process that can be killed. Nothing is evaluated.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from derive.serve.jobs import KINDS, Job

__all__ = ["MAX_QUERY", "BadRequest", "derive_job", "view_job"]

#: the longest query string read, in bytes (the LaTeX reader's own limit is 2000 characters,
#: which percent-encoding may triple)
MAX_QUERY = 16384
#: the most --shape or --assume items, and the longest name, in characters
MAX_ITEMS, MAX_NAME = 32, 200

_DERIVE = {"f", "wrt", "kind", "shape", "assume", "check"}


class BadRequest(ValueError):
    """A request refused before any work: answered 400 with this message."""


def _fields(query: str, allowed: set[str]) -> dict[str, list[str]]:
    if len(query.encode()) > MAX_QUERY:
        raise BadRequest(f"the query is longer than {MAX_QUERY} bytes")
    try:
        fields = parse_qs(query, keep_blank_values=True, max_num_fields=2 * MAX_ITEMS + 8)
    except ValueError as e:  # too many fields
        raise BadRequest(f"malformed query: {e}") from None
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise BadRequest(
            f"unknown parameter {unknown[0]!r}; the parameters are {', '.join(sorted(allowed))}"
        )
    for key, values in fields.items():
        if key not in ("shape", "assume") and len(values) > 1:
            raise BadRequest(f"the parameter {key!r} is given {len(values)} times")
        if len(values) > MAX_ITEMS:
            raise BadRequest(f"more than {MAX_ITEMS} {key} items")
    return fields


def _one(fields: dict[str, list[str]], key: str, default: str | None = None) -> str:
    value = fields.get(key, [default])[0]
    if value is None or not value.strip():
        if default is not None:
            return default
        raise BadRequest(f"the parameter {key!r} is required")
    return value


def _check(fields: dict[str, list[str]]) -> bool:
    value = _one(fields, "check", "1").strip().lower()
    if value not in ("0", "1", "true", "false", "yes", "no"):
        raise BadRequest(f"check takes 1 or 0, got {value!r}")
    return value in ("1", "true", "yes")


def derive_job(query: str, form: str = "json") -> Job:
    """/api/derive?f=…&wrt=…&kind=gradient|hessian|jacobian&shape=A=m,n&assume=S=spd&check=1
    (shape and assume repeatable; kind defaults to gradient, check to 1)."""
    fields = _fields(query, _DERIVE)
    kind = _one(fields, "kind", "gradient").strip()
    if kind not in KINDS:
        raise BadRequest(f"kind is one of {', '.join(KINDS)}, got {kind!r}")
    wrt = _one(fields, "wrt").strip()
    if len(wrt) > MAX_NAME:
        raise BadRequest(f"wrt is longer than {MAX_NAME} characters")
    return Job(
        "derive",
        form,
        f=_one(fields, "f"),
        wrt=wrt,
        kind=kind,
        shapes=tuple(s for s in fields.get("shape", []) if s.strip()),
        assume=tuple(a for a in fields.get("assume", []) if a.strip()),
        check=_check(fields),
    )


def view_job(query: str) -> Job:
    """/api/view takes the parameters of /api/derive, or worked=NAME, or mle=FAMILY."""
    fields = _fields(query, _DERIVE | {"worked", "mle"})
    for what in ("worked", "mle"):
        if what in fields:
            if len(fields) > 1 + ("check" in fields):
                raise BadRequest(f"{what}= takes no other parameter but check")
            name = _one(fields, what).strip()
            if len(name) > MAX_NAME:
                raise BadRequest(f"{what} is longer than {MAX_NAME} characters")
            return Job(what, "view", name=name, check=_check(fields))
    return derive_job(query, "view")
