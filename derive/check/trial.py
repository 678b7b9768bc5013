"""One random draw: the inputs of a trial.

Sizes come from `choose_dims` (distinct per dimension), values from `draw` (honouring
assumptions), random directions dX for the differentials (symmetric when X is). Trial t of
seed s uses ``numpy.random.default_rng([s, t])``, so a failure names the seed and trial that
reproduce it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import sympy as sp

from derive.check.measure import value_of
from derive.errors import InputError
from derive.model import Given
from derive.sampling import choose_dims, draw


@dataclass(frozen=True)
class Trial:
    """The inputs of one trial: vectors as (n, 1) columns, plus a direction "d"+name for each."""

    given: tuple[Given, ...]
    seed: int
    index: int
    dims: dict[str, int]
    values: dict[str, np.ndarray]

    @classmethod
    def draw(
        cls,
        given: tuple[Given, ...],
        seed: int,
        index: int,
        definitions: tuple[tuple[sp.Basic, sp.Basic], ...] = (),
        reverse: bool = False,
        attempt: int = 0,
    ) -> Trial:
        """A random draw of `given`; each defined symbol is then computed from its definition.
        `reverse` assigns the sizes in the other order of the dimension names (tall ↔ wide);
        `attempt` > 0 draws afresh for the same trial (looking for a point of the domain)."""
        dims = choose_dims(given, index, reverse)
        rng = np.random.default_rng([seed, index] if not attempt else [seed, index, attempt])
        values = _columns(given, draw(given, rng, dims))
        for g in given:
            direction = rng.standard_normal(values[g.name].shape)
            if _symmetric(g) and direction.ndim == 2:
                direction = (direction + direction.T) / 2
            values["d" + g.name] = direction
        for symbol, expr, *compute in definitions:
            if compute:  # computed by a numeric method, e.g. U, Σ, V by numpy.linalg.svd
                values.update(compute[0](values))
            else:
                values[str(symbol)] = value_of(expr, values, dims)
        return cls(given, seed, index, dims, _read_only(values))

    def redraw(self, names: Iterable[str], salt: int) -> dict[str, np.ndarray]:
        """The values with the symbols `names` drawn afresh (the same sizes)."""
        names = set(names)
        subset = tuple(g for g in self.given if g.name in names)
        missing = names - {g.name for g in subset}
        if missing:
            raise InputError(f"{sorted(missing)[0]} is not a given symbol, so cannot be redrawn")
        rng = np.random.default_rng([self.seed, self.index, salt])
        return {**self.values, **_read_only(_columns(subset, draw(subset, rng, self.dims)))}

    def only_directions(self, wrt: Iterable[str]) -> dict[str, np.ndarray]:
        """The values with every direction but those of `wrt` set to zero."""
        keep = {"d" + w for w in wrt}
        missing = keep - set(self.values)
        if missing:
            raise InputError(
                f"no direction {sorted(missing)[0]}: {sorted(missing)[0][1:]} is not given"
            )
        out = dict(self.values)
        for g in self.given:
            if "d" + g.name not in keep:
                out["d" + g.name] = np.zeros_like(out["d" + g.name])
        return out


def _read_only(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The arrays of a draw cannot be written to: the checker keeps what it computed from
    them, by their contents (`derive.check.compiled`)."""
    for a in values.values():
        if isinstance(a, np.ndarray):
            a.flags.writeable = False
    return values


def _symmetric(g: Given) -> bool:
    return bool({"symmetric", "spd"} & set(g.assumptions))


def _columns(given: tuple[Given, ...], raw: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {
        g.name: raw[g.name].reshape(-1, 1) if g.kind == "vector" else raw[g.name] for g in given
    }
