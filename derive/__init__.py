"""derive: step-by-step, numerically verified derivations for the mathematics of ML.

    >>> import derive
    >>> d = derive.worked("softmax-ce")
    >>> print(d.to_text())

The public names are imported lazily, so that ``import derive`` (and ``derive --help``) stays
fast and never imports JAX; JAX is imported only when a numeric check runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from derive.errors import (
    AmbiguityError,
    DeriveError,
    DomainError,
    InputError,
    ShapeError,
    UnknownNameError,
    UnsupportedError,
    VerificationError,
)

__version__ = "0.1.0"

_API = {
    "gradient": "derive.api",
    "hessian": "derive.api",
    "jacobian": "derive.api",
    "mle": "derive.api",
    "map_estimate": "derive.api",
    "worked": "derive.collection",
    "catalog": "derive.collection",
    "check_answer": "derive.answer",
    "VerificationWarning": "derive.api",
    "Derivation": "derive.model",
    "Step": "derive.model",
    "Rule": "derive.model",
    "RuleRef": "derive.model",
    "Given": "derive.model",
    "CheckReport": "derive.model",
}

__all__ = [
    "AmbiguityError",
    "DeriveError",
    "DomainError",
    "InputError",
    "ShapeError",
    "UnknownNameError",
    "UnsupportedError",
    "VerificationError",
    *_API,
]

if TYPE_CHECKING:  # pragma: no cover
    from derive.answer import check_answer  # noqa: F401
    from derive.api import (  # noqa: F401
        VerificationWarning,
        gradient,
        hessian,
        jacobian,
        map_estimate,
        mle,
    )
    from derive.collection import catalog, worked  # noqa: F401
    from derive.model import CheckReport, Derivation, Given, Rule, RuleRef, Step  # noqa: F401


def __getattr__(name: str) -> object:
    if name in _API:
        import importlib

        importlib.import_module("derive.methods")  # a Derivation is useless without them
        value = getattr(importlib.import_module(_API[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'derive' has no attribute {name!r}")
