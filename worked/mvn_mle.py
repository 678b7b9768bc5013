"""The multivariate Gaussian MLE: μ̂ = x̄ and Σ̂ = (1/n) Σᵢ (xᵢ − x̄)(xᵢ − x̄)ᵀ, through the
log-det and trace rules."""

from derive.api import mle
from derive.model import Derivation

NAME = "mvn-mle"
TITLE = "Maximum likelihood for the multivariate Gaussian: the sample mean and covariance"


def build() -> Derivation:
    return mle("mvn", check=False)
