"""What a function of an expression takes: the names it reads, and the arrays a caller
passes for them, checked against the given shapes."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import sympy as sp

from derive.errors import InputError
from derive.expr import CommutationMatrix
from derive.model import Given


def names_used(expr: sp.Basic) -> set[str]:
    """Names of the symbols, matrix symbols and indexed data that `expr` reads.

    Bound variables (of a Lambda, Sum or Product) are left out, and so are the dimensions
    in shapes; a dimension used as a number (the n in ``Sum(x[i], (i, 1, n))``) is included.
    """
    return set(_names_used(expr))


@functools.lru_cache(maxsize=8192)  # a check asks for the same expressions' names per item
def _names_used(expr: sp.Basic) -> frozenset[str]:
    bound: set[sp.Basic] = set()
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Lambda):
            bound |= set(node.variables)
        elif isinstance(node, (sp.Sum, sp.Product)):
            bound |= {lim[0] for lim in node.limits}
    names: set[str] = set()

    def walk(node: sp.Basic) -> None:
        if isinstance(node, sp.MatrixSymbol):
            names.add(node.name)
        elif isinstance(node, (sp.Identity, sp.ZeroMatrix, sp.OneMatrix, CommutationMatrix)):
            pass
        elif isinstance(node, sp.Indexed):
            names.add(node.base.label.name)
            for index in node.indices:
                walk(index)
        elif isinstance(node, sp.Symbol):
            if node not in bound:
                names.add(node.name)
        elif isinstance(node, sp.Idx):
            if node not in bound:
                names.add(node.label.name)
        else:
            for arg in node.args:
                walk(arg)

    walk(expr)
    return frozenset(names)


def check_argument_names(
    arrays: Mapping[str, Any], given: Iterable[Given], required: Iterable[str]
) -> None:
    """Refuse a keyword that is not a given symbol, or a required symbol left out."""
    names = [g.name for g in given]
    extra = set(arrays) - set(names)
    if extra:
        raise InputError(
            f"unexpected argument {sorted(extra)[0]!r}; the arguments are {', '.join(names)}"
        )
    missing = [name for name in required if name not in arrays]
    if missing:
        raise InputError(f"missing argument {missing[0]!r}")


def check_argument_sizes(arrays: Mapping[str, Any], by_name: Mapping[str, Given]) -> dict[str, int]:
    """The size of each dimension, read off the arrays through their Given shapes.

    `by_name` maps each symbol name to its `Given`; every key of `arrays` must be one (see
    `check_argument_names`). A vector may come as an (n, 1) array. A wrong number of axes,
    a fixed size not met, or a dimension with two sizes raises `InputError` naming the symbol.
    """
    dims: dict[str, int] = {}
    source: dict[str, str] = {}
    for name, value in arrays.items():
        g = by_name[name]
        shape = tuple(np.shape(value))
        want = g.shape
        if len(want) == 1 and len(shape) == 2 and shape[1] == 1:
            shape = shape[:1]
        if len(shape) != len(want):
            raise InputError(f"{name} should be a {g.kind} of shape {want} but has shape {shape}")
        for entry, size in zip(want, shape, strict=True):
            if isinstance(entry, int):
                if size != entry:
                    raise InputError(f"{name} has shape {shape}, expected {want}")
            elif entry in dims and dims[entry] != size:
                raise InputError(
                    f"{name} has {entry} = {size}, but {source[entry]} has {entry} = {dims[entry]}"
                )
            else:
                dims[entry] = size
                source.setdefault(entry, name)
    return dims
