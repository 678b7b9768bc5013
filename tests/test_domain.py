"""The check draws inside the function's domain, and refuses a function defined nowhere.

√θ is right and verified with θ drawn where it is defined (θ > 0), not NOT VERIFIED because a
draw fell outside; log(−θ²) is real nowhere, so its "derivative" 2/θ is refused, never shown
as verified.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

import derive
from derive.errors import DomainError

DEFINED_SOMEWHERE = [
    (r"\sqrt\theta", "theta"),
    (r"\theta^{-1/2}", "theta"),
    (r"\log\theta", "theta"),
    (r"\log(1 - \theta^2)", "theta"),
    (r"\sqrt{\theta - 1}", "theta"),
    (r"\log(x^\top x - 1)", "x"),
]


@pytest.mark.parametrize("f, wrt", DEFINED_SOMEWHERE)
def test_a_function_defined_somewhere_is_checked_there(f, wrt):
    d = derive.gradient(f, wrt)
    assert d.verification.passed, d.verification.failure


NOWHERE = [
    (r"\log(-\theta^2)", "theta"),
    (r"\log(-x^\top x)", "x"),
    (r"\sqrt{-1 - \theta^2}", "theta"),
    (r"\log(-\exp(\theta))", "theta"),
]


@pytest.mark.parametrize("f, wrt", NOWHERE)
def test_a_function_defined_nowhere_is_refused(f, wrt):
    with pytest.raises(DomainError, match="not real-valued at any point tried"):
        derive.gradient(f, wrt)


def test_the_cli_refuses_it_in_one_line_with_exit_2():
    out = subprocess.run(
        [sys.executable, "-m", "derive.cli", "grad", r"\log(-\theta^2)", "--wrt", "theta"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.count("\n") == 1 and "not real-valued" in out.stderr


def test_a_wrong_answer_on_the_domain_is_still_caught():
    report = derive.check_answer(r"\frac{1}{\sqrt\theta}", r"\sqrt\theta", "theta")
    assert not report.correct
