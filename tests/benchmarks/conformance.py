"""Derivation time per case over the Cookbook conformance suite: derive, SymPy, tensorgrad (#6, 4a).

    .venv/bin/pip install -e ".[bench]" && .venv/bin/python tests/benchmarks/conformance.py
    options: --cases (a row per case), --limit N (the first N cases), --repeat R (timed runs)

Every case of tests/cookbook_cases.py is derived by three tools in one process, each warm
(imports done, one untimed warm-up call, then the median of R >= 3 timed calls):

- derive: `derive.gradient` / `hessian` / `jacobian` on the case's LaTeX, shapes and
  assumptions with check=False (steps and simplification included; the numeric check is a
  separate phase, not timed);
- SymPy 1.14: `expr.diff(wrt)` (twice for a Hessian) on the expression
  `derive.latex.parse_latex` builds, with derive's own nodes written in plain SymPy
  (sigmoid and softplus through exp and log, softmax and log-sum-exp through 1ᵀexp∘(z),
  a 1×1 matrix used as a scalar kept as the 1×1 matrix, or, if SymPy refuses that, as its
  trace). SymPy lays out ∂g/∂x of a vector g as the transposed Jacobian, so its Jacobians are
  transposed. Only the diff call is timed;
- tensorgrad 0.3.0: the same expression translated to a tensor network (a matrix is a tensor
  with edges r, c; a column vector has edge r only; a 1×1 matrix none), derived with its
  symbolic autograd `f.grad(x).simplify()` (timed), evaluated by its own compiler.

Every result is then evaluated on the random inputs of tests/test_cookbook.py (`draw`) and
compared with the case's expected NumPy answer (rtol 1e-8, `assert_matches`), as
test_cookbook does. A result is "correct", "wrong" (a value that does not match, 0 included),
"refused/crashed" (any exception, an unevaluated Derivative left in the result, a timeout),
or, for tensorgrad, "not expressible" (a construct with no faithful tensorgrad translation).
Median and p90 times are over the cases the tool got right; the ratios compare derive with
each other tool on the cases both got right.
A script, not a test: timings do not belong in the test suite.
"""

from __future__ import annotations

import argparse
import math
import os
import pathlib
import platform
import signal
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402 - after the path is set
import sympy as sp  # noqa: E402
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction  # noqa: E402
from sympy.matrices.expressions.diagonal import DiagMatrix, DiagonalOf  # noqa: E402
from sympy.matrices.expressions.hadamard import HadamardPower, HadamardProduct  # noqa: E402
from sympy.tensor.array.expressions import (  # noqa: E402
    ArrayAdd,
    ArrayContraction,
    ArrayDiagonal,
    ArrayTensorProduct,
    PermuteDims,
)

import derive  # noqa: E402
from derive.evaluate import evaluate  # noqa: E402
from derive.expr import LogSumExp, MatScalar, Softmax, sigmoid, softplus  # noqa: E402
from derive.problem import make_problem  # noqa: E402
from tests.cookbook_cases import CASES, DIMS, Case  # noqa: E402
from tests.test_cookbook import DRAWS, assert_matches, draw  # noqa: E402

REPRODUCE = (
    'reproduce: .venv/bin/pip install -e ".[bench]" && '
    ".venv/bin/python tests/benchmarks/conformance.py"
)
TIMEOUT_S = 120  # per call; a tool that takes longer on one case is counted as crashed
API = {"gradient": derive.gradient, "hessian": derive.hessian, "jacobian": derive.jacobian}
ARRAY_NODES = (ArrayAdd, ArrayContraction, ArrayDiagonal, ArrayTensorProduct, PermuteDims)
STATUSES = ("correct", "wrong", "refused", "inexpressible")


@dataclass(frozen=True)
class Outcome:
    """One tool on one case: status ∈ STATUSES, median seconds, and a short note."""

    status: str
    seconds: float = math.nan
    note: str = ""
    first: float = math.nan  # the untimed warm-up call's time, for reference


class NotExpressible(Exception):
    """The expression uses a construct the tool has no faithful translation for."""


class Timeout(BaseException):  # noqa: N818 - not an Exception: a tool must not swallow it
    """A call ran past TIMEOUT_S."""


def _alarm(signum: int, frame: Any) -> None:
    raise Timeout(f"no answer within {TIMEOUT_S} s")


def timed(call: Callable[[], Any], repeat: int) -> tuple[Any, float, float]:
    """A warm-up call, then `repeat` timed calls: the last result, their median, and the
    warm-up call's own time (the first time this case is seen; caches are not cleared)."""
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIMEOUT_S)
    try:
        start = time.perf_counter()
        result = call()
        first = time.perf_counter() - start
        times = []
        for _ in range(repeat):
            signal.alarm(TIMEOUT_S)
            start = time.perf_counter()
            result = call()
            times.append(time.perf_counter() - start)
    finally:
        signal.alarm(0)
    return result, statistics.median(times), first


def _short(e: BaseException) -> str:
    text = str(e).splitlines()[0] if str(e) else ""
    return f"{type(e).__name__}: {text}"[:70]


def judge(
    value_at: Callable[[dict[str, Any]], Any], case: Case, seconds: float, first: float
) -> Outcome:
    """Correct if `value_at(inputs)` matches the case's expected answer on every draw."""
    for seed in range(DRAWS):
        values = draw(case, seed)
        try:
            with np.errstate(all="ignore"):
                got = value_at(values)
        except Exception as e:  # noqa: BLE001 - an unevaluable result is reported, not raised
            return Outcome("refused", seconds, f"result not evaluable: {_short(e)}", first)
        try:
            assert_matches(got, case, values, case.id)
        except AssertionError:
            zero = not np.any(np.asarray(got, float))
            return Outcome("wrong", seconds, "0" if zero else "", first)
    return Outcome("correct", seconds, "", first)


# --- derive ------------------------------------------------------------------------------------


def run_derive(case: Case, repeat: int) -> Outcome:
    fn = API[case.kind]

    def call() -> Any:
        return fn(
            case.latex, case.wrt, shapes=dict(case.shapes), assume=dict(case.assume), check=False
        )

    try:
        d, seconds, first = timed(call, repeat)
    except derive.DeriveError as e:
        return Outcome("refused", note=_short(e))
    except (Exception, Timeout) as e:  # noqa: BLE001 - a crash is a result of the benchmark
        return Outcome("refused", note=f"crash {_short(e)}")
    f = d.function(0)  # the main result: a Hessian derivation's second is the gradient
    return judge(lambda v: f(**v), case, seconds, first)


# --- SymPy -------------------------------------------------------------------------------------

_T = sp.Symbol("t", real=True)


def _exp_of(z: sp.MatrixExpr) -> sp.MatrixExpr:
    return ElementwiseApplyFunction(sp.Lambda(_T, sp.exp(_T)), z)


def plain(e: sp.Basic, scalar: str) -> sp.Basic:
    """e with derive's own nodes written in plain SymPy; a 1×1 matrix used as a scalar becomes
    the 1×1 matrix itself (scalar="1x1") or its trace (scalar="tr")."""
    if isinstance(e, MatScalar):
        m = plain(e.arg, scalar)
        return m if scalar == "1x1" else sp.Trace(m)
    if isinstance(e, sigmoid):
        return 1 / (1 + sp.exp(-plain(e.args[0], scalar)))
    if isinstance(e, softplus):
        return sp.log(1 + sp.exp(plain(e.args[0], scalar)))
    if isinstance(e, (Softmax, LogSumExp)):
        z = plain(e.arg, scalar)
        total = sp.OneMatrix(1, z.shape[0]) * _exp_of(z)
        total = total if scalar == "1x1" else sp.Trace(total)
        return _exp_of(z) * (1 / total) if isinstance(e, Softmax) else sp.log(total)
    if isinstance(e, ElementwiseApplyFunction):
        lam = sp.Lambda(e.function.variables, plain(e.function.expr, scalar))
        return ElementwiseApplyFunction(lam, plain(e.expr, scalar))
    if not e.args or isinstance(e, (sp.MatrixSymbol, sp.Symbol)):
        return e
    return e.func(*[plain(a, scalar) for a in e.args])


def _one_by_one_powers(expr: sp.Basic) -> sp.Basic:
    """expr with B**q of a 1×1 matrix B and a fractional q written as (B's entry)**q · I₁
    (the same value; derive.evaluate takes integer matrix powers only)."""
    subs = {
        node: MatScalar(node.base) ** node.exp * sp.Identity(1)
        for node in expr.atoms(sp.MatPow)
        if tuple(node.base.shape) == (1, 1) and not node.exp.is_Integer
    }
    return expr.xreplace(subs) if subs else expr


def _array_value(e: sp.Basic, values: dict[str, Any]) -> Any:
    """The value of SymPy's array-expression result (PermuteDims, ArrayTensorProduct,
    ArrayContraction, ArrayDiagonal, ArrayAdd over matrix expressions), as SymPy defines them:
    a diagonal's axis goes last, a contraction sums its axis groups."""
    if not e.has(*ARRAY_NODES):
        return np.asarray(evaluate(e, values, DIMS), dtype=float)
    if isinstance(e, ArrayAdd):
        return sum(_array_value(a, values) for a in e.args)
    if isinstance(e, ArrayTensorProduct):
        out = _array_value(e.args[0], values)
        for a in e.args[1:]:
            out = np.multiply.outer(out, _array_value(a, values))
        return out
    inner = _array_value(e.args[0], values)
    if isinstance(e, PermuteDims):
        return np.transpose(inner, e.permutation.array_form)
    if isinstance(e, (ArrayContraction, ArrayDiagonal)):
        groups = e.contraction_indices if isinstance(e, ArrayContraction) else e.diagonal_indices
        letters = [chr(ord("a") + i) for i in range(inner.ndim)]
        for g in groups:
            for i in g[1:]:
                letters[i] = letters[g[0]]
        grouped = {i for g in groups for i in g}
        kept = [letters[i] for i in range(len(letters)) if i not in grouped]
        if isinstance(e, ArrayDiagonal):
            kept += [letters[g[0]] for g in groups]
        return np.einsum(f"{''.join(letters)}->{''.join(kept)}", inner)
    raise TypeError(f"no numeric value for {type(e).__name__}")


def sympy_value(expr: sp.Basic) -> Callable[[dict[str, Any]], Any]:
    """Evaluate SymPy's result: derive.evaluate's tree walk, with SymPy's array expressions
    (which its matrix derivative returns when it cannot give a matrix) evaluated here."""
    expr = _one_by_one_powers(expr)
    return lambda values: _array_value(expr, values)


def _transposed(value_at: Callable[[dict[str, Any]], Any]) -> Callable[[dict[str, Any]], Any]:
    def transposed(values: dict[str, Any]) -> Any:
        v = np.squeeze(np.asarray(value_at(values)))
        return v.T if v.ndim == 2 else v

    return transposed


def run_sympy(case: Case, repeat: int) -> Outcome:
    try:
        p = make_problem(
            case.latex, case.wrt, dict(case.shapes), dict(case.assume),
            vector_valued=case.kind == "jacobian",
        )  # fmt: skip
    except Exception as e:  # noqa: BLE001
        return Outcome("refused", note=f"parse: {_short(e)}")
    notes = []
    for scalar in ("1x1", "tr"):
        try:
            f = plain(p.f, scalar)
        except Exception as e:  # noqa: BLE001 - SymPy refusing to build the plain form
            notes.append(f"{scalar}: {_short(e)}")
            continue

        def call(f: sp.Basic = f) -> sp.Basic:
            r = f.diff(p.wrt)
            return r.diff(p.wrt) if case.kind == "hessian" else r

        try:
            result, seconds, first = timed(call, repeat)
        except (Exception, Timeout) as e:  # noqa: BLE001
            notes.append(f"{scalar}: {_short(e)}")
            continue
        if result.has(sp.Derivative):
            notes.append(f"{scalar}: left unevaluated")
            continue
        value_at = sympy_value(result)
        if case.kind == "jacobian":  # SymPy's ∂g/∂x is the transposed Jacobian
            value_at = _transposed(value_at)
        out = judge(value_at, case, seconds, first)
        return Outcome(out.status, out.seconds, f"[{scalar}] {out.note}".strip(), out.first)
    return Outcome("refused", note="; ".join(notes)[:70])


# --- tensorgrad --------------------------------------------------------------------------------


def import_tensorgrad() -> Any:
    """The tensorgrad module, or None if it is not installed."""
    try:
        import tensorgrad
        import tensorgrad.functions  # noqa: F401
        from tensorgrad.compiler.runtime import compile_to_callable  # noqa: F401
    except ImportError:
        return None
    return tensorgrad


class ToTensorgrad:
    """SymPy matrix expression → tensorgrad tensor. An r×c matrix has edges "r" and "c"; a
    dimension of size 1 has no edge (a column vector has "r" only, a 1×1 matrix none)."""

    def __init__(self, tg: Any, declared: set[str]) -> None:
        import tensorgrad.functions as F

        self.tg, self.F = tg, F
        self.declared = declared  # the case's symbol names: never a dimension
        self.sizes: dict[str, int] = {}  # tensorgrad size symbol name → size
        self.variables: dict[str, Any] = {}
        self._fresh = 0

    def size(self, d: sp.Basic) -> sp.Symbol:
        if d.is_Integer:
            sym = sp.Symbol(f"size{int(d)}")
            self.sizes[sym.name] = int(d)
            return sym
        if isinstance(d, sp.Symbol) and d.name in DIMS:
            sym = sp.Symbol(d.name)
            self.sizes[sym.name] = DIMS[d.name]
            return sym
        raise NotExpressible(f"dimension {d}")

    def edges(self, shape: tuple[sp.Basic, sp.Basic]) -> dict[str, sp.Symbol]:
        return {e: self.size(d) for e, d in zip(("r", "c"), shape, strict=True) if d != 1}

    def fresh(self) -> str:
        self._fresh += 1
        return f"k{self._fresh}"

    def variable(self, s: sp.Basic) -> Any:
        if s.name not in self.variables:
            shape = self.edges(s.shape) if isinstance(s, sp.MatrixSymbol) else {}
            self.variables[s.name] = self.tg.Variable(s.name, **shape)
        return self.variables[s.name]

    def __call__(self, e: sp.Basic, bound: dict[sp.Basic, Any] | None = None) -> Any:
        """The tensor (or Python number) for e; `bound` maps a Lambda variable to its tensor."""
        F, tg = self.F, self.tg
        bound = bound or {}
        if e in bound:
            return bound[e]
        if e.is_Number:
            return Fraction(str(e)) if e.is_Rational else float(e)
        if isinstance(e, sp.MatrixSymbol):
            return self.variable(e)
        if isinstance(e, sp.Symbol):
            if e.name in DIMS and e.name not in self.declared:  # a size used as a number
                return tg.Delta(self.size(e))
            return self.variable(e)
        if isinstance(e, sp.MatMul):  # before Mul: a MatMul is a Mul to Python
            return self.matmul(e, bound)
        args = [self(a, bound) for a in e.args if not isinstance(a, sp.Lambda)]
        if isinstance(e, (sp.Add, sp.MatAdd)):
            out = args[0]
            for a in args[1:]:
                out = out + a
            return out
        if isinstance(e, (sp.Mul, HadamardProduct)):  # scalars, or entrywise for Hadamard
            out = args[0]
            for a in args[1:]:
                out = out * a
            return out
        if isinstance(e, sp.Transpose):
            t = args[0]
            swap = {"r": "c", "c": "r"}
            return t.rename(**{k: swap[k] for k in t.edges})
        if isinstance(e, (sp.Inverse, sp.MatPow)):
            base, k = (args[0], -1) if isinstance(e, sp.Inverse) else (args[0], e.exp)
            if k == -1:  # F.inverse puts the inverse's row on the c edge: the same-named
                return F.inverse(base).rename(r="c", c="r")  # edges of X and inv(X) cancel
            if k.is_Integer and k > 0:
                return self.matmul(sp.MatMul(*[e.base] * int(k), evaluate=False), bound)
            raise NotExpressible(f"matrix power {k}")
        if isinstance(e, sp.Trace):
            return F.trace(args[0])
        if isinstance(e, sp.Determinant):
            return F.det(args[0])
        if isinstance(e, MatScalar):
            return args[0]
        if isinstance(e, sp.Identity):
            n = self.size(e.rows)
            return tg.Delta(n, "r", "c")
        if isinstance(e, sp.OneMatrix):
            return tg.Ones(**self.edges(e.shape))
        if isinstance(e, DiagMatrix):
            k = self.fresh()
            v = args[0]
            (edge,) = v.edges
            return v.rename(**{edge: k}) @ tg.Delta(v.shape[edge], k, "r", "c")
        if isinstance(e, DiagonalOf):
            m = args[0]
            return F.diag(m, ["d"]).rename(d="r")
        if isinstance(e, ElementwiseApplyFunction):
            (var,) = e.function.variables
            return self(e.function.expr, {**bound, var: self(e.expr, bound)})
        if isinstance(e, (sp.Pow, HadamardPower)):
            base, k = args
            if not isinstance(k, (Fraction, float)):
                raise NotExpressible(f"power with a symbolic exponent {e.args[1]}")
            if isinstance(base, (Fraction, float)):
                return base**k
            if isinstance(k, float) or k.denominator != 1:
                return F.pow(base, Fraction(k))
            return F.pow(base, int(k))
        if isinstance(e, Softmax):
            return F.softmax(args[0], dim="r")
        if isinstance(e, LogSumExp):
            return F.log(F.sum(F.exp(args[0])))
        unary = {
            sp.exp: F.exp,
            sp.log: F.log,
            sp.tanh: F.tanh,
            sp.Abs: F.abs,
            sp.sign: F.sign,
            sigmoid: F.sigmoid,
            softplus: lambda t: F.log(1 + F.exp(t)),
        }
        if type(e) in unary:
            return unary[type(e)](args[0])
        if isinstance(e, sp.KroneckerProduct):
            raise NotExpressible("Kronecker product (tensorgrad's kronecker is not flattened)")
        raise NotExpressible(type(e).__name__)

    def matmul(self, e: sp.MatMul, bound: dict[sp.Basic, Any]) -> Any:
        """A product of matrices: contract each factor's c edge with the next one's r edge."""
        scalars = [a for a in e.args if not getattr(a, "is_Matrix", False)]
        mats = [a for a in e.args if getattr(a, "is_Matrix", False)]
        out = self(mats[0], bound)
        for left, right in zip(mats, mats[1:], strict=False):
            t = self(right, bound)
            if left.shape[1] != 1:  # a real inner dimension: contract it
                k = self.fresh()
                out = out.rename(c=k) @ t.rename(r=k)
            else:  # an outer product (or a scalar times a matrix)
                out = out @ t
        for s in scalars:
            out = out * self(s, bound)
        return out


def tensorgrad_value(tg: Any, result: Any, sizes: dict[str, int]) -> Callable[..., Any]:
    """Evaluate a tensorgrad result with its own compiler.

    tensorgrad's runtime wraps inputs and outputs as torch *named* tensors, which torch 2.14 no
    longer has, so the compiled program is specialised and called on plain tensors here, with
    the output permuted as the runtime's wrap plan says.
    """
    import torch
    from tensorgrad.compiler.runtime import compile_to_callable

    if isinstance(result, tg.Zero):
        shape = [sizes[s.name] for s in result.shape.values()]
        return lambda values: np.zeros(shape)
    prog = compile_to_callable(result)
    dims = {sym: sizes[sym.name] for sym in prog.symbols}
    fn = prog.codegen.specialize(dims, dtype=torch.float64, for_inductor=False)
    perm, names = prog._wrap_plans[0]

    def value_at(values: dict[str, Any]) -> Any:
        args = [torch.as_tensor(np.asarray(values[v.name], dtype=float)) for v in prog.vars]
        with torch.no_grad():
            out = fn(*args)[0]
        if perm is not None:
            out = out.permute(perm)
        out = out.numpy()
        if tuple(names) == ("c", "r"):
            out = out.T
        return out

    return value_at


def run_tensorgrad(tg: Any, case: Case, repeat: int) -> Outcome:
    p = make_problem(
        case.latex, case.wrt, dict(case.shapes), dict(case.assume),
        vector_valued=case.kind == "jacobian",
    )  # fmt: skip
    to_tg = ToTensorgrad(tg, set(case.shapes))
    try:
        f = to_tg(p.f)
        x = to_tg(p.wrt)
    except NotExpressible as e:
        return Outcome("inexpressible", note=str(e)[:70])
    except Exception as e:  # noqa: BLE001 - tensorgrad refusing to build the expression
        return Outcome("refused", note=f"build: {_short(e)}")
    if isinstance(f, (Fraction, float)):
        return Outcome("inexpressible", note="a constant")
    # The derivative's new edge: the input's own name for a gradient, "c" beside f's "r" for a
    # Jacobian, and the second derivative's "c" beside the gradient's "r" for a Hessian.
    second = {"r": "c"} if x.edges else None

    def call() -> Any:
        if case.kind == "gradient":
            return f.grad(x).simplify()
        if case.kind == "jacobian":
            return f.grad(x, new_names=second).simplify()
        return f.grad(x).grad(x, new_names=second).simplify()

    try:  # the translation itself must have f's value, or the comparison means nothing
        f_at = tensorgrad_value(tg, f, to_tg.sizes)
        values = draw(case, 0)
        want = np.asarray(evaluate(p.f, values, DIMS), dtype=float)
        np.testing.assert_allclose(np.reshape(f_at(values), want.shape), want, rtol=1e-8)
    except Exception as e:  # noqa: BLE001
        return Outcome("inexpressible", note=f"translation not checked: {_short(e)}")
    try:
        result, seconds, first = timed(call, repeat)
    except (Exception, Timeout) as e:  # noqa: BLE001
        return Outcome("refused", note=_short(e))
    try:
        value_at = tensorgrad_value(tg, result, to_tg.sizes)
    except Exception as e:  # noqa: BLE001
        return Outcome("refused", seconds, f"compile: {_short(e)}", first)
    return judge(value_at, case, seconds, first)


# --- the table ---------------------------------------------------------------------------------


def _ms(s: float) -> str:
    return "—" if s != s else f"{1000 * s:.1f}"


def summarize(name: str, outs: list[Outcome]) -> str:
    counts = {s: sum(o.status == s for o in outs) for s in STATUSES}
    ok = [o.seconds for o in outs if o.status == "correct"]
    med = _ms(statistics.median(ok)) if ok else "—"
    p90 = _ms(float(np.percentile(ok, 90))) if ok else "—"
    first = [o.first for o in outs if o.status == "correct"]
    med1 = _ms(statistics.median(first)) if first else "—"
    return (
        f"{name:<12} {len(outs):>9} {counts['correct']:>7} {counts['wrong']:>6} "
        f"{counts['refused']:>15} {counts['inexpressible']:>15} {med:>10} {p90:>8} {med1:>14}"
    )


def ratio(ours: list[Outcome], theirs: list[Outcome], name: str) -> str:
    """derive's median time against another tool's, over the cases both got right."""
    both = [(a, b) for a, b in zip(ours, theirs, strict=True) if a.status == b.status == "correct"]
    if not both:
        return f"derive vs {name}: no case both got right"
    a, b = (statistics.median(o.seconds for o in side) for side in zip(*both, strict=True))
    a1, b1 = (statistics.median(o.first for o in side) for side in zip(*both, strict=True))
    return (
        f"derive vs {name} on the {len(both)} cases both got right: median {_ms(a)} vs "
        f"{_ms(b)} ms, ratio {a / b:.2f}; 1st calls {_ms(a1)} vs {_ms(b1)} ms, ratio {a1 / b1:.2f}"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", action="store_true", help="print a row per case")
    ap.add_argument("--limit", type=int, default=None, help="only the first N cases")
    ap.add_argument("--repeat", type=int, default=3, help="timed runs per case (>= 3)")
    args = ap.parse_args()
    repeat = max(3, args.repeat)
    cases = CASES[: args.limit] if args.limit else CASES
    warnings.simplefilter("ignore")  # SymPy and torch warnings are not results
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    tg = import_tensorgrad()

    tools: dict[str, list[Outcome]] = {"derive": [], "SymPy": [], "tensorgrad": []}
    print(REPRODUCE)
    versions = f"sympy {sp.__version__}"
    if tg is None:
        versions += "; tensorgrad MISSING (pip install -e '.[bench]'): its column is skipped"
    else:
        import torch

        versions += f", tensorgrad {getattr(tg, '__version__', '0.3.0')}, torch {torch.__version__}"
    print(
        f"{len(cases)} cases, median of {repeat} warm runs each; python "
        f"{platform.python_version()}, {versions}; {os.cpu_count()} CPUs"
    )
    if args.cases:
        print(f"{'case':<30} {'derive ms':>10} {'SymPy ms':>10} {'tensorgrad ms':>14}  notes")
    for case in cases:
        row = {"derive": run_derive(case, repeat), "SymPy": run_sympy(case, repeat)}
        if tg is not None:
            row["tensorgrad"] = run_tensorgrad(tg, case, repeat)
        for name, out in row.items():
            tools[name].append(out)
        if args.cases:
            cells = []
            for name in ("derive", "SymPy", "tensorgrad"):
                o = row.get(name)
                cells.append(
                    "n/a" if o is None
                    else (_ms(o.seconds) if o.status == "correct" else o.status[:7])
                )  # fmt: skip
            notes = "; ".join(f"{n}: {o.note}" for n, o in row.items() if o.note)
            print(
                f"{case.id:<30} {cells[0]:>10} {cells[1]:>10} {cells[2]:>14}  {notes}", flush=True
            )
    print(
        f"{'tool':<12} {'attempted':>9} {'correct':>7} {'wrong':>6} {'refused/crashed':>15} "
        f"{'not expressible':>15} {'median ms':>10} {'p90 ms':>8} {'1st-call med':>14}"
    )
    for name, outs in tools.items():
        if name == "tensorgrad" and tg is None:
            print(f"{name:<12} tensorgrad is not installed: pip install -e '.[bench]'")
            continue
        print(summarize(name, outs))
    print(
        "(median and p90 of the warm times over each tool's correct cases; 1st-call med: the\n"
        " median of the warm-up calls, the first time each case is seen, imports done)"
    )
    print("ratios derive / other (< 1: derive faster):")
    print(ratio(tools["derive"], tools["SymPy"], "SymPy"))
    if tg is not None:
        print(ratio(tools["derive"], tools["tensorgrad"], "tensorgrad"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
