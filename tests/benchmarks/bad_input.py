"""Time every bad input of tests/bad_inputs.py through the real `derive` script.

    .venv/bin/python tests/benchmarks/bad_input.py [--budget SECONDS] [--jobs N]

A script, not a test (pytest collects only test_*.py): the project keeps timing goals out of
the test suite, where a slow machine would make them flaky. Each entry runs alone by default
(--jobs 1), so its wall-clock time is its own, interpreter start-up and imports included;
the table lists them slowest first, flags any over the budget (2 s, the goal in issue 4),
and the exit code is 1 if any is over (or did not fail cleanly with exit code 2).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bad_inputs import CORPUS, Bad  # noqa: E402 - after the path is set

DERIVE = str(pathlib.Path(sys.executable).parent / "derive")


def timed(bad: Bad, timeout: float) -> tuple[Bad, float, int | None, int]:
    """(entry, seconds, exit code or None on timeout, lines on stderr)."""
    start = time.perf_counter()
    try:
        out = subprocess.run(
            [DERIVE, *bad.cli_args()], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return bad, time.perf_counter() - start, None, 0
    return bad, time.perf_counter() - start, out.returncode, len(out.stderr.splitlines())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=float, default=2.0, help="seconds allowed per input")
    ap.add_argument("--jobs", type=int, default=1, help="inputs run at once (1: exact times)")
    ap.add_argument("--timeout", type=float, default=60.0, help="give up on one input after")
    args = ap.parse_args()
    entries = [b for b in CORPUS if b.cli]
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(lambda b: timed(b, args.timeout), entries))
    rows.sort(key=lambda r: -r[1])
    bad_rows = 0
    print(f"{'input':<28} {'seconds':>8}  exit  lines")
    for bad, seconds, code, lines in rows:
        flags = []
        if seconds > args.budget:
            flags.append(f"OVER {args.budget:g} s")
        if code != 2 or lines != 1:
            flags.append("NOT A CLEAN FAILURE" if code is not None else "TIMED OUT")
        bad_rows += bool(flags)
        shown = "-" if code is None else str(code)
        print(f"{bad.id:<28} {seconds:8.2f}  {shown:>4}  {lines:5}  {' '.join(flags)}")
    times = [r[1] for r in rows]
    print(
        f"\n{len(rows)} inputs: max {max(times):.2f} s, median {sorted(times)[len(times) // 2]:.2f}"
        f" s, budget {args.budget:g} s; {bad_rows} flagged"
    )
    return 1 if bad_rows else 0


if __name__ == "__main__":
    sys.exit(main())
