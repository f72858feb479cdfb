"""`manage.py seed_scale`: bulk-load synthetic users, posts, follows, likes and ratings.

For benchmarks and load tests, sized up to 100k users / 1M posts / 5M ratings.
The data set is planned with numpy first (deterministic for --seed), every
denormalised counter on Post is computed from the planned rows, and then it is
written in one transaction: with COPY on PostgreSQL, with bulk_create batches
on SQLite. Nothing that migrations own (tables, indexes, constraints) is
dropped or rebuilt, so the loaded database is exactly what production runs on.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

from feed.models import Follow, Like, Post, Rating, User
from feed.seeding import DEMO_PASSWORD, scale_bodies

ORM_BATCH = 2000
COPY_PROGRESS_EVERY = 50_000
BODY_POOL = 4096
# How far back a reply's parent may be, in posts: threads form among recent posts.
REPLY_WINDOW = 2000
# Reactions arrive within this long after the post (capped at now).
REACTION_DELAY_MINUTES = 3 * 24 * 60


@dataclass
class ScalePlan:
    """A synthetic data set as arrays of row indexes (not database ids).

    Users sit in two camps (-1, +1) or between them (0); ratings agree with
    the rater's camp most of the time, so the bridging model has real
    structure to fit at scale too.
    """

    users: int
    posts: int
    days: float
    seed: int
    camp: np.ndarray
    post_author: np.ndarray
    post_seconds: np.ndarray  # seconds after the window start, ascending
    post_parent: np.ndarray  # -1 for a top-level post
    post_root: np.ndarray  # -1 for a top-level post
    post_body: np.ndarray  # index into body_pool
    body_pool: list[str]
    follow_src: np.ndarray
    follow_dst: np.ndarray
    like_user: np.ndarray
    like_post: np.ndarray
    like_minute: np.ndarray
    rating_user: np.ndarray
    rating_post: np.ndarray
    rating_value: np.ndarray
    rating_minute: np.ndarray
    like_count: np.ndarray
    reply_count: np.ndarray
    helpful_count: np.ndarray
    unhelpful_count: np.ndarray

    @property
    def replies(self) -> int:
        return int((self.post_parent >= 0).sum())


def _follows(rng: np.random.Generator, users: int, per_user: int) -> tuple[np.ndarray, np.ndarray]:
    """Exactly min(per_user, users - 1) distinct followees per user, never oneself."""
    per_user = min(per_user, users - 1)
    if per_user == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if per_user * 4 >= users:
        # Dense: sample each row without replacement (small user counts only).
        offsets = np.stack([rng.choice(users - 1, per_user, replace=False) + 1
                            for _ in range(users)])
    else:
        # Sparse: oversample with replacement, drop repeats, keep the first
        # per_user distinct offsets; redraw the rare rows left short.
        extra = max(8, per_user // 10)
        drawn = np.sort(rng.integers(1, users, size=(users, per_user + extra)), axis=1)
        repeat = np.zeros(drawn.shape, dtype=bool)
        repeat[:, 1:] = drawn[:, 1:] == drawn[:, :-1]
        order = np.argsort(repeat, axis=1, kind="stable")[:, :per_user]
        offsets = np.take_along_axis(drawn, order, axis=1)
        for row in np.nonzero((~repeat).sum(axis=1) < per_user)[0]:
            offsets[row] = rng.choice(users - 1, per_user, replace=False) + 1
    src = np.repeat(np.arange(users, dtype=np.int64), per_user)
    dst = (src + offsets.reshape(-1)) % users
    return src, dst


def _pairs(
    rng: np.random.Generator, wanted: int, users: int, post_author: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`wanted` distinct (user, post) pairs, none by the post's own author, sorted."""
    posts = len(post_author)
    if wanted == 0 or posts == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    possible = users * posts - posts
    if wanted > possible // 2:
        raise CommandError(
            f"Asked for {wanted:,} reactions but {users:,} users and {posts:,} posts allow "
            f"at most {possible // 2:,}; ask for fewer or add users or posts."
        )
    keys = np.zeros(0, dtype=np.int64)
    while len(keys) < wanted:
        sample = int((wanted - len(keys)) * 1.1) + 64
        user = rng.integers(0, users, size=sample, dtype=np.int64)
        post = rng.integers(0, posts, size=sample, dtype=np.int64)
        keep = post_author[post] != user
        keys = np.union1d(keys, user[keep] * posts + post[keep])
    if len(keys) > wanted:
        keys = np.sort(rng.choice(keys, size=wanted, replace=False))
    return keys // posts, keys % posts


def _reaction_minutes(
    rng: np.random.Generator, post_seconds: np.ndarray, post: np.ndarray, days: float
) -> np.ndarray:
    last = int(days * 24 * 60)
    delay = rng.integers(0, REACTION_DELAY_MINUTES, size=len(post))
    return np.minimum((post_seconds[post] // 60).astype(np.int64) + delay, last)


def scale_plan(
    *, users: int, posts: int, ratings: int, likes: int, follows_per_user: int,
    reply_share: float, days: float, seed: int,
) -> ScalePlan:
    """Plan a data set of the given size; the same arguments give the same data."""
    rng = np.random.default_rng(seed)
    camp = rng.choice(np.array([-1, 0, 1], dtype=np.int8), size=users, p=[0.42, 0.16, 0.42])
    # Some accounts post far more than others (log-normal activity).
    activity = rng.lognormal(0.0, 1.0, size=users)
    post_author = rng.choice(users, size=posts, p=activity / activity.sum()).astype(np.int64)
    post_seconds = np.sort(rng.uniform(0.0, days * 86400.0, size=posts))
    index = np.arange(posts, dtype=np.int64)
    window = np.minimum(index, REPLY_WINDOW)
    parent = index - 1 - np.floor(rng.random(posts) * window).astype(np.int64)
    parent[(rng.random(posts) >= reply_share) | (parent < 0)] = -1
    root = np.full(posts, -1, dtype=np.int64)
    for i in np.nonzero(parent >= 0)[0].tolist():
        p = int(parent[i])
        root[i] = root[p] if root[p] >= 0 else p
    follow_src, follow_dst = _follows(rng, users, follows_per_user)
    like_user, like_post = _pairs(rng, likes, users, post_author)
    rating_user, rating_post = _pairs(rng, ratings, users, post_author)
    rater_camp, author_camp = camp[rating_user], camp[post_author[rating_post]]
    helpful_chance = np.where(rater_camp == author_camp, 0.8,
                              np.where((rater_camp == 0) | (author_camp == 0), 0.6, 0.25))
    rating_value = np.where(rng.random(len(rating_user)) < helpful_chance, 1, -1).astype(np.int8)
    return ScalePlan(
        users=users, posts=posts, days=days, seed=seed, camp=camp,
        post_author=post_author, post_seconds=post_seconds, post_parent=parent, post_root=root,
        post_body=rng.integers(0, BODY_POOL, size=posts),
        body_pool=scale_bodies(random.Random(seed), BODY_POOL),
        follow_src=follow_src, follow_dst=follow_dst,
        like_user=like_user, like_post=like_post,
        like_minute=_reaction_minutes(rng, post_seconds, like_post, days),
        rating_user=rating_user, rating_post=rating_post, rating_value=rating_value,
        rating_minute=_reaction_minutes(rng, post_seconds, rating_post, days),
        like_count=np.bincount(like_post, minlength=posts),
        reply_count=np.bincount(parent[parent >= 0], minlength=posts),
        helpful_count=np.bincount(rating_post[rating_value == 1], minlength=posts),
        unhelpful_count=np.bincount(rating_post[rating_value == -1], minlength=posts),
    )


class Progress:
    """One self-updating progress line per stage on stderr."""

    def __init__(self, label: str, total: int, *, stream: Any = None) -> None:
        self.label, self.total = label, max(total, 0)
        self.stream = stream or sys.stderr
        self.done_count = 0
        self.started = self.last = time.perf_counter()
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.next_line_at = 0.25

    def advance(self, count: int) -> None:
        self.done_count += count
        now = time.perf_counter()
        fraction = self.done_count / self.total if self.total else 1.0
        if self.tty and now - self.last >= 0.5:
            self.last = now
            self._write(fraction, now, end="\r")
        elif not self.tty and self.next_line_at <= fraction < 1.0:
            # Logs get a line per quarter rather than a carriage-return stream.
            self.next_line_at = (int(fraction * 4) + 1) / 4
            self._write(fraction, now, end="\n")

    def finish(self) -> float:
        elapsed = time.perf_counter() - self.started
        rate = self.done_count / elapsed if elapsed > 0 else 0.0
        self.stream.write(
            f"\r[seed_scale] {self.label:<8} {self.done_count:>11,} rows  "
            f"{elapsed:7.1f} s  {rate:>10,.0f} rows/s\n"
        )
        self.stream.flush()
        return elapsed

    def _write(self, fraction: float, now: float, *, end: str) -> None:
        self.stream.write(
            f"[seed_scale] {self.label:<8} {self.done_count:>11,} / {self.total:,} "
            f"({fraction:4.0%})  {now - self.started:7.1f} s{end}"
        )
        self.stream.flush()


def _defaults_for(model: type[models.Model], columns: list[str]) -> tuple[list[str], list[Any]]:
    """Columns the loader does not set, with their model defaults, so fields that
    other apps add later (with a default) still load."""
    names: list[str] = []
    values: list[Any] = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in columns:
            continue
        names.append(field.column)
        values.append(field.get_db_prep_save(field.get_default(), connection))
    return names, values


def _copy(
    cursor: Any, model: type[models.Model], columns: list[str], rows: Iterable[tuple[Any, ...]],
    progress: Progress,
) -> None:
    extra_names, extra_values = _defaults_for(model, columns)
    table = connection.ops.quote_name(model._meta.db_table)
    column_sql = ", ".join(connection.ops.quote_name(c) for c in columns + extra_names)
    tail = tuple(extra_values)
    pending = 0
    with cursor.copy(f"COPY {table} ({column_sql}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row + tail)
            pending += 1
            if pending == COPY_PROGRESS_EVERY:
                progress.advance(pending)
                pending = 0
    progress.advance(pending)


def _reserve_ids(cursor: Any, model: type[models.Model], count: int) -> np.ndarray:
    """Take `count` ids from the table's own sequence, so later inserts by the
    application never collide with the loaded rows."""
    if count == 0:
        return np.zeros(0, dtype=np.int64)
    table = model._meta.db_table
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
        [table, count],
    )
    return np.sort(np.fromiter((r[0] for r in cursor.fetchall()), dtype=np.int64, count=count))


class Loader:
    """Writes a ScalePlan; one method per table, shared by both backends."""

    def __init__(self, plan: ScalePlan, *, prefix: str, now: datetime, stream: Any) -> None:
        self.plan, self.prefix, self.now, self.stream = plan, prefix, now, stream
        self.start = now - timedelta(days=plan.days)
        self.password = make_password(DEMO_PASSWORD)
        self.timings: dict[str, float] = {}
        # Minute-resolution timestamps for reactions: a lookup is far cheaper
        # than building millions of datetime objects.
        minutes = int(plan.days * 24 * 60) + 2
        self.minute_times = [self.start + timedelta(minutes=m) for m in range(minutes)]

    def post_time(self, index: int) -> datetime:
        return self.start + timedelta(seconds=float(self.plan.post_seconds[index]))

    def user_rows(self, ids: np.ndarray) -> Iterator[tuple[Any, ...]]:
        joined = self.start - timedelta(days=1)
        for i, uid in enumerate(ids.tolist()):
            yield (uid, f"{self.prefix}{i}", f"Load user {i}", self.password, joined, True)

    def post_rows(self, user_ids: np.ndarray, post_ids: np.ndarray) -> Iterator[tuple[Any, ...]]:
        p = self.plan
        author = user_ids[p.post_author].tolist()
        parent = p.post_parent.tolist()
        root = p.post_root.tolist()
        ids = post_ids.tolist()
        counts = zip(p.like_count.tolist(), p.reply_count.tolist(), p.helpful_count.tolist(),
                     p.unhelpful_count.tolist(), strict=True)
        pool, body = p.body_pool, p.post_body.tolist()
        for i, (likes, replies, helpful, unhelpful) in enumerate(counts):
            yield (
                ids[i], author[i], pool[body[i]],
                ids[parent[i]] if parent[i] >= 0 else None,
                ids[root[i]] if root[i] >= 0 else None,
                self.post_time(i), likes, replies, helpful, unhelpful,
            )

    def follow_rows(self, user_ids: np.ndarray) -> Iterator[tuple[Any, ...]]:
        when = self.start
        for a, b in zip(user_ids[self.plan.follow_src].tolist(),
                        user_ids[self.plan.follow_dst].tolist(), strict=True):
            yield (a, b, 0, when)

    def like_rows(self, user_ids: np.ndarray, post_ids: np.ndarray) -> Iterator[tuple[Any, ...]]:
        p = self.plan
        times = self.minute_times
        for u, q, m in zip(user_ids[p.like_user].tolist(), post_ids[p.like_post].tolist(),
                           p.like_minute.tolist(), strict=True):
            yield (u, q, times[m])

    def rating_rows(self, user_ids: np.ndarray, post_ids: np.ndarray) -> Iterator[tuple[Any, ...]]:
        p = self.plan
        times = self.minute_times
        for u, q, v, m in zip(user_ids[p.rating_user].tolist(), post_ids[p.rating_post].tolist(),
                              p.rating_value.tolist(), p.rating_minute.tolist(), strict=True):
            yield (u, q, v, times[m], times[m])

    def stage(self, label: str, total: int) -> Progress:
        return Progress(label, total, stream=self.stream)

    def load_postgres(self) -> None:
        p = self.plan
        with transaction.atomic(), connection.cursor() as wrapper:
            cursor = wrapper.cursor  # the psycopg cursor, for COPY
            # Check foreign keys row by row rather than queueing millions of
            # deferred trigger events until commit.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            user_ids = _reserve_ids(cursor, User, p.users)
            post_ids = _reserve_ids(cursor, Post, p.posts)
            user_cols = ["id", "username", "display_name", "password", "date_joined", "is_active"]
            post_cols = ["id", "author_id", "body", "parent_id", "root_id", "created_at",
                         "like_count", "reply_count", "helpful_count", "unhelpful_count"]
            stages: list[tuple[str, type[models.Model], list[str], int, Iterable[tuple[Any, ...]]]] = [
                ("users", User, user_cols, p.users, self.user_rows(user_ids)),
                ("posts", Post, post_cols, p.posts, self.post_rows(user_ids, post_ids)),
                ("follows", Follow, ["follower_id", "followee_id", "priority", "created_at"],
                 len(p.follow_src), self.follow_rows(user_ids)),
                ("likes", Like, ["user_id", "post_id", "created_at"], len(p.like_user),
                 self.like_rows(user_ids, post_ids)),
                ("ratings", Rating, ["user_id", "post_id", "value", "created_at", "updated_at"],
                 len(p.rating_user), self.rating_rows(user_ids, post_ids)),
            ]
            for label, model, columns, total, rows in stages:
                progress = self.stage(label, total)
                _copy(cursor, model, columns, rows, progress)
                self.timings[label] = progress.finish()
        # Fresh statistics, so the planner sees the new sizes at once.
        started = time.perf_counter()
        with connection.cursor() as cursor:
            tables = ", ".join(m._meta.db_table for m in (User, Post, Follow, Like, Rating))
            cursor.execute(f"ANALYZE {tables}")
        self.timings["analyze"] = time.perf_counter() - started

    def load_orm(self) -> None:
        p = self.plan
        with transaction.atomic():
            user_base = (User.objects.aggregate(m=Max("id"))["m"] or 0) + 1
            post_base = (Post.objects.aggregate(m=Max("id"))["m"] or 0) + 1
            # Explicit ids let replies point at parents in the same batch.
            user_ids = np.arange(user_base, user_base + p.users, dtype=np.int64)
            post_ids = np.arange(post_base, post_base + p.posts, dtype=np.int64)
            self._orm_stage("users", User, p.users, (
                User(id=r[0], username=r[1], display_name=r[2], password=r[3], date_joined=r[4],
                     is_active=r[5]) for r in self.user_rows(user_ids)))
            self._orm_stage("posts", Post, p.posts, (
                Post(id=r[0], author_id=r[1], body=r[2], parent_id=r[3], root_id=r[4],
                     created_at=r[5], like_count=r[6], reply_count=r[7], helpful_count=r[8],
                     unhelpful_count=r[9]) for r in self.post_rows(user_ids, post_ids)))
            self._orm_stage("follows", Follow, len(p.follow_src), (
                Follow(follower_id=r[0], followee_id=r[1]) for r in self.follow_rows(user_ids)))
            self._orm_stage("likes", Like, len(p.like_user), (
                Like(user_id=r[0], post_id=r[1]) for r in self.like_rows(user_ids, post_ids)))
            self._orm_stage("ratings", Rating, len(p.rating_user), (
                Rating(user_id=r[0], post_id=r[1], value=r[2])
                for r in self.rating_rows(user_ids, post_ids)))

    def _orm_stage(self, label: str, model: type[models.Model], total: int,
                   objects: Iterable[models.Model]) -> None:
        progress = self.stage(label, total)
        batch: list[models.Model] = []
        for obj in objects:
            batch.append(obj)
            if len(batch) == ORM_BATCH:
                model._default_manager.bulk_create(batch)
                progress.advance(len(batch))
                batch = []
        if batch:
            model._default_manager.bulk_create(batch)
            progress.advance(len(batch))
        self.timings[label] = progress.finish()


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
        parser.add_argument("--users", type=int, required=True, help="Accounts to create.")
        parser.add_argument("--posts", type=int, required=True, help="Posts to create (replies included).")
        parser.add_argument("--ratings", type=int, default=0, help="Helpful/unhelpful ratings.")
        parser.add_argument("--likes", type=int, default=0, help="Likes.")
        parser.add_argument("--follows-per-user", type=int, default=20,
                            help="Accounts each user follows (default 20).")
        parser.add_argument("--reply-share", type=float, default=0.1,
                            help="Share of posts that are replies (default 0.1).")
        parser.add_argument("--days", type=float, default=30.0,
                            help="Spread post times over this many days before now (default 30).")
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument("--prefix", default="load",
                            help='Usernames are PREFIX0, PREFIX1, ... (default "load").')

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
            raise CommandError("--prefix must be letters, digits or underscores (at most 20).")
        if User.objects.filter(username=f"{prefix}0").exists():
            raise CommandError(
                f"Accounts named {prefix}0, {prefix}1, ... already exist; "
                "pass another --prefix or load into an empty database."
            )
        started = time.perf_counter()
        plan = scale_plan(
            users=users, posts=posts,
            ratings=_positive("--ratings", options["ratings"]),
            likes=_positive("--likes", options["likes"]),
            follows_per_user=_positive("--follows-per-user", options["follows_per_user"]),
            reply_share=options["reply_share"], days=options["days"], seed=options["seed"],
        )
        planned = time.perf_counter() - started
        # Progress lines go to the raw stream: OutputWrapper would add newlines
        # and error colouring to every carriage-return update.
        stream = self.stderr._out
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
            f"Loaded {plan.users:,} users, {plan.posts:,} posts ({plan.replies:,} replies), "
            f"{len(plan.follow_src):,} follows, {len(plan.like_user):,} likes, "
            f"{len(plan.rating_user):,} ratings with {method} in {total:.1f} s "
            f"(plan {planned:.1f} s; {stages})."
        )
