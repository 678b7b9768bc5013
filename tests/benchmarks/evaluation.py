"""Generated NumPy/JAX code for the logistic-regression gradient and Hessian against JAX
autodiff, N = 2000, d = 200, float64 (issue #6, 4c).

    .venv/bin/python tests/benchmarks/evaluation.py [--runs 9]

f(w) = Σᵢ log(1 + exp(−yᵢ xᵢᵀw)). Each implementation runs in its own fresh process: the
source `derive` generates (Derivation.source, numpy or jax; the jax one under jax.jit), and
`jax.jit(jax.grad(f))` / `jax.jit(jax.hessian(f))` of f written in jax.numpy. Each is
warmed up (compiled) first, then timed `--runs` times; the table gives the median, the
ratio to JAX autodiff (> 1: the generated code is faster) and the largest relative
difference from JAX's answer. Targets: Hessian ≥ 2× faster, gradient no slower.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

N, D = 2000, 200
LOGISTIC = r"\sum_i \log(1 + e^{-y_i w^\top x_i})"

# One timing, in a fresh interpreter: argv = kind (generated|autodiff), backend, what
# (grad|hessian), source file or "", data file, output file, runs.
RUNNER = r"""
import importlib.util, json, statistics, sys, time
kind, backend, what, source, data, out, runs = sys.argv[1:8]
import numpy as np
arrays = np.load(data)
x, y, w = arrays["x"], arrays["y"], arrays["w"]
if backend == "jax" or kind == "autodiff":
    import jax
    jax.config.update("jax_platforms", "cpu")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    x, y, w = jnp.asarray(x), jnp.asarray(y), jnp.asarray(w)
if kind == "generated":
    spec = importlib.util.spec_from_file_location("generated", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = getattr(module, what + "_w")
    call = (lambda: fn(w, x, y))
    if backend == "jax":
        fn = jax.jit(fn)
        call = (lambda: fn(w, x, y).block_until_ready())
else:
    def loss(w):
        return jnp.sum(jnp.logaddexp(0.0, -y * (x @ w)))
    fn = jax.jit(jax.grad(loss) if what == "grad" else jax.hessian(loss))
    call = (lambda: fn(w).block_until_ready())
for _ in range(3):
    result = call()
times = []
for _ in range(int(runs)):
    start = time.perf_counter()
    call()
    times.append(time.perf_counter() - start)
np.save(out, np.asarray(result))
print(json.dumps({"median": statistics.median(times), "runs": len(times)}))
"""


def run(kind: str, backend: str, what: str, source: str, data: str, out: str, runs: int):
    proc = subprocess.run(
        [sys.executable, "-c", RUNNER, kind, backend, what, source, data, out, str(runs)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{kind} {backend} {what} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])["median"]


def main() -> int:
    import numpy as np

    import derive

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9, help="timed runs per implementation (≥ 7)")
    args = ap.parse_args()
    d = derive.hessian(LOGISTIC, "w", shapes={"x": ("N", "d")})  # verified against JAX
    grad = derive.gradient(LOGISTIC, "w", shapes={"x": ("N", "d")})
    assert d.verification.passed and grad.verification.passed
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N, D)) / np.sqrt(D)
    y = rng.choice([-1.0, 1.0], size=N)
    w = rng.normal(size=D)
    with tempfile.TemporaryDirectory() as tmp:
        data = str(pathlib.Path(tmp, "data.npz"))
        np.savez(data, x=x, y=y, w=w)
        sources = {}
        for what, deriv in (("grad", grad), ("hessian", d)):
            for backend in ("numpy", "jax"):
                path = pathlib.Path(tmp, f"{what}_{backend}.py")
                path.write_text(deriv.source(backend), encoding="utf-8")
                sources[what, backend] = str(path)
        print("reproduce: .venv/bin/python tests/benchmarks/evaluation.py")
        print(
            f"logistic regression, N={N}, d={D}, float64; median of {args.runs} runs after "
            "warm-up, each implementation in its own process"
        )
        print(
            f"{'':9}{'jax.jit(autodiff) ms':>21}{'generated numpy ms':>20}{'speed-up':>9}"
            f"{'generated jax ms':>18}{'speed-up':>9}{'max rel diff':>14}"
        )
        for what in ("grad", "hessian"):
            outs = {}
            outs["ref"] = str(pathlib.Path(tmp, f"{what}_ref.npy"))
            t_ref = run("autodiff", "jax", what, "", data, outs["ref"], args.runs)
            times = {}
            for backend in ("numpy", "jax"):
                outs[backend] = str(pathlib.Path(tmp, f"{what}_{backend}.npy"))
                times[backend] = run(
                    "generated",
                    backend,
                    what,
                    sources[what, backend],
                    data,
                    outs[backend],
                    args.runs,
                )
            ref = np.load(outs["ref"])
            diff = max(
                float(np.max(np.abs(np.load(outs[b]) - ref)) / np.max(np.abs(ref)))
                for b in ("numpy", "jax")
            )
            label = "gradient" if what == "grad" else "Hessian"
            print(
                f"{label:9}{t_ref * 1e3:>21.3f}{times['numpy'] * 1e3:>20.3f}"
                f"{t_ref / times['numpy']:>8.2f}×{times['jax'] * 1e3:>18.3f}"
                f"{t_ref / times['jax']:>8.2f}×{diff:>14.1e}"
            )
        print("targets: Hessian speed-up ≥ 2×, gradient speed-up ≥ 1× (no slower)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
