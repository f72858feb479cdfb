"""`manage.py seed_scale`: bulk-load synthetic users, posts, follows, likes and ratings.

For benchmarks and load tests, sized up to 100k users / 1M posts / 5M ratings.
``feed.seeding.scale`` plans the data (deterministic for --seed) and
``feed.seeding.bulk`` writes it in one transaction: with COPY on PostgreSQL,
with bulk_create batches on SQLite.
"""

from __future__ import annotations

import time
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.utils import timezone

from feed.models import User
from feed.seeding.bulk import Loader
from feed.seeding.scale import scale_plan


def _positive(name: str, value: int) -> int:
    if value < 0:
        raise CommandError(f"{name} must be zero or more (got {value}).")
    return value


class Command(BaseCommand):
    help = (
        "Bulk-load synthetic users, posts, follows, likes and ratings for benchmarks "
        "(COPY on PostgreSQL, bulk_create on SQLite)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--users", type=int, required=True, help="Accounts to create."
        )
        parser.add_argument(
            "--posts",
            type=int,
            required=True,
            help="Posts to create (replies included).",
        )
        parser.add_argument(
            "--ratings", type=int, default=0, help="Helpful/unhelpful ratings."
        )
        parser.add_argument("--likes", type=int, default=0, help="Likes.")
        parser.add_argument(
            "--follows-per-user",
            type=int,
            default=20,
            help="Accounts each user follows (default 20).",
        )
        parser.add_argument(
            "--reply-share",
            type=float,
            default=0.1,
            help="Share of posts that are replies (default 0.1).",
        )
        parser.add_argument(
            "--days",
            type=float,
            default=30.0,
            help="Spread post times over this many days before now (default 30).",
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed (default 1)."
        )
        parser.add_argument(
            "--prefix",
            default="load",
            help='Usernames are PREFIX0, PREFIX1, ... (default "load").',
        )

    def handle(self, *args: Any, **options: Any) -> None:
        users = _positive("--users", options["users"])
        posts = _positive("--posts", options["posts"])
        if users < 2:
            raise CommandError("--users must be at least 2.")
        if not 0.0 <= options["reply_share"] < 1.0:
            raise CommandError("--reply-share must be from 0 up to (not including) 1.")
        if not 0 < options["days"] <= 3650:
            raise CommandError("--days must be more than 0 and at most 3650.")
        prefix: str = options["prefix"]
        if not prefix.isidentifier() or len(prefix) > 20:
            raise CommandError(
                "--prefix must be letters, digits or underscores (at most 20)."
            )
        if User.objects.filter(username=f"{prefix}0").exists():
            raise CommandError(
                f"Accounts named {prefix}0, {prefix}1, ... already exist; "
                "pass another --prefix or load into an empty database."
            )
        started = time.perf_counter()
        try:
            plan = scale_plan(
                users=users,
                posts=posts,
                ratings=_positive("--ratings", options["ratings"]),
                likes=_positive("--likes", options["likes"]),
                follows_per_user=_positive(
                    "--follows-per-user", options["follows_per_user"]
                ),
                reply_share=options["reply_share"],
                days=options["days"],
                seed=options["seed"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        planned = time.perf_counter() - started
        # Progress lines go to the raw stream: OutputWrapper would add newlines
        # and error colouring to every carriage-return update.
        stream: TextIO = self.stderr._out  # type: ignore[assignment]
        stream.write(f"[seed_scale] planned in {planned:.1f} s\n")
        loader = Loader(plan, prefix=prefix, now=timezone.now(), stream=stream)
        if connection.vendor == "postgresql":
            loader.load_postgres()
            method = "COPY"
        else:
            loader.load_orm()
            method = "bulk_create"
        total = time.perf_counter() - started
        stages = ", ".join(f"{k} {v:.1f} s" for k, v in loader.timings.items())
        self.stdout.write(
            f"Loaded {plan.users:,} users, {plan.posts:,} posts "
            f"({plan.replies:,} replies), "
            f"{len(plan.follow_src):,} follows, {len(plan.like_user):,} likes, "
            f"{len(plan.rating_user):,} ratings with {method} in {total:.1f} s "
            f"(plan {planned:.1f} s; {stages})."
        )
