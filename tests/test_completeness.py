"""Every expression node class of derive is handled by every part of the engine, or refused.

For each class defined in `derive.expr` and `derive.distributions`, a sample node goes
through the evaluator, the code generator, both expression printers and the differential
rules. Each must either handle it or refuse it with an `UnsupportedError` that names it:
never another exception (a KeyError from a missing table entry, an AttributeError), never
SymPy's fallback printing of the class name, never a silent zero for a differential. A new
node class without a sample here fails `test_every_node_class_has_a_sample`.
"""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest
import sympy as sp

import derive.distributions as distributions
import derive.expr as expr
from derive.check import given_of
from derive.codegen import generate
from derive.errors import UnsupportedError
from derive.evaluate import evaluate
from derive.model import Context
from derive.notation.latex import latex
from derive.notation.text import text
from derive.record import Recorder

N, M = 3, 4
n, m = sp.symbols("n m", integer=True, positive=True)
X, Y = sp.MatrixSymbol("X", n, n), sp.MatrixSymbol("Y", n, n)
A = sp.MatrixSymbol("A", m, n)
x = sp.MatrixSymbol("x", n, 1)
t, mu = sp.Symbol("t", real=True), sp.Symbol("mu", real=True)
v, a, b = (sp.Symbol(s, positive=True) for s in ("v", "a", "b"))
p = sp.Symbol("p", positive=True)
data = sp.IndexedBase("z")

#: a sample node of each class, and what it assumes of its symbols
SAMPLES: dict[str, tuple[sp.Basic, dict[str, frozenset[str]]]] = {
    "MatScalar": (expr.MatScalar(sp.MatMul(sp.Transpose(x), X, x)), {}),
    "ScalarDifferential": (expr.ScalarDifferential(t**2), {}),
    "MatDifferential": (expr.MatDifferential(sp.MatMul(X, Y)), {}),
    "DifferentialSymbol": (expr.DifferentialSymbol(X), {}),
    "ScalarDifferentialSymbol": (expr.ScalarDifferentialSymbol(t), {}),
    "Softmax": (expr.Softmax(x), {}),
    "LogSumExp": (expr.LogSumExp(x), {}),
    "ExtremeEigenvalue": (expr.ExtremeEigenvalue(X, "max"), {"X": frozenset({"symmetric"})}),
    "ExtremeEigenvector": (expr.ExtremeEigenvector(X, "max"), {"X": frozenset({"symmetric"})}),
    "PseudoInverse": (expr.PseudoInverse(A), {"A": frozenset({"full-column-rank"})}),
    "MatrixFunction": (expr.MatrixFunction(X, "exp"), {}),
    "FrechetDerivative": (expr.FrechetDerivative(X, Y, "exp"), {}),
    "sigmoid": (expr.sigmoid(t), {}),
    "softplus": (expr.softplus(t), {}),
    "relu": (expr.relu(t), {}),
    "NuclearNorm": (expr.NuclearNorm(A), {}),
    "PolarFactor": (expr.PolarFactor(A), {}),
    "step": (expr.step(t), {}),
    "Vec": (expr.Vec(A), {}),
    "CommutationMatrix": (expr.CommutationMatrix(n, m), {}),
    "GradientOf": (expr.GradientOf(sp.Symbol("f"), x), {}),
    "HessianOf": (expr.HessianOf(sp.Symbol("f"), x), {}),
    "JacobianOf": (expr.JacobianOf(sp.Symbol("g"), x), {}),
    "DensityOf": (
        distributions.DensityOf("toy", t, (mu,), sp.exp(-((t - mu) ** 2))),
        {},
    ),
    "CategoricalDensity": (
        distributions.CategoricalDensity(x, sp.MatrixSymbol("q", n, 1)),
        {"x": frozenset({"onehot"}), "q": frozenset({"prob"})},
    ),
    "Distribution": (distributions.Normal(mu, v), {}),
    "Normal": (distributions.Normal(mu, v), {}),
    "Bernoulli": (distributions.Bernoulli(p), {}),
    "Expectation": (distributions.Expectation(t**2, t, distributions.Normal(mu, v)), {}),
    "BetaFunction": (distributions.BetaFunction(a, b), {}),
    "BetaOf": (distributions.BetaOf(p, a, b), {}),
    "Median": (distributions.Median(data, n), {}),
}


def node_classes() -> list[type]:
    out = []
    for module in (expr, distributions):
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__ and issubclass(cls, sp.Basic):
                if not name.startswith("_"):
                    out.append(cls)
    return out


CLASSES = node_classes()


def test_every_node_class_has_a_sample():
    missing = sorted({c.__name__ for c in CLASSES} - set(SAMPLES))
    assert not missing, f"add a sample node of each new class to SAMPLES: {missing}"
    for cls in CLASSES:
        assert isinstance(SAMPLES[cls.__name__][0], cls)


def _refused(exc: UnsupportedError, node: sp.Basic) -> None:
    """A refusal must name the node: its class, or the node as printed."""
    message = str(exc)
    names = {type(node).__name__, text(node), str(node)}
    assert any(name in message for name in names) or re.search(
        type(node).__name__, message, re.I
    ), f"the refusal {message!r} does not name {type(node).__name__}"


def _values(node: sp.Basic, assume: dict) -> tuple[dict, dict]:
    rng = np.random.default_rng(0)
    dims = {"n": N, "m": M}
    values: dict[str, np.ndarray] = {}
    for g in given_of(node):
        shape = tuple(dims.get(str(s), s) if not isinstance(s, int) else s for s in g.shape)
        arr = rng.uniform(0.5, 1.5, size=shape or ())
        kinds = assume.get(g.name, frozenset())
        if "symmetric" in kinds:
            arr = arr + arr.T
        if "onehot" in kinds:
            arr = np.eye(shape[0])[:, :1]
        if "prob" in kinds:
            arr = arr / arr.sum()
        values[g.name] = arr
        values["d" + g.name] = rng.standard_normal(shape or ())
    return values, dims


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_evaluator_handles_or_refuses(name):
    node, assume = SAMPLES[name]
    values, dims = _values(node, assume)
    if name == "Median":
        values["z"] = np.array([3.0, 1.0, 2.0])
    if name == "BetaOf":
        values["p"] = np.array(0.3)  # a Beta density's variable lies in (0, 1)
    varying = tuple(k for k in values if "d" + k in values)
    try:
        out = evaluate(node, values, dims, backend="jax", varying=varying)
    except UnsupportedError as exc:
        _refused(exc, node)
        return
    assert np.all(np.isfinite(np.asarray(out, dtype=float)))


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_code_generator_lowers_or_refuses(name):
    node, _ = SAMPLES[name]
    try:
        source = generate(node, given_of(node))
    except UnsupportedError as exc:
        _refused(exc, node)
        return
    assert "def f(" in source


@pytest.mark.parametrize("name", sorted(SAMPLES))
@pytest.mark.parametrize("printer", [latex, text], ids=["latex", "text"])
def test_both_printers_write_it_in_notation(name, printer):
    node, _ = SAMPLES[name]
    out = printer(node)
    # A lower-case class is a function written by its name (softplus); a CamelCase name in the
    # output is SymPy's fallback for a node no printer knows.
    assert out and (name.islower() or name not in out), (
        f"{printer.__module__} falls back to the class name: {out}"
    )


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_the_differential_rules_handle_or_refuse(name):
    node, assume = SAMPLES[name]
    if not isinstance(node, sp.Expr) and not getattr(node, "is_Matrix", False):
        pytest.skip("not an expression: only ever a parameter of one (a distribution)")
    symbols = {s for s in node.free_symbols if isinstance(s, (sp.Symbol, sp.MatrixSymbol))}
    ctx = Context(varying=frozenset(symbols), assume=assume)
    try:
        out = Recorder(ctx).differentiate(node, sp.Symbol("df"))
    except UnsupportedError as exc:
        _refused(exc, node)
        return
    assert out != 0 and not (isinstance(out, sp.ZeroMatrix)), "a silent zero"


# --- what is refused, exactly ------------------------------------------------------------------


def _outcome(concern, name) -> str:
    node, assume = SAMPLES[name]
    try:
        concern(node, assume)
    except UnsupportedError:
        return "refused"
    return "handled"


def _evaluate(node, assume):
    values, dims = _values(node, assume)
    values.update({"z": np.array([3.0, 1.0, 2.0]), "p": np.array(0.3)})
    evaluate(
        node, values, dims, backend="jax", varying=tuple(k for k in values if "d" + k in values)
    )


def _generate(node, assume):
    generate(node, given_of(node))


def _differentiate(node, assume):
    symbols = {s for s in node.free_symbols if isinstance(s, (sp.Symbol, sp.MatrixSymbol))}
    Recorder(Context(varying=frozenset(symbols), assume=assume)).differentiate(
        node, sp.Symbol("df")
    )


#: the classes each part refuses today, by design; a test fails when one more is refused (a
#: regression) or one fewer (then move it out of this table)
LABELS = {"GradientOf", "HessianOf", "JacobianOf"}  # the left side ∂f/∂x, not a value
REFUSED = {
    # an expectation is evaluated by drawing (derive.integrate), never pointwise
    "evaluate": LABELS | {"Expectation"},
    # generated code computes results: no differentials, expectations, eigen-solvers, or
    # sums over a symbolic number of samples
    "generate": LABELS
    | {"Expectation", "Median", "ExtremeEigenvalue", "ExtremeEigenvector"}
    | {"DifferentialSymbol", "ScalarDifferentialSymbol", "MatDifferential", "ScalarDifferential"}
    # K_mn alone: its sizes are no argument's (a product K vec(X) is generated)
    | {"CommutationMatrix"},
    # densities are written out by rules before differentiating; a pseudo-inverse is written
    # out through its rank assumption first; second differentials and the derivative of a
    # matrix function's Fréchet derivative are not taken
    "differentiate": LABELS
    | {"Expectation", "Median", "BetaFunction", "BetaOf", "CategoricalDensity", "DensityOf"}
    | {"PseudoInverse", "FrechetDerivative", "MatDifferential", "ScalarDifferential"}
    # the step function's derivative is Dirac's delta: a second derivative through a ReLU;
    # the polar factor's (a second derivative through a nuclear norm) is not taken
    | {"step", "PolarFactor"}
    # vec and K appear in results in the vec convention (Hessians, Jacobians), not in
    # functions; K alone is a constant (here "varying" in its symbolic sizes only)
    | {"Vec", "CommutationMatrix"},
}


@pytest.mark.parametrize(
    "concern", [_evaluate, _generate, _differentiate], ids=lambda f: f.__name__
)
def test_exactly_the_declared_classes_are_refused(concern):
    expressions = [
        k
        for k, (node, _) in SAMPLES.items()
        if isinstance(node, sp.Expr) or getattr(node, "is_Matrix", False)
    ]
    refused = {k for k in expressions if _outcome(concern, k) == "refused"}
    assert refused == REFUSED[concern.__name__.lstrip("_")]
