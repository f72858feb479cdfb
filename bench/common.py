"""Shared helpers for the benchmark scripts under bench/.

Each bench script is standalone: it creates (or reuses) its own PostgreSQL
database next to the one DATABASE_URL names, migrates it, seeds it once, and
prints its figures with a baseline measured in the same run. Nothing here is
imported by the application.
"""

from __future__ import annotations

import math
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO_ROOT = Path(__file__).resolve().parent.parent


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between ranks."""
    if not values:
        raise ValueError("percentile of no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(frozen=True)
class Timing:
    """Wall-clock samples of one operation, in milliseconds."""

    name: str
    samples_ms: tuple[float, ...]

    @property
    def p50(self) -> float:
        return percentile(self.samples_ms, 50)

    @property
    def p99(self) -> float:
        return percentile(self.samples_ms, 99)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.samples_ms)


def time_calls(
    name: str, call: Callable[[], object], *, runs: int, warmup: int = 10
) -> Timing:
    """Run `call` warmup + runs times and keep the timed runs (perf_counter, ms)."""
    for _ in range(warmup):
        call()
    samples: list[float] = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000.0)
    return Timing(name=name, samples_ms=tuple(samples))


def database_url_for(name: str, base_url: str | None = None) -> str:
    """DATABASE_URL with its database name replaced by `name`."""
    base = base_url or os.environ.get("DATABASE_URL", "")
    parts = urlsplit(base)
    if parts.scheme not in {"postgres", "postgresql", "pgsql"}:
        raise SystemExit(
            "This benchmark needs PostgreSQL: set DATABASE_URL, e.g. "
            "DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres"
        )
    return urlunsplit(parts._replace(path=f"/{name}"))


def database_ensure(name: str) -> str:
    """Create the benchmark database `name` on DATABASE_URL's server if missing.

    Returns its URL. Connects to the database DATABASE_URL names to issue
    CREATE DATABASE, so only that one needs to exist beforehand.
    """
    import psycopg
    from psycopg import sql

    base = os.environ.get("DATABASE_URL", "")
    target = database_url_for(name, base)
    with psycopg.connect(base, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return target


def database_drop(name: str, *, force: bool = False) -> None:
    """Drop the benchmark database `name` if it exists (never DATABASE_URL's own);
    `force` ends the sessions still connected to it first."""
    import psycopg
    from psycopg import sql

    base = os.environ.get("DATABASE_URL", "")
    if urlsplit(base).path.lstrip("/") == name:
        raise SystemExit(
            f"Refusing to drop {name}: it is the database DATABASE_URL names."
        )
    with psycopg.connect(base, autocommit=True) as conn:
        drop = "DROP DATABASE IF EXISTS {}" + (" WITH (FORCE)" if force else "")
        conn.execute(sql.SQL(drop).format(sql.Identifier(name)))


def django_setup(database_url: str) -> None:
    """Point Django at `database_url` with production settings, then migrate.

    HTTPS redirects are off and the test client's host is allowed, so
    in-process requests reach the views instead of a 301.
    """
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "charter_social.settings")
    os.environ["HTTPS"] = "0"
    os.environ["DEBUG"] = "0"
    os.environ["ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    # A var/ of its own: collected static files (production settings serve
    # them from a manifest) and generated keys stay apart from the dev site's.
    var_dir = Path(
        os.environ.setdefault("CHARTER_VAR_DIR", str(REPO_ROOT / "var" / "bench"))
    )
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0, interactive=False)
    if not (var_dir / "static" / "staticfiles.json").exists():
        call_command("collectstatic", verbosity=0, interactive=False)


def load_average() -> str:
    """The 1-minute load average, to read the figures against."""
    try:
        return f"{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    except OSError:
        return "unknown"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain text table, right-aligned numbers, for terminal and CI logs."""
    cells = [[str(h) for h in headers]] + [
        [f"{c:.2f}" if isinstance(c, float) else str(c) for c in row] for row in rows
    ]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        )

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(cells[0]), rule, *(line(r) for r in cells[1:])])
