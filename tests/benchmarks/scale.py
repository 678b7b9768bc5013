"""Derivation time and result size of the L-layer MLP gradients, L = 1 … 32 (issue #6, 4b).

    .venv/bin/python tests/benchmarks/scale.py [--layers 1,2,4,8,16,32]

For f = 𝟏ᵀ tanh(W_L … tanh(W₁x)) (tests/test_scaling.py builds it), each row gives the time
to derive ∂f/∂W₁ (the longest chain rule) and to derive all L gradients ∂f/∂W_l one by one
(steps and simplification included, no numeric check), and sizes: the operation count of
∂f/∂W₁ and of all L gradients together with shared subexpressions counted once
(`derive.codegen.op_count`), and ∂f/∂W₁ written out as a tree. The last line fits the growth
exponent k of each column (value ∝ L^k, least squares over the L measured; target ≤ 1.2).
Deriving all 32 gradients at L = 32 takes many minutes, so by default the "all" columns
stop at L = 16 (--all-max).
A script, not a test: timings do not belong in the test suite.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import derive  # noqa: E402 - after the path is set
from derive.codegen import op_count, tree_size  # noqa: E402
from tests.test_scaling import fitted_exponent, mlp_loss  # noqa: E402


def measure(layers: int, every: bool) -> dict[str, float]:
    """Times and sizes for depth `layers`; all L gradients only if `every`, else ∂f/∂W₁."""
    f, names = mlp_loss(layers)
    times, results = [], []
    for name in names if every else names[:1]:
        start = time.perf_counter()
        results.append(derive.gradient(f, name, check=False).result)
        times.append(time.perf_counter() - start)
    return {
        "t_w1": times[0],
        "t_all": sum(times) if every else float("nan"),
        "ops_w1": op_count(results[0]),
        "ops_all": op_count(results) if every else float("nan"),
        "tree_w1": tree_size(results[0]),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layers", default="1,2,4,8,16,32", help="comma-separated depths L")
    ap.add_argument(
        "--all-max", type=int, default=16, help="derive all L gradients only up to this L"
    )
    args = ap.parse_args()
    ls = [int(v) for v in args.layers.split(",")]
    derive.gradient(mlp_loss(1)[0], "W_1", check=False)  # warm-up: imports and caches
    print("reproduce: .venv/bin/python tests/benchmarks/scale.py")
    cols = ("t_w1", "t_all", "ops_w1", "ops_all", "tree_w1")
    print(
        f"{'L':>3}  {'∂f/∂W₁ s':>9}  {'all ∂f/∂W_l s':>13}  {'ops ∂f/∂W₁':>10}  "
        f"{'ops all (DAG)':>13}  {'tree ∂f/∂W₁':>11}  {'ops all / L':>11}"
    )
    rows = []
    for layers in ls:
        r = measure(layers, layers <= args.all_max)
        rows.append(r)
        print(
            f"{layers:>3}  {r['t_w1']:>9.3f}  {r['t_all']:>13.3f}  {r['ops_w1']:>10}  "
            f"{r['ops_all']:>13}  {r['tree_w1']:>11}  {r['ops_all'] / layers:>11.1f}",
            flush=True,
        )
    if len(ls) >= 2:
        k = {}
        for c in cols:
            pts = [(L, r[c]) for L, r in zip(ls, rows, strict=True) if r[c] == r[c]]  # not NaN
            k[c] = fitted_exponent([L for L, _ in pts], [max(v, 1e-9) for _, v in pts])
        print(
            f"{'k':>3}  {k['t_w1']:>9.2f}  {k['t_all']:>13.2f}  {k['ops_w1']:>10.2f}  "
            f"{k['ops_all']:>13.2f}  {k['tree_w1']:>11.2f}   (fitted exponent, target ≤ 1.2)"
        )
        last = [r for r, L in zip(rows, ls, strict=True) if L >= ls[-1] / 2]
        if len(last) == 2:
            ratio = {c: last[1][c] / last[0][c] for c in cols}
            print(
                f"{'×':>3}  {ratio['t_w1']:>9.2f}  {ratio['t_all']:>13.2f}  "
                f"{ratio['ops_w1']:>10.2f}  {ratio['ops_all']:>13.2f}  {ratio['tree_w1']:>11.2f}"
                f"   (ratio L={ls[-1]} / L={ls[-1] // 2}; nan: not measured)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
