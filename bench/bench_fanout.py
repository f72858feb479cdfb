"""Live fan-out: one author's new post reaching 1,000 open websockets.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
    REDIS_URL=redis://127.0.0.1:6379/11 python bench/bench_fanout.py [--sockets 1000]

Seeds (once) a database of its own with one author and --sockets followers,
each with a session; starts Daphne on loopback with the Redis channel layer;
opens one websocket per follower (/ws/feed/, signed in by session cookie);
the author publishes --posts posts through the API, and for every socket the
time from the publish request to the `new_post` message for that post is
recorded. Prints p50/p95/p99 over all sockets and posts, with a baseline of
10 sockets measured in the same run. Target: p99 <= 1 s at 1,000 sockets.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    REPO_ROOT,
    database_ensure,
    django_setup,
    load_average,
    percentile,
    table,
)


def seed(followers: int) -> tuple[str, list[str]]:
    """The author's API token and one session key per follower."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.base import VALID_KEY_CHARS
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string
    from rest_framework.authtoken.models import Token

    from feed.models import Follow, User

    author, _ = User.objects.get_or_create(username="fanout_author")
    token, _ = Token.objects.get_or_create(user=author)
    have = User.objects.filter(username__startswith="fanout_f").count()
    if have < followers:
        hashed = make_password("fanout-password-1")
        User.objects.bulk_create(
            User(username=f"fanout_f{n}", password=hashed)
            for n in range(have, followers)
        )
    fans = list(
        User.objects.filter(username__startswith="fanout_f").order_by("id")[:followers]
    )
    Follow.objects.bulk_create(
        (Follow(follower=f, followee=author) for f in fans), ignore_conflicts=True
    )
    store = SessionStore()
    expires = timezone.now() + timedelta(days=1)
    sessions = []
    keys = []
    for fan in fans:
        key = get_random_string(32, VALID_KEY_CHARS)
        data = {
            SESSION_KEY: str(fan.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: fan.get_session_auth_hash(),
        }
        sessions.append(
            Session(
                session_key=key, session_data=store.encode(data), expire_date=expires
            )
        )
        keys.append(key)
    Session.objects.bulk_create(sessions, batch_size=1000)
    return token.key, keys


async def measure(
    *, ports: list[int], token: str, sessions: list[str], posts: int
) -> list[float]:
    """Sockets spread round-robin over `ports`; posts published via the first."""
    import websockets

    origin = f"http://127.0.0.1:{ports[0]}"
    sockets = []
    for start in range(0, len(sessions), 100):  # connect in waves of 100
        batch = await asyncio.gather(
            *(
                websockets.connect(
                    f"ws://127.0.0.1:{ports[n % len(ports)]}/ws/feed/",
                    additional_headers={
                        "Cookie": f"sessionid={key}",
                        "Origin": f"http://127.0.0.1:{ports[n % len(ports)]}",
                    },
                    open_timeout=60,
                    max_queue=None,
                )
                for n, key in enumerate(sessions[start : start + 100], start)
            )
        )
        sockets.extend(batch)
    latencies: list[float] = []
    try:
        for n in range(posts):
            await asyncio.sleep(0.5)

            async def publish(n: int = n) -> tuple[float, int]:
                started = time.perf_counter()
                request = urllib.request.Request(
                    f"{origin}/api/posts/",
                    data=json.dumps({"body": f"fan-out {n} {time.time()}"}).encode(),
                    headers={
                        "Authorization": f"Token {token}",
                        "Content-Type": "application/json",
                    },
                    method="POST",
                )
                body = await asyncio.to_thread(
                    lambda: urllib.request.urlopen(request, timeout=30).read()
                )
                return started, json.loads(body)["id"]

            async def wait(ws: object, post_id_future: asyncio.Future[int]) -> float:
                while True:
                    message = json.loads(await ws.recv())  # type: ignore[attr-defined]
                    if message.get("event") == "new_post":
                        arrived = time.perf_counter()
                        if message["post_id"] == await post_id_future:
                            return arrived

            post_id: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            waiters = [asyncio.create_task(wait(ws, post_id)) for ws in sockets]
            started, pid = await publish()
            post_id.set_result(pid)
            arrivals = await asyncio.wait_for(asyncio.gather(*waiters), timeout=60)
            latencies.extend((a - started) * 1000.0 for a in arrivals)
    finally:
        await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sockets", type=int, default=1000)
    parser.add_argument("--posts", type=int, default=5)
    parser.add_argument("--database", default="bench_fanout")
    parser.add_argument("--port", type=int, default=8751)
    parser.add_argument(
        "--processes", type=int, default=1, help="Daphne processes sharing the sockets"
    )
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        # `make bench` runs every script; without Redis there is no fan-out.
        print("bench_fanout: skipped (set REDIS_URL; fan-out needs the Redis layer)")
        return
    database_url = database_ensure(args.database)
    django_setup(database_url)
    token, sessions = seed(args.sockets)
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "charter_social.settings",
        "DEBUG": "0",
        "HTTPS": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "CHANNEL_PREFIX": "bench_fanout",
        "CACHE_PREFIX": "bench_fanout",
        "LOG_LEVEL": "WARNING",
    }
    ports = [args.port + i for i in range(args.processes)]
    log = open(os.environ.get("FANOUT_LOG", os.devnull), "w")  # noqa: SIM115
    daphnes = [
        subprocess.Popen(
            [
                str(Path(sys.executable).parent / "daphne"),
                "-b",
                "127.0.0.1",
                "-p",
                str(port),
                "charter_social.asgi:application",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        for port in ports
    ]
    try:
        deadline = time.monotonic() + 30
        for port in ports:
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), 0.5).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise SystemExit("Daphne did not start") from None
                    time.sleep(0.2)
        rows = []
        for count in (10, args.sockets):
            samples = asyncio.run(
                measure(
                    ports=ports,
                    token=token,
                    sessions=sessions[:count],
                    posts=args.posts,
                )
            )
            rows.append(
                [
                    count,
                    len(samples),
                    f"{percentile(samples, 50):.0f}",
                    f"{percentile(samples, 95):.0f}",
                    f"{percentile(samples, 99):.0f}",
                    f"{max(samples):.0f}",
                ]
            )
        print(
            f"fan-out of {args.posts} posts, {args.processes} Daphne process(es), "
            "Redis channel layer "
            f"(load average {load_average()})"
        )
        print(
            table(
                ["sockets", "deliveries", "p50 ms", "p95 ms", "p99 ms", "max ms"], rows
            )
        )
        p99 = float(rows[-1][4])
        print(
            f"p99 at {args.sockets} sockets: {p99:.0f} ms "
            f"({'meets' if p99 <= 1000 else 'MISSES'} the 1 s target); "
            f"{p99 / max(float(rows[0][4]), 1):.1f}x the 10-socket p99"
        )
    finally:
        for daphne in daphnes:
            daphne.send_signal(signal.SIGTERM)
        for daphne in daphnes:
            try:
                daphne.wait(timeout=15)
            except subprocess.TimeoutExpired:
                daphne.kill()


if __name__ == "__main__":
    main()
