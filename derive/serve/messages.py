"""An error as the command line reports it, in one line, and as the server's JSON body."""

from __future__ import annotations

import json

from derive.errors import DeriveError

__all__ = ["error_body", "message"]


def message(e: BaseException) -> str:
    """derive.cli.main's one-line report of `e` without its "derive: " prefix: the error's
    first line for bad input, ``internal error (TypeError): …`` for a bug of ours."""
    msg = str(e).splitlines()[0] if str(e) else type(e).__name__
    return msg if isinstance(e, DeriveError) else f"internal error ({type(e).__name__}): {msg}"


def error_body(msg: str) -> str:
    """The JSON body of a refusal: ``{"error": msg}``."""
    return json.dumps({"error": msg}, ensure_ascii=False)
