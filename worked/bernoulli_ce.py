"""Binary cross-entropy of a sigmoid output: the NLL of independent Bernoulli labels y with
probabilities σ(z), L = −[yᵀ log σ(z) + (1 − y)ᵀ log(1 − σ(z))], gives ∇_z L = σ(z) − y."""

from derive.api import gradient
from derive.model import Derivation

NAME = "bernoulli-ce"
TITLE = "Binary cross-entropy: the gradient with respect to the logits"

LOSS = r"-\left(y^\top \log\sigma(z) + (\mathbf{1} - y)^\top \log(\mathbf{1} - \sigma(z))\right)"


def build() -> Derivation:
    return gradient(
        LOSS, "z", shapes={"z": ("n",), "y": ("n",)}, assume={"y": "binary"}, check=False
    )
