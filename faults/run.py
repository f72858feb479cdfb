"""Run every fault scenario against PostgreSQL + Redis and print what happened.

    DATABASE_URL=postgres://... REDIS_URL=redis://... python faults/run.py

Each scenario is a pytest test in tests/faults/ (scripted and asserted; CI runs
the same files). This script runs them with their output shown and prints the
per-phase status counts they report ("FAULT ..." lines) and the verdict.
The shared services are never stopped: Redis faults use private redis-server
processes on ports 6390/6391, PostgreSQL faults a loopback proxy.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("faults/run.py needs DATABASE_URL=postgres://... (and REDIS_URL)")
        return 2
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/faults",
            "-s",
            "-v",
            "-p",
            "no:cacheprovider",
            *sys.argv[1:],
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    for line in result.stdout.splitlines():
        if "FAULT " in line:  # -s output can share a line with the test id
            print(line[line.index("FAULT ") :].strip())
        elif any(w in line for w in (" PASSED", " FAILED", " SKIPPED", "passed")):
            print(line.strip())
    if result.returncode != 0:
        print(result.stdout[-4000:])
        print(result.stderr[-2000:])
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
