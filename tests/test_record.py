"""One recorder: every `Step` of every derivation comes from `derive.record.Recorder`, which
records a rule only with what the rule's own machine form returned."""

from __future__ import annotations

import ast

import pytest
import sympy as sp

from derive.errors import UnsupportedError
from derive.expr import ScalarDifferential
from derive.model import Context
from derive.record import Recorder
from derive.rules import constrained, optimum, transpose
from tests.conftest import ROOT
from tests.test_layers import SOURCES

RECORDER = ROOT / "derive" / "record.py"


def step_constructions(path) -> list[int]:
    """Lines of `path` that call Step(...) (or model.Step(...))."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            fn = node.func
            name = fn.id if isinstance(fn, ast.Name) else getattr(fn, "attr", "")
            if name == "Step":
                lines.append(node.lineno)
    return lines


def test_only_the_recorder_makes_steps():
    found = {
        str(path.relative_to(ROOT)): step_constructions(path)
        for folder in SOURCES.values()
        for path in folder.rglob("*.py")
        if path != RECORDER
    }
    found = {k: v for k, v in found.items() if v}
    assert not found, f"Step(...) built outside derive/record.py: {found}"
    assert step_constructions(RECORDER), "the recorder itself makes steps"


def test_the_scan_sees_a_step_built_elsewhere(tmp_path):
    rogue = tmp_path / "rogue.py"
    rogue.write_text("from derive.model import Step\ns = Step(1, 2, 3, None)\n")
    assert step_constructions(rogue) == [2]


# --- each kind of rule has one way in ---------------------------------------------------------

x = sp.MatrixSymbol("x", 3, 1)
t = sp.Symbol("t", positive=True)


def test_a_citation_is_cited_and_nothing_else():
    rec = Recorder()
    with pytest.raises(TypeError, match="citation"):
        rec.transform(t, constrained.LAGRANGE, sp.Symbol("L"))
    with pytest.raises(TypeError, match="rewrite"):
        rec.rewrite(t, constrained.LAGRANGE, sp.Symbol("L"))
    rec.cite(constrained.LAGRANGE, sp.Symbol("L"), t, t + 1)
    assert rec.steps[0].rule == constrained.LAGRANGE.ref


def test_a_rule_with_a_machine_form_cannot_be_cited():
    with pytest.raises(TypeError, match="this records only citation"):
        Recorder().cite(optimum.NLL, sp.Symbol("f"), t, -t)


def test_a_transform_that_does_not_apply_is_refused_not_recorded():
    rec = Recorder()
    with pytest.raises(UnsupportedError, match="nll.definition"):
        rec.transform(t, optimum.NLL, sp.Symbol("NLL"))
    assert rec.steps == []


def test_a_rewrite_records_one_step_per_pass_with_what_the_rule_returned():
    rec = Recorder(Context())
    e = sp.Transpose(sp.MatMul(sp.MatrixSymbol("A", 3, 3), x))
    out = rec.rewrite(e, transpose.TRANSPOSE_PRODUCT, sp.Symbol("y"))
    assert out != e and [s.before for s in rec.steps] == [e]
    assert rec.steps[0].after == out and rec.steps[0].rule.id == transpose.TRANSPOSE_PRODUCT.id


def test_a_derivative_is_recorded_from_the_differential():
    rec = Recorder()
    g = rec.derivative(t**3, t, sp.Symbol("g"), optimum.DERIVATIVE)
    (step,) = rec.steps
    assert step.before == ScalarDifferential(t**3) and step.relation == "gradient"
    assert sp.simplify(g - 3 * t**2) == 0
