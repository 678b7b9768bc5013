"""Second-order code against JAX autodiff: dense Hessians and Hessian-vector products (issue #17,
item 5). One table, one run, float64, on the CPU.

    .venv/bin/python tests/benchmarks/second_order.py [--min-time 0.2] [--sizes 64,256,1024]

Rows: tensorgrad's two second-order cases (`benchmarks/second_order_jax.py` in its repository),
xᵀAx and log Σ exp(x) with x of length N, and four Hessians with respect to a matrix, at sizes
with mn = N: ‖AXB − C‖²_F and tr(XᵀAX) (X is m × n, m = √N/2 and n = 2√N), log det X for
an SPD X (√N × √N) and softmax regression in W (one sample; W is k × d as X). For each row:

- derive: the time to derive the Hessian (steps and textbook form, no numeric check);
- floor: the physical floor of the dense Hessian, the time of ``np.full((N, N), 1.0)``,
  writing its N² entries once;
- dense: derive's generated Hessian (`derive.codegen.generate` of the result), the faster of
  its NumPy and jax.jit-ed JAX backends, against ``jax.jit(jax.hessian(f))``;
- hvp: derive's Hessian-vector product (``Derivation.function(form="hvp")``'s expression,
  generated the same way), against ``jax.jit`` of ``V ↦ jax.jvp(jax.grad(f), (X,), (V,))[1]``.

Both sides take every symbol as an argument (A, B, … as well as X), as the generated code
does; JAX closing over them as constants could fold or pre-arrange them when compiling.

Each timing is the median of repeated calls after warm-up (compilation), repeated until
`--min-time` seconds have passed (at least 5 calls). "×" columns are JAX's time over derive's
(> 1: derive is faster). "err" is the largest relative difference from JAX's answer.
Targets (the issue): dense ≥ 3× jax.jit(jax.hessian) and HVP ≥ 1× jvp-of-grad where the
work is compute-bound (xᵀAx and the matrix cases); for log Σ exp, where writing the dense
output dominates, no slower than jax.jit(jax.hessian), beside the floor.
A script, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import sympy as sp  # noqa: E402

import derive  # noqa: E402
from derive.codegen import generate, load_function  # noqa: E402
from derive.codegen.hvp import hvp_expression  # noqa: E402
from derive.distributions import CategoricalDensity  # noqa: E402
from derive.expr import LogSumExp, MatScalar, Softmax  # noqa: E402
from derive.jax_runtime import import_jax  # noqa: E402
from derive.model import Given  # noqa: E402

jax = import_jax()
jnp = jax.numpy


def timed(call: Callable[[], Any], min_time: float) -> float:
    """The median time of `call` (seconds) after three warm-up calls."""
    for _ in range(3):
        out = call()
        if hasattr(out, "block_until_ready"):
            out.block_until_ready()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < 5 or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        out = call()
        if hasattr(out, "block_until_ready"):
            out.block_until_ready()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def sym(name: str, rows: int, cols: int = 1) -> sp.MatrixSymbol:
    return sp.MatrixSymbol(name, rows, cols)


def _shape(size: int) -> tuple[int, int]:
    """m × n with mn = size, m ≠ n where possible (non-square, so a transpose cannot hide)."""
    n = int(round(size**0.5))
    return (n // 2, 2 * n) if n >= 4 else (n, n)


def cases(size: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Each case: f (SymPy), the variable, assumptions, values, and f in jax.numpy."""
    out = []
    A = rng.standard_normal((size, size))
    x = rng.standard_normal(size)
    out.append(
        dict(
            name="xᵀAx",
            shape=f"N={size}",
            f=MatScalar(sym("x", size).T * sym("A", size, size) * sym("x", size)),
            wrt="x",
            assume={},
            values={"A": A, "x": x},
            jax=lambda v, x_: x_ @ v["A"] @ x_,
        )
    )
    out.append(
        dict(
            name="log Σ exp",
            shape=f"N={size}",
            f=LogSumExp(sym("x", size)),
            wrt="x",
            assume={},
            values={"x": rng.standard_normal(size)},
            jax=lambda v, x_: jax.scipy.special.logsumexp(x_),
        )
    )
    m, n = _shape(size)
    a, b, c = rng.standard_normal((m, m)), rng.standard_normal((n, n)), rng.standard_normal((m, n))
    X, As, Bs, Cs = sym("X", m, n), sym("A", m, m), sym("B", n, n), sym("C", m, n)
    resid = As * X * Bs - Cs
    out.append(
        dict(
            name="‖AXB − C‖²_F",
            shape=f"{m}×{n}",
            f=sp.Trace(resid.T * resid),
            wrt="X",
            assume={},
            values={"A": a, "B": b, "C": c, "X": rng.standard_normal((m, n))},
            jax=lambda v, x_: jnp.sum((v["A"] @ x_ @ v["B"] - v["C"]) ** 2),
        )
    )
    out.append(
        dict(
            name="tr(XᵀAX)",
            shape=f"{m}×{n}",
            f=sp.Trace(X.T * As * X),
            wrt="X",
            assume={},
            values={"A": a, "X": rng.standard_normal((m, n))},
            jax=lambda v, x_: jnp.trace(x_.T @ v["A"] @ x_),
        )
    )
    s = int(round(size**0.5))
    g = rng.standard_normal((s, s))
    out.append(
        dict(
            name="log det X, X spd",
            shape=f"{s}×{s}",
            f=sp.log(sp.Determinant(sym("X", s, s))),
            wrt="X",
            assume={"X": "spd"},
            values={"X": g @ g.T + s * np.eye(s)},
            jax=lambda v, x_: jnp.linalg.slogdet(x_)[1],
        )
    )
    k, d = _shape(size)
    Ws, xs, ys = sym("W", k, d), sym("x", d), sym("y", k)
    out.append(
        dict(
            name="softmax regression in W",
            shape=f"{k}×{d}",
            f=-sp.log(CategoricalDensity(ys, Softmax(Ws * xs))),
            wrt="W",
            assume={"y": "onehot"},
            values={
                "W": rng.standard_normal((k, d)) / np.sqrt(d),
                "x": rng.standard_normal(d),
                "y": np.eye(k)[1],
            },
            jax=lambda v, w: jax.scipy.special.logsumexp(w @ v["x"]) - v["y"] @ w @ v["x"],
        )
    )
    return out


def generated(expr: sp.Basic, given: tuple[Given, ...], backend: str) -> Callable[..., Any]:
    """The generated function of `expr`, called with the values by name (no argument checks,
    as a user of the emitted source calls it); jax.jit-ed for the JAX backend."""
    fn = load_function(generate(expr, given, backend=backend, name="f"), "f")
    params = fn.__code__.co_varnames[: fn.__code__.co_argcount]
    if backend == "jax":
        fn = jax.jit(fn)
    return lambda values: fn(*(values[p] for p in params))


def rel(a: Any, b: Any) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def measure(case: dict[str, Any], min_time: float) -> dict[str, Any]:
    start = time.perf_counter()
    d = derive.hessian(case["f"], case["wrt"], assume=case["assume"], check=False)
    t_derive = time.perf_counter() - start
    h, x_sym = d.result, d.results[0][0].args[1]
    values = case["values"]
    x = values[case["wrt"]]
    size = x.size
    rng = np.random.default_rng(1)
    v = rng.standard_normal(x.shape)
    jvalues = {k: jnp.asarray(a) for k, a in values.items()}
    fixed = {k: a for k, a in jvalues.items() if k != case["wrt"]}

    # The other symbols are arguments, as they are of derive's generated functions: closed
    # over, they would be constants that XLA may fold or lay out ahead of time.
    def hessian(vals, x_):
        return jax.hessian(lambda y: case["jax"](vals, y))(x_)

    def hvp(vals, x_, v_):
        return jax.jvp(jax.grad(lambda y: case["jax"](vals, y)), (x_,), (v_,))[1]

    hessian, hvp = jax.jit(hessian), jax.jit(hvp)
    jx, jv = jnp.asarray(x), jnp.asarray(v)
    t_jax = timed(lambda: hessian(fixed, jx), min_time)
    t_jax_hvp = timed(lambda: hvp(fixed, jx, jv), min_time)
    ref = np.asarray(hessian(fixed, jx)).reshape(size, size, order="F")
    ref_hvp = np.asarray(hvp(fixed, jx, jv))

    dense, times, errs = {}, {}, []
    for backend in ("numpy", "jax"):
        fn = generated(h, d.given, backend)
        args = values if backend == "numpy" else jvalues
        times[backend] = timed(lambda fn=fn, args=args: fn(args), min_time)
        dense[backend] = fn(args)
        errs.append(rel(np.asarray(dense[backend]).reshape(size, size), ref))
    best = min(times, key=times.get)

    name = "V" if "V" not in values else "V_dir"
    vsym = sp.MatrixSymbol(name, *x_sym.shape)
    hv_expr = hvp_expression(h, x_sym, vsym)
    hv_given = (*d.given, Given(name, next(g.shape for g in d.given if g.name == str(x_sym))))
    hv_times, hv_errs = {}, []
    for backend in ("numpy", "jax"):
        fn = generated(hv_expr, hv_given, backend)
        args = {**values, name: v} if backend == "numpy" else {**jvalues, name: jv}
        hv_times[backend] = timed(lambda fn=fn, args=args: fn(args), min_time)
        hv_errs.append(rel(np.asarray(fn(args)).reshape(x.shape), ref_hvp))
    hv_best = min(hv_times, key=hv_times.get)
    floor = timed(lambda: np.full((size, size), 1.0), min_time)
    return dict(
        name=case["name"],
        shape=case["shape"],
        derive=t_derive,
        floor=floor,
        jax=t_jax,
        dense=times[best],
        dense_backend=best,
        jax_hvp=t_jax_hvp,
        hvp=hv_times[hv_best],
        hvp_backend=hv_best,
        err=max(errs + hv_errs),
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-time", type=float, default=0.2, help="seconds of timed calls each")
    ap.add_argument("--sizes", default="64,256,1024", help="N = mn, comma-separated")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    rng = np.random.default_rng(0)
    rows = [measure(c, args.min_time) for size in sizes for c in cases(size, rng)]
    rows.sort(key=lambda r: (r["name"], len(r["shape"]), r["shape"]))
    print("reproduce: .venv/bin/python tests/benchmarks/second_order.py")
    print(
        "float64, CPU, one process; times in ms (median after warm-up); × = JAX time / derive "
        "time; dense and hvp: the faster of derive's generated numpy and jax.jit backends"
    )
    head = (
        f"{'case':<24}{'size':>8}{'derive s':>9}{'floor':>9}{'jax.hessian':>12}{'dense':>9}"
        f"{'×':>7}{'jvp∘grad':>10}{'hvp':>9}{'×':>7}{'err':>9}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r['name']:<24}{r['shape']:>8}{r['derive']:>9.2f}{r['floor'] * 1e3:>9.3f}"
            f"{r['jax'] * 1e3:>12.3f}{r['dense'] * 1e3:>8.3f}{r['dense_backend'][0]}"
            f"{r['jax'] / r['dense']:>6.1f}×{r['jax_hvp'] * 1e3:>10.3f}"
            f"{r['hvp'] * 1e3:>8.3f}{r['hvp_backend'][0]}{r['jax_hvp'] / r['hvp']:>6.1f}×"
            f"{r['err']:>9.1e}"
        )
    print(
        "n/j after a time: the numpy or jax backend. Targets: dense ≥ 3× and hvp ≥ 1× where "
        "compute-bound (xᵀAx, the matrix cases); log Σ exp no slower than jax.hessian."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
