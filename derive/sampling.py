"""Random inputs for numeric checks that honour each symbol's shape and assumptions.

Sizes are distinct per dimension name, so a transpose or a swapped product cannot pass by
accident; matrices are non-symmetric unless symmetry is assumed.

Assumption kinds, and what is drawn:

- none: standard normal entries;
- "symmetric": (B + Bᵀ)/2; "spd": B Bᵀ + n I;
- "invertible": U diag(s) Vᵀ with random orthonormal U, V and s in [0.5, 2] (condition
  number at most 4, not symmetric); "posdet": the same with a row flipped if det < 0;
- "positive": entries in [0.5, 2]; "nonnegative": entries in [0, 2]; "nonzero": entries
  ±[0.5, 2];
- "unit": entries in (0, 1), drawn from [0.05, 0.95];
- "full-column-rank" / "full-row-rank": U diag(s) Vᵀ as for "invertible", of a tall / wide
  shape (a draw of the other orientation is refused, and the checker swaps the sizes);
- "prob": positive entries summing to 1 (Dirichlet); for a matrix, over all entries;
- "onehot": a one-hot vector; for a matrix, every column one-hot;
- "binary": 0/1 entries, not all equal (when there are at least two).

Vectors are returned 1-D, matrices 2-D, scalars 0-d, as `Derivation.function` takes them.
"""

from __future__ import annotations

import math

import numpy as np

from derive.errors import InputError
from derive.model import Given

# Entry-wise kinds, most specific first: when several are assumed the first one is drawn.
_ENTRYWISE = ("onehot", "binary", "prob", "unit", "positive", "nonnegative", "nonzero")
_STRUCTURAL = ("spd", "posdet", "invertible", "symmetric")
#: a matrix of full column rank is square or tall, one of full row rank square or wide
_RANK = ("full-column-rank", "full-row-rank")
KNOWN = _ENTRYWISE + _STRUCTURAL + _RANK

# Sizes for ordinary dimensions, in order of first appearance; 1 is never used.
_SIZES = (3, 4, 5, 6, 2, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)
# Each trial shifts them, so that over five trials every dimension takes three sizes, small
# and not (the first: 3, 4, 7): a claim right only at some n, such as 2x + (n − 3)(n − 4)x
# for the gradient of Σ xᵢ², cannot pass. Three, not five: every new set of sizes costs the
# checker a JAX compilation of each primitive (five made the suite half as slow again).
_SHIFTS = (0, 1, 4, 0, 1)
_SAMPLE_SIZES = (6, 7, 8, 9)


def choose_dims(given: tuple[Given, ...], trial: int, reverse: bool = False) -> dict[str, int]:
    """Distinct sizes for the dimension names in `given`, in order of first appearance
    (or in the reverse order: a tall X where the first order makes it wide).

    Ordinary dimensions take 3, 4, 5, 6, 2, 7, ... shifted by 0, 1, 4, 0, 1 on trials 0 to 4
    (and again from trial 5), never below 2; a dimension
    named "n" on a Given with role "data" (the sample count) takes 6..9 by trial. No two
    names share a size, and no name takes a size that a Given fixes as an integer.
    """
    taken = {d for g in given for d in g.shape if isinstance(d, int)}
    order: dict[str, Given] = {}
    for g in given:
        for d in g.shape:
            if isinstance(d, str) and d not in order:
                order[d] = g
    names = list(reversed(order)) if reverse else list(order)
    dims: dict[str, int] = {}
    shift = _SHIFTS[trial % len(_SHIFTS)]
    for d in names:
        g = order[d]
        if d == "n" and g.role == "data":
            start = _SAMPLE_SIZES[trial % len(_SAMPLE_SIZES)]
            candidates = list(range(start, 10)) + list(range(6, start)) + list(range(10, 40))
        else:
            shifted = [s + shift for s in _SIZES if s + shift >= 2]
            candidates = shifted + list(range(_SIZES[-1] + 6, 60))
        size = next(s for s in candidates if s not in taken)
        dims[d] = size
        taken.add(size)
    return dims


def _size(g: Given, dims: dict[str, int]) -> tuple[int, ...]:
    try:
        return tuple(d if isinstance(d, int) else dims[d] for d in g.shape)
    except KeyError as exc:
        raise InputError(f"no size chosen for dimension {exc.args[0]} of {g.name}") from None


def _orthonormal(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((rows, cols)))
    return q * np.sign(np.diag(r))


def _well_conditioned(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    r = min(rows, cols)
    s = rng.uniform(0.5, 2.0, r)
    return (_orthonormal(rng, rows, r) * s) @ _orthonormal(rng, cols, r).T


def _entrywise(kind: str | None, rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    size = int(np.prod(shape, dtype=int))
    if kind is None:
        return rng.standard_normal(shape)
    if kind == "positive":
        return rng.uniform(0.5, 2.0, shape)
    if kind == "nonnegative":
        return rng.uniform(0.0, 2.0, shape)
    if kind == "nonzero":
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
    if kind == "unit":
        return rng.uniform(0.05, 0.95, shape)
    if kind == "prob":
        if size == 1:  # a single probability, away from 0 and 1
            return rng.uniform(0.05, 0.95, shape)
        return rng.dirichlet(np.ones(size)).reshape(shape)
    if kind == "onehot":
        cols = shape[1] if len(shape) == 2 else 1
        rows = shape[0] if shape else 1
        out = np.zeros((rows, cols))
        out[rng.integers(rows, size=cols), np.arange(cols)] = 1.0
        return out.reshape(shape)
    if kind == "binary":
        out = rng.integers(0, 2, shape).astype(float)
        if size >= 2 and np.all(out == out.flat[0]):
            out.flat[rng.integers(size)] = 1.0 - out.flat[0]
        return out
    raise AssertionError(kind)  # pragma: no cover - kinds are validated by the caller


def _draw_one(g: Given, rng: np.random.Generator, dims: dict[str, int]) -> np.ndarray:
    kinds = set(g.assumptions)
    unknown = kinds - set(KNOWN)
    if unknown:
        raise InputError(
            f"unknown assumption {sorted(unknown)[0]!r} on {g.name}; known: {', '.join(KNOWN)}"
        )
    shape = _size(g, dims)
    rank = kinds & set(_RANK)
    if rank:
        if len(shape) != 2 or kinds - rank:
            raise InputError(f"{g.name}: a rank assumption is for a matrix, and alone")
        rows, cols = shape
        if ("full-column-rank" in rank and rows < cols) or (
            "full-row-rank" in rank and rows > cols
        ):
            raise InputError(f"{g.name} is {'/'.join(sorted(rank))} but drawn {rows} × {cols}")
        return _well_conditioned(rng, rows, cols)
    entry = next((k for k in _ENTRYWISE if k in kinds), None)
    structural = kinds & set(_STRUCTURAL)
    if not structural:
        return _entrywise(entry, rng, shape)
    if math.prod(shape) == 1:  # a scalar, or 1×1: spd/posdet mean > 0, invertible ≠ 0
        if entry is None and structural & {"spd", "posdet"}:
            entry = "positive"
        elif entry is None and "invertible" in structural:
            entry = "nonzero"
        return _entrywise(entry, rng, shape)
    if len(shape) != 2 or shape[0] != shape[1]:
        raise InputError(
            f"{g.name} is assumed {'/'.join(sorted(structural))} but has shape {g.shape}, "
            "not a square matrix"
        )
    n = shape[0]
    symmetric = bool(structural & {"symmetric", "spd"})
    if entry is None:
        if "spd" in structural:
            b = rng.standard_normal((n, n))
            return b @ b.T + n * np.eye(n)
        if structural & {"invertible", "posdet"}:
            if symmetric:
                q = _orthonormal(rng, n, n)
                s = rng.choice([-1.0, 1.0], n) * rng.uniform(0.5, 2.0, n)
                if "posdet" in structural and np.prod(s) < 0:
                    s[0] = -s[0]
                return (q * s) @ q.T
            a = _well_conditioned(rng, n, n)
            if "posdet" in structural and np.linalg.det(a) < 0:
                a[0] = -a[0]
            return a
        b = rng.standard_normal((n, n))
        return (b + b.T) / 2
    # Entry-wise and structural together (say positive and invertible): draw entry-wise,
    # symmetrise if asked, and keep the first draw that meets the structural conditions.
    if symmetric and entry in ("onehot", "binary", "prob"):
        raise InputError(f"{g.name} cannot be both {entry} and symmetric")
    for _ in range(200):
        a = _entrywise(entry, rng, shape)
        if symmetric:
            a = (a + a.T) / 2
        if "spd" in structural and np.linalg.eigvalsh(a).min() <= 1e-3:
            continue
        if structural & {"invertible", "posdet"} and np.linalg.cond(a) > 1e3:
            continue
        if "posdet" in structural and np.linalg.det(a) <= 0:
            continue
        return a
    raise InputError(f"could not draw {g.name} with assumptions {', '.join(sorted(kinds))}")


def draw(
    given: tuple[Given, ...], rng: np.random.Generator, dims: dict[str, int]
) -> dict[str, np.ndarray]:
    """A random float64 value for every Given, by name, honouring its assumptions.

    Shapes follow the Given (vectors 1-D, scalars 0-d) with sizes from `dims`. Raises
    `InputError` for an unknown assumption or one that does not fit the shape.
    """
    return {g.name: np.asarray(_draw_one(g, rng, dims), dtype=np.float64) for g in given}
