"""Ordinary least squares as the MLE of linear regression with Gaussian noise: the normal
equations give ŵ = (XᵀX)⁻¹Xᵀy, checked also against numpy.linalg.lstsq."""

from dataclasses import replace

import numpy as np

from derive.api import mle
from derive.model import Claim, Derivation

NAME = "ols"
TITLE = "Ordinary least squares: the normal equations"


def build() -> Derivation:
    d = mle("linear-regression", check=False)
    w_hat = d.results[0][1]

    def against_lstsq(values, value):
        """ŵ from the derived formula against the least-squares solver on the same data."""
        solution = np.linalg.lstsq(values["X"], values["y"], rcond=None)[0]
        return value(w_hat, values), solution

    claim = Claim(
        "reference",
        "ŵ against numpy.linalg.lstsq",
        w_hat,
        w_hat,
        (),
        method="numpy.linalg.lstsq",
        reference=against_lstsq,
    )
    return replace(d, claims=(*d.claims, claim))
