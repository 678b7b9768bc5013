"""`derive check` / `derive.check_answer`: a claimed gradient is accepted or its slip named.

Each slip is the classic one a student makes; the counterexample must be small (sizes 2 and
3, integer inputs in [−3, 3]) and must really show the claim and the truth disagreeing, which
is re-computed here by hand with NumPy, independently of the engine.
"""

import json
import os
import pathlib
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import sympy as sp

import derive
from derive.answer import DIAGNOSES, AnswerReport, check_answer
from derive.errors import InputError, VerificationError
from derive.expr import MatScalar
from derive.model import CheckReport
from derive.notation.text import text

DERIVE = str(pathlib.Path(sys.executable).parent / "derive")

LSQ = r"\frac12\|Ax-b\|_2^2"
LSQ_SHAPES = {"A": ("m", "n")}
SQUARE = {"A": ("n", "n"), "X": ("n", "n")}


# Hand-written true gradients, to check the counterexamples independently of the engine.
def _quad(v):
    return (v["A"] + v["A"].T) @ v["x"]


def _lsq(v):
    return v["A"].T @ (v["A"] @ v["x"] - v["b"])


CORRECT = [
    pytest.param(r"(A + A^\top)x", r"x^\top A x", "x", None, id="quadratic-form"),
    pytest.param(r"A^\top(Ax - b)", LSQ, "x", LSQ_SHAPES, id="least-squares"),
    pytest.param(r"A^\top", r"\operatorname{tr}(AX)", "X", SQUARE, id="trace-AX"),
    pytest.param(r"2X", r"\operatorname{tr}(X^\top X)", "X", None, id="frobenius"),
]

# (claim, f, wrt, shapes, diagnosis, the true gradient by hand)
SLIPS = [
    pytest.param(r"2Ax", r"x^\top A x", "x", None, "symmetric-only", _quad, id="symmetric-only"),
    pytest.param(
        r"A",
        r"\operatorname{tr}(AX)",
        "X",
        SQUARE,
        "transpose",
        lambda v: v["A"].T,
        id="transpose",
    ),
    pytest.param(r"x", r"x^\top x", "x", None, "factor-2", lambda v: 2 * v["x"], id="factor-2"),
    pytest.param(r"-A^\top(Ax-b)", LSQ, "x", LSQ_SHAPES, "sign", _lsq, id="sign"),
    pytest.param(r"(Ax - b)^\top A", LSQ, "x", LSQ_SHAPES, "layout", _lsq, id="layout"),
    pytest.param(r"2A^\top(Ax-b)", LSQ, "x", LSQ_SHAPES, "half", _lsq, id="half"),
    pytest.param(
        r"X^{-1}AX^{-1}",
        r"\operatorname{tr}(AX^{-1})",
        "X",
        {"A": ("n", "n")},
        "sign-transpose",
        lambda v: -np.linalg.inv(v["X"]).T @ v["A"].T @ np.linalg.inv(v["X"]).T,
        id="sign-transpose",
    ),
    pytest.param(r"A^\top A x", LSQ, "x", LSQ_SHAPES, "differs", _lsq, id="differs"),
]


# --- the Python API ---------------------------------------------------------------------------


@pytest.mark.parametrize("claim, f, wrt, shapes", CORRECT)
def test_correct_answers_are_accepted(claim, f, wrt, shapes):
    r = check_answer(claim, f, wrt, shapes=shapes)
    assert isinstance(r, AnswerReport)
    assert r.correct and r.identical and r.diagnosis == "correct", r.message
    assert r.counterexample is None
    assert r.max_rel_error <= 1e-8
    assert r.message.startswith("Correct")
    assert r.to_text() == r.message


@pytest.mark.parametrize("claim, f, wrt, shapes, diagnosis, truth", SLIPS)
def test_slips_are_diagnosed_with_a_small_counterexample(claim, f, wrt, shapes, diagnosis, truth):
    r = check_answer(claim, f, wrt, shapes=shapes)
    assert not r.correct
    assert r.diagnosis == diagnosis, r.message
    assert r.diagnosis in DIAGNOSES
    assert text(r.truth) in r.message  # the true gradient, in words
    cx = r.counterexample
    assert cx is not None, r.message
    assert set(cx["dims"].values()) <= {2, 3}
    assert len(set(cx["dims"].values())) == len(cx["dims"])
    for name, value in cx["inputs"].items():
        assert np.all(value == np.round(value)), name
        assert np.all(np.abs(value) <= 3), name
    # The truth printed is the truth, computed by hand; the claim really differs from it.
    np.testing.assert_allclose(cx["truth"], truth(cx["inputs"]), rtol=1e-12, atol=1e-12)
    if diagnosis == "layout":
        assert cx["claim"].shape == cx["truth"].shape[::-1]
    else:
        assert cx["claim"].shape == cx["truth"].shape
        assert not np.allclose(cx["claim"], cx["truth"])
    out = r.to_text()
    assert out.startswith(r.message) and "Counterexample" in out and "your answer" in out


def test_symmetric_only_names_the_matrix_and_gives_the_general_gradient():
    r = check_answer(r"2Ax", r"x^\top A x", "x")
    assert "right only for symmetric A; for a general A, ∂f/∂x = (A + Aᵀ)x" in r.message
    # With A assumed symmetric, the same claim is right.
    s = check_answer(r"2Ax", r"x^\top A x", "x", assume={"A": "symmetric"})
    assert s.correct and s.diagnosis == "correct"


def test_numeric_agreement_decides_and_identical_is_only_symbolic():
    r = check_answer(r"(A + A^\top)x", r"x^\top A x", "x", assume={"A": "symmetric"})
    assert r.correct and not r.identical  # the engine writes 2Ax
    assert "written differently" in r.message
    r = check_answer(r"A^\top A x - A^\top b", LSQ, "x", shapes=LSQ_SHAPES)
    assert r.correct and r.identical


def test_layout_says_the_shapes_and_to_transpose():
    r = check_answer(r"(Ax - b)^\top A", LSQ, "x", shapes=LSQ_SHAPES)
    assert "is 1×n, but ∂f/∂x has the shape of x, n×1" in r.message
    assert "numerator layout; transpose it" in r.message
    # Transposed but still wrong: both slips are named.
    r = check_answer(r"2(Ax - b)^\top A", LSQ, "x", shapes=LSQ_SHAPES)
    assert r.diagnosis == "layout" and "twice the gradient" in r.message


def test_a_claim_that_does_not_conform_gets_a_shape_message():
    r = check_answer(r"A(Ax-b)", LSQ, "x", shapes=LSQ_SHAPES)
    assert not r.correct and r.diagnosis == "shape"
    assert "does not conform" in r.message and "Aᵀ(Ax − b)" in r.message
    r = check_answer(r"Ax - b", LSQ, "x", shapes=LSQ_SHAPES)
    assert r.diagnosis == "shape" and "m×1" in r.message and "n×1" in r.message


def test_sympy_input_and_the_lazy_api_name():
    n = sp.Symbol("n", integer=True, positive=True)
    x = sp.MatrixSymbol("x", n, 1)
    f = MatScalar(sp.MatMul(x.T, x))
    r = derive.check_answer(sp.MatMul(2, x), f, "x")
    assert r.correct
    assert derive.check_answer(x, f, "x").diagnosis == "factor-2"


def test_a_scalar_variable_accepts_a_one_by_one_claim():
    r = check_answer(r"x^\top x", r"\lambda \|x\|_2^2", "lambda")
    assert r.correct and r.truth.free_symbols


def test_bad_claims_raise_input_errors():
    with pytest.raises(InputError, match="uses B"):
        check_answer(r"2Bx", r"x^\top A x", "x")
    with pytest.raises(InputError):
        check_answer(r"A^\top(Ax - b", LSQ, "x", shapes=LSQ_SHAPES)


def test_an_unverified_reference_raises(monkeypatch):
    import derive.check

    def failing(derivation, trials=5, seed=0):
        return CheckReport(False, 1.0, trials, seed, (), "step 1 differs")

    monkeypatch.setattr(derive.check, "check_derivation", failing)
    with pytest.raises(VerificationError, match="reference gradient could not be verified"):
        check_answer(r"2x", r"x^\top x", "x")


def test_json_is_plain_data():
    data = json.loads(check_answer(r"2Ax", r"x^\top A x", "x").to_json())
    assert data["schema_version"] == 1 and data["diagnosis"] == "symmetric-only"
    assert data["truth"]["text"] == "(A + Aᵀ)x"
    assert set(data["counterexample"]) == {"dims", "inputs", "claim", "truth"}


# --- the command line, through the installed entry point --------------------------------------

CLI = {
    "ok-quadratic": (r"(A + A^\top)x", "--of", r"x^\top A x", "--wrt", "x"),
    "ok-lsq": (r"A^\top(Ax - b)", "--of", LSQ, "--wrt", "x", "--shape", "A=m,n"),
    "ok-trace": (
        r"A^\top",
        *("--of", r"\operatorname{tr}(AX)", "--wrt", "X", "--shape", "A=n,n", "--shape", "X=n,n"),
    ),
    "ok-frobenius": ("2X", "--of", r"\operatorname{tr}(X^\top X)", "--wrt", "X"),
    "symmetric-only": ("2Ax", "--of", r"x^\top A x", "--wrt", "x"),
    "transpose": (
        "A",
        *("--of", r"\operatorname{tr}(AX)", "--wrt", "X", "--shape", "A=n,n", "--shape", "X=n,n"),
    ),
    "factor-2": ("x", "--of", r"x^\top x", "--wrt", "x", "--format", "json"),
    "sign": (r"-A^\top(Ax-b)", "--of", LSQ, "--wrt", "x", "--shape", "A=m,n"),
    "layout": (r"(Ax - b)^\top A", "--of", LSQ, "--wrt", "x", "--shape", "A=m,n"),
    "shape": ("A(Ax-b)", "--of", LSQ, "--wrt", "x", "--shape", "A=m,n"),
    "malformed": (r"A^\top(Ax - b", "--of", LSQ, "--wrt", "x", "--shape", "A=m,n"),
    "unknown-symbol": ("2Bx", "--of", r"x^\top A x", "--wrt", "x"),
    "bad-assumption": ("2x", "--of", r"x^\top x", "--wrt", "x", "--assume", "x=round"),
}


@pytest.fixture(scope="module")
def cli() -> dict[str, subprocess.CompletedProcess]:
    """Every CLI case, run up front (in parallel where there are cores): each run imports
    SymPy and JAX and verifies the reference derivation, some 2-3 s of one CPU."""

    def run(args):
        return subprocess.run(
            [DERIVE, "check", *args], capture_output=True, text=True, timeout=300, check=False
        )

    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        return dict(zip(CLI, pool.map(run, CLI.values()), strict=True))


@pytest.mark.parametrize("case", [k for k in CLI if k.startswith("ok-")])
def test_cli_correct_exits_0(cli, case):
    out = cli[case]
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Correct:") and out.stderr == ""


@pytest.mark.parametrize(
    "case, needle",
    [
        ("symmetric-only", "right only for symmetric A"),
        ("transpose", "is the transpose of the gradient"),
        ("sign", "has the wrong sign"),
        ("layout", "numerator layout; transpose it"),
    ],
)
def test_cli_slip_exits_1_with_a_counterexample(cli, case, needle):
    out = cli[case]
    assert out.returncode == 1, out.stderr
    assert needle in out.stdout
    assert "Counterexample" in out.stdout and "your answer (" in out.stdout


def test_cli_shape_slip_exits_1(cli):
    out = cli["shape"]
    assert out.returncode == 1, out.stderr
    assert "does not conform" in out.stdout


def test_cli_json(cli):
    out = cli["factor-2"]
    assert out.returncode == 1, out.stderr
    data = json.loads(out.stdout)
    assert data["diagnosis"] == "factor-2" and data["correct"] is False
    assert "a factor of 2 is missing" in data["message"]
    assert data["counterexample"]["truth"] == [[2 * v[0]] for v in data["counterexample"]["claim"]]


@pytest.mark.parametrize("case", ["malformed", "unknown-symbol", "bad-assumption"])
def test_cli_bad_input_exits_2_with_one_line(cli, case):
    out = cli[case]
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("derive: error:"), out.stderr


def test_a_claim_right_only_at_the_drawn_sizes_is_rejected():
    """2x + (n − 3)(n − 4)x equals 2x at n = 3 and n = 4 only: the draws cover other sizes."""
    from derive.model import Given
    from derive.sampling import choose_dims

    sizes = {choose_dims((Given("x", ("n",)),), t)["n"] for t in range(5)}
    assert len(sizes) >= 3 and max(sizes) >= 7
    report = check_answer("2x + (n-3)(n-4)x", r"\sum_{i=1}^n x_i^2", "x")
    assert not report.correct and report.counterexample is not None
