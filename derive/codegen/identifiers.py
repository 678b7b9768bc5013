"""Python identifiers for derive's symbol names, and the names a generated module reserves."""

from __future__ import annotations

import keyword
import re

from derive.errors import InputError

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Characters of derive's symbol names that are not Python's (sigma^2, x') and their spelling.
_SPELL = {"^": "_", "'": "_prime", ".": "_", "{": "", "}": ""}
# Names the generated module itself uses; a symbol called so is renamed.
RESERVED = {"np", "jnp", "jax", "special", "result"}


def identifier(name: str) -> str:
    """A Python identifier for a symbol name: W_1 stays, sigma^2 becomes sigma_2, lambda lambda_.

    Raises `InputError` for a name that does not become an ASCII identifier.
    """
    out = "".join(_SPELL.get(c, c) for c in name)
    if not _IDENT.match(out):
        raise InputError(f"the symbol name {name!r} cannot be made a Python identifier")
    if keyword.iskeyword(out) or keyword.issoftkeyword(out) or out in RESERVED:
        out += "_"
    return out
