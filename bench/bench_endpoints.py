"""Service time of every endpoint in the load mix, in this process, no network.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
    REDIS_URL=redis://127.0.0.1:6379/11 python bench/bench_endpoints.py
        [--runs 40] [--only feed,home]

Uses the load test's database (bench/load.py's seed: 300 accounts, 20,000
posts with signals, follows, petitions; created on first use) and times each
request of bench/locustfile.py's mix through the whole Django stack with
django.test.Client under production settings (DEBUG off). What it measures is
the CPU and database time one request costs a web process: at a given request
rate, the mix's weighted mean is the share of one core the process needs,
which is what decides whether `make load` queues. Daphne's own cost per
request (HTTP parsing, the ASGI hop) is not included.

The first row, /healthz (one SELECT 1 and a channel-layer round trip), is the
floor every request pays; ratios are to it, measured in the same run.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    database_ensure,
    django_setup,
    load_average,
    percentile,
    table,
)


@dataclass(frozen=True)
class Call:
    key: str
    name: str
    weight: int  # in bench/locustfile.py's mix (0: not in the mix)
    send: Callable[[Any], Any]
    ok: frozenset[int] = frozenset({200, 201})


def _calls(seed: dict[str, Any]) -> list[Call]:
    from django.test import Client

    from accountability.petitions import petition_file
    from feed.models import User

    accounts = seed["accounts"]
    me = accounts[5]
    token = {"HTTP_AUTHORIZATION": f"Token {me['token']}"}
    api = Client()
    page = Client()
    page.cookies["sessionid"] = me["session"]
    rng = random.Random(3)
    followee = next(u for u in seed["usernames"] if u != me["username"])
    # A petition of this run's own, so every signature is a first signature.
    author = User.objects.get(username=accounts[0]["username"])
    petition = petition_file(
        author=author,
        target="article",
        title=f"Endpoint bench {rng.randint(0, 10**9)}",
        text="Measure the signature path.",
        article="1",
    )
    signers = iter(accounts[1:])
    # Writes rotate over the accounts, so no account reaches its rate limit.
    writers = itertools.cycle(accounts[10:])
    toggles = {"follow": False}
    # Start unfollowed, whatever an earlier run left behind.
    api.delete(f"/api/users/{followee}/follow/", **token)

    def as_writer() -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Token {next(writers)['token']}"}

    def rate(_: Any) -> Any:
        rater = next(writers)
        post_id = rng.choice(seed["post_ids"])
        while seed["post_authors"][str(post_id)] == rater["username"]:
            post_id = rng.choice(seed["post_ids"])
        return api.put(
            f"/api/posts/{post_id}/rating/",
            {"value": rng.choice(["helpful", "unhelpful"])},
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Token {rater['token']}",
        )

    def follow(_: Any) -> Any:
        # Alternate follow / unfollow so every call does the full write.
        toggles["follow"] = not toggles["follow"]
        method = api.post if toggles["follow"] else api.delete
        return method(f"/api/users/{followee}/follow/", **token)

    def sign(_: Any) -> Any:
        signer = next(signers)
        return api.post(
            f"/api/petitions/{petition.pk}/signatures/",
            HTTP_AUTHORIZATION=f"Token {signer['token']}",
        )

    return [
        Call("healthz", "GET /healthz (floor)", 0, lambda _: api.get("/healthz")),
        Call(
            "feed",
            "read ranked feed (API)",
            10,
            lambda _: api.get("/api/feed/", **token),
        ),
        Call("home", "read home page (HTML)", 3, lambda _: page.get("/")),
        Call(
            "thread",
            "read thread",
            6,
            lambda _: api.get(
                f"/api/posts/{rng.choice(seed['post_ids'])}/thread/", **token
            ),
        ),
        Call(
            "post",
            "post",
            1,
            lambda _: api.post(
                "/api/posts/",
                {"body": f"Endpoint bench post {rng.randint(0, 10**9)}"},
                content_type="application/json",
                **as_writer(),
            ),
        ),
        Call("rate", "rate", 3, rate),
        Call("follow", "follow / unfollow", 1, follow, frozenset({200, 201})),
        Call(
            "charter_api", "open charter (API)", 2, lambda _: api.get("/api/charter/")
        ),
        Call("charter_html", "open charter (HTML)", 1, lambda _: page.get("/charter/")),
        Call("sign", "sign petition", 1, sign, frozenset({201})),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--only", help="comma-separated keys, e.g. feed,home")
    parser.add_argument("--database", default="bench_load")
    args = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("bench/bench_endpoints.py needs REDIS_URL (as make load).")
    os.environ.setdefault("CACHE_PREFIX", "bench_endpoints")
    os.environ.setdefault("CHANNEL_PREFIX", "bench_endpoints")
    database_url = database_ensure(args.database)
    django_setup(database_url)
    import time

    from bench.load import seed as load_seed

    seed_file = Path(tempfile.mkdtemp(prefix="endpoints-")) / "accounts.json"
    load_seed(accounts=300, posts=20_000, out=seed_file)
    seed = json.loads(seed_file.read_text())
    wanted = set(args.only.split(",")) if args.only else None
    rows = []
    floor = None
    weighted = 0.0
    weights = 0
    for call in _calls(seed):
        if wanted and call.key not in wanted and call.key != "healthz":
            continue
        # 299 accounts can sign the run's own petition once each.
        runs = min(args.runs, 290) if call.key == "sign" else args.runs
        samples = []
        for n in range(args.warmup + runs):
            started = time.perf_counter()
            response = call.send(None)
            elapsed = (time.perf_counter() - started) * 1000.0
            if response.status_code not in call.ok:
                raise SystemExit(
                    f"{call.name}: {response.status_code} {response.content[:200]!r}"
                )
            if n >= args.warmup:
                samples.append(elapsed)
        p50 = percentile(samples, 50)
        floor = floor or p50
        if call.weight:
            weighted += call.weight * p50
            weights += call.weight
        rows.append(
            [
                call.name,
                call.weight or "-",
                f"{p50:.1f}",
                f"{percentile(samples, 95):.1f}",
                f"{p50 / floor:.1f}x",
            ]
        )
    print(
        f"\nin-process service time, {args.runs} runs each "
        f"(load average {load_average()})"
    )
    print(table(["endpoint", "weight", "p50 ms", "p95 ms", "p50 / floor"], rows))
    if weights:
        mean = weighted / weights
        print(
            f"weighted mean p50 of the mix: {mean:.1f} ms per request "
            f"(one process saturates near {1000.0 / mean:.0f} req/s)"
        )


if __name__ == "__main__":
    main()
