"""Random inputs honour their assumptions, and sizes are distinct per dimension."""

import numpy as np
import pytest

from derive.errors import InputError
from derive.model import Given
from derive.sampling import choose_dims, draw

DIMS = {"n": 5, "m": 3}


def one(name, shape, *assumptions, seed=0, dims=DIMS):
    g = Given(name, shape, tuple(assumptions))
    return draw((g,), np.random.default_rng(seed), dims)[name]


SEEDS = range(8)


@pytest.mark.parametrize("seed", SEEDS)
def test_plain_matrices_are_normal_and_not_symmetric(seed):
    a = one("A", ("n", "n"), seed=seed)
    assert a.shape == (5, 5) and a.dtype == np.float64
    assert not np.allclose(a, a.T)
    assert one("B", ("m", "n"), seed=seed).shape == (3, 5)
    assert one("x", ("n",), seed=seed).shape == (5,)
    assert one("s", (), seed=seed).shape == ()


@pytest.mark.parametrize("seed", SEEDS)
def test_symmetric_and_spd(seed):
    s = one("S", ("n", "n"), "symmetric", seed=seed)
    np.testing.assert_array_equal(s, s.T)
    p = one("P", ("n", "n"), "spd", seed=seed)
    np.testing.assert_array_equal(p, p.T)
    assert np.linalg.eigvalsh(p).min() > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_invertible_and_posdet_are_well_conditioned_and_not_symmetric(seed):
    a = one("A", ("n", "n"), "invertible", seed=seed)
    assert np.linalg.cond(a) < 50 and not np.allclose(a, a.T)
    b = one("B", ("n", "n"), "posdet", seed=seed)
    assert np.linalg.det(b) > 0 and np.linalg.cond(b) < 50 and not np.allclose(b, b.T)
    c = one("C", ("n", "n"), "symmetric", "posdet", seed=seed)
    np.testing.assert_allclose(c, c.T)
    assert np.linalg.det(c) > 0
    assert np.linalg.det(one("D", ("n", "n"), "posdet", "invertible", seed=seed)) > 0


def test_symmetric_is_not_always_definite():
    assert any(
        np.linalg.eigvalsh(one("S", ("n", "n"), "symmetric", seed=s)).min() < 0 for s in SEEDS
    )


def test_posdet_flips_the_sign_of_a_negative_determinant():
    signs = {np.sign(np.linalg.det(one("A", ("n", "n"), "invertible", seed=s))) for s in SEEDS}
    assert signs == {-1.0, 1.0}  # so posdet has something to do
    assert all(np.linalg.det(one("A", ("n", "n"), "posdet", seed=s)) > 0 for s in SEEDS)


@pytest.mark.parametrize("seed", SEEDS)
def test_entrywise_assumptions(seed):
    pos = one("a", ("m", "n"), "positive", seed=seed)
    assert pos.min() >= 0.5 and pos.max() <= 2
    nonneg = one("a", ("n",), "nonnegative", seed=seed)
    assert nonneg.min() >= 0
    nz = one("a", ("n",), "nonzero", seed=seed)
    assert np.abs(nz).min() >= 0.5
    p = one("p", ("n",), "prob", seed=seed)
    assert p.min() > 0 and p.sum() == pytest.approx(1.0, abs=1e-14)
    y = one("y", ("n",), "onehot", seed=seed)
    assert sorted(y) == [0, 0, 0, 0, 1]
    yy = one("Y", ("n", "m"), "onehot", seed=seed)
    np.testing.assert_array_equal(yy.sum(axis=0), np.ones(3))
    b = one("b", ("n",), "binary", seed=seed)
    assert set(b) == {0.0, 1.0}
    assert set(one("b", (2,), "binary", seed=seed)) == {0.0, 1.0}
    assert 0 < one("q", (), "prob", seed=seed) < 1
    assert one("s", (), "spd", seed=seed) > 0
    u = one("u", ("n",), "unit", seed=seed)
    assert u.min() > 0 and u.max() < 1


@pytest.mark.parametrize("seed", SEEDS)
def test_mixed_entrywise_and_structural(seed):
    a = one("A", ("n", "n"), "positive", "symmetric", seed=seed)
    np.testing.assert_array_equal(a, a.T)
    assert a.min() > 0
    b = one("B", ("n", "n"), "positive", "posdet", seed=seed)
    assert b.min() > 0 and np.linalg.det(b) > 0


def test_one_by_one_matrices_take_scalar_meanings():
    assert one("S", (1, 1), "spd").shape == (1, 1) and one("S", (1, 1), "spd") > 0
    assert one("S", (1,), "spd") > 0
    assert one("S", (1, 1), "invertible") != 0


def test_unknown_or_misplaced_assumptions_are_refused():
    with pytest.raises(InputError, match="unknown assumption 'orthogonal'"):
        one("Q", ("n", "n"), "orthogonal")
    with pytest.raises(InputError, match="not a square matrix"):
        one("A", ("m", "n"), "spd")
    with pytest.raises(InputError, match="not a square matrix"):
        one("x", ("n",), "symmetric")
    with pytest.raises(InputError, match="no size"):
        one("x", ("k",))


def test_draws_are_reproducible():
    g = (Given("A", ("m", "n")), Given("x", ("n",), ("positive",)))
    first = draw(g, np.random.default_rng([0, 1]), DIMS)
    again = draw(g, np.random.default_rng([0, 1]), DIMS)
    for name in first:
        np.testing.assert_array_equal(first[name], again[name])


GIVEN = (
    Given("A", ("m", "n")),
    Given("B", ("n", "k")),
    Given("x", ("n",)),
    Given("C", ("p", 3)),
    Given("D", ("q", "r", "s")),
)


@pytest.mark.parametrize("trial", range(6))
def test_dims_are_distinct_and_avoid_fixed_sizes(trial):
    dims = choose_dims(GIVEN, trial)
    assert list(dims) == ["m", "n", "k", "p", "q", "r", "s"]
    assert len(set(dims.values())) == len(dims)
    assert 3 not in dims.values() and 1 not in dims.values()


def test_dims_vary_across_trials_and_samples_get_6_to_9():
    assert len({tuple(choose_dims(GIVEN, t).values()) for t in range(2)}) == 2
    data = (Given("X", ("n", "d"), role="data"), Given("w", ("d",)))
    for trial in range(8):
        dims = choose_dims(data, trial)
        assert 6 <= dims["n"] <= 9 and dims["d"] != dims["n"]
    assert {choose_dims(data, t)["n"] for t in range(4)} == {6, 7, 8, 9}
    assert choose_dims(GIVEN[:1], 0) == {"m": 3, "n": 4}
