"""Importing generated source from a cached file, and the callables built on it."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import tempfile
from collections.abc import Callable
from typing import Any

import numpy as np
import sympy as sp

from derive.arguments import check_argument_sizes
from derive.codegen.emit import generate
from derive.codegen.identifiers import identifier, keyword_arguments
from derive.errors import InputError
from derive.model import Given


def _cache_dir() -> str:
    """A private directory for generated modules: ~/.cache/derive/codegen, else a temp dir."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    path = os.path.join(base, "derive", "codegen")
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        if os.access(path, os.W_OK):
            return path
    except OSError:
        pass
    return tempfile.mkdtemp(prefix="derive-codegen-")


def load_function(source: str, name: str) -> Callable[..., Any]:
    """The function `name` of a generated module, imported from a file by importlib.

    The file is named by the SHA-256 of the source and read back before it is imported, so a
    stale or altered file is rewritten rather than run.
    """
    digest = hashlib.sha256(source.encode("utf-8")).hexdigest()[:24]
    path = os.path.join(_cache_dir(), f"derive_{digest}.py")
    try:
        with open(path, encoding="utf-8") as fh:
            current = fh.read()
    except OSError:
        current = None
    if current != source:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(source)
        os.replace(tmp, path)
    spec = importlib.util.spec_from_file_location(f"derive_generated_{digest}", path)
    if spec is None or spec.loader is None:  # pragma: no cover - a .py path always has one
        raise InputError(f"cannot import the generated module {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def compile_function(
    expr: sp.Basic,
    given: tuple[Given, ...],
    backend: str = "numpy",
    name: str = "f",
    formula: str | None = None,
) -> Callable[..., Any]:
    """A callable ``f(**arrays)`` of `expr` built from generated source (see `generate`).

    Keyword arguments are the given symbols, named as the docstring says (`identifier`:
    ``lambda_`` for λ; the symbol's own name is accepted too); unknown or missing names and
    inconsistent sizes raise `InputError` naming the symbol, as `derive.evaluate` does.
    """
    source = generate(expr, given, backend=backend, name=name, formula=formula)
    return compile_source(source, identifier(name), given, backend)


def compile_source(
    source: str, name: str, given: tuple[Given, ...], backend: str = "numpy"
) -> Callable[..., Any]:
    """The function `name` of generated `source` as a keyword callable (see `compile_function`).

    Its result is returned as the generated function returns it (an array, or a named tuple
    of arrays), as NumPy arrays for the "numpy" backend. ``.source`` holds the source.
    """
    fn = load_function(source, name)
    params = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    by_ident = {identifier(g.name): g for g in given}
    by_name = {g.name: g for g in given}
    order = [by_ident[p].name for p in params]

    def call(**arrays: Any) -> Any:
        arrays = keyword_arguments(arrays, given, order)
        check_argument_sizes(arrays, by_name)
        out = fn(*(arrays[n] for n in order))
        if backend != "numpy":
            return out
        if isinstance(out, tuple):
            return out._make(np.asarray(v) for v in out)
        return np.asarray(out)

    call.__doc__ = fn.__doc__
    call.__name__ = fn.__name__
    call.source = source  # type: ignore[attr-defined]
    return call
