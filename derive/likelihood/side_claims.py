"""Claims behind what a remark says beside the result: that a matrix is positive
(semi)definite, and that expressions take given values at the estimates.

Both are "reference" claims (`derive.model.Claim`): their function returns (derived,
expected) arrays that the checker compares by relative error on every trial. `agreement`
scales each compared pair by its own size, so that a small entry is not judged against a
large one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sympy as sp

from derive.model import Claim

if TYPE_CHECKING:  # numpy is imported only when a check runs
    import numpy as np

#: an eigenvalue above −EIGEN_SLACK · (the largest |eigenvalue|) counts as ≥ 0 (round-off)
EIGEN_SLACK = 1e-12


def agreement(*pairs: tuple[Any, Any, float]) -> tuple[np.ndarray, np.ndarray]:
    """(derived, expected) for a reference claim, each pair (a, b, size) divided by
    max(|a|, |b|, size), so that the claim's relative error is the worst pair's.

    `size` is 0 where b is not zero; where b is zero (a derivative that vanishes at the
    estimates) it is the size of the terms that cancel there, which a rounding residue of a
    is small against.
    """
    import numpy as np  # only when checking

    derived, expected = [], []
    for a, b, size in pairs:
        a, b = np.ravel(np.asarray(a, float)), np.ravel(np.asarray(b, float))
        scale = max(float(np.max(np.abs(a), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
        scale = max(scale, float(size)) or 1.0
        derived.append(a / scale)
        expected.append(b / scale)
    return np.concatenate(derived), np.concatenate(expected)


def definiteness(m: np.ndarray, strict: bool) -> float:
    """1.0 when the symmetric matrix m is positive definite (`strict`) or semidefinite, else
    0.0; a scalar is a 1 × 1 matrix. Eigenvalues by ``numpy.linalg.eigvalsh``."""
    import numpy as np  # only when checking

    m = np.atleast_2d(np.asarray(m, float))
    eig = np.linalg.eigvalsh((m + m.T) / 2)
    if strict:
        return float(eig.min() > 0)
    return float(eig.min() >= -EIGEN_SLACK * max(float(np.abs(eig).max()), 1e-300))


def at_point(values: dict, value, at: Sequence[tuple[str, sp.Basic]]) -> dict:
    """The trial's values with each named symbol set to its expression's value there (θ = θ̂);
    an expression is evaluated at the trial's own values, so estimates come from the data."""
    import numpy as np  # only when checking

    moved = dict(values)
    for name, e in at:
        v = np.asarray(value(e, values), float)
        moved[name] = v.reshape(np.shape(values[name])) if name in values else v
    return moved


def positive_definite(
    label: str,
    matrix: sp.Basic,
    function: sp.Basic,
    wrt: tuple[str, ...],
    at: Sequence[tuple[str, sp.Basic]] = (),
    strict: bool = True,
) -> Claim:
    """`matrix` is positive definite (`strict`) or semidefinite at every draw, with the
    symbols named in `at` set to their values (the estimates): a "reference" claim by
    ``numpy.linalg.eigvalsh``. `function` and `wrt` say what the matrix is the Hessian of."""

    def reference(values: dict, value) -> tuple[np.ndarray, np.ndarray]:
        import numpy as np  # only when checking

        m = value(matrix, at_point(values, value, at))
        return np.array([definiteness(m, strict)]), np.array([1.0])

    return Claim(
        "reference",
        label,
        matrix,
        function,
        wrt,
        at=tuple(at),
        method="numpy.linalg.eigvalsh",
        reference=reference,
    )
