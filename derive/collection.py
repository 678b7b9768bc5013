"""The worked collection as the public API serves it: `worked(name)` and `catalog()`.

(Not named `catalog`: `derive.catalog` is the function.)

The recipes (`derive.recipes`, the repository's worked/) call the public API, so this module
sits above them and the API below.
"""

from __future__ import annotations

from derive.api import finish
from derive.model import Derivation
from derive.recipes import build, entries


def worked(name: str, *, check: bool = True) -> Derivation:
    """A derivation from the worked catalogue (see `catalog()`), e.g. "softmax-ce"."""
    return finish(build(name), check)


def catalog() -> list[tuple[str, str]]:
    """The worked derivations as (name, one-line title), in catalogue order."""
    return [(e.name, e.title) for e in entries()]
