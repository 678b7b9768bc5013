"""The Moore–Penrose pseudo-inverse X⁺: parsing, the full-rank forms, Cookbook (55) and (56),
the sampling of full-rank matrices, and the refusal without a rank assumption."""

import numpy as np
import pytest
import sympy as sp

import derive
from derive.expr import PseudoInverse
from derive.latex import parse_latex
from derive.model import Given
from derive.sampling import choose_dims, draw

SHAPES = {"X": ("m", "n"), "A": ("m", "n")}


@pytest.mark.parametrize(
    "latex", [r"\operatorname{tr}(A^\top X^{+\top})", r"\operatorname{tr}(A^\top (X^\dagger)^\top)"]
)
def test_plus_and_dagger_are_the_pseudo_inverse(latex):
    e = parse_latex(latex, SHAPES)
    pinvs = [a for a in sp.preorder_traversal(e) if isinstance(a, PseudoInverse)]
    assert len(pinvs) == 1
    assert pinvs[0].shape == pinvs[0].arg.shape[::-1]  # X⁺ of an m × n X is n × m


def test_cookbook_55_reads_2_x_plus_transpose():
    d = derive.gradient(
        r"\log\det(X^\top X)", "X", shapes={"X": ("m", "n")}, assume={"X": "full-column-rank"}
    )
    assert d.verification.passed, d.verification.summary()
    assert d.to_text().rstrip().splitlines()[-2].strip() == "∂f/∂X = 2(X⁺)ᵀ"


def test_cookbook_56_as_a_function_of_the_pseudo_inverse():
    """f = log det(XᵀX) with X = Y⁺, Y = X⁺ of full row rank: ∂f/∂Y = −2Xᵀ = −2(Y⁺)ᵀ."""
    d = derive.gradient(
        r"\log\det\left((Y^{+})^\top Y^{+}\right)",
        "Y",
        shapes={"Y": ("n", "m")},
        assume={"Y": "full-row-rank"},
    )
    assert d.verification.passed, d.verification.summary()
    assert d.to_text().rstrip().splitlines()[-2].strip() == "∂f/∂Y = −2(Y⁺)ᵀ"
    ids = [s.rule.id for s in d.steps]
    assert ids[0] == "pinv.full-rank" and ids[-1] == "pinv.recognise"
    y = np.random.default_rng(0).standard_normal((3, 5))
    np.testing.assert_allclose(d.function()(Y=y), -2 * np.linalg.pinv(y).T, rtol=1e-10)


def test_a_gradient_through_a_pseudo_inverse_verifies():
    d = derive.gradient(
        r"\operatorname{tr}(A^\top X^{+\top})",
        "X",
        shapes=SHAPES,
        assume={"X": "full-column-rank"},
    )
    assert d.verification.passed, d.verification.summary()


def test_without_a_rank_assumption_the_derivative_is_refused_by_name():
    with pytest.raises(derive.UnsupportedError, match="full-column-rank"):
        derive.gradient(r"\operatorname{tr}(A^\top X^{+\top})", "X", shapes=SHAPES)


def test_full_rank_matrices_are_drawn_in_their_orientation():
    tall = (Given("X", ("m", "n"), ("full-column-rank",)),)
    dims = choose_dims(tall, 0)
    if dims["m"] < dims["n"]:
        with pytest.raises(derive.InputError):
            draw(tall, np.random.default_rng(0), dims)
        dims = choose_dims(tall, 0, reverse=True)
    x = draw(tall, np.random.default_rng(0), dims)["X"]
    assert x.shape[0] > x.shape[1] and np.linalg.matrix_rank(x) == x.shape[1]


@pytest.mark.parametrize(
    ("shape", "kind"),
    [((3, 4), "full-column-rank"), ((4, 3), "full-row-rank"), ((4,), "full-row-rank")],
)
def test_a_rank_assumption_that_cannot_hold_is_an_input_error(shape, kind):
    with pytest.raises(derive.ShapeError):
        derive.gradient(r"\|X\|_F^2", "X", shapes={"X": shape}, assume={"X": kind})
