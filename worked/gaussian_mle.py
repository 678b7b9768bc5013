"""The Gaussian MLE: the NLL is the MSE up to constants; μ̂ = x̄, σ̂² = (1/n)Σ(xᵢ − x̄)²."""

from derive.api import mle
from derive.model import Derivation

NAME = "gaussian-mle"
TITLE = "Maximum likelihood for the Gaussian: the MSE, the sample mean and variance"


def build() -> Derivation:
    return mle("gaussian", check=False)
