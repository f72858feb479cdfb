"""Benchmark of the charter reads the ranker makes on every feed page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/bench_charter.py [--versions 200] [--rebuild]

Works in its own database, `bench_charter`, on DATABASE_URL's server. Builds a
history of --versions charter versions through the real lifecycle (propose,
deliberate, vote, close), then measures, each next to a baseline from the same
run:

1. `policy_active()` (latest effective version, policy copied) against a
   primary-key lookup of one charter version row;
2. `policy_validate()` of the v1 policy (schema + semantic checks) against
   `json.loads` of the same policy's bytes;
3. rendering /charter/ in-process against /healthz.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (  # noqa: E402
    database_drop,
    database_ensure,
    django_setup,
    load_average,
    table,
    time_calls,
)

DATABASE = "bench_charter"


def seed(versions: int) -> None:
    from django.utils import timezone

    from charter.models import CharterVersion
    from charter.selectors import charter_latest_adopted
    from charter.services import (
        amendment_close_vote,
        amendment_open_deliberation,
        amendment_open_voting,
        amendment_propose,
        board_membership_grant,
        charter_genesis,
        vote_cast,
    )
    from feed.models import User

    charter_genesis()
    if CharterVersion.objects.count() >= versions:
        print(f"Reusing the {CharterVersion.objects.count()} versions in {DATABASE}.")
        return
    board = []
    for i in range(3):
        user, created = User.objects.get_or_create(username=f"bench_member{i}")
        if created:
            board_membership_grant(
                user=user, starts_at=timezone.now() - timedelta(days=1)
            )
        board.append(user)
    while CharterVersion.objects.count() < versions:
        latest = charter_latest_adopted()
        assert latest is not None
        policy = copy.deepcopy(latest.policy)
        policy["objectives"][0]["weight"] = round(1.0 + (latest.number % 20) / 10, 2)
        amendment = amendment_propose(
            proposer=board[0],
            title=f"Bench amendment {latest.number}",
            rationale="Benchmark history.",
            policy=policy,
        )
        amendment_open_deliberation(actor=board[0], amendment=amendment)
        amendment_open_voting(actor=board[0], amendment=amendment)
        for member in board:
            vote_cast(voter=member, amendment=amendment, choice="yes")
        amendment_close_vote(actor=board[0], amendment=amendment)
    print(f"Built {versions} versions through the lifecycle.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--versions", type=int, default=200)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    if args.rebuild:
        database_drop(DATABASE)
    django_setup(database_ensure(DATABASE))

    from django.test import Client

    from charter.models import CharterVersion
    from charter.policy import policy_canonical_bytes, policy_validate
    from charter.selectors import charter_version_get, policy_active

    seed(args.versions)
    v1 = charter_version_get(number=1)
    articles = {a.number for a in v1.articles.all()}
    raw = policy_canonical_bytes(v1.policy)
    pk = CharterVersion.objects.values_list("pk", flat=True).first()
    client = Client()
    runs = args.runs

    pairs = [
        (
            time_calls("policy_active()", policy_active, runs=runs),
            time_calls(
                "baseline: version row by pk",
                lambda: CharterVersion.objects.filter(pk=pk).values("policy").first(),
                runs=runs,
            ),
        ),
        (
            time_calls(
                "policy_validate(v1)",
                lambda: policy_validate(v1.policy, articles=articles),
                runs=runs,
            ),
            time_calls("baseline: json.loads(v1)", lambda: json.loads(raw), runs=runs),
        ),
        (
            time_calls(
                "GET /charter/", lambda: client.get("/charter/"), runs=runs // 5
            ),
            time_calls(
                "baseline: GET /healthz", lambda: client.get("/healthz"), runs=runs // 5
            ),
        ),
    ]
    rows = []
    for measured, baseline in pairs:
        rows.append([measured.name, measured.p50, measured.p99, ""])
        rows.append(
            [
                baseline.name,
                baseline.p50,
                baseline.p99,
                f"x{measured.p50 / baseline.p50:.1f}",
            ]
        )
    print(f"{CharterVersion.objects.count()} charter versions; load {load_average()}")
    print(table(["operation", "p50 ms", "p99 ms", "p50 ratio"], rows))


if __name__ == "__main__":
    main()
