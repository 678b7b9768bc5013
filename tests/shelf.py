"""The derivations several test modules read, built once per test session: every entry of the
catalogue and every MLE family, unchecked (the checker is tested elsewhere; derivations are
immutable, so sharing them is safe)."""

from __future__ import annotations

import functools

import derive
from derive.families import FAMILIES


@functools.cache
def shelf() -> tuple[tuple[str, derive.Derivation], ...]:
    """(label, derivation): the catalogue by name, then ``mle-<family>`` for each family."""
    out = [(name, derive.worked(name, check=False)) for name, _ in derive.catalog()]
    out += [(f"mle-{family}", derive.mle(family, check=False)) for family in FAMILIES]
    return tuple(out)
