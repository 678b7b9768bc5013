"""A check's evaluations, compiled: NumPy for values, one jitted JAX function for autodiff.

A check evaluates its items on every trial. What needs no autodiff (the two sides of an
"equal" step, a read-off gradient, a closed form) is evaluated with NumPy in float64. What is
about autodiff is computed by JAX: the JVP d(e) of each unevaluated differential in the trial's
directions (`value`, through the evaluator's `tangents` hook, so only d(e) itself runs on JAX
and the expression around it on NumPy) and the reference jax.grad / jax.hessian / jax.jacobian
of a claim's function (`derivative`). JAX does not run op by op: a `Session` computes every
such request of every item and trial of the check with one function, traced and compiled by
``jax.jit`` once per derivation and shape set and kept in this process (`_COMPILED`) and on
disk (JAX's compilation cache, `derive.jax_runtime.import_jax`).

How a session learns its requests: the checker runs each item on each trial twice. The first
run is a *plan* (`Session.planning`): each JAX request is recorded and answered with zeros of
its shape, NumPy values are computed (and kept: the second run reuses them), and whatever the
item computes from the stand-ins is discarded. `Session.compute` then runs the recorded
requests in one call. The second run answers every request from that call. A request the plan
did not foresee (its inputs depended on a stand-in), or one that cannot be traced once for all
inputs (a Sum bound read from a value), is computed op by op as before; so is the JAX work of
an item that evaluates on JAX directly (a Monte Carlo integrand), which stops its plan at once
(`derive.jax_runtime.deferring_jax`). The arithmetic is the same either way; only the number of
JAX dispatches and compilations changes.

A result is reused only for the same expression, the same sizes and bit-for-bit the same
values of the names it reads, and is computed from those names alone (reading another raises,
and the request is then computed from all the values, without reuse).
"""

from __future__ import annotations

import contextlib
import functools
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import sympy as sp

from derive import integrate
from derive.arguments import names_used
from derive.check import stored
from derive.check.closures import program
from derive.errors import ShapeError
from derive.evaluate import evaluate
from derive.expr import FrechetDerivative, MatDifferential, MatrixFunction, ScalarDifferential
from derive.integrate import vectorised
from derive.jax_runtime import deferring_jax, import_jax

#: derivatives of a claim's function that `derivative` computes, with the JAX transform
DERIVATIVES = ("gradient", "hessian", "jacobian", "symmetric-gradient")

# XLA compiles each check's function, and its optimisations cost more than they save on arrays
# of a few entries: measured over three conformance derivations, LLVM at -O0 without XLA's
# fusion emitters compiles 3 to 5 times faster than the default, with the same results.
_COMPILER_OPTIONS: dict[str, Any] = {
    "xla_backend_optimization_level": 0,
    "xla_llvm_disable_expensive_passes": True,
    "xla_cpu_use_fusion_emitters": False,
}
# Compiled functions kept in the process, least recently used dropped first.
_KEEP = 64
_COMPILED: OrderedDict[tuple, _Compiled] = OrderedDict()


@functools.lru_cache(maxsize=8192)
def has_differential(e: sp.Basic) -> bool:
    """Whether `e` holds a differential d(·), which only JAX can evaluate."""
    return any(
        isinstance(n, (ScalarDifferential, MatDifferential)) for n in sp.preorder_traversal(e)
    )


@functools.lru_cache(maxsize=8192)
def _reads(e: sp.Basic, varying: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The names e reads, with the varying symbols and their directions, sorted."""
    return tuple(sorted(names_used(e) | set(varying) | {"d" + v for v in varying}))


@functools.lru_cache(maxsize=1024)
def _sorted_dims(items: tuple) -> tuple[tuple[str, int], ...]:
    return tuple(sorted((str(k), int(v)) for k, v in items))


def _dims_key(dims: Mapping[str, int]) -> tuple[tuple[str, int], ...]:
    return _sorted_dims(tuple(dims.items()))


def _fingerprint(values: Mapping[str, Any], names: tuple[str, ...], seen=None) -> tuple:
    """The values of `names` (those given), bit for bit. `seen` keeps the bytes of read-only
    arrays by identity (holding the array), so a large array is read once."""
    out = []
    for name in names:
        a = values.get(name)
        if a is not None:
            out.append((name, *_content(a, seen)))
    return tuple(out)


def _content(a: Any, seen: dict | None = None) -> tuple[tuple[int, ...], bytes]:
    if type(a) is not np.ndarray or a.dtype != np.float64:
        a = np.asarray(a, dtype=np.float64)
    if seen is None or a.flags.writeable:
        return a.shape, a.tobytes()
    found = seen.get(id(a))
    if found is None or found[0] is not a:
        found = seen[id(a)] = (a, (a.shape, a.tobytes()))
    return found[1]


def _only(values: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    return {n: values[n] for n in names if n in values}


def _float64(values: Mapping[str, Any], names: Iterable[str]) -> dict[str, np.ndarray]:
    """The values of `names` as the evaluator takes them."""
    return {n: np.asarray(values[n], dtype=np.float64) for n in names if n in values}


def _frozen(a: Any) -> np.ndarray:
    """`a` as a read-only float64 array: results are shared between items, so none may
    change one (nothing in the checker writes into an array it did not create)."""
    a = np.asarray(a, dtype=np.float64)
    if a.flags.writeable:
        a = a.view()  # the caller's own array stays writeable
        a.flags.writeable = False
    return a


def jax_function(expr: sp.Basic, w: str, values: Mapping, dims: Mapping, scalar: bool):
    """expr as a JAX function of the one symbol w, the other symbols fixed."""

    def f(v):
        out = evaluate(expr, {**values, w: v}, dims, backend="jax")
        if scalar:
            if out.size != 1:
                raise ShapeError(f"the function is not a scalar: shape {tuple(out.shape)}")
            return out.reshape(())
        return out

    return f


#: the name under which the draws of an "at" request are passed (no symbol's name)
_DRAWS = "\0draws"


def _on_jax(kind: str, expr: sp.Basic, param: Any, dims: Mapping, inputs: Mapping) -> Any:
    """One request, on JAX: d(e) as a JVP ("jvp", e the differential node, param the varying
    names); e at each draw of a variable ("at", param (the variable, the varying names));
    or the derivative `kind` of the function `expr` with respect to `param`."""
    if kind == "jvp":
        return evaluate(expr, inputs, dims, backend="jax", varying=param)
    if kind == "at":
        var, varying = param
        values = {k: v for k, v in inputs.items() if k != _DRAWS}
        return vectorised(expr, var, values, dims, varying)(inputs[_DRAWS])
    jax = import_jax()
    jnp = jax.numpy
    x = inputs[param]
    f = jax_function(expr, param, inputs, dims, kind != "jacobian")
    if kind == "symmetric-gradient":
        upper = np.triu_indices(x.shape[0])

        def of_free_entries(u):  # X built from its entries X_ij, i ≤ j
            t = jnp.zeros(x.shape).at[upper].set(u)
            return f(t + t.T - jnp.diag(jnp.diag(t)))

        return jax.grad(of_free_entries)(jnp.asarray(x)[upper])
    transform = {"gradient": jax.grad, "hessian": jax.hessian, "jacobian": jax.jacobian}[kind]
    return transform(f)(jnp.asarray(x))


@dataclass
class _Compiled:
    """A compiled check function and the requests its trace could not take (computed eagerly)."""

    call: Callable
    untraced: frozenset[int]


_EAGER = object()  # a request to compute op by op, from all the values, each time


class _Whole(Exception):
    """d(e) that NumPy cannot take from a JAX request: e reads a bound variable."""


@dataclass
class Session:
    """The evaluations of one check: NumPy values kept, JAX requests planned and computed."""

    planning: bool = False
    #: requests recorded by the plan: key → (kind, expr, param, dims, inputs)
    pending: dict[tuple, tuple] = field(default_factory=dict)
    results: dict[tuple, Any] = field(default_factory=dict)
    values: dict[tuple, np.ndarray] = field(default_factory=dict)
    #: how many JAX requests were computed op by op (not foreseen, or not traceable)
    eager: int = 0
    #: how many times a plan asked for a JAX result
    asked: int = 0
    #: bytes of read-only arrays, by identity (see `_content`)
    seen: dict[int, tuple] = field(default_factory=dict)
    #: random variables drawn (see `draw_from`)
    draws: dict[tuple, tuple] = field(default_factory=dict)
    #: how many requests the compiled function computed, and how many functions were compiled
    compiled: int = 0
    compilations: int = 0

    @contextlib.contextmanager
    def plan(self) -> Iterator[None]:
        """Within this block requests are recorded and answered with stand-ins."""
        self.planning = True
        try:
            with deferring_jax():
                yield
        finally:
            self.planning = False

    # --- requests ------------------------------------------------------------------------

    def _request(
        self,
        kind: str,
        expr: sp.Basic,
        param: Any,
        values: Mapping,
        dims: Mapping,
        names: tuple[str, ...],
        stand_in: Callable[[], np.ndarray],
    ) -> np.ndarray:
        key = (kind, expr, param, _dims_key(dims), _fingerprint(values, names, self.seen))
        found = self.results.get(key)
        if found is not None and found is not _EAGER:
            return found
        if found is None and self.planning:
            self.asked += 1
            self.pending.setdefault(key, (kind, expr, param, dict(dims), _only(values, names)))
            return stand_in()
        self.eager += 1
        return np.asarray(_on_jax(kind, expr, param, dims, values), dtype=float)

    def _tangent(self, node, values, dims, varying, bound) -> np.ndarray:
        if bound:
            raise _Whole
        names = _reads(node, tuple(varying))

        def stand_in() -> np.ndarray:  # d(e) has the shape of e
            arg = program(node.args[0], _dims_key(dims), tuple(varying))(values, self._tangent)
            return np.zeros(np.shape(arg))

        return self._request("jvp", node, tuple(varying), values, dims, names, stand_in)

    def value(
        self, e: sp.Basic, values: Mapping, dims: Mapping, varying: tuple[str, ...]
    ) -> np.ndarray:
        """e at `values`: NumPy, with each d(·) from JAX; kept for the rest of the check."""
        differential = has_differential(e)
        if not differential:
            varying = ()  # read only by d(·)
        names = _reads(e, varying)
        key = (e, varying, _dims_key(dims), _fingerprint(values, names, self.seen))
        found = self.values.get(key)
        if found is not None:
            return found
        try:
            run = program(e, key[2], varying)
            out = _frozen(run(_float64(values, names), self._tangent))
        except _Whole:  # as before: all of e on JAX, op by op (never during a plan)
            return _unkept(e, values, dims, varying, "jax")
        except Exception:  # noqa: BLE001 - the same evaluation from all the values says why
            return _unkept(e, values, dims, varying, "jax" if differential else "numpy")
        if not (self.planning and differential):  # a plan's d(·) are stand-ins: not kept
            self.values[key] = out
        return out

    def derivative(
        self, kind: str, function: sp.Basic, w: str, values: Mapping, dims: Mapping
    ) -> np.ndarray:
        """The derivative `kind` (one of DERIVATIVES) of `function` with respect to w, by JAX."""
        if kind not in DERIVATIVES:
            raise ValueError(f"unknown derivative {kind!r}")

        def stand_in() -> np.ndarray:
            x = np.asarray(values[w])
            if kind == "gradient":
                return np.zeros(x.shape)
            if kind == "symmetric-gradient":
                return np.zeros(len(np.triu_indices(x.shape[0])[0]))
            out = () if kind == "hessian" else np.shape(self.value(function, values, dims, ()))
            return np.zeros(out + x.shape * (2 if kind == "hessian" else 1))

        names = tuple(sorted(set(_reads(function)) | {w}))
        return self._request(kind, function, w, values, dims, names, stand_in)

    def values_at(
        self, e: sp.Basic, var: sp.Basic, draws: np.ndarray, values: Mapping, dims: Mapping, varying
    ) -> np.ndarray:
        """e at each draw of `var` (axis 0 of `draws`), by JAX."""
        draws = np.asarray(draws, dtype=np.float64)
        values = {**values, _DRAWS: draws}
        names = tuple(sorted({*_reads(e, varying), _DRAWS} - {var.name}))
        stand_in = functools.partial(np.zeros, draws.shape[:1])
        return self._request("at", e, (var, varying), values, dims, names, stand_in)

    def draw_from(self, dist, values: Mapping, dims: Mapping, rng, count: int) -> tuple:
        """`derive.integrate.draw_from`, drawn once per session for the same distribution,
        values and generator state (the generator is left as the draw left it)."""
        before = repr(rng.bit_generator.state)
        names = _reads(dist)
        key = (dist, _dims_key(dims), _fingerprint(values, names, self.seen), count, before)
        found = self.draws.get(key)
        if found is None:
            xs, weights = integrate.draw_from(dist, values, dims, rng, count)
            xs, weights = _frozen(xs), None if weights is None else _frozen(weights)
            found = self.draws[key] = (xs, weights, rng.bit_generator.state)
        rng.bit_generator.state = found[2]
        return found[0], found[1]

    # --- computing the plan ----------------------------------------------------------------

    def compute(self) -> None:
        """Compute every request the plan recorded, by one compiled call."""
        if not self.pending:
            return
        keys = list(self.pending)
        slots: dict[tuple, int] = {}
        arrays: list[np.ndarray] = []
        static = []
        for key in keys:
            kind, expr, param, dims, inputs = self.pending[key]
            slot_of = []
            for name, value in sorted(inputs.items()):
                a = np.asarray(value, dtype=float)
                ident = _content(a, self.seen)
                if ident not in slots:
                    slots[ident] = len(arrays)
                    arrays.append(a)
                slot_of.append((name, slots[ident]))
            static.append((kind, expr, param, _dims_key(dims), tuple(slot_of)))
        static = tuple(static)
        compiled = _COMPILED.get(static)
        try:
            if compiled is None:
                compiled = _compile(static, arrays)
                self.compilations += 1
                _COMPILED[static] = compiled
                while len(_COMPILED) > _KEEP:
                    _COMPILED.popitem(last=False)
            else:
                _COMPILED.move_to_end(static)
            outputs = compiled.call(arrays)
        except Exception:  # noqa: BLE001 - XLA failed: every request op by op, as before
            self.results.update(dict.fromkeys(keys, _EAGER))
            self.pending.clear()
            return
        for i, (key, out) in enumerate(zip(keys, outputs, strict=True)):
            if i in compiled.untraced:
                self.results[key] = _EAGER
            else:
                self.results[key] = _frozen(out)
                self.compiled += 1
        self.pending.clear()


@functools.lru_cache(maxsize=4096)
def _compilable(e: sp.Basic) -> bool:
    """Whether `e` may go into the one compiled function. Matrix functions may not: the
    compiled check of tr(A sinm(X) + expm(X)) waited forever on XLA's CPU runtime (every
    thread idle; jax 0.10, with or without the compiler options above), where op by op it
    takes seconds."""
    return not e.has(MatrixFunction, FrechetDerivative)


def _compile(static: tuple, arrays: list[np.ndarray]) -> _Compiled:
    """One jitted function computing the requests `static` from `arrays`.

    Requests that differ only in their values (the same item on two trials of the same
    sizes) are traced once, under ``jax.vmap``."""
    jax = import_jax()
    name = stored.key(static, arrays)
    found = stored.load(name)
    if found is not None:
        exported, untraced_before = found
        return _Compiled(_executable(jax.jit(exported.call), arrays), untraced_before)
    untraced: set[int] = set()
    groups: dict[tuple, list[int]] = {}
    for i, (kind, expr, param, dims, slot_of) in enumerate(static):
        shapes = tuple((name, arrays[s].shape) for name, s in slot_of)
        groups.setdefault((kind, expr, param, dims, shapes), []).append(i)

    def run(arrays: list) -> list:
        untraced.clear()
        outs: list = [None] * len(static)
        for (kind, expr, param, dims, shapes), members in groups.items():
            if not _compilable(expr):
                untraced.update(members)
                continue
            inputs = [{name: arrays[s] for name, s in static[i][4]} for i in members]
            try:
                if len(members) == 1:
                    outs[members[0]] = _on_jax(kind, expr, param, dict(dims), inputs[0])
                    continue
                stacked = {name: jax.numpy.stack([x[name] for x in inputs]) for name, _ in shapes}
                one = functools.partial(_on_jax, kind, expr, param, dict(dims))
                out = jax.vmap(one)(stacked)
                for j, i in enumerate(members):
                    outs[i] = out[j]
            except Exception:  # noqa: BLE001 - computed op by op instead, which says why
                untraced.update(members)
        return outs

    try:
        exported = jax.export.export(jax.jit(run))(arrays)
    except Exception:  # noqa: BLE001 - not exportable: traced and compiled here only
        return _Compiled(_executable(jax.jit(run), arrays), frozenset(untraced))
    stored.save(name, exported, frozenset(untraced))
    return _Compiled(_executable(jax.jit(exported.call), arrays), frozenset(untraced))


def _executable(jitted: Callable, arrays: list[np.ndarray]) -> Callable:
    lowered = jitted.trace(arrays).lower()
    try:
        return lowered.compile(_COMPILER_OPTIONS)
    except Exception:  # noqa: BLE001 - an XLA that no longer knows an option: its defaults
        _COMPILER_OPTIONS.clear()
        return lowered.compile()


def _unkept(e: sp.Basic, values: Mapping, dims: Mapping, varying, backend: str) -> np.ndarray:
    return np.asarray(evaluate(e, values, dims, backend=backend, varying=varying), dtype=float)


_SESSION: ContextVar[Session | None] = ContextVar("derive_check_session", default=None)


@contextlib.contextmanager
def session() -> Iterator[Session]:
    """A session for the evaluations of one check (see the module docstring)."""
    s = Session()
    token = _SESSION.set(s)
    try:
        yield s
    finally:
        _SESSION.reset(token)


def value(
    e: sp.Basic, values: Mapping[str, np.ndarray], dims: Mapping[str, int], varying=()
) -> np.ndarray:
    """e at `values` in float64: NumPy, with each differential d(·) a JVP by JAX in the
    directions "d" + name of the `varying` symbols. Within a `session`, computed by its plan."""
    current = _SESSION.get()
    if current is None:
        return _unkept(e, values, dims, tuple(varying), "jax" if has_differential(e) else "numpy")
    return current.value(e, values, dims, tuple(varying))


def derivative(
    kind: str, function: sp.Basic, w: str, values: Mapping[str, np.ndarray], dims: Mapping
) -> np.ndarray:
    """The reference derivative `kind` of the scalar (for a Jacobian, any) `function` with
    respect to w at `values` by jax.grad / jax.hessian / jax.jacobian (for
    "symmetric-gradient", jax.grad over the entries X_ij, i ≤ j, of a symmetric X). Within a
    `session`, computed by its plan."""
    current = _SESSION.get()
    if current is None:
        if kind not in DERIVATIVES:
            raise ValueError(f"unknown derivative {kind!r}")
        return np.asarray(_on_jax(kind, function, w, dims, values), dtype=float)
    return current.derivative(kind, function, w, values, dims)


def draw_from(dist, values: Mapping, dims: Mapping, rng, count: int) -> tuple:
    """`derive.integrate.draw_from`; within a `session`, the same draws for the plan and the
    run after it."""
    current = _SESSION.get()
    if current is None:
        return integrate.draw_from(dist, values, dims, rng, count)
    return current.draw_from(dist, values, dims, rng, count)


def values_at(
    e: sp.Basic,
    var: sp.Basic,
    draws: np.ndarray,
    values: Mapping[str, np.ndarray],
    dims: Mapping[str, int],
    varying: Iterable[str] = (),
) -> np.ndarray:
    """`derive.integrate.values_at`: e at each draw of `var` by JAX, within a `session`
    computed by its plan."""
    current = _SESSION.get()
    if current is None:
        return integrate.values_at(e, var, draws, values, dims, varying)
    return current.values_at(e, var, draws, values, dims, tuple(varying))


__all__ = [
    "DERIVATIVES",
    "Session",
    "derivative",
    "draw_from",
    "jax_function",
    "session",
    "value",
    "values_at",
]
