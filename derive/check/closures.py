"""SymPy expressions compiled to NumPy closures, for the values a check evaluates many times.

`derive.evaluate` walks the SymPy tree at every evaluation: a dispatch, SymPy attribute
lookups and shape bookkeeping at every node, about ten times the cost of the NumPy arithmetic
itself on the arrays of a few entries a check draws. `program` walks the tree once, for given
sizes, into nested closures that do only the arithmetic, the same NumPy calls in the same
order as the evaluator, so the values are the same to the bit.

Only nodes whose evaluator this module mirrors are compiled, and only when the evaluator would
dispatch the node to that very function (`derive.evaluate.evaluator_of`): a subclass with an
evaluator of its own, a node of another type, or anything that binds a variable (a Sum, an
entrywise function) is evaluated by `derive.evaluate.evaluate` itself, as a whole subtree. A
closure that raises says nothing about why: callers evaluate again with `evaluate`, whose
error is the one reported (`derive.check.compiled`).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import sympy as sp
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalMatrix, DiagonalOf
from sympy.matrices.expressions.hadamard import HadamardPower, HadamardProduct

from derive.errors import InputError, ShapeError, UnsupportedError
from derive.evaluate import UFUNCS, Tangents, evaluate, evaluator_of
from derive.expr import LogSumExp, MatDifferential, MatScalar, ScalarDifferential, Softmax

#: a compiled expression: (values by name as float64 arrays, the d(·) hook) → its value
Program = Callable[[Mapping[str, np.ndarray], Tangents | None], Any]


@functools.lru_cache(maxsize=4096)
def program(expr: sp.Basic, dims: tuple[tuple[str, int], ...], varying: tuple[str, ...]) -> Program:
    """`expr` for the sizes `dims` (sorted (name, size) pairs) as a NumPy closure; its value
    at values v is ``evaluate(expr, v, dict(dims), varying=varying, tangents=t)`` when that
    returns, and it raises when that raises (not necessarily the same error)."""
    return _Compiler(dict(dims), varying).sub(expr)


class _Compiler:
    def __init__(self, dims: dict[str, int], varying: tuple[str, ...]) -> None:
        self.dims = dims
        self.varying = varying

    def size(self, e: sp.Basic) -> int:
        if e.is_Integer:
            return int(e)
        if e.is_Symbol and e.name in self.dims:
            return int(self.dims[e.name])
        raise InputError(f"the size {e}")  # left to the evaluator, which says it better

    def shape(self, e: sp.Basic) -> tuple[int, int]:
        return self.size(e.shape[0]), self.size(e.shape[1])

    def sub(self, node: sp.Basic) -> Program:
        build = _builder(type(node))
        if build is not None:
            try:
                return build(node, self)
            except Exception:  # noqa: BLE001, S110 - the evaluator raises it, or knows better
                pass
        return self.whole(node)

    def whole(self, node: sp.Basic) -> Program:
        """The evaluator itself, for this subtree."""
        dims, varying = self.dims, self.varying

        def run(vals, tangents):
            return evaluate(node, vals, dims, varying=varying, tangents=tangents)

        return run


_BUILDERS: dict[type, Callable[[sp.Basic, _Compiler], Program]] = {}


@functools.cache
def _builder(cls: type) -> Callable | None:
    """The builder mirroring the evaluator that `cls` dispatches to, if there is one."""
    impl = evaluator_of(cls)
    if impl is None:
        return None
    for mirrored, build in _BUILDERS.items():
        if evaluator_of(mirrored) is impl:
            return build
    return None


def _mirrors(*classes: type):
    def register(build):
        for cls in classes:
            _BUILDERS[cls] = build
        return build

    return register


def _same_shapes(node: sp.Basic, arrays: list) -> None:
    if len({tuple(np.shape(a)) for a in arrays}) > 1:
        raise ShapeError(f"{type(node).__name__} of arrays of different shapes")


def _scalar(value: Any) -> Any:
    if getattr(value, "ndim", 0) != 0:
        raise ShapeError("a scalar factor that is not a scalar")
    return value


@_mirrors(sp.Number)
def _number(node, c):
    if not node.is_finite:
        raise UnsupportedError("a number that is not finite")
    f = float(node)
    return lambda vals, t: np.asarray(f)


@_mirrors(sp.NumberSymbol)
def _number_symbol(node, c):
    f = float(node)
    return lambda vals, t: np.asarray(f)


@_mirrors(sp.Symbol)
def _symbol(node, c):
    name = node.name
    size = float(c.dims[name]) if name in c.dims else None

    def run(vals, t):
        if name in vals:
            return vals[name]
        if size is None:
            raise InputError(f"no value given for the symbol {name}")
        return np.asarray(size)

    return run


@_mirrors(sp.MatrixSymbol)
def _matrix_symbol(node, c):
    name, shape = node.name, c.shape(node)
    vector = 1 in shape

    def run(vals, t):
        value = vals[name]
        if value.shape != shape:
            if vector and value.ndim <= 1 and value.size == shape[0] * shape[1]:
                return np.reshape(value, shape)
            raise ShapeError(f"{name} has the wrong shape")
        return value

    return run


def _reduce(fn: Callable, parts: list[Program]) -> Program:
    if len(parts) == 2:
        first, second = parts
        return lambda vals, t: fn(first(vals, t), second(vals, t))
    return lambda vals, t: functools.reduce(fn, [p(vals, t) for p in parts])


@_mirrors(sp.Add)
def _add(node, c):
    return _reduce(operator.add, [c.sub(a) for a in node.args])


@_mirrors(sp.Mul)
def _mul(node, c):
    return _reduce(operator.mul, [c.sub(a) for a in node.args])


@_mirrors(sp.Pow)
def _pow(node, c):
    base = c.sub(node.base)
    if node.exp.is_Integer:
        k = int(node.exp)
        return lambda vals, t: base(vals, t) ** k
    if node.exp == sp.S.Half:
        return lambda vals, t: np.sqrt(base(vals, t))
    exp = c.sub(node.exp)
    return lambda vals, t: np.power(base(vals, t), exp(vals, t))


def _ufunc(node, c):
    if len(node.args) != 1:
        raise UnsupportedError("a function of several arguments")
    fn = getattr(np, UFUNCS[type(node)]) if type(node) in UFUNCS else None
    if fn is None:
        raise UnsupportedError("a subclass of a function")
    arg = c.sub(node.args[0])
    return lambda vals, t: fn(arg(vals, t))


_mirrors(*UFUNCS)(_ufunc)


def _entrywise_fold(op: Callable) -> Callable:
    """A sum or Hadamard product of operands of one shape, folded left by `op`."""

    def build(node, c):
        parts = [c.sub(a) for a in node.args]

        def run(vals, t):
            terms = [p(vals, t) for p in parts]
            _same_shapes(node, terms)
            return functools.reduce(op, terms)

        return run

    return build


_mirrors(sp.MatAdd)(_entrywise_fold(operator.add))
_mirrors(HadamardProduct)(_entrywise_fold(operator.mul))


@_mirrors(sp.MatMul)
def _mat_mul(node, c):
    scalars = [c.sub(a) for a in node.args if not a.is_Matrix]
    matrices = [c.sub(a) for a in node.args if a.is_Matrix]
    product = _reduce(np.matmul, matrices) if len(matrices) > 1 else matrices[0]
    if not scalars:
        return product

    def run(vals, t):
        factors = [_scalar(s(vals, t)) for s in scalars]  # the evaluator's order: scalars first
        out = product(vals, t)
        for s in factors:
            out = s * out
        return out

    return run


@_mirrors(sp.Transpose)
def _transpose(node, c):
    arg = c.sub(node.arg)
    return lambda vals, t: arg(vals, t).T


def _unary(fn: Callable) -> Callable:
    def build(node, c):
        arg = c.sub(node.arg)
        return lambda vals, t: fn(arg(vals, t))

    return build


_mirrors(sp.Inverse)(_unary(np.linalg.inv))
_mirrors(sp.Trace)(_unary(np.trace))
_mirrors(sp.Determinant)(_unary(np.linalg.det))


@_mirrors(HadamardPower)
def _hadamard_power(node, c):
    base = c.sub(node.base)
    if node.exp.is_Integer:
        k = int(node.exp)
        return lambda vals, t: base(vals, t) ** k
    exp = c.sub(node.exp)
    if getattr(node.exp, "is_Matrix", False):
        return lambda vals, t: np.power(base(vals, t), exp(vals, t))

    def run(vals, t):
        b = base(vals, t)
        return np.power(b, _scalar(exp(vals, t)))

    return run


@_mirrors(sp.Identity)
def _identity(node, c):
    n = c.size(node.rows)
    return lambda vals, t: np.eye(n)


@_mirrors(sp.ZeroMatrix)
def _zero(node, c):
    shape = c.shape(node)
    return lambda vals, t: np.zeros(shape)


@_mirrors(sp.OneMatrix)
def _one(node, c):
    shape = c.shape(node)
    return lambda vals, t: np.ones(shape)


@_mirrors(DiagMatrix)
def _diag_matrix(node, c):
    arg = c.sub(node.args[0])
    return lambda vals, t: np.diag(np.reshape(arg(vals, t), (-1,)))


@_mirrors(DiagonalOf)
def _diagonal_of(node, c):
    arg = c.sub(node.args[0])
    return lambda vals, t: np.reshape(np.diagonal(arg(vals, t)), (-1, 1))


@_mirrors(DiagonalMatrix)
def _diagonal_matrix(node, c):
    arg = c.sub(node.args[0])
    return lambda vals, t: np.diag(np.diagonal(arg(vals, t)))


@_mirrors(MatScalar)
def _mat_scalar(node, c):
    arg = c.sub(node.arg)

    def run(vals, t):
        value = arg(vals, t)
        if value.shape != (1, 1):
            raise ShapeError("MatScalar of an array that is not 1 × 1")
        return value[0, 0]

    return run


@_mirrors(Softmax)
def _softmax(node, c):
    arg = c.sub(node.arg)

    def run(vals, t):
        z = arg(vals, t)
        e = np.exp(z - np.max(z))
        return e / np.sum(e)

    return run


@_mirrors(LogSumExp)
def _log_sum_exp(node, c):
    arg = c.sub(node.arg)

    def run(vals, t):
        z = arg(vals, t)
        top = np.max(z)
        return top + np.log(np.sum(np.exp(z - top)))

    return run


@_mirrors(ScalarDifferential, MatDifferential)
def _differential(node, c):
    dims, varying = c.dims, c.varying

    def run(vals, tangents):
        if tangents is None:
            raise UnsupportedError("a differential without a JVP")
        return tangents(node, vals, dims, varying, {})

    return run
