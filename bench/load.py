"""Load test: locust, headless, against Daphne on PostgreSQL + Redis.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
    REDIS_URL=redis://127.0.0.1:6379/11 python bench/load.py [--users 100]
        [--duration 60] [--processes 1 2]

Creates (once) and seeds a database of its own (--database, default
bench_load: accounts with API tokens and sessions, posts with signals, follows,
the charter, petitions); every configuration then runs on a fresh copy of it
(`{database}_run`) with this benchmark's Redis keys cleared, so runs compare.
It starts N Daphne processes on loopback plus one
ranking worker, runs bench/locustfile.py for --duration seconds per
configuration, and prints requests per second, errors and the p50/p95/p99 of
every endpoint; with several configurations it prints the scale-out ratio
(measured in the same run). Everything listens on 127.0.0.1 only and every
process it starts is stopped at the end. The issue's full run is
`--duration 300`.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    REPO_ROOT,
    database_ensure,
    django_setup,
    load_average,
    table,
)

PASSWORD = "load-test-password-1"


def seed(*, accounts: int, posts: int, out: Path) -> None:
    """Accounts, tokens, sessions, posts (with signals), follows, petitions."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.utils import timezone
    from rest_framework.authtoken.models import Token

    from charter.selectors import charter_active
    from charter.services import charter_genesis
    from feed.models import Follow, Post, User

    if charter_active() is None:
        charter_genesis()
    existing = User.objects.filter(username__startswith="load").count()
    if existing < accounts:
        hashed = make_password(PASSWORD)
        User.objects.bulk_create(
            User(username=f"load{n}", password=hashed, display_name=f"Load {n}")
            for n in range(existing, accounts)
        )
    users = list(User.objects.filter(username__startswith="load").order_by("id"))
    users = users[:accounts]
    Token.objects.bulk_create(
        [
            Token(user=u, key=Token.generate_key())
            for u in users
            if not Token.objects.filter(user=u).exists()
        ]
    )
    tokens = dict(Token.objects.filter(user__in=users).values_list("user_id", "key"))
    if Post.objects.count() < posts:
        now = timezone.now()
        rng = random.Random(7)
        Post.objects.bulk_create(
            Post(
                author=rng.choice(users),
                body=f"Seeded post {n}: a thought about the neighbourhood.",
                created_at=now - timedelta(minutes=rng.randint(0, 2 * 24 * 60)),
            )
            for n in range(posts - Post.objects.count())
        )
        rng = random.Random(8)
        Follow.objects.bulk_create(
            (
                Follow(follower=u, followee=f)
                for u in users
                for f in rng.sample(users, 20)
                if f != u
            ),
            ignore_conflicts=True,
        )
    _ensure_model_and_signals()
    petition_ids = _ensure_petitions(users)
    rows = []
    for user in users:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        rows.append(
            {
                "username": user.username,
                "token": tokens[user.pk],
                "session": session.session_key,
            }
        )
    recent = list(
        Post.objects.order_by("-id").values_list("id", "author__username")[:2000]
    )
    post_ids = [post_id for post_id, _ in recent]
    out.write_text(
        json.dumps(
            {
                "accounts": rows,
                "usernames": [u.username for u in users],
                "post_ids": post_ids,
                # So "rate" never picks one's own post (a 400 by design, which
                # was counted as an error).
                "post_authors": {str(post_id): author for post_id, author in recent},
                "petition_ids": petition_ids,
            }
        )
    )


def _ensure_model_and_signals() -> None:
    from feed.models import Post
    from ranking.artefacts import (
        FORMAT_SKOPS,
        FitResult,
        sklearn_dump,
        training_data_sha256,
    )
    from ranking.incivility import incivility_corpus_load, incivility_fit
    from ranking.models import ModelArtefact
    from ranking.services import (
        model_activate,
        model_artefact_create,
        post_signals_compute,
    )

    if not ModelArtefact.objects.filter(name="incivility").exists():
        texts, labels = incivility_corpus_load()
        artefact = model_artefact_create(
            name="incivility",
            result=FitResult(
                blob=sklearn_dump(incivility_fit(texts=texts, labels=labels)),
                format=FORMAT_SKOPS,
                training_data_sha256=training_data_sha256(["load"]),
            ),
        )
        model_activate(artefact=artefact, actor="bench/load.py")
    post_signals_compute(post_ids=list(Post.objects.values_list("id", flat=True)))
    _ensure_bridging_and_groups()


def _ensure_bridging_and_groups() -> None:
    """Synthetic bridging and consensus values for the seeded posts and opinion
    groups for every account (an active consensus artefact), as
    bench_ranked_feed.py stores them: the seed has too few ratings to fit the
    real models, and without them the ranked feed would skip its outside
    candidates and its cross-cutting constraint, i.e. measure less than a
    deployment runs. Posts written during the load get no bridging score,
    as new posts in production don't until the next refit."""
    import numpy as np

    from feed.models import Post, User
    from ranking.artefacts import (
        FORMAT_NPZ,
        FitResult,
        arrays_dump,
        training_data_sha256,
    )
    from ranking.models import ModelArtefact
    from ranking.services import (
        model_activate,
        model_artefact_create,
        post_signals_store,
    )

    if ModelArtefact.objects.filter(name="consensus", is_active=True).exists():
        return
    rng = np.random.default_rng(11)
    ids = list(Post.objects.order_by("id").values_list("id", flat=True))
    bridging = np.clip(rng.normal(0.2, 0.2, len(ids)), -1, 1)
    consensus = np.clip(rng.beta(3, 3, len(ids)), 0, 1)
    for name, values in (("bridging", bridging), ("consensus", consensus)):
        post_signals_store(
            name=name, version=1, values=dict(zip(ids, values.tolist(), strict=True))
        )
    users = np.array(sorted(User.objects.values_list("id", flat=True)), dtype=np.int64)
    blob = arrays_dump(
        {
            "item_ids": np.array([], dtype=np.int64),
            "item_consensus": np.array([], dtype=np.float64),
            "item_groups_rating": np.zeros((0, 2)),
            "rater_ids": users,
            "rater_group": rng.integers(0, 2, users.size).astype(np.int64),
            "n_groups": np.array([2]),
        }
    )
    artefact = model_artefact_create(
        name="consensus",
        result=FitResult(
            blob=blob,
            format=FORMAT_NPZ,
            training_data_sha256=training_data_sha256(["load", users.size]),
        ),
    )
    model_activate(artefact=artefact, actor="bench/load.py")


def _ensure_petitions(users: list) -> list[int]:
    from accountability.casework_models import Petition
    from accountability.petitions import petition_file

    ids = list(Petition.objects.filter(status="open").values_list("id", flat=True))
    for n in range(len(ids), 5):
        ids.append(
            petition_file(
                author=users[n],
                target="article",
                title=f"Load petition {n}",
                text="Clarify the article.",
                article="1",
            ).pk
        )
    return ids


def _analyze() -> None:
    """VACUUM ANALYZE the seeded database, as autovacuum does on a live server.

    Without planner statistics (autovacuum is off on the development server,
    and bulk inserts leave none) PostgreSQL guessed ~20 rows for the feed's
    two-week window of ~20,000 posts and chose nested loops: the ranked
    feed's candidate queries took ~50 ms instead of ~5 ms, which measured a
    database no deployment runs rather than the application.
    """
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")


def _collectstatic() -> None:
    """Collect static files: with DEBUG off every page links them through the
    manifest, and without one each HTML page is a 500."""
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)


def _fresh_copy(template: str) -> str:
    """`{template}_run`, a new copy of the seeded database; its URL.

    Every configuration starts from the same rows: posts, follows, ratings and
    signatures the load writes would otherwise pile up from run to run (each
    run adds follows, so later runs ranked bigger home windows) and make the
    figures of two runs incomparable.
    """
    import psycopg
    from django.db import connection
    from psycopg import sql

    from bench.common import database_drop, database_url_for

    connection.close()
    if hasattr(connection, "close_pool"):
        connection.close_pool()
    run = f"{template}_run"
    database_drop(run, force=True)
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(run), sql.Identifier(template)
            )
        )
    return database_url_for(run)


def _redis_clear(prefix: str) -> int:
    """Delete this benchmark's keys (cache, rate limits, channels) from Redis,
    so no run inherits another's served-item counts or sessions."""
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    deleted = 0
    batch = []
    for key in client.scan_iter(match=f"{prefix}*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            deleted += client.delete(*batch)
            batch = []
    if batch:
        deleted += client.delete(*batch)
    return deleted


def _env(database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        DJANGO_SETTINGS_MODULE="charter_social.settings",
        DEBUG="0",
        HTTPS="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CHANNEL_PREFIX="bench_load",
        CACHE_PREFIX="bench_load",
        LOG_LEVEL="WARNING",
    )
    return env


def _wait_port(port: int, timeout: float = 30) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"Daphne on port {port} did not start")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a live process, from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of stat(5), counted after the name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_seconds_of(command: str) -> float:
    """CPU time of every live process whose name is `command` (all of them on
    this machine, e.g. every PostgreSQL backend, not only this run's)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                name = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if name == command:
                total += _cpu_seconds(int(entry.name))
    return total


def run_config(
    *,
    processes: int,
    users: int,
    duration: int,
    spawn_rate: int,
    database_url: str,
    seed_file: Path,
    base_port: int,
) -> tuple[list[dict[str, str]], dict[str, float]]:
    env = _env(database_url)
    bin_dir = Path(sys.executable).parent
    started: list[subprocess.Popen[bytes]] = []
    try:
        ports = [base_port + i for i in range(processes)]
        for port in ports:
            started.append(
                subprocess.Popen(
                    [
                        str(bin_dir / "daphne"),
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
            )
        started.append(
            subprocess.Popen(
                [sys.executable, "manage.py", "runworker", "ranking"],
                cwd=REPO_ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        for port in ports:
            _wait_port(port)
        hosts = ",".join(f"http://127.0.0.1:{p}" for p in ports)
        prefix = Path(tempfile.mkdtemp(prefix="load-")) / "run"
        locust_env = {**env, "LOAD_ACCOUNTS": str(seed_file), "LOAD_HOSTS": hosts}
        # CPU seconds each part used during the run: what a request costs the
        # server, whatever else the shared cores were doing meanwhile.
        before = {
            "daphne": sum(_cpu_seconds(p.pid) for p in started[:-1]),
            "worker": _cpu_seconds(started[-1].pid),
            "postgres": _cpu_seconds_of("postgres"),
            "redis": _cpu_seconds_of("redis-server"),
            "locust": _children_cpu_seconds(),
        }
        subprocess.run(
            [
                str(bin_dir / "locust"),
                "-f",
                str(REPO_ROOT / "bench" / "locustfile.py"),
                "--headless",
                "-u",
                str(users),
                "-r",
                str(spawn_rate),
                "-t",
                f"{duration}s",
                "--host",
                f"http://127.0.0.1:{ports[0]}",
                "--csv",
                str(prefix),
                "--only-summary",
                "--stop-timeout",
                "5",
                "--loglevel",
                "WARNING",
            ],
            cwd=REPO_ROOT,
            env=locust_env,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        after = {
            "daphne": sum(_cpu_seconds(p.pid) for p in started[:-1]),
            "worker": _cpu_seconds(started[-1].pid),
            "postgres": _cpu_seconds_of("postgres"),
            "redis": _cpu_seconds_of("redis-server"),
            "locust": _children_cpu_seconds(),
        }
        cpu = {name: after[name] - before[name] for name in before}
        with open(f"{prefix}_failures.csv") as handle:
            for failure in csv.DictReader(handle):
                print(
                    f"  failure: {failure['Occurrences']} x {failure['Method']} "
                    f"{failure['Name']}: {failure['Error'][:160]}"
                )
        with open(f"{prefix}_stats.csv") as handle:
            return list(csv.DictReader(handle)), cpu
    finally:
        for process in started:
            process.send_signal(signal.SIGTERM)
        for process in started:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def _children_cpu_seconds() -> float:
    """CPU time of this process's finished (waited-for) children: locust."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def report(rows: list[dict[str, str]], label: str, cpu: dict[str, float]) -> float:
    print(f"\n{label}")
    lines = []
    total_rps = 0.0
    for row in rows:
        name = row["Name"] if row["Name"] != "Aggregated" else "ALL"
        if row["Name"] == "Aggregated":
            total_rps = float(row["Requests/s"])
        lines.append(
            [
                name,
                row["Request Count"],
                row["Failure Count"],
                f"{float(row['Requests/s']):.1f}",
                row["50%"],
                row["95%"],
                row["99%"],
            ]
        )
    print(
        table(
            ["endpoint", "requests", "errors", "rps", "p50 ms", "p95 ms", "p99 ms"],
            lines,
        )
    )
    requests = sum(int(r["Request Count"]) for r in rows if r["Name"] == "Aggregated")
    if requests:
        print(
            "CPU per request (ms): "
            + ", ".join(
                f"{name} {1000.0 * seconds / requests:.1f}"
                for name, seconds in cpu.items()
            )
            + " (postgres and redis: every such process on the machine)"
        )
    return total_rps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--spawn-rate", type=int, default=20)
    parser.add_argument("--duration", type=int, default=60, help="seconds per run")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--accounts", type=int, default=300)
    parser.add_argument("--posts", type=int, default=20_000)
    parser.add_argument("--database", default="bench_load")
    parser.add_argument("--port", type=int, default=8701)
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("bench/load.py needs REDIS_URL (the deployment shape).")
    database_url = database_ensure(args.database)
    django_setup(database_url)
    seed_file = Path(tempfile.mkdtemp(prefix="load-seed-")) / "accounts.json"
    started = time.perf_counter()
    seed(accounts=args.accounts, posts=args.posts, out=seed_file)
    _analyze()
    _collectstatic()
    print(
        f"seeded in {time.perf_counter() - started:.1f}s; load average {load_average()}"
    )
    results = {}
    for processes in args.processes:
        run_url = _fresh_copy(args.database)
        _redis_clear("bench_load")
        rows, cpu = run_config(
            processes=processes,
            users=args.users,
            duration=args.duration,
            spawn_rate=args.spawn_rate,
            database_url=run_url,
            seed_file=seed_file,
            base_port=args.port,
        )
        results[processes] = report(
            rows,
            f"{processes} Daphne process(es), {args.users} users, "
            f"{args.duration}s (load average {load_average()})",
            cpu,
        )
    if len(results) > 1:
        first = min(results)
        for n, rps in sorted(results.items()):
            print(
                f"{n} process(es): {rps:.1f} req/s = "
                f"{rps / results[first]:.2f}x of {first}"
            )


if __name__ == "__main__":
    main()
