"""The SVD from an eigendecomposition: for A = UΣVᵀ (UᵀU = VᵀV = I, Σ diagonal),
AᵀA = VΣᵀUᵀUΣVᵀ = VΣ²Vᵀ, so the columns of V are eigenvectors of AᵀA, σᵢ = √λᵢ, and
uᵢ = Avᵢ/σᵢ. The steps are the SVD substitution A = UΣVᵀ and the engine's transpose and
orthonormality rules; they are checked by evaluation at the factors of a random non-square A,
and the recipe σ, V, U from numpy.linalg.eigh of AᵀA is checked against numpy.linalg.svd.
"""

import numpy as np
import sympy as sp

from derive.errors import InputError
from derive.model import Claim, Context, Derivation, Given, Remark
from derive.record import Recorder
from derive.rules.constrained import ORTHONORMAL, SVD, svd_substitute
from derive.rules.transpose import SYMMETRIC, TRANSPOSE_PRODUCT

NAME = "svd-from-eig"
TITLE = "The singular value decomposition from the eigendecomposition of AᵀA"


def _svd_factors(values: dict) -> dict:
    """U, Σ, V of the trial's A by numpy.linalg.svd (thin: A is m × n with m > n)."""
    a = values["A"]
    if a.shape[0] <= a.shape[1]:
        raise InputError(f"the thin SVD here needs a tall A, got shape {a.shape}")
    u, s, vt = np.linalg.svd(a, full_matrices=False)
    return {"U": u, "Sigma": np.diag(s), "V": vt.T}


def _eig_recipe(values: dict, value) -> tuple[np.ndarray, np.ndarray]:
    """σ, |V|, |U| and UΣVᵀ from eigh of AᵀA (U = AVΣ⁻¹, the derived formula), against
    numpy.linalg.svd (columns compared up to sign)."""
    a = values["A"]
    lam, vecs = np.linalg.eigh(a.T @ a)
    order = np.argsort(lam)[::-1]
    lam, vecs = lam[order], vecs[:, order]
    at = {**values, "V": vecs, "Sigma": np.diag(np.sqrt(lam))}
    u = value(U_FROM_EIG, at)
    rebuilt = value(REBUILT, {**at, "U": u})
    gram = value(GRAM, at)
    su, s, svt = np.linalg.svd(a, full_matrices=False)
    derived = np.concatenate(
        [np.sqrt(lam), np.abs(vecs).ravel(), np.abs(u).ravel(), rebuilt.ravel(), gram.ravel()]
    )
    expected = np.concatenate(
        [s, np.abs(svt.T).ravel(), np.abs(su).ravel(), a.ravel(), (a.T @ a).ravel()]
    )
    return derived, expected


m, n = sp.symbols("m n", integer=True, positive=True)
A, U = sp.MatrixSymbol("A", m, n), sp.MatrixSymbol("U", m, n)
Sigma, V = sp.MatrixSymbol("Sigma", n, n), sp.MatrixSymbol("V", n, n)
U_FROM_EIG = sp.MatMul(A, V, sp.Inverse(Sigma))
REBUILT = sp.MatMul(U, Sigma, sp.Transpose(V))
GRAM = sp.MatMul(V, sp.MatPow(Sigma, 2), sp.Transpose(V))


def build() -> Derivation:
    ctx = Context(
        assume={
            "U": frozenset({"orthonormal"}),
            "V": frozenset({"orthonormal"}),
            "Sigma": frozenset({"symmetric"}),  # diagonal, so Σᵀ = Σ
        }
    )
    gram = sp.MatMul(sp.Transpose(A), A)
    rec = Recorder(ctx)
    factored = rec.cite(SVD, gram, gram, svd_substitute(gram, A, U, Sigma, V))
    result = rec.rewrite(factored, (TRANSPOSE_PRODUCT, ORTHONORMAL, SYMMETRIC), gram)
    claim = Claim(
        "reference",
        "σᵢ = √λᵢ(AᵀA), V, U = AVΣ⁻¹ and UΣVᵀ = A against numpy.linalg.svd",
        result,
        gram,
        (),
        method="numpy.linalg.svd",
        reference=_eig_recipe,
    )
    return Derivation(
        title=TITLE,
        goal="the SVD A = UΣVᵀ of a tall A from the eigenvectors and eigenvalues of AᵀA",
        # Σ comes first so that n is the smaller random dimension: A is tall.
        given=(
            Given("Sigma", ("n", "n")),
            Given("A", ("m", "n")),
            Given("U", ("m", "n")),
            Given("V", ("n", "n")),
        ),
        objective=gram,
        wrt=(),
        steps=tuple(rec.steps),
        results=((gram, result),),
        claims=(claim,),
        definitions=((REBUILT, A, _svd_factors),),
        remarks=(
            Remark.checked(
                "AᵀA V = VΣ²: the columns vᵢ of V are eigenvectors of AᵀA with eigenvalues "
                "λᵢ = σᵢ², so σᵢ = √λᵢ (AᵀA is positive semidefinite).",
                claim,
            ),
            Remark.checked(
                "From AV = UΣ, each left singular vector is uᵢ = Avᵢ/σᵢ (σᵢ > 0).", claim
            ),
            Remark.prose(
                "Signs are not unique: vᵢ and uᵢ may both flip; the check compares them up to sign."
            ),
        ),
    )
