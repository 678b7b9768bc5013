"""Traced check functions kept on disk (derive.check.stored): reused by a later check, with
the same report; keyed by everything the trace depends on; ignored when damaged."""

import numpy as np
import pytest
import sympy as sp

import derive
from derive.answer import check_answer
from derive.check import compiled, stored

LEAST_SQUARES = r"\frac12\|Ax-b\|_2^2"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DERIVE_JAX_CACHE", str(tmp_path))
    compiled._COMPILED.clear()  # so that each check compiles, from the disk or afresh
    loads = []
    real = stored.load

    def counted(name):
        found = real(name)
        loads.append(found is not None)
        return found

    monkeypatch.setattr(stored, "load", counted)
    yield tmp_path / "traced", loads
    compiled._COMPILED.clear()


def test_a_stored_trace_is_reused_with_the_same_report(cache):
    folder, loads = cache
    d = derive.gradient(LEAST_SQUARES, "x", shapes={"A": ("m", "n")}, check=False)
    first = d.check()
    assert first.passed and list(folder.iterdir()) and loads == [False]
    compiled._COMPILED.clear()
    second = d.check()
    assert loads == [False, True]
    assert second.summary() == first.summary()
    assert [i.max_rel_error for i in second.items] == [i.max_rel_error for i in first.items]


def test_a_wrong_answer_still_fails_from_a_stored_trace(cache):
    _, loads = cache
    for _ in range(2):
        compiled._COMPILED.clear()
        verdict = check_answer(r"A^\top + 10^{-10}A^\top", r"\operatorname{tr}(AX)", "X")
        assert not verdict.correct
    assert loads[-1] is True


def test_a_damaged_file_is_traced_afresh(cache):
    folder, loads = cache
    d = derive.gradient(LEAST_SQUARES, "x", shapes={"A": ("m", "n")}, check=False)
    assert d.check().passed
    for path in folder.iterdir():
        path.write_bytes(b"[0]\nnot an exported function")
    compiled._COMPILED.clear()
    assert d.check().passed and loads[-1] is False


def test_the_key_spells_assumptions_sizes_and_shapes():
    x, y = sp.Symbol("x"), sp.Symbol("x", positive=True)
    arrays = [np.zeros(3)]
    base = (("gradient", x**2, "x", (("n", 3),), (("x", 0),)),)
    keys = {
        stored.key(base, arrays),
        stored.key((("gradient", y**2, "x", (("n", 3),), (("x", 0),)),), arrays),
        stored.key((("gradient", x**2, "x", (("n", 4),), (("x", 0),)),), arrays),
        stored.key(base, [np.zeros(4)]),
        stored.key(base, [np.zeros((3, 1))]),
    }
    assert len(keys) == 5 and None not in keys
    assert stored.key((("gradient", x**2, object(), (), ()),), arrays) is None
