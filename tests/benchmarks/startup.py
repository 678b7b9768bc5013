"""Cold start of the `derive` command, and the heavy modules each command imports (issue #6, 4d).

    .venv/bin/python tests/benchmarks/startup.py [--runs 5]

Each command runs `--runs` times as a fresh process through the installed `derive` script;
the table gives the median wall time, the target, and which heavy modules (jax, sympy,
numpy, scipy, derive.check …) the command had imported when it finished (a separate run
through `derive.cli.main` that lists `sys.modules`). Targets: `derive --help` < 0.3 s,
`derive mle gaussian --no-check` < 1 s; neither imports JAX.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import subprocess
import sys
import time

DERIVE = str(pathlib.Path(sys.executable).parent / "derive")
HEAVY = ("jax", "jaxlib", "sympy", "numpy", "scipy", "derive.check", "derive.evaluate")
COMMANDS = (
    (("--help",), 0.3),
    (("mle", "gaussian", "--no-check"), 1.0),
    (("mle", "gaussian"), None),
)

# Runs the CLI in-process, then reports which heavy modules are loaded.
PROBE = r"""
import contextlib, io, json, sys
from derive.cli import main
heavy = json.loads(sys.argv[1])
with contextlib.redirect_stdout(io.StringIO()):
    try:
        main(sys.argv[2:])
    except SystemExit:
        pass
print(json.dumps([m for m in heavy if m in sys.modules]))
"""


def wall(args: tuple[str, ...]) -> float:
    start = time.perf_counter()
    out = subprocess.run([DERIVE, *args], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if out.returncode != 0:
        raise SystemExit(f"derive {' '.join(args)} failed: {out.stderr.strip()}")
    return elapsed


def imported(args: tuple[str, ...]) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(HEAVY), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5, help="cold starts per command")
    args = ap.parse_args()
    wall(("mle", "gaussian"))  # fill the JAX compilation cache once, as a user's first run
    print("reproduce: .venv/bin/python tests/benchmarks/startup.py")
    print(f"{'command':34}{'median s':>9}{'target s':>9}{'ratio':>7}  heavy modules imported")
    for cmd, target in COMMANDS:
        median = statistics.median(wall(cmd) for _ in range(args.runs))
        mods = ", ".join(imported(cmd)) or "none"
        tgt = f"{target:>9.2f}{median / target:>7.2f}" if target else f"{'–':>9}{'':>7}"
        print(f"{'derive ' + ' '.join(cmd):34}{median:>9.3f}{tgt}  {mods}")
    print("ratio = median / target (< 1 meets the target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
