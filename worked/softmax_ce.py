"""Softmax cross-entropy: the NLL of a categorical model with probabilities softmax(z),
L = −log p(y | softmax(z)) = −yᵀ log softmax(z), gives ∇_z L = softmax(z) − y when 1ᵀy = 1.

Derived twice, both by the engine: in vector notation from the categorical density, and as a
course writes it, in index notation, from L = −Σᵢ yᵢ log(e^{zᵢ}/Σⱼ e^{zⱼ}) (the sums become
matrix products first, each by its identity), ending in p − y with p = softmax(z), and entry
by entry ∂L/∂zₖ = pₖ − yₖ.
"""

from dataclasses import replace

import sympy as sp

from derive.api import gradient
from derive.distributions import CategoricalDensity
from derive.expr import Softmax
from derive.latex.index_answer import with_index_answer
from derive.model import Derivation, Remark
from derive.record import Recorder
from derive.rules.constrained import NAMING

NAME = "softmax-ce"
TITLE = "Softmax cross-entropy: the gradient with respect to the logits"

#: the same loss as a course writes it
INDEX_FORM = r"-\sum_{i=1}^{n} y_i \log\frac{e^{z_i}}{\sum_{j=1}^{n} e^{z_j}}"


def build() -> Derivation:
    n = sp.Symbol("n", integer=True, positive=True)
    z = sp.MatrixSymbol("z", n, 1)
    y = sp.MatrixSymbol("y", n, 1)
    p = sp.MatrixSymbol("p", n, 1)
    loss = -sp.log(CategoricalDensity(y, Softmax(z)))
    vector = gradient(loss, "z", assume={"y": "prob"}, check=False)
    written = gradient(
        INDEX_FORM, "z", shapes={"z": ("n",), "y": ("n",)}, assume={"y": "prob"}, check=False
    )
    rec = Recorder(steps=vector.steps)
    rec.include(written.steps)
    first = len(vector.steps) + 1
    lhs = written.results[0][0]
    named = rec.cite(
        NAMING,
        lhs,
        written.result,
        written.result.xreplace({Softmax(z): p}),
        note="p = softmax(z), the predicted class probabilities",
        wrt=written.wrt,
    )
    d = Derivation(
        title=TITLE,
        goal=vector.goal,
        given=vector.given,
        objective=vector.objective,
        wrt=vector.wrt,
        steps=tuple(rec.steps),
        results=vector.results,
        claims=vector.claims + written.claims,
        definitions=((p, Softmax(z)),),
        remarks=(
            Remark.prose(
                f"Steps {first}–{len(rec.steps)} derive the same gradient from the loss "
                "written in index notation, as a course writes it, "
                "f = −Σᵢ yᵢ log(exp(zᵢ)/Σⱼ exp(zⱼ)): its sums become matrix products first, "
                "and the result is p − y, entry by entry pₖ − yₖ."
            ),
        ),
    )
    d = replace(d, results=(*vector.results, (lhs, named)))
    # the entries of p − y, written and checked by the engine as for any index-form input
    return with_index_answer(d, d.objective, z, lhs.args[0], named)
