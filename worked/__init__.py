"""The worked catalogue: short recipes that call the public API; no stored answers.

Shipped as ``derive.recipes`` (``derive.worked`` is the API function that builds one).
Each module defines NAME, TITLE and build() -> Derivation.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, replace

from derive.errors import UnknownNameError
from derive.model import Derivation

_MODULES = (
    "gaussian_mle",
    "softmax_ce",
    "bernoulli_ce",
    "mlp_backprop",
    "pca",
    "svd_from_eig",
    "ols",
    "logistic_regression",
    "mvn_mle",
)
# The probability part of the catalogue (issue #5 item 4).
_MODULES += (
    "kl_gaussians",
    "entropy_gaussian",
    "fisher_bernoulli",
    "fisher_gaussian",
    "beta_bernoulli",
)
# Second order with respect to a matrix, beside logistic regression (issue #17 item 4).
_MODULES += ("softmax_regression",)


@dataclass(frozen=True)
class Entry:
    name: str
    title: str
    module: str


def entries() -> list[Entry]:
    out = []
    for mod in _MODULES:
        m = importlib.import_module(f"derive.recipes.{mod}")
        out.append(Entry(m.NAME, m.TITLE, mod))
    return out


def build(name: str) -> Derivation:
    """The derivation of catalogue entry `name`, unchecked (the API checks it)."""
    for e in entries():
        if e.name == name:
            m = importlib.import_module(f"derive.recipes.{e.module}")
            return replace(m.build(), name=e.name, title=e.title)
    raise UnknownNameError("worked derivation", name, [e.name for e in entries()])
