"""Tolerances that separate right from nearly right (issue #15, item 4).

A claim off by a relative 1e-10 is rejected, whatever it claims (a gradient, a Hessian, a
closed-form solution, a step); a right claim whose evaluation cancels heavily is accepted,
where a relative error against the result alone would fail it. Shapes are non-square and
sizes distinct, so no slip passes by symmetry.
"""

import numpy as np
import pytest
import sympy as sp

from derive.answer import check_answer
from derive.check import TOLERANCE, check_derivation
from derive.check.measure import relative, value_and_size
from derive.check.trial import Trial
from derive.expr import DifferentialSymbol, GradientOf, MatScalar, ScalarDifferential
from derive.model import TOLERANCE as REPORTED_TOLERANCE
from derive.model import CheckReport, Claim, Derivation, Given, RuleRef, Step

m, n = sp.symbols("m n", integer=True, positive=True)
A = sp.MatrixSymbol("A", m, n)
B = sp.MatrixSymbol("B", m, n)
X = sp.MatrixSymbol("X", n, m)
S = sp.MatrixSymbol("S", n, n)
M = sp.MatrixSymbol("M", m, n)
x = sp.MatrixSymbol("x", n, 1)
y = sp.MatrixSymbol("y", m, 1)
theta = sp.Symbol("theta")
F = sp.Symbol("f")
T = sp.Transpose
GIVEN = (
    Given("x", ("n",)),
    Given("A", ("m", "n")),
    Given("B", ("m", "n")),
    Given("X", ("n", "m")),
    Given("S", ("n", "n"), ("invertible",)),
    Given("M", ("m", "n")),
    Given("y", ("m",)),
    Given("theta", (), ("positive",)),
)
SLIP = sp.Rational(10**10 + 1, 10**10)  # 1 + 10⁻¹⁰, exactly
BIG = sp.Integer(10**8)


def ref(name: str) -> RuleRef:
    return RuleRef(name.lower().replace(" ", "-"), name, "elementary")


def check(claims=(), steps=(), objective=None, wrt=("x",)) -> CheckReport:
    d = Derivation(
        title="tolerance",
        goal="tolerance",
        given=GIVEN,
        objective=objective,
        wrt=wrt,
        steps=tuple(steps),
        results=(),
        claims=tuple(claims),
    )
    return check_derivation(d, trials=3, seed=0)


# f, its derivative and the kind of claim: scalar and matrix gradients, a Hessian
TRACE = sp.Trace(A * X)
QUADRATIC = MatScalar(T(x) * S * x)
LOG_DET = sp.log(sp.Determinant(S))
CUBE = theta**3 + sp.log(theta)
DERIVATIVES = [
    ("gradient", TRACE, T(A), ("X",)),  # the example of the issue
    ("gradient", LOG_DET, T(sp.Inverse(S)), ("S",)),
    ("gradient", QUADRATIC, (S + T(S)) * x, ("x",)),
    ("gradient", CUBE, 3 * theta**2 + 1 / theta, ("theta",)),
    ("hessian", QUADRATIC, S + T(S), ("x",)),
    ("hessian", CUBE, 6 * theta - 1 / theta**2, ("theta",)),
]


@pytest.mark.parametrize("kind, f, right, wrt", DERIVATIVES)
def test_a_derivative_off_by_a_relative_1e_10_is_rejected_and_the_right_one_accepted(
    kind, f, right, wrt
):
    near = SLIP * right
    report = check([Claim(kind, "right", right, f, wrt), Claim(kind, "near", near, f, wrt)])
    assert [i.passed for i in report.items] == [True, False], report.failure
    assert report.items[0].max_rel_error < TOLERANCE / 100
    assert 3e-11 < report.items[1].max_rel_error < 3e-10  # the slip, measured as itself
    assert "claim 'near' differs at seed 0 trial 0" in report.failure


def test_derive_check_rejects_the_claim_of_the_issue():
    # `derive check --of '\operatorname{tr}(AX)' --wrt X 'A^\top + 10^{-10}A^\top'`
    shapes = {"A": ("m", "n"), "X": ("n", "m")}
    wrong = check_answer(r"A^\top + 10^{-10}A^\top", r"\operatorname{tr}(AX)", "X", shapes=shapes)
    assert not wrong.correct and wrong.diagnosis != "correct"
    assert 3e-11 < wrong.max_rel_error < 3e-10
    right = check_answer(r"A^\top", r"\operatorname{tr}(AX)", "X", shapes=shapes)
    assert right.correct and right.max_rel_error < TOLERANCE / 100


LS = MatScalar(T(M * x - y) * (M * x - y))  # ‖Mx − y‖², M tall: one minimiser
LS_SOLUTION = sp.Inverse(T(M) * M) * T(M) * y
LS_GRADIENT = 2 * T(M) * (M * x - y)


def test_a_closed_form_off_by_a_relative_1e_10_is_rejected():
    # the normal equations solved, as a stationary claim and as a "solve" step
    right = Claim("stationary", "right", LS_SOLUTION, LS, ("x",), (("x", LS_SOLUTION),))
    near = Claim("stationary", "near", LS_SOLUTION, LS, ("x",), (("x", SLIP * LS_SOLUTION),))
    solve = [
        Step(sp.Symbol("x_hat"), LS_GRADIENT, e, ref(name), relation="solve", wrt=("x",))
        for e, name in ((LS_SOLUTION, "Solve"), (SLIP * LS_SOLUTION, "Solve near"))
    ]
    report = check([right, near], solve, objective=LS)
    assert [i.passed for i in report.items] == [True, False, True, False], report.failure
    assert max(report.items[0].max_rel_error, report.items[2].max_rel_error) < TOLERANCE / 10
    # the residual in units of its growth as the solution moves: the relative slip itself
    for item in (report.items[1], report.items[3]):
        assert 3e-11 < item.max_rel_error < 3e-10


def test_a_scalar_closed_form_off_by_a_relative_1e_10_is_rejected():
    # d/dθ (θ²/2 − 3 log θ) = θ − 3/θ vanishes at θ = √3
    f = theta**2 / 2 - 3 * sp.log(theta)
    steps = [
        Step(sp.Symbol("t"), sp.diff(f, theta), e, ref(name), relation="solve", wrt=("theta",))
        for e, name in ((sp.sqrt(3), "Solve"), (SLIP * sp.sqrt(3), "Solve near"))
    ]
    report = check(steps=steps, objective=f, wrt=("theta",))
    assert [i.passed for i in report.items] == [True, False], report.failure


def test_a_step_off_by_a_relative_1e_10_is_rejected():
    dx = DifferentialSymbol(x)
    before = MatScalar(T(y) * A * dx)
    steps = [
        Step(F, sp.Trace(A * X), sp.Trace(X * A), ref("Cyclic")),
        Step(F, sp.Trace(A * X), SLIP * sp.Trace(X * A), ref("Cyclic near")),
        Step(GradientOf(F, x), before, T(A) * y, ref("Read off"), relation="gradient"),
        Step(GradientOf(F, x), before, SLIP * T(A) * y, ref("Read off near"), relation="gradient"),
    ]
    report = check(steps=steps)
    assert [i.passed for i in report.items][:4] == [True, False, True, False], report.failure


# --- right claims whose evaluation cancels heavily -----------------------------------------------


def naive_relative(e: sp.Basic, truth: sp.Basic) -> float:
    """max|a − b| / max(|a|, |b|): the error against the result alone, at trial 0's draw."""
    tr = Trial.draw(GIVEN, 0, 0)
    a, _ = value_and_size(e, tr.values, tr.dims)
    b, _ = value_and_size(truth, tr.values, tr.dims)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), np.max(np.abs(b))))


# (kind, f, a right claim summed from terms ~10⁸ times larger than it, the plain form, wrt)
CANCELLING = [
    # ∂/∂X tr(AX) = Aᵀ written as (A + 10⁸B)ᵀ − 10⁸Bᵀ
    ("gradient", TRACE, sp.MatAdd(T(A + BIG * B), -BIG * T(B), evaluate=False), T(A), ("X",)),
    # d/dθ θ³ = 3θ², written as 3(θ + 10⁸)² − 3·10¹⁶ − 6·10⁸θ
    (
        "gradient",
        theta**3,
        sp.Add(3 * (theta + BIG) ** 2, -3 * BIG**2, -6 * BIG * theta, evaluate=False),
        3 * theta**2,
        ("theta",),
    ),
    # ∇ₓ xᵀSx = (S + Sᵀ)x, written as (S + Sᵀ + 10⁸I)x − 10⁸x
    (
        "gradient",
        QUADRATIC,
        sp.MatAdd((S + T(S) + BIG * sp.Identity(n)) * x, -BIG * x, evaluate=False),
        (S + T(S)) * x,
        ("x",),
    ),
]


@pytest.mark.parametrize("kind, f, cancelling, plain, wrt", CANCELLING)
def test_a_right_claim_that_cancels_heavily_is_accepted(kind, f, cancelling, plain, wrt):
    assert isinstance(cancelling, (sp.Add, sp.MatAdd))  # still a difference of large terms
    # Against the result alone, its round-off is far above the tolerance, 10⁸·2⁻⁵³ ≈ 1e-8 …
    assert naive_relative(cancelling, plain) > 100 * TOLERANCE
    # … against the size of its terms it is round-off, so it passes.
    report = check([Claim(kind, "cancelling", cancelling, f, wrt)])
    assert report.passed, report.failure
    assert report.items[0].max_rel_error < TOLERANCE / 100


def test_a_step_that_cancels_heavily_passes_and_one_with_a_slip_in_a_term_does_not():
    cancel = sp.Add(theta + BIG**2, -(BIG**2), evaluate=False)  # θ, as (θ + 10¹⁶) − 10¹⁶
    slip = sp.Add(theta + BIG**2, -(BIG**2) * SLIP, evaluate=False)  # 10⁻¹⁰ off in a term
    steps = [
        Step(sp.Symbol("f"), theta, cancel, ref("Add and subtract")),
        Step(sp.Symbol("g"), theta, slip, ref("Add and subtract a little less")),
    ]
    assert naive_relative(cancel, theta) > 100 * TOLERANCE
    report = check(steps=steps, wrt=("theta",))
    assert [i.passed for i in report.items] == [True, False], report.failure
    assert report.items[0].max_rel_error < TOLERANCE / 100
    # Only the top-level terms are sized: a sum that cancels inside a product or a power,
    # ((θ + 10⁸) − 10⁸)², is held to its result, and its round-off fails it.


def test_a_differential_step_is_sized_by_its_products():
    # d tr(AX) = tr(A dX) = Σ A_ji dX_ij: the lhs by jax.jvp, the rhs from the gradient
    dX = DifferentialSymbol(X)
    steps = [
        Step(ScalarDifferential(F), ScalarDifferential(TRACE), sp.Trace(A * dX), ref("d")),
        Step(GradientOf(F, X), sp.Trace(A * dX), T(A), ref("Read off"), relation="gradient"),
        Step(GradientOf(F, X), sp.Trace(A * dX), SLIP * T(A), ref("Near"), relation="gradient"),
    ]
    report = check(steps=steps, wrt=("X",))
    assert [i.passed for i in report.items][:3] == [True, True, False], report.failure


# --- the measure and the report ----------------------------------------------------------------


def test_the_relative_error_is_against_the_larger_size_and_refuses_nan():
    a, b = np.array([1.0, 2.0]), np.array([1.0, 2.0 + 1e-6])
    assert relative(a, b) == pytest.approx(1e-6 / (2.0 + 1e-6))
    assert relative(a, b, np.array([1e3, 1e3])) == pytest.approx(1e-9)
    assert relative(np.zeros(2), np.zeros(2)) == 0.0
    assert relative(np.zeros(2), np.array([0.0, 1e-300])) == 1.0  # no absolute floor
    with pytest.raises(Exception, match="non-finite"):
        relative(a, np.array([1.0, np.nan]))


def test_the_summary_says_what_was_compared_and_at_what_tolerance():
    report = check([Claim("gradient", "right", T(A), TRACE, ("X",))])
    summary = report.summary()
    assert summary.startswith("verified against JAX autodiff: 3 trials, max relative error ")
    assert "float64, each side against the size of its terms; tolerance 1e-11" in summary
    assert REPORTED_TOLERANCE == TOLERANCE == 1e-11
    # tight enough to reject a relative slip of 1e-10 with a factor of 10 to spare
    assert 10 * TOLERANCE <= 1e-10
