"""Write a ScalePlan: COPY on PostgreSQL, bulk_create batches on SQLite.

Both paths run in one transaction and drop or rebuild nothing that
migrations own (tables, indexes, constraints), so the loaded database is
exactly what production runs on.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.contrib.auth.hashers import make_password
from django.db import connection, models, transaction
from django.db.models import Max

from feed.models import Follow, Like, Post, Rating, User

from .scale import ScalePlan
from .text import DEMO_PASSWORD

ORM_BATCH = 2000
COPY_PROGRESS_EVERY = 50_000


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


def _defaults_for(
    model: type[models.Model], columns: list[str]
) -> tuple[list[str], list[Any]]:
    """Columns the loader does not set, with their model defaults, so fields that
    other apps add later (with a default) still load."""
    names: list[str] = []
    values: list[Any] = []
    for field in model._meta.concrete_fields:
        if field.primary_key or field.column in columns:
            continue
        names.append(str(field.column))
        values.append(field.get_db_prep_save(field.get_default(), connection))
    return names, values


def _copy(
    cursor: Any,
    model: type[models.Model],
    columns: list[str],
    rows: Iterable[tuple[Any, ...]],
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
    return np.sort(
        np.fromiter((r[0] for r in cursor.fetchall()), dtype=np.int64, count=count)
    )


class Loader:
    """Writes a ScalePlan; one method per table, shared by both backends."""

    def __init__(
        self, plan: ScalePlan, *, prefix: str, now: datetime, stream: Any
    ) -> None:
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
            yield (
                uid,
                f"{self.prefix}{i}",
                f"Load user {i}",
                self.password,
                joined,
                True,
            )

    def post_rows(
        self, user_ids: np.ndarray, post_ids: np.ndarray
    ) -> Iterator[tuple[Any, ...]]:
        p = self.plan
        author = user_ids[p.post_author].tolist()
        parent = p.post_parent.tolist()
        root = p.post_root.tolist()
        ids = post_ids.tolist()
        counts = zip(
            p.like_count.tolist(),
            p.reply_count.tolist(),
            p.helpful_count.tolist(),
            p.unhelpful_count.tolist(),
            strict=True,
        )
        pool, body = p.body_pool, p.post_body.tolist()
        for i, (likes, replies, helpful, unhelpful) in enumerate(counts):
            yield (
                ids[i],
                author[i],
                pool[body[i]],
                ids[parent[i]] if parent[i] >= 0 else None,
                ids[root[i]] if root[i] >= 0 else None,
                self.post_time(i),
                likes,
                replies,
                helpful,
                unhelpful,
            )

    def follow_rows(self, user_ids: np.ndarray) -> Iterator[tuple[Any, ...]]:
        when = self.start
        for a, b in zip(
            user_ids[self.plan.follow_src].tolist(),
            user_ids[self.plan.follow_dst].tolist(),
            strict=True,
        ):
            yield (a, b, 0, when)

    def like_rows(
        self, user_ids: np.ndarray, post_ids: np.ndarray
    ) -> Iterator[tuple[Any, ...]]:
        p = self.plan
        times = self.minute_times
        for u, q, m in zip(
            user_ids[p.like_user].tolist(),
            post_ids[p.like_post].tolist(),
            p.like_minute.tolist(),
            strict=True,
        ):
            yield (u, q, times[m])

    def rating_rows(
        self, user_ids: np.ndarray, post_ids: np.ndarray
    ) -> Iterator[tuple[Any, ...]]:
        p = self.plan
        times = self.minute_times
        for u, q, v, m in zip(
            user_ids[p.rating_user].tolist(),
            post_ids[p.rating_post].tolist(),
            p.rating_value.tolist(),
            p.rating_minute.tolist(),
            strict=True,
        ):
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
            user_cols = [
                "id",
                "username",
                "display_name",
                "password",
                "date_joined",
                "is_active",
            ]
            post_cols = [
                "id",
                "author_id",
                "body",
                "parent_id",
                "root_id",
                "created_at",
                "like_count",
                "reply_count",
                "helpful_count",
                "unhelpful_count",
            ]
            stages: list[
                tuple[
                    str, type[models.Model], list[str], int, Iterable[tuple[Any, ...]]
                ]
            ] = [
                ("users", User, user_cols, p.users, self.user_rows(user_ids)),
                ("posts", Post, post_cols, p.posts, self.post_rows(user_ids, post_ids)),
                (
                    "follows",
                    Follow,
                    ["follower_id", "followee_id", "priority", "created_at"],
                    len(p.follow_src),
                    self.follow_rows(user_ids),
                ),
                (
                    "likes",
                    Like,
                    ["user_id", "post_id", "created_at"],
                    len(p.like_user),
                    self.like_rows(user_ids, post_ids),
                ),
                (
                    "ratings",
                    Rating,
                    ["user_id", "post_id", "value", "created_at", "updated_at"],
                    len(p.rating_user),
                    self.rating_rows(user_ids, post_ids),
                ),
            ]
            for label, model, columns, total, rows in stages:
                progress = self.stage(label, total)
                _copy(cursor, model, columns, rows, progress)
                self.timings[label] = progress.finish()
        # Fresh statistics, so the planner sees the new sizes at once.
        started = time.perf_counter()
        with connection.cursor() as cursor:
            tables = ", ".join(
                m._meta.db_table for m in (User, Post, Follow, Like, Rating)
            )
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
            self._orm_stage(
                "users",
                User,
                p.users,
                (
                    User(
                        id=r[0],
                        username=r[1],
                        display_name=r[2],
                        password=r[3],
                        date_joined=r[4],
                        is_active=r[5],
                    )
                    for r in self.user_rows(user_ids)
                ),
            )
            self._orm_stage(
                "posts",
                Post,
                p.posts,
                (
                    Post(
                        id=r[0],
                        author_id=r[1],
                        body=r[2],
                        parent_id=r[3],
                        root_id=r[4],
                        created_at=r[5],
                        like_count=r[6],
                        reply_count=r[7],
                        helpful_count=r[8],
                        unhelpful_count=r[9],
                    )
                    for r in self.post_rows(user_ids, post_ids)
                ),
            )
            self._orm_stage(
                "follows",
                Follow,
                len(p.follow_src),
                (
                    Follow(follower_id=r[0], followee_id=r[1])
                    for r in self.follow_rows(user_ids)
                ),
            )
            self._orm_stage(
                "likes",
                Like,
                len(p.like_user),
                (
                    Like(user_id=r[0], post_id=r[1])
                    for r in self.like_rows(user_ids, post_ids)
                ),
            )
            self._orm_stage(
                "ratings",
                Rating,
                len(p.rating_user),
                (
                    Rating(user_id=r[0], post_id=r[1], value=r[2])
                    for r in self.rating_rows(user_ids, post_ids)
                ),
            )

    def _orm_stage(
        self,
        label: str,
        model: type[models.Model],
        total: int,
        objects: Iterable[models.Model],
    ) -> None:
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
