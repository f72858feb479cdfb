"""Run every bench/bench_*.py in name order, each as its own process.

    python bench/run.py                 # all benchmarks
    python bench/run.py --only timeline # just bench/bench_timeline.py

Each script gets this process's environment, and its output is streamed as it
runs. A failing benchmark does not stop the rest; the exit status is non-zero
when any of them failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent


def scripts(only: str | None) -> list[Path]:
    """The benchmark scripts to run, in name order; `only` matches a name with or
    without the bench_ prefix and .py suffix."""
    found = sorted(BENCH_DIR.glob("bench_*.py"))
    if only is None:
        return found
    wanted = only.removesuffix(".py").removeprefix("bench_")
    return [path for path in found if path.stem.removeprefix("bench_") == wanted]


def main() -> int:
    parser = argparse.ArgumentParser(description="Run the benchmarks under bench/.")
    parser.add_argument(
        "--only", metavar="NAME", help="run one benchmark, e.g. timeline"
    )
    args, passthrough = parser.parse_known_args()
    selected = scripts(args.only)
    if not selected:
        names = (
            ", ".join(p.stem.removeprefix("bench_") for p in scripts(None)) or "none"
        )
        print(f"No benchmark named {args.only!r}; available: {names}.", file=sys.stderr)
        return 2
    failed: list[str] = []
    for path in selected:
        print(f"=== {path.name} ===", flush=True)
        started = time.perf_counter()
        # Extra arguments go to the benchmark only when one was chosen.
        extra = passthrough if args.only else []
        code = subprocess.call(
            [sys.executable, str(path), *extra], cwd=BENCH_DIR.parent
        )
        elapsed = time.perf_counter() - started
        outcome = "ok" if code == 0 else f"FAILED (exit {code})"
        print(f"=== {path.name}: {outcome} in {elapsed:.1f} s ===\n", flush=True)
        if code != 0:
            failed.append(path.name)
    if failed:
        print(
            f"{len(failed)} of {len(selected)} benchmarks failed: {', '.join(failed)}",
            file=sys.stderr,
        )
        return 1
    print(f"All {len(selected)} benchmarks passed.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
