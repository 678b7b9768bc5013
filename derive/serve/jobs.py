"""The work a request asks for, as a value (`Job`), and `run`, which a worker process calls.

`run` never raises: it answers (status, JSON text). 200: the document (``form="json"``: what
``derive … --format json`` prints, `Derivation.to_json`) or the page's view of it
(``form="view"``, derive.serve.view). 400: ``{"error": message}`` with the command line's
one-line message for bad input (``derive: error: <message>``, without the prefix). 500: an
internal error, in the command line's words ``internal error (TypeError): …``.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass

from derive.serve.messages import error_body, message

__all__ = ["KINDS", "WARM", "Job", "run"]

#: the derivative kinds of /api/derive and the API function each calls
KINDS = ("gradient", "hessian", "jacobian")

#: what a worker imports before it takes jobs, so a job's time limit is not spent on imports
WARM = (
    "derive.api",
    "derive.collection",
    "derive.likelihood",
    "derive.check",
    "derive.codegen",
    "derive.render.json",
    "derive.render.markdown",
    "derive.serve.view",
    "jax",
    "jax.numpy",
)


@dataclass(frozen=True)
class Job:
    """One request's work. `what`: "derive" (the `kind` derivative of LaTeX `f` with respect
    to `wrt`, with `shapes` and `assume` as ``--shape``/``--assume`` items), "worked" (the
    catalogue entry `name`), "mle" (the family `name`) or "catalog" (the names of both).
    `form`: "json" or "view". Hashable, so equal requests share one answer."""

    what: str
    form: str = "json"
    f: str = ""
    wrt: str = ""
    kind: str = "gradient"
    shapes: tuple[str, ...] = ()
    assume: tuple[str, ...] = ()
    name: str = ""
    check: bool = True


def _derivation(job: Job):
    import derive.api as api
    from derive.collection import worked
    from derive.options import parse_assumptions, parse_shapes

    if job.what == "worked":
        return worked(job.name, check=job.check)
    if job.what == "mle":
        return api.mle(job.name, check=job.check)
    fn = {"gradient": api.gradient, "hessian": api.hessian, "jacobian": api.jacobian}[job.kind]
    return fn(
        job.f,
        job.wrt,
        shapes=parse_shapes(job.shapes),
        assume=parse_assumptions(job.assume),
        check=job.check,
    )


def _catalog() -> str:
    from derive.collection import catalog
    from derive.likelihood import families

    worked = [{"name": name, "title": title} for name, title in catalog()]
    return json.dumps({"worked": worked, "mle": families()}, ensure_ascii=False)


def run(job: Job) -> tuple[int, str]:
    """(status, JSON text) for `job`; see the module docstring. Never raises an Exception."""
    from derive.api import VerificationWarning
    from derive.errors import DeriveError

    try:
        if job.what == "catalog":
            return 200, _catalog()
        with warnings.catch_warnings():  # a failed check is in the answer, not a warning
            warnings.simplefilter("ignore", VerificationWarning)
            d = _derivation(job)
        if job.form == "json":
            return 200, d.to_json()
        from derive.serve.view import view

        stem = job.name or f"{job.kind}-{re.sub(r'[^A-Za-z0-9]+', '', job.wrt) or 'x'}"
        return 200, json.dumps(view(d, stem), ensure_ascii=False)
    except DeriveError as e:
        return 400, error_body(message(e))
    except Exception as e:  # noqa: BLE001 - an internal error is an answer, not a dead worker
        return 500, error_body(message(e))
