"""Benchmark of the casework calls made on the feed's request path.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
        .venv/bin/python bench/bench_casework.py [--runs 300] [--rebuild]

Works in its own database, `bench_casework`, on DATABASE_URL's server. Seeds
one page (30 posts) with a recorded demotion each and 200 answered petitions,
then measures, each next to a baseline from the same run:

1. `decision_record_ensure` for a page of already-recorded demotions (what the
   ranker pays on every render) against one primary-key lookup per post;
2. `overrides_active_for(30 posts)` against one `id IN (...)` read of the posts;
3. `feed_served_record` of a 30-item page against one single-row UPDATE;
4. `petitions_refresh()` with nothing due (every petitions page runs it)
   against an `exists()` on the petitions table.
"""

from __future__ import annotations

import argparse
import sys
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

DATABASE = "bench_casework"
PAGE = 30
RULE = {"kind": "demote", "signal": "incivility", "above": 0.85}


def seed() -> list[int]:
    from accountability.casework_models import Petition
    from accountability.decisions import decision_record_ensure
    from accountability.petitions import petition_file
    from charter.selectors import NoActiveCharter, policy_active_record
    from charter.services import charter_genesis
    from feed.models import Post, User
    from feed.services import post_create

    try:
        version, sha, _ = policy_active_record()
    except NoActiveCharter:
        charter_genesis()
        version, sha, _ = policy_active_record()
    author, _ = User.objects.get_or_create(username="bench-author")
    ids = list(
        Post.objects.filter(author=author).order_by("id").values_list("id", flat=True)
    )
    while len(ids) < PAGE:
        ids.append(post_create(author=author, body=f"bench post {len(ids)}").pk)
    for post_id in ids:
        decision_record_ensure(
            post_id=post_id,
            rule=RULE,
            article="1",
            signal_values={"incivility": 0.9},
            policy_version=version,
            policy_sha256=sha,
            model_versions={"incivility": 1},
        )
    while Petition.objects.count() < 200:
        petition_file(
            author=author,
            target="article",
            article="1",
            title=f"Bench petition {Petition.objects.count()}",
            text="text",
        )
    return ids


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rebuild", action="store_true")
    args = parser.parse_args()
    if args.rebuild:
        database_drop(DATABASE)
    django_setup(database_ensure(DATABASE))

    from django.db.models import F

    from accountability.casework_models import FeedExposureDay, Petition
    from accountability.decisions import decision_record_ensure, overrides_active_for
    from accountability.petitions import petitions_refresh
    from accountability.reports import feed_served_record
    from charter.selectors import policy_active_record
    from feed.models import Post

    ids = seed()
    version, sha, _ = policy_active_record()
    items = [
        {"post_id": i, "author_id": i % 7, "incivility": 0.2, "bridging": 0.1}
        for i in ids
    ]
    FeedExposureDay.objects.get_or_create(day="2000-01-01")
    runs = args.runs

    def ensure_page() -> None:
        for post_id in ids:
            decision_record_ensure(
                post_id=post_id,
                rule=RULE,
                article="1",
                signal_values={"incivility": 0.9},
                policy_version=version,
                policy_sha256=sha,
                model_versions={"incivility": 1},
            )

    def pk_page() -> None:
        for post_id in ids:
            Post.objects.filter(pk=post_id).values("id").first()

    pairs = [
        (
            time_calls("decision_record_ensure x30 (recorded)", ensure_page, runs=runs),
            time_calls("baseline: post by pk x30", pk_page, runs=runs),
        ),
        (
            time_calls(
                "overrides_active_for(30)",
                lambda: overrides_active_for(post_ids=ids),
                runs=runs,
            ),
            time_calls(
                "baseline: posts id IN (30)",
                lambda: list(Post.objects.filter(id__in=ids).values_list("id")),
                runs=runs,
            ),
        ),
        (
            time_calls(
                "feed_served_record(30 items)",
                lambda: feed_served_record(viewer_id=1, items=items),
                runs=runs,
            ),
            time_calls(
                "baseline: one-row UPDATE",
                lambda: FeedExposureDay.objects.filter(day="2000-01-01").update(
                    pages=F("pages") + 1
                ),
                runs=runs,
            ),
        ),
        (
            time_calls("petitions_refresh() (none due)", petitions_refresh, runs=runs),
            time_calls(
                "baseline: petitions exists()",
                lambda: Petition.objects.filter(pk=ids[0]).exists(),
                runs=runs,
            ),
        ),
    ]
    rows: list[list[object]] = []
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
    print(
        f"{len(ids)} recorded demotions, {Petition.objects.count()} petitions; "
        f"load {load_average()}"
    )
    print(table(["operation", "p50 ms", "p99 ms", "p50 ratio"], rows))


if __name__ == "__main__":
    main()
