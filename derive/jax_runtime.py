"""JAX as the checker uses it: imported only when a check runs, configured for float64 on the
CPU, with its compiled programs cached on disk; and a switch that defers JAX work while the
checker plans it."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from contextvars import ContextVar
from types import ModuleType


def import_jax() -> ModuleType:
    """The `jax` module, configured for float64 (the precision every check assumes) on the CPU."""
    fresh = "jax" not in sys.modules
    import jax

    if fresh:  # the platform can only be chosen before JAX initialises its backends
        jax.config.update("jax_platforms", "cpu")
        _persistent_cache(jax)
    if not jax.config.jax_enable_x64:
        jax.config.update("jax_enable_x64", True)
    return jax


def _persistent_cache(jax: ModuleType) -> None:
    """Keep JAX's compiled primitives on disk between runs.

    A check evaluates op by op, and JAX compiles each primitive once per shape (about 50 ms
    each, some 60 per derivation): measured, `derive show softmax-ce` spent 7 of its 10 s
    compiling. With the cache a second run skips that. DERIVE_JAX_CACHE="" turns it off.
    """
    import os

    path = cache_dir()
    if path is None:
        return
    try:
        os.makedirs(path, exist_ok=True)
        jax.config.update("jax_compilation_cache_dir", path)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    except (OSError, AttributeError):  # read-only home or an older JAX: just slower
        return


def cache_dir() -> str | None:
    """Where derive keeps JAX's work between runs: $DERIVE_JAX_CACHE, else
    $XDG_CACHE_HOME/derive/jax or ~/.cache/derive/jax; None where DERIVE_JAX_CACHE="" turns
    the cache off."""
    import os

    path = os.environ.get("DERIVE_JAX_CACHE")
    if path is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        path = os.path.join(base, "derive", "jax")
    return path or None


class Deferred(Exception):
    """A JAX evaluation asked for while `deferring_jax` is in force."""


DEFER_JAX: ContextVar[bool] = ContextVar("derive_defer_jax", default=False)


@contextlib.contextmanager
def deferring_jax() -> Iterator[None]:
    """Within this block an evaluation on the JAX backend raises `Deferred` at once.

    The checker plans its JAX work by a dry run of its items (derive.check.compiled); an item
    that would evaluate on JAX op by op (a Monte Carlo integrand) stops its dry run there
    rather than doing that work twice."""
    token = DEFER_JAX.set(True)
    try:
        yield
    finally:
        DEFER_JAX.reset(token)
