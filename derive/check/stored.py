"""Traced check functions kept on disk, so that a new process need not trace them again.

Tracing a check's one JAX function (derive.check.compiled) runs the evaluator over every
request under jax.vmap: measured, 1.5 of the 6.5 s of a cold `derive mle gaussian`. XLA's own
cache (derive.jax_runtime) keeps the compiled code but not the trace. Here the traced function
is kept as a `jax.export` artifact, with the requests it could not trace, under a key that
names everything the trace depends on: each request (kind, expression in full with its
assumptions, parameters, sizes, which input feeds which name), the shapes of the inputs, the
JAX version, and derive's own source (so a changed evaluator never reuses an old trace).
Anything unreadable or stale is ignored and traced afresh; nothing here can change a result.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import pathlib
import tempfile
from typing import Any

import numpy as np
import sympy as sp

from derive.jax_runtime import cache_dir

_FORMAT = 1


@functools.cache
def _source_digest() -> str:
    """A digest of derive's Python source (the evaluator and every rule it may read)."""
    import derive.rules

    h = hashlib.sha256()
    # the rulebook lies outside derive/ in a source checkout, inside it when installed
    roots = {
        pathlib.Path(__file__).resolve().parents[1],
        pathlib.Path(derive.rules.__file__).parent,
    }
    for root in sorted(roots):
        for path in sorted(root.rglob("*.py")):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def _spelled(obj: Any) -> str:
    """`obj` written out in full: SymPy objects by srepr (assumptions included)."""
    if isinstance(obj, sp.Basic):
        return sp.srepr(obj)
    if isinstance(obj, (tuple, list)):
        inner = ", ".join(_spelled(o) for o in obj)
        return f"({inner},)" if isinstance(obj, tuple) else f"[{inner}]"
    if isinstance(obj, (str, int, float, bool, type(None))):
        return repr(obj)
    raise TypeError(f"no stable spelling for {type(obj).__name__}")


def key(static: tuple, arrays: list[np.ndarray]) -> str | None:
    """The file name under which the trace of `static` on arrays shaped as `arrays` is kept;
    None if a part of it has no stable spelling (then it is not kept)."""
    import jax

    try:
        spelled = _spelled(static)
    except TypeError:
        return None
    shapes = repr([(a.shape, str(a.dtype)) for a in arrays])
    h = hashlib.sha256()
    for part in (str(_FORMAT), jax.__version__, _source_digest(), spelled, shapes):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


def _folder() -> pathlib.Path | None:
    path = cache_dir()
    return None if path is None else pathlib.Path(path) / "traced"


def load(name: str | None) -> tuple[Any, frozenset[int]] | None:
    """The exported function and its untraced requests kept under `name`, or None."""
    folder = _folder()
    if name is None or folder is None:
        return None
    try:
        head, _, blob = (folder / name).read_bytes().partition(b"\n")
        untraced = json.loads(head)
        from jax import export

        return export.deserialize(bytearray(blob)), frozenset(int(i) for i in untraced)
    except Exception:  # noqa: BLE001 - missing, partial or from another JAX: trace afresh
        return None


def save(name: str | None, exported: Any, untraced: frozenset[int]) -> None:
    """Keep `exported` under `name` (written whole or not at all; never raises)."""
    folder = _folder()
    if name is None or folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        data = json.dumps(sorted(untraced)).encode() + b"\n" + bytes(exported.serialize())
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".partial-")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, folder / name)
    except Exception:  # noqa: BLE001 - a read-only cache or an unexportable trace: just slower
        return
