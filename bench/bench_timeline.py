"""Chronological home timeline at 10k users / 200k posts on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        python bench/bench_timeline.py

Creates (once) the database `bench_timeline` on that server, migrates it and
loads 10k users / 200k posts in which every user follows 200 accounts, then
measures, for one such user:

- the selector `feed.selectors.timeline_home` — first page and a deep page
  (reached by following cursors) — server-side, in this process;
- the full HTTP response of GET /api/timelines/home/ and GET / through the
  whole Django stack in-process (django.test.Client, force_login);
- the same two URLs through Daphne over loopback (one keep-alive connection);
- the public timeline the same ways, as the baseline the ratios are against;
- the deep home page with the previous keyset filter (a reference, same run);
- getting a database connection through the pool against opening a new one.

Target (issue 2): selector p99 <= 30 ms. Options: --runs N (default 300),
--deep-pages N (default 20), --no-daphne, --reseed (drop and reload the data).
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    REPO_ROOT,
    Timing,
    database_drop,
    database_ensure,
    django_setup,
    load_average,
    table,
    time_calls,
)

DATABASE = "bench_timeline"
PREFIX = "tl"
USERS, POSTS, FOLLOWS = 10_000, 200_000, 200
LIKES, RATINGS = 200_000, 400_000
TARGET_P99_MS = 30.0


def seed() -> None:
    from django.core.management import call_command

    from feed.models import User

    if User.objects.filter(username=f"{PREFIX}0").exists():
        print(f"Reusing the data already in {DATABASE}.")
        return
    started = time.perf_counter()
    call_command(
        "seed_scale",
        users=USERS,
        posts=POSTS,
        follows_per_user=FOLLOWS,
        likes=LIKES,
        ratings=RATINGS,
        prefix=PREFIX,
        seed=1,
    )
    print(f"Seeded {DATABASE} in {time.perf_counter() - started:.1f} s.")


def deep_cursor(fetch: Callable[[str | None], object], pages: int) -> str | None:
    """The cursor of page `pages + 1`, found by following next cursors."""
    cursor: str | None = None
    for _ in range(pages):
        page = fetch(cursor)
        cursor = page.next_cursor  # type: ignore[attr-defined]
        if cursor is None:
            break
    return cursor


def home_before(viewer: object, cursor: str | None) -> object:
    """timeline_home as it was before the cursor became an index range (reference).

    The keyset filter was only `created_at < t OR (created_at = t AND id < i)`,
    which is no index range, so each deeper page rescanned all newer posts.
    """
    from django.db.models import Q

    from feed import selectors

    queryset = selectors.home_candidates_for(viewer=viewer)  # type: ignore[arg-type]
    if cursor:
        position = selectors.Cursor.decode(cursor)
        queryset = queryset.filter(
            Q(created_at__lt=position.created_at)
            | Q(created_at=position.created_at, id__lt=position.id)
        )
    limit = selectors.DEFAULT_PAGE_SIZE
    rows = list(queryset.order_by("-created_at", "-id")[: limit + 1])
    items = rows[:limit]
    return selectors.Page(
        items=items,
        next_cursor=None,
        viewer_reactions=selectors.viewer_reactions_for(viewer=viewer, posts=items),  # type: ignore[arg-type]
    )


def fresh_connection(connection: object) -> None:
    """Open and close one unpooled connection with Django's own parameters."""
    import psycopg

    params = connection.get_connection_params()  # type: ignore[attr-defined]
    params.pop("pool", None)
    psycopg.connect(**params).close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def daphne_start(port: int) -> subprocess.Popen[bytes]:
    env = dict(os.environ)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "daphne",
            "-b",
            "127.0.0.1",
            "-p",
            str(port),
            "charter_social.asgi:application",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Daphne exited with status {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("Daphne did not start listening within 30 s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--deep-pages", type=int, default=20)
    parser.add_argument("--no-daphne", action="store_true")
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()

    if args.reseed:
        database_drop(DATABASE)
    django_setup(database_ensure(DATABASE))
    seed()

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from feed import selectors
    from feed.models import Follow, Post, User

    viewer = User.objects.get(username=f"{PREFIX}0")
    following = Follow.objects.filter(follower=viewer).count()
    visible = Post.objects.filter(
        author_id__in=Follow.objects.filter(follower=viewer).values("followee_id")
    ).count()
    print(
        f"Data: {User.objects.count():,} users, {Post.objects.count():,} posts; viewer "
        f"@{viewer.username} follows {following} accounts ({visible:,} posts in reach)."
    )
    print(f"Load average before timing: {load_average()}\n")

    runs = args.runs
    deep_home = deep_cursor(
        lambda c: selectors.timeline_home(viewer=viewer, cursor=c), args.deep_pages
    )
    deep_public = deep_cursor(
        lambda c: selectors.timeline_public(viewer=viewer, cursor=c), args.deep_pages
    )
    with CaptureQueriesContext(connection) as queries:
        selectors.timeline_home(viewer=viewer)
    home_queries = len(queries.captured_queries)

    results: list[tuple[str, Timing, str]] = []  # (group, timing, baseline name)
    results.append(
        (
            "selector",
            time_calls(
                "timeline_home, first page",
                lambda: selectors.timeline_home(viewer=viewer),
                runs=runs,
            ),
            "public",
        )
    )
    results.append(
        (
            "selector",
            time_calls(
                f"timeline_home, page {args.deep_pages + 1}",
                lambda: selectors.timeline_home(viewer=viewer, cursor=deep_home),
                runs=runs,
            ),
            "public deep",
        )
    )
    results.append(
        (
            "selector",
            time_calls(
                f"timeline_home, page {args.deep_pages + 1} (before: OR-only cursor)",
                lambda: home_before(viewer, deep_home),
                runs=runs,
            ),
            "public deep",
        )
    )
    public_first = time_calls(
        "timeline_public, first page",
        lambda: selectors.timeline_public(viewer=viewer),
        runs=runs,
    )
    public_deep = time_calls(
        f"timeline_public, page {args.deep_pages + 1}",
        lambda: selectors.timeline_public(viewer=viewer, cursor=deep_public),
        runs=runs,
    )
    baselines = {"public": public_first, "public deep": public_deep}

    client = Client()
    client.force_login(viewer)
    unavailable: list[str] = []

    def http_timing(label: str, path: str, http_runs: int) -> Timing | None:
        try:
            status = client.get(path).status_code
        except Exception as exc:  # a broken page must not hide the other figures
            unavailable.append(f"{label}: GET {path} raised {exc!r}")
            return None
        if status != 200:
            unavailable.append(f"{label}: GET {path} answered {status}")
            return None
        return time_calls(label, lambda: client.get(path), runs=http_runs)

    http_runs = max(runs // 2, 50)
    http_results: list[tuple[Timing | None, Timing | None]] = [
        (
            http_timing(
                "GET /api/timelines/home/ (in-process)",
                "/api/timelines/home/",
                http_runs,
            ),
            http_timing(
                "GET /api/timelines/public/ (in-process)",
                "/api/timelines/public/",
                http_runs,
            ),
        ),
        (
            http_timing("GET / signed in (in-process)", "/", http_runs),
            http_timing("GET /public/ (in-process)", "/public/", http_runs),
        ),
    ]

    # CONN_MAX_AGE is 0 (settings: each ASGI request may run on another thread),
    # so every request "closes" its connection. With the psycopg pool (default
    # on PostgreSQL) that hands it back and the next request checks one out;
    # without it each request opens a new connection. Both, in the same run.
    def reconnect() -> None:
        connection.close()
        connection.ensure_connection()

    pooled = bool(connection.settings_dict["OPTIONS"].get("pool"))
    connect = time_calls(
        "get a connection (close + ensure_connection"
        + (", pooled)" if pooled else ", pool off)"),
        reconnect,
        runs=50,
        warmup=3,
    )
    fresh = time_calls(
        "open a new connection (psycopg.connect, no pool)",
        lambda: fresh_connection(connection),
        runs=50,
        warmup=3,
    )

    daphne_results: list[tuple[Timing | None, Timing | None]] = []
    if not args.no_daphne:
        daphne_results = daphne_measure(
            client.cookies["sessionid"].value, http_runs, unavailable
        )

    rows: list[list[object]] = []
    for _group, timing, base in results:
        baseline = baselines[base]
        rows.append(
            [
                timing.name,
                len(timing.samples_ms),
                timing.p50,
                timing.p99,
                timing.mean,
                f"{timing.p50 / baseline.p50:.2f}x",
                f"{timing.p99 / baseline.p99:.2f}x",
            ]
        )
    for timing in (public_first, public_deep):
        rows.append(
            [
                timing.name + " (baseline)",
                len(timing.samples_ms),
                timing.p50,
                timing.p99,
                timing.mean,
                "1.00x",
                "1.00x",
            ]
        )
    for home, public in http_results + daphne_results:
        for measured, against in ((home, public), (public, public)):
            if measured is None:
                continue
            ratio = (
                (
                    f"{measured.p50 / against.p50:.2f}x",
                    f"{measured.p99 / against.p99:.2f}x",
                )
                if against
                else ("-", "-")
            )
            rows.append(
                [
                    measured.name,
                    len(measured.samples_ms),
                    measured.p50,
                    measured.p99,
                    measured.mean,
                    *ratio,
                ]
            )
    for timing in (connect, fresh):
        rows.append(
            [
                timing.name,
                len(timing.samples_ms),
                timing.p50,
                timing.p99,
                timing.mean,
                "-",
                "-",
            ]
        )

    print(
        table(
            [
                "measurement (ms)",
                "runs",
                "p50",
                "p99",
                "mean",
                "p50 vs public",
                "p99 vs public",
            ],
            rows,
        )
    )
    home_first = results[0][1]
    home_deep = results[1][1]
    worst = max(home_first.p99, home_deep.p99)
    verdict = "meets" if worst <= TARGET_P99_MS else "MISSES"
    print(
        f"\nSelector timeline_home: {home_queries} queries per page; p99 first page "
        f"{home_first.p99:.2f} ms, deep page {home_deep.p99:.2f} ms -> {verdict} the "
        f"{TARGET_P99_MS:.0f} ms p99 target."
    )
    for note in unavailable:
        print(f"Not measured: {note}")
    print(f"Load average after timing: {load_average()}")
    return 0


def daphne_measure(
    session: str, runs: int, unavailable: list[str]
) -> list[tuple[Timing | None, Timing | None]]:
    port = free_port()
    try:
        process = daphne_start(port)
    except RuntimeError as exc:
        unavailable.append(f"Daphne: {exc}")
        return []
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Cookie": f"sessionid={session}", "Host": "127.0.0.1"}

        def fetch(path: str) -> int:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            response.read()
            return response.status

        def measure(label: str, path: str) -> Timing | None:
            status = fetch(path)
            if status != 200:
                unavailable.append(f"{label}: GET {path} answered {status}")
                return None
            return time_calls(label, lambda: fetch(path), runs=runs)

        return [
            (
                measure("GET /api/timelines/home/ (Daphne)", "/api/timelines/home/"),
                measure(
                    "GET /api/timelines/public/ (Daphne)", "/api/timelines/public/"
                ),
            ),
            (
                measure("GET / signed in (Daphne)", "/"),
                measure("GET /public/ (Daphne)", "/public/"),
            ),
        ]
    finally:
        process.terminate()
        process.wait(timeout=10)


if __name__ == "__main__":
    raise SystemExit(main())
