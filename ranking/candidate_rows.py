"""Candidate rows: the posts a viewer's ranking reads, with their stored signals.

Two queries make a viewer's candidates (`candidate_rows`): the home window
(posts by the accounts they follow and their own, newest `HOME_CAP`) and the
best bridging posts from outside their circle (`OUTSIDE_CAP`). On PostgreSQL
they are fixed SQL text; elsewhere the ORM composes them. ranking.candidates
turns the rows into a CandidateSet.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from django.db import connection
from django.db.models import FilteredRelation, Q, QuerySet

from accountability.casework_models import ItemOverride
from charter_social.pg import int_array
from feed.models import Post
from ranking.models import PostSignals

# Home candidates: posts of the last HOME_WINDOW, newest HOME_CAP of them.
HOME_WINDOW = timedelta(days=14)
HOME_CAP = 1500
# Posts from outside the viewer's circle with a bridging score of at least
# OUTSIDE_MIN_BRIDGING (about the top quartile of the demo society's scores),
# the best OUTSIDE_CAP of the window.
OUTSIDE_CAP = 200
OUTSIDE_MIN_BRIDGING = 0.3

Row = tuple[Any, ...]


CANDIDATE_COLUMNS = (
    "id",
    "author_id",
    "created_at",
    "signals__incivility",
    "signals__bridging",
    "signals__consensus",
    "signals__incivility_version",
    "signals__bridging_version",
    "signals__consensus_version",
    "ov__effect",
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _candidate_rows(queryset: QuerySet[Post], limit: int) -> list[tuple[Any, ...]]:
    return list(queryset.values_list(*CANDIDATE_COLUMNS)[:limit])


def _orm_candidate_rows(
    *, as_of: datetime, home_authors: list[int], excluded_authors: list[int]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """`candidate_rows` through the ORM (any database)."""
    window = Q(created_at__lte=as_of, created_at__gt=as_of - HOME_WINDOW)
    home = _candidate_rows(
        _with_override(Post.objects.filter(window))
        .filter(author_id__in=home_authors)
        .order_by("-created_at", "-id"),
        HOME_CAP,
    )
    outside = _candidate_rows(
        _with_override(
            Post.objects.filter(window, signals__bridging__gte=OUTSIDE_MIN_BRIDGING)
        )
        .exclude(author_id__in=excluded_authors)
        .order_by("-signals__bridging", "-id"),
        OUTSIDE_CAP,
    )
    return home, outside


@cache
def _pg_candidate_sql() -> tuple[str, str]:
    """The two candidate queries of `_orm_candidate_rows` as PostgreSQL text,
    written once per process: author lists travel as one array parameter
    (`= ANY(%s::bigint[])`, see charter_social.pg), so the text never changes
    and nothing is compiled per page (the ORM's compile of these joins cost
    several ms a ranking), and created_at comes back as whole epoch
    microseconds: Django reads each timestamptz through a timezone-aware loader
    written in Python (~5 ms for ~1,700 rows), integers load in C, and
    EXTRACT(EPOCH ...) is exact numeric on PostgreSQL 14+, so the microseconds
    are exact."""
    quote = connection.ops.quote_name
    post, signals = quote(Post._meta.db_table), quote(PostSignals._meta.db_table)
    override = quote(ItemOverride._meta.db_table)
    select = (
        "SELECT p.id, p.author_id, "
        "(EXTRACT(EPOCH FROM p.created_at) * 1000000)::bigint, "
        "s.incivility, s.bridging, s.consensus, s.incivility_version, "
        "s.bridging_version, s.consensus_version, o.effect "
        f"FROM {post} p LEFT JOIN {signals} s ON s.post_id = p.id "
        f"LEFT JOIN {override} o ON o.post_id = p.id AND o.revoked_at IS NULL "
        "WHERE p.created_at <= %s AND p.created_at > %s "
    )
    home = select + (
        "AND p.author_id = ANY(%s::bigint[]) "
        "ORDER BY p.created_at DESC, p.id DESC LIMIT %s"
    )
    outside = select + (
        "AND s.bridging >= %s AND NOT (p.author_id = ANY(%s::bigint[])) "
        "ORDER BY s.bridging DESC, p.id DESC LIMIT %s"
    )
    return home, outside


def candidate_rows(
    *, as_of: datetime, home_authors: list[int], excluded_authors: list[int]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(home rows, outside rows) of `CANDIDATE_COLUMNS` at `as_of`.

    Home: posts by `home_authors` in the window, newest `HOME_CAP`. Outside:
    posts by anyone not in `excluded_authors` with a bridging score of at
    least OUTSIDE_MIN_BRIDGING, the best `OUTSIDE_CAP`. On PostgreSQL the
    third column is created_at in epoch microseconds (see `epoch_us`).
    """
    if connection.vendor != "postgresql":
        return _orm_candidate_rows(
            as_of=as_of, home_authors=home_authors, excluded_authors=excluded_authors
        )
    home_sql, outside_sql = _pg_candidate_sql()
    since = as_of - HOME_WINDOW
    with connection.cursor() as cursor:
        cursor.execute(home_sql, [as_of, since, int_array(home_authors), HOME_CAP])
        home = list(cursor.fetchall())
        cursor.execute(
            outside_sql,
            [
                as_of,
                since,
                OUTSIDE_MIN_BRIDGING,
                int_array(excluded_authors),
                OUTSIDE_CAP,
            ],
        )
        outside = list(cursor.fetchall())
    return home, outside


def epoch_us(value: datetime | int) -> int:
    """A `_candidate_rows` row's third column as epoch microseconds."""
    if isinstance(value, datetime):
        return (value - _EPOCH) // timedelta(microseconds=1)
    return int(value)


def _with_override(queryset: QuerySet[Post]) -> QuerySet[Post]:
    """Join each post's active override effect (`ov__effect`), as accountability's
    `overrides_active_for` defines it (an unrevoked ItemOverride; at most one
    per post, a database constraint), in the candidate query itself: cheaper
    than a second query with ~1,700 ids in an IN list."""
    return queryset.annotate(
        ov=FilteredRelation(
            "overrides", condition=Q(overrides__revoked_at__isnull=True)
        )
    )


def home_rows_since(
    *, after: datetime, as_of: datetime, home_authors: list[int], limit: int
) -> list[Row]:
    """Home rows created in (after, as_of], newest first, at most `limit`: what
    a viewer's home window gained since a ranking at `after`."""
    if connection.vendor != "postgresql":
        return _candidate_rows(
            _with_override(
                Post.objects.filter(created_at__lte=as_of, created_at__gt=after)
            )
            .filter(author_id__in=home_authors)
            .order_by("-created_at", "-id"),
            limit,
        )
    home_sql, _ = _pg_candidate_sql()
    with connection.cursor() as cursor:
        cursor.execute(home_sql, [as_of, after, int_array(home_authors), limit])
        return list(cursor.fetchall())
