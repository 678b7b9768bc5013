"""The cost of a verified answer: cold checked CLI runs, in-process checks and `export --all`
(issue #16).

    .venv/bin/python tests/benchmarks/check.py [--runs 3] [--skip-export]

Prints, in one run:

1. the cold wall time of three checked commands, each a fresh process through the installed
   `derive` script, and of ``python -c "import jax, jax.numpy, sympy, numpy"``, the floor of any
   checked run (it must import all four); each as the median of `--runs` runs, with its ratio
   to the floor and the target ratio (grad ≤ 1.25, mle gaussian ≤ 1.5, show mlp-backprop ≤ 2);
2. the check of every case of the public conformance suite (shared/conformance/cases.py), in
   one fresh process after the derivations are built without a check: the first check of each
   (JAX imported and initialised beforehand, its disk cache warm) and a warm check (median of
   `--runs` further checks of the same derivation); the median and 95th percentile of each
   (targets: first ≤ 300 ms, warm median ≤ 20 ms), with CPU time beside wall time, since a
   busy machine inflates wall time and not CPU time;
3. the wall time of ``derive export --all --format markdown`` into a temporary directory
   (target ≤ 20 s).

Every command is run once before it is timed, as a user's first run fills JAX's compilation
cache on disk (~/.cache/derive/jax; DERIVE_JAX_CACHE overrides it). Figures are printed and
compared with their targets; nothing is asserted: timings do not belong in the test suite.
``farm-bench --vs`` can time two whole commands side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
DERIVE = str(pathlib.Path(sys.executable).parent / "derive")
CONFORMANCE = ROOT.parent / "shared" / "conformance"

FLOOR = (sys.executable, "-c", "import jax, jax.numpy, sympy, numpy")
#: (label, command, target ratio to the floor)
COMMANDS = (
    (
        "derive grad (least squares)",
        (DERIVE, "grad", r"\frac12\|Ax-b\|_2^2", "--wrt", "x", "--shape", "A=m,n"),
        1.25,
    ),
    ("derive mle gaussian", (DERIVE, "mle", "gaussian"), 1.5),
    ("derive show mlp-backprop", (DERIVE, "show", "mlp-backprop"), 2.0),
)

# Runs in a fresh interpreter: builds every conformance derivation unchecked, then times the
# first and the warm checks of each; prints one JSON line.
IN_PROCESS = r"""
import json, statistics, sys, time
sys.path.insert(0, sys.argv[1])
runs = int(sys.argv[2])
from cases import CASES
import derive
from derive.check import check_derivation
from derive.jax_runtime import import_jax
jax = import_jax()
jax.numpy.zeros(3).block_until_ready()  # JAX initialised: its start-up is not a check's
built = []
for c in CASES:
    api = derive.hessian if c["kind"] == "hessian" else derive.gradient
    d = api(c["latex"], wrt=c["wrt"], shapes=c["shapes"], assume=c["assume"], check=False)
    built.append((c["id"], d))
rows = []
for name, d in built:
    t, p = time.perf_counter(), time.process_time()
    report = check_derivation(d)
    first = (time.perf_counter() - t, time.process_time() - p)
    warm_wall, warm_cpu = [], []
    for _ in range(runs):
        t, p = time.perf_counter(), time.process_time()
        check_derivation(d)
        warm_wall.append(time.perf_counter() - t)
        warm_cpu.append(time.process_time() - p)
    rows.append({"id": name, "passed": report.passed, "first": first[0], "first_cpu": first[1],
                 "warm": statistics.median(warm_wall), "warm_cpu": statistics.median(warm_cpu)})
print(json.dumps(rows))
"""


def timed(cmd: tuple[str, ...], cwd: str | None = None) -> tuple[float, float]:
    """(wall, CPU) seconds of one run of `cmd`, which must succeed."""
    before = os.times()
    start = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=cwd)
    wall = time.perf_counter() - start
    after = os.times()
    if out.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({out.returncode}): {out.stderr.strip()}")
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu


def medians(cmd: tuple[str, ...], runs: int) -> tuple[float, float]:
    timed(cmd)  # a user's first run: fills the compilation cache
    samples = [timed(cmd) for _ in range(runs)]
    return statistics.median(w for w, _ in samples), statistics.median(c for _, c in samples)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile, linearly interpolated."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def cli(runs: int) -> None:
    print(f"1. cold CLI, median of {runs} (wall s; CPU s; ratio to the floor, wall and CPU)")
    floor_wall, floor_cpu = medians(FLOOR, runs)
    print(f"  {'import jax, jax.numpy, sympy, numpy':36}{floor_wall:7.2f}{floor_cpu:7.2f}   floor")
    for label, cmd, target in COMMANDS:
        wall, cpu = medians(cmd, runs)
        ratio, ratio_cpu = wall / floor_wall, cpu / floor_cpu
        mark = "meets" if ratio <= target else "misses"
        print(
            f"  {label:36}{wall:7.2f}{cpu:7.2f}   {ratio:5.2f}× {ratio_cpu:5.2f}× "
            f"(target ≤ {target}×: {mark})"
        )


def in_process(runs: int) -> None:
    print("2. in one process, over the conformance suite (ms; wall, CPU in brackets)")
    if not (CONFORMANCE / "cases.py").is_file():
        print(f"  skipped: no {CONFORMANCE} beside the repository")
        return
    args = (sys.executable, "-c", IN_PROCESS, str(CONFORMANCE), str(runs))
    subprocess.run(args, capture_output=True, check=True)  # fills the compilation cache
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    rows = json.loads(out.stdout.strip().splitlines()[-1])
    for row in rows:
        print(
            f"  {row['id']:16} first {1e3 * row['first']:7.1f} ({1e3 * row['first_cpu']:6.1f})"
            f"  warm {1e3 * row['warm']:6.1f} ({1e3 * row['warm_cpu']:5.1f})"
            f"{'' if row['passed'] else '  NOT VERIFIED'}"
        )
    for key, target in (("first", 300.0), ("warm", 20.0)):
        wall = [1e3 * r[key] for r in rows]
        cpu = [1e3 * r[key + "_cpu"] for r in rows]
        print(
            f"  {key:6} median {statistics.median(wall):7.1f} ({statistics.median(cpu):6.1f})"
            f"  p95 {percentile(wall, 95):7.1f} ({percentile(cpu, 95):6.1f})"
            f"   target median ≤ {target:.0f} ms"
        )


def export(runs: int) -> None:
    print("3. derive export --all --format markdown (wall s; CPU s)")
    with tempfile.TemporaryDirectory() as out:
        cmd = (DERIVE, "export", "--all", "--format", "markdown", "--output", out)
        wall, cpu = medians(cmd, max(1, runs // 3))
    print(f"  {'export --all':36}{wall:7.2f}{cpu:7.2f}   target ≤ 20 s")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3, help="timed runs of each command")
    ap.add_argument("--skip-export", action="store_true", help="leave out export --all")
    args = ap.parse_args()
    print("reproduce: .venv/bin/python tests/benchmarks/check.py")
    print(f"load average at start: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    cli(args.runs)
    in_process(args.runs)
    if not args.skip_export:
        export(args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
