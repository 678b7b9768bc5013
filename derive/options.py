"""Symbol declarations written as text, ``NAME=DIMS`` and ``NAME=KIND``, read into the mappings
the API takes: the command line's ``--shape``/``--assume`` and the local page's fields.

A numeric dimension is bounded by `MAX_DIMENSION`: the numeric check draws arrays of that size
(a Hessian with respect to an m × n matrix is mn × mn), so ``--shape A=3000,3000`` would take
minutes and gigabytes; a dimension written as a name (n) is drawn small and stands for any size.
"""

from __future__ import annotations

from collections.abc import Sequence

from derive.errors import InputError
from derive.latex import symbol_name

#: the largest dimension that may be written as a number (a Hessian with respect to a 32 × 32
#: matrix is 1024 × 1024; measured: 50 × 50 took 21 s and 1.6 GB, 3000-vectors 81 s and 5.6 GB)
MAX_DIMENSION = 32


def parse_shapes(items: Sequence[str]) -> dict[str, tuple[int | str, ...]]:
    r"""--shape A=m,n x=n lambda= '\mu=n' → {"A": ("m", "n"), "x": ("n",), "lambda": (),
    "mu": ("n",)}."""
    shapes: dict[str, tuple[int | str, ...]] = {}
    for item in items:
        name, eq, dims = item.partition("=")
        name, dims = name.strip(), dims.strip().strip("()")
        if not eq or not name:
            raise InputError(f"--shape takes NAME=DIMS, such as A=m,n or x=n, got {item!r}")
        parts = [d.strip() for d in dims.split(",") if d.strip()] if dims else []
        if len(parts) > 2 or not all(d.isalnum() and d.isascii() for d in parts):
            raise InputError(f"--shape {item!r}: at most two dimensions, names or numbers")
        if any(d.isdigit() and int(d) > MAX_DIMENSION for d in parts):
            raise InputError(
                f"--shape {item!r}: a dimension written as a number may be at most "
                f"{MAX_DIMENSION} (the numeric check draws arrays of that size); write a name, "
                "such as n, for a dimension of any size"
            )
        key = symbol_name(name, "--shape")
        shape = tuple(int(d) if d.isdigit() else d for d in parts)
        if shapes.setdefault(key, shape) != shape:  # contradictory: refused, not last-wins
            raise InputError(
                f"--shape gives {key} two shapes, {_dims(shapes[key])} and {_dims(shape)}"
            )
    return shapes


def _dims(shape: tuple) -> str:
    return "(" + ", ".join(map(str, shape)) + ")" if shape else "a scalar"


def parse_assumptions(items: Sequence[str]) -> dict[str, tuple[str, ...]]:
    r"""--assume S=spd --assume S=symmetric → {"S": ("spd", "symmetric")}; names may be
    written in LaTeX ('\Sigma=spd')."""
    out: dict[str, tuple[str, ...]] = {}
    for item in items:
        name, eq, kind = item.partition("=")
        if not eq or not name.strip() or not kind.strip():
            raise InputError(f"--assume takes NAME=KIND, such as S=spd, got {item!r}")
        name = symbol_name(name.strip(), "--assume")
        out[name] = out.get(name, ()) + (kind.strip(),)
    return out
