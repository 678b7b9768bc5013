"""The checker: hand-built derivations pass when right and fail, naming the step, when wrong.

Shapes are non-square (m ≠ n) so a missing transpose cannot pass by accident.
"""

import subprocess
import sys

import pytest
import sympy as sp

from derive.check import check_derivation, check_rule_example, given_of
from derive.expr import (
    CommutationMatrix,
    DifferentialSymbol,
    GradientOf,
    MatDifferential,
    MatScalar,
    ScalarDifferential,
    ScalarDifferentialSymbol,
)
from derive.model import Claim, Derivation, Given, RuleExample, RuleRef, Step

m, n = sp.symbols("m n", integer=True, positive=True)
A = sp.MatrixSymbol("A", m, n)
X = sp.MatrixSymbol("X", n, n)
S = sp.MatrixSymbol("S", n, n)
x = sp.MatrixSymbol("x", n, 1)
b = sp.MatrixSymbol("b", m, 1)
mu = sp.MatrixSymbol("mu", n, 1)
dx = DifferentialSymbol(x)
F = sp.Symbol("f")
T = sp.Transpose

# x first, so that n < m and AᵀA is invertible (sizes go up in order of first appearance).
GIVEN = (
    Given("x", ("n",)),
    Given("A", ("m", "n")),
    Given("b", ("m",)),
    Given("X", ("n", "n")),
    Given("mu", ("n",)),
)
f = MatScalar(T(A * x) * b)
GRAD = T(A) * b


def ref(name: str) -> RuleRef:
    return RuleRef(name.lower().replace(" ", "-"), name, "elementary")


def derivation(steps=(), claims=(), given=GIVEN, wrt=("x",), objective=f) -> Derivation:
    return Derivation(
        title="test",
        goal="test",
        given=given,
        objective=objective,
        wrt=wrt,
        steps=tuple(steps),
        results=((GradientOf(F, x), GRAD),),
        claims=tuple(claims),
    )


def good_steps() -> list[Step]:
    return [
        Step(F, f, MatScalar(T(b) * A * x), ref("A scalar is its own transpose")),
        Step(
            ScalarDifferential(F),
            ScalarDifferential(MatScalar(T(b) * A * x)),
            MatScalar(T(b) * A * dx),
            ref("Constant matrix factors"),
        ),
        Step(
            GradientOf(F, x),
            MatScalar(T(b) * A * dx),
            GRAD,
            ref("Read off the gradient"),
            relation="gradient",
        ),
    ]


CLAIM = Claim("gradient", "df/dx against jax.grad", GRAD, f, ("x",))


def test_a_correct_derivation_passes():
    report = check_derivation(derivation(good_steps(), [CLAIM]), trials=3, seed=0)
    assert report.passed, report.failure
    assert report.max_rel_error < 1e-10
    assert report.failure == ""
    assert [i.label for i in report.items] == [
        "step 1: A scalar is its own transpose",
        "step 2: Constant matrix factors",
        "step 3: Read off the gradient",
        "df/dx against jax.grad",
    ]
    assert [i.method for i in report.items] == [
        "evaluation",
        "jax.jvp",
        "tr(Gᵀ dX), dX random",
        "jax.grad",
    ]
    assert all(i.passed for i in report.items)
    assert report.summary().startswith("verified against JAX autodiff: 3 trials")


def test_the_report_is_reproducible():
    d = derivation(good_steps(), [CLAIM])
    assert check_derivation(d, trials=2, seed=7) == check_derivation(d, trials=2, seed=7)


def test_a_wrong_factor_fails_and_names_the_step():
    steps = good_steps()
    steps[2] = Step(steps[2].lhs, steps[2].before, 2 * GRAD, steps[2].rule, relation="gradient")
    report = check_derivation(derivation(steps, [CLAIM]), trials=3, seed=4)
    assert not report.passed
    assert report.failure.startswith(
        "step 3 (Read off the gradient) differs at seed 4 trial 0: relative error"
    )
    assert [i.passed for i in report.items] == [True, True, False, True]
    assert report.items[2].max_rel_error > 0.1
    assert report.summary().startswith("NOT VERIFIED: step 3")


def test_a_missing_transpose_fails_on_shapes_without_crashing():
    steps = good_steps()
    steps[2] = Step(steps[2].lhs, steps[2].before, T(b) * A, steps[2].rule, relation="gradient")
    report = check_derivation(derivation(steps), trials=2)
    assert not report.passed
    assert "step 3 (Read off the gradient) could not be checked at seed 0 trial 0" in report.failure
    assert "shape" in report.failure


def test_a_wrong_equal_step_and_a_wrong_claim_fail():
    steps = good_steps()
    steps[0] = Step(F, f, MatScalar(T(x) * T(A) * b) * 2, ref("Transpose"))
    wrong_claim = Claim("gradient", "df/dx against jax.grad", T(A) * b * 2, f, ("x",))
    report = check_derivation(derivation(steps, [wrong_claim]), trials=2)
    assert [i.passed for i in report.items] == [False, True, True, False]
    assert report.failure.startswith("step 1 (Transpose) differs at seed 0 trial 0")
    report = check_derivation(derivation(good_steps(), [wrong_claim]), trials=2)
    assert report.failure.startswith("claim 'df/dx against jax.grad' differs at seed 0 trial 0")


def test_a_wrong_differential_is_caught_by_the_jvp():
    steps = good_steps()
    steps[1] = Step(
        steps[1].lhs, steps[1].before, MatScalar(T(b) * A * x), ref("Constant matrix factors")
    )
    report = check_derivation(derivation(steps), trials=2)
    assert report.failure.startswith("step 2 (Constant matrix factors) differs")


def test_unevaluable_items_fail_with_the_reason():
    label = Step(F, f, GradientOf(F, x), ref("A label"))
    nan = Step(F, sp.log(-1 - MatScalar(T(x) * x)), sp.S.Zero, ref("Log of a negative"))
    unknown = Step(F, f, f, ref("Odd"), relation="bogus")  # type: ignore[arg-type]
    report = check_derivation(derivation([label, nan, unknown]), trials=2)
    assert not report.passed
    # three steps, and the chain link into step 2, which does not start where step 1 ended
    assert [i.passed for i in report.items] == [False, False, False, False]
    assert report.max_rel_error == float("inf")
    assert "unsupported: numeric evaluation of GradientOf" in report.failure
    assert "non-finite" in check_derivation(derivation([nan]), trials=1).failure
    assert "relation 'bogus'" in check_derivation(derivation([unknown]), trials=1).failure


def test_a_derivation_with_nothing_to_check_is_not_verified():
    report = check_derivation(derivation(), trials=1)
    assert not report.passed
    assert report.failure == "the derivation has no steps or claims to check"


def test_unknown_assumption_fails_the_report_instead_of_raising():
    given = (Given("x", ("n",), ("orthonormal",)),)
    report = check_derivation(derivation(good_steps()[:1], given=given), trials=1)
    assert not report.passed
    assert report.failure.startswith("could not draw random inputs at seed 0 trial 0")


# --- the other relations ------------------------------------------------------------------

LS = MatScalar(T(A * x - b) * (A * x - b))
LS_SOLUTION = sp.Inverse(T(A) * A) * T(A) * b


def test_solve_step():
    normal = T(A) * (A * x - b)
    good = Step(
        x, normal, LS_SOLUTION, ref("Solve the normal equations"), relation="solve", wrt=("x",)
    )
    equation = Step(
        x,
        sp.Eq(T(A) * A * x, T(A) * b, evaluate=False),
        LS_SOLUTION,
        ref("Solve"),
        relation="solve",
        wrt=("x",),
    )
    bad = Step(x, normal, T(A) * b, ref("Wrong solution"), relation="solve", wrt=("x",))
    report = check_derivation(derivation([good, equation, bad], objective=LS), trials=3)
    assert [i.passed for i in report.items] == [True, True, False]
    assert [i.method for i in report.items] == ["substitution"] * 3
    assert report.items[0].max_rel_error < 1e-12
    assert report.failure.startswith("step 3 (Wrong solution) differs at seed 0 trial 0: scaled")


def test_stationary_claim():
    good = Claim("stationary", "gradient vanishes", LS_SOLUTION, LS, ("x",), (("x", LS_SOLUTION),))
    bad = Claim("stationary", "wrong point", T(A) * b, LS, ("x",), (("x", T(A) * b),))
    report = check_derivation(derivation(claims=[good, bad], objective=LS), trials=3)
    assert [i.passed for i in report.items] == [True, False]
    assert report.items[0].max_rel_error < 1e-12
    assert report.items[0].method == "jax.grad at the solution"
    assert "claim 'wrong point'" in report.failure


def test_newton_step_claim_rejects_a_slip_a_sign_and_a_transpose():
    """w − H⁻¹g against JAX's gradient and Hessian: for least squares (H = 2AᵀA) one step
    lands on the solution; a factor, a sign or a transposed (row) step is rejected."""
    right = x - sp.Inverse(2 * T(A) * A) * (2 * T(A) * (A * x - b))
    wrong = [
        x - sp.Inverse(T(A) * A) * (2 * T(A) * (A * x - b)),  # H off by 2
        x + sp.Inverse(2 * T(A) * A) * (2 * T(A) * (A * x - b)),  # the sign
        T(right),  # the same values as a row
    ]
    claims = [
        Claim("newton-step", f"step {k}", e, LS, ("x",)) for k, e in enumerate([right, *wrong])
    ]
    report = check_derivation(derivation(claims=claims, objective=LS), trials=3)
    assert [i.passed for i in report.items] == [True, False, False, False]
    assert report.items[0].max_rel_error < 1e-11
    assert report.items[0].method.startswith("jax.grad and jax.hessian")


def test_stationary_equation_claim_accepts_any_multiple_and_rejects_another_equation():
    """AᵀAx = Aᵀb is where ∇‖Ax − b‖² = 2Aᵀ(Ax − b) vanishes; so is 3AᵀAx = 3Aᵀb, but not
    AᵀAx = 2Aᵀb nor AᵀAx = −Aᵀb."""
    lhs, rhs = T(A) * A * x, T(A) * b
    equations = [(lhs, rhs), (3 * lhs, 3 * rhs), (lhs, 2 * rhs), (lhs, -rhs)]
    claims = [
        Claim("stationary-equation", f"eq {k}", sp.Tuple(*e), LS, ("x",))
        for k, e in enumerate(equations)
    ]
    report = check_derivation(derivation(claims=claims, objective=LS), trials=3)
    assert [i.passed for i in report.items] == [True, True, False, False]


def test_constant_step_and_claim():
    before = MatScalar(T(x - mu) * (x - mu))
    after = MatScalar(T(x) * x) - 2 * MatScalar(T(mu) * x)  # differs by μᵀμ
    in_x = Step(F, before, after, ref("Drop a constant"), relation="constant", wrt=("x",))
    in_mu = Step(F, before, after, ref("Not constant in mu"), relation="constant", wrt=("mu",))
    claim = Claim("constant", "up to a constant", after, before, ("x",))
    report = check_derivation(derivation([in_x, in_mu], [claim]), trials=2)
    # steps 1, 2, the claim, and the chain: step 2 restarts f from where step 1 began
    assert [i.passed for i in report.items] == [True, False, True, False]
    assert report.failure.startswith("step 2 (Not constant in mu) differs")


def test_jacobian_step_and_claims_with_hessian():
    jac_step = Step(
        sp.Symbol("J"),
        MatDifferential(A * X * x),
        A * X,
        ref("Read off the Jacobian"),
        relation="jacobian",
    )
    wrong = Step(
        sp.Symbol("J"),
        MatDifferential(A * X * x),
        A * T(X),
        ref("Wrong Jacobian"),
        relation="jacobian",
    )
    quad = MatScalar(T(x) * X * x)
    claims = [
        Claim("jacobian", "Jacobian", A * X, A * X * x, ("x",)),
        Claim("hessian", "Hessian", X + T(X), quad, ("x",)),
        Claim("hessian", "symmetric Hessian", 2 * X, quad, ("x",)),
    ]
    report = check_derivation(derivation([jac_step, wrong], claims), trials=2)
    assert [i.passed for i in report.items] == [True, False, True, True, False]
    assert [i.method for i in report.items] == [
        "J dx, dx random",
        "J dx, dx random",
        "jax.jacobian",
        "jax.hessian",
        "jax.hessian",
    ]
    assert report.failure.startswith("step 2 (Wrong Jacobian) differs")


def test_gradient_with_respect_to_a_matrix_and_hessian_label():
    logdet = sp.log(sp.Determinant(X))
    given = (Given("X", ("n", "n"), ("posdet",)),)
    # the Hessian with respect to a matrix is n² × n² in the vec layout (vec stacks columns):
    # −(X⁻¹ ⊗ X⁻ᵀ)K_nn; an n × n matrix offered as the Hessian fails on its shape
    hessian = sp.MatMul(
        -1,
        sp.KroneckerProduct(sp.Inverse(X), T(sp.Inverse(X))),
        CommutationMatrix(X.shape[0], X.shape[0]),
    )
    claims = [
        Claim("gradient", "log det", T(sp.Inverse(X)), logdet, ("X",)),
        Claim("hessian", "vec-layout Hessian", hessian, logdet, ("X",)),
        Claim("hessian", "not a Hessian in the vec layout", T(sp.Inverse(X)), logdet, ("X",)),
    ]
    report = check_derivation(
        derivation(claims=claims, given=given, wrt=("X",), objective=logdet), trials=2
    )
    assert [i.passed for i in report.items] == [True, True, False]
    assert "not a Hessian in the vec layout" in report.failure and "shape" in report.failure


def test_symmetric_directions_for_symmetric_symbols():
    """tr(dSᵀ M) = tr(dS M) holds exactly when dS is symmetric, as it is when S is."""
    dS = DifferentialSymbol(S)
    step = Step(F, sp.Trace(T(dS) * X), sp.Trace(dS * X), ref("dS is symmetric"), wrt=("S",))
    sym = (Given("S", ("n", "n"), ("spd",)), Given("X", ("n", "n")))
    plain = (Given("S", ("n", "n")), Given("X", ("n", "n")))
    assert check_derivation(derivation([step], given=sym), trials=2).passed
    assert not check_derivation(derivation([step], given=plain), trials=2).passed


def test_scalar_parameter_with_indexed_data():
    y = sp.IndexedBase("y")
    i = sp.Symbol("i", integer=True)
    theta = sp.Symbol("theta", real=True)
    loss = sp.Sum((y[i] - theta) ** 2, (i, 1, n))
    grad = -2 * sp.Sum(y[i] - theta, (i, 1, n))
    dtheta = ScalarDifferentialSymbol(theta)
    given = (Given("y", ("n",), role="data"), Given("theta", ()))
    steps = [
        Step(ScalarDifferential(F), ScalarDifferential(loss), grad * dtheta, ref("Differentiate")),
        Step(GradientOf(F, theta), grad * dtheta, grad, ref("Read off"), relation="gradient"),
        Step(
            theta, grad, sp.Sum(y[i], (i, 1, n)) / n, ref("Solve"), relation="solve", wrt=("theta",)
        ),
    ]
    claims = [
        Claim("gradient", "gradient", grad, loss, ("theta",)),
        Claim(
            "stationary", "mean", grad, loss, ("theta",), (("theta", sp.Sum(y[i], (i, 1, n)) / n),)
        ),
    ]
    report = check_derivation(derivation(steps, claims, given=given, wrt=("theta",)), trials=3)
    assert report.passed, report.failure
    assert report.max_rel_error < 1e-10


# --- rule examples ------------------------------------------------------------------------


def test_rule_example_passes_and_fails_loudly():
    dX = DifferentialSymbol(X)
    good = RuleExample(ScalarDifferential(sp.Trace(X * X)), 2 * sp.Trace(X * dX), wrt=("X",))
    assert check_rule_example(good, ()) < 1e-12
    bad = RuleExample(ScalarDifferential(sp.Trace(X * X)), 2 * sp.Trace(T(X) * dX), wrt=("X",))
    with pytest.raises(AssertionError, match="differs at seed 0 trial 0"):
        check_rule_example(bad, ())


def test_rule_example_assumptions_and_explicit_given():
    ex = RuleExample(T(S), S, assume={"S": ("symmetric",)})
    assert check_rule_example(ex, (Given("S", ("n", "n")),)) == 0.0
    with pytest.raises(AssertionError, match="differs"):
        check_rule_example(RuleExample(T(S), S), ())
    dX = DifferentialSymbol(X)
    grad = RuleExample(sp.Trace(A * dX * T(A)), T(A) * A, ("X",), relation="gradient")
    assert check_rule_example(grad, (), trials=2) < 1e-12


def test_given_of_reads_shapes_and_bases_of_differentials():
    theta = sp.Symbol("theta")
    e = MatScalar(T(b) * A * DifferentialSymbol(x)) * theta + ScalarDifferentialSymbol(theta)
    assert set(given_of(e)) == {
        Given("b", ("m",)),
        Given("A", ("m", "n")),
        Given("x", ("n",)),
        Given("theta", ()),
    }


def test_given_of_reads_data_lengths_and_one_by_one_matrices():
    y = sp.IndexedBase("y")
    i = sp.Symbol("i", integer=True)
    s = sp.MatrixSymbol("s", 1, 1)
    v = sp.Symbol("v", positive=True)
    e = sp.Sum(y[i], (i, 1, n)) * MatScalar(s) * v
    assert set(given_of(e)) == {
        Given("y", ("n",), role="data"),
        Given("s", (1, 1)),
        Given("v", (), ("positive",)),
    }


def test_importing_the_checker_does_not_import_jax():
    code = (
        "import sys, derive.check, derive.evaluate, derive.sampling; "
        "assert 'jax' not in sys.modules, 'jax imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- issue #15, item 4: a solution is compared in its own layout; a near miss fails -----------


def test_a_solution_in_the_wrong_layout_fails_rather_than_being_reshaped():
    # x̂ written as a row: the solve step and the stationary claim refuse it (as the claim of
    # a gradient does), instead of reshaping it into the column x is
    row = T(LS_SOLUTION)
    normal = T(A) * (A * x - b)
    step = Step(x, normal, row, ref("Solve, as a row"), relation="solve", wrt=("x",))
    claim = Claim("stationary", "a row", row, LS, ("x",), (("x", row),))
    report = check_derivation(derivation([step], [claim], objective=LS), trials=2)
    assert [i.passed for i in report.items] == [False, False]
    assert "has shape (1, " in report.failure and "the symbol has (" in report.failure


def test_a_solution_off_by_a_relative_1e_10_fails_and_its_error_is_the_slip():
    near = sp.Rational(10**10 + 1, 10**10) * LS_SOLUTION
    normal = T(A) * (A * x - b)
    steps = [
        Step(x, normal, LS_SOLUTION, ref("Solve"), relation="solve", wrt=("x",)),
        Step(x, normal, near, ref("Solve, nearly"), relation="solve", wrt=("x",)),
    ]
    claims = [
        Claim("stationary", "right", LS_SOLUTION, LS, ("x",), (("x", LS_SOLUTION),)),
        Claim("stationary", "near", near, LS, ("x",), (("x", near),)),
    ]
    report = check_derivation(derivation(steps, claims, objective=LS), trials=2)
    assert [i.passed for i in report.items] == [True, False, True, False]
    # the residual in units of its growth as x̂ moves by a relative h: x̂'s relative error
    assert all(3e-11 < i.max_rel_error < 3e-10 for i in report.items[1::2])
    assert all(i.max_rel_error < 1e-13 for i in report.items[::2])
