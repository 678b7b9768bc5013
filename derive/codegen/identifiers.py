"""Python identifiers for derive's symbol names, the names a generated module reserves, and
the keyword arguments of a generated function.

The one rule for a symbol's keyword (`identifier`): a label ``^(k)`` written ``__k`` (with
``+`` as ``p`` and ``-`` as ``m``), then ``^`` and ``.`` written ``_``, ``'`` written ``_prime``,
braces dropped, then a trailing ``_`` if that is a Python keyword or a name the module uses:
``W_1`` → ``W_1``, ``sigma^2`` → ``sigma_2``, ``W^(2)`` (``W^{(2)}``) → ``W__2``,
``lambda`` (``\\lambda``) → ``lambda_``.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable, Mapping
from typing import Any

from derive.errors import InputError
from derive.model import Given

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Characters of derive's symbol names that are not Python's (sigma^2, x') and their spelling.
_SPELL = {"^": "_", "'": "_prime", ".": "_", "{": "", "}": ""}
# A superscript label W^(2), h^(t+1): the second layer's W, written W__2, h__tp1.
_LABEL = re.compile(r"\^\(([A-Za-z0-9+-]+)\)")
# Names the generated module itself uses; a symbol called so is renamed.
RESERVED = {"np", "jnp", "jax", "special", "result"}


def identifier(name: str) -> str:
    """A Python identifier for a symbol name: W_1 stays, sigma^2 becomes sigma_2, lambda lambda_.

    Raises `InputError` for a name that does not become an ASCII identifier.
    """
    labelled = _LABEL.sub(lambda m: "__" + m.group(1).replace("+", "p").replace("-", "m"), name)
    out = "".join(_SPELL.get(c, c) for c in labelled)
    if not _IDENT.match(out):
        raise InputError(f"the symbol name {name!r} cannot be made a Python identifier")
    if keyword.iskeyword(out) or keyword.issoftkeyword(out) or out in RESERVED:
        out += "_"
    return out


def keyword_arguments(
    arrays: Mapping[str, Any], given: Iterable[Given], required: Iterable[str]
) -> dict[str, Any]:
    """`arrays` keyed by symbol name, from the keywords a generated function documents.

    The keyword for a symbol is `identifier` of its name (``lambda_`` for λ, ``sigma_2`` for
    σ²); the symbol's own name is accepted too where Python allows it (``**{"lambda": …}``).
    A keyword that names no given symbol, a symbol given twice, or a `required` symbol left
    out raises `InputError` naming the keyword.
    """
    given = tuple(given)
    by_keyword: dict[str, str] = {}
    for g in given:
        by_keyword[g.name] = g.name
        try:
            by_keyword.setdefault(identifier(g.name), g.name)
        except InputError:
            pass  # a name that is no identifier can still be passed as itself
    out: dict[str, Any] = {}
    spelled: dict[str, str] = {}
    for word, value in arrays.items():
        name = by_keyword.get(word)
        if name is None:
            known = ", ".join(_keyword(g.name) for g in given)
            raise InputError(f"unexpected argument {word!r}; the arguments are {known}")
        if name in out:
            raise InputError(
                f"argument {_keyword(name)!r} given twice, as {spelled[name]} and {word}"
            )
        out[name] = value
        spelled[name] = word
    missing = [name for name in required if name not in out]
    if missing:
        raise InputError(f"missing argument {_keyword(missing[0])!r}")
    return out


def _keyword(name: str) -> str:
    """The documented keyword of a symbol: its identifier, or its name if it has none."""
    try:
        return identifier(name)
    except InputError:
        return name
