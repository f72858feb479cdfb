"""The reads every feed page makes, as fixed SQL text on PostgreSQL.

A ranked page reads its posts (with their authors and the authors of the posts
they reply to) and the viewer's reactions to them. Through the ORM each read
compiles its query afresh, which on a small shared core cost more than running
it. Here the SQL is written once per process from the models' metadata, lists
of ids travel as one array parameter, and rows become model instances with
`Model.from_db`, as the ORM makes them; other databases take the ORM path. The
tests compare both readings on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import connection

from charter_social.pg import int_array

from .models import Like, Post, Rating, User


def _attnames(model: Any) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields]


# What a page shows of an author, and of the post a reply answers: the rest of
# those rows is left deferred, as .only() would (fewer columns to convert,
# timestamps above all, which Django's loader parses in Python).
_AUTHOR_FIELDS = ["id", "username", "display_name"]
_PARENT_FIELDS = ["id", "author_id"]


def _columns(model: Any, alias: str, names: list[str]) -> list[str]:
    quote = connection.ops.quote_name
    return [f"{alias}.{quote(model._meta.get_field(n).column)}" for n in names]


@cache
def _posts_sql() -> str:
    quote = connection.ops.quote_name
    posts, users = quote(Post._meta.db_table), quote(User._meta.db_table)
    select = ", ".join(
        [
            *_columns(Post, "p", _attnames(Post)),
            *_columns(User, "u", _AUTHOR_FIELDS),
            *_columns(Post, "pp", _PARENT_FIELDS),
            *_columns(User, "pu", _AUTHOR_FIELDS),
        ]
    )
    return (
        f"SELECT {select} FROM {posts} p JOIN {users} u ON u.id = p.author_id "
        f"LEFT JOIN {posts} pp ON pp.id = p.parent_id "
        f"LEFT JOIN {users} pu ON pu.id = pp.author_id "
        "WHERE p.id = ANY(%s::bigint[])"
    )


def posts_with_authors(*, ids: Sequence[int]) -> dict[int, Post]:
    """The posts with these ids (those that exist), by id, each with its author
    and the post it replies to (with that post's author) already loaded: what
    `select_related("author", "parent__author")` gives a page, in one fixed
    query. Of the authors and replied-to posts only what a page shows is read
    (`_AUTHOR_FIELDS`, `_PARENT_FIELDS`); other fields load on first use."""
    if not ids:
        return {}
    if connection.vendor != "postgresql":
        return {
            p.id: p
            for p in Post.objects.filter(id__in=list(ids)).select_related(
                "author", "parent__author"
            )
        }
    post_names = _attnames(Post)
    np_, na, nq = len(post_names), len(_AUTHOR_FIELDS), len(_PARENT_FIELDS)
    db = connection.alias
    with connection.cursor() as cursor:
        cursor.execute(_posts_sql(), [int_array(ids)])
        rows = cursor.fetchall()
    found: dict[int, Post] = {}
    for row in rows:
        post = Post.from_db(db, post_names, row[:np_])
        post.author = User.from_db(db, _AUTHOR_FIELDS, row[np_ : np_ + na])
        parent_row = row[np_ + na : np_ + na + nq]
        if parent_row[0] is None:
            post.parent = None
        else:
            parent = Post.from_db(db, _PARENT_FIELDS, parent_row)
            parent.author = User.from_db(db, _AUTHOR_FIELDS, row[np_ + na + nq :])
            post.parent = parent
        found[post.id] = post
    return found


@cache
def _reactions_sql() -> str:
    quote = connection.ops.quote_name
    likes, ratings = quote(Like._meta.db_table), quote(Rating._meta.db_table)
    return (
        f"SELECT post_id, NULL::smallint FROM {likes} "
        "WHERE user_id = %s AND post_id = ANY(%s::bigint[]) "
        f"UNION ALL SELECT post_id, value FROM {ratings} "
        "WHERE user_id = %s AND post_id = ANY(%s::bigint[])"
    )


def reaction_rows(*, user_id: int, post_ids: Sequence[int]) -> list[tuple[int, Any]]:
    """(post id, None) for each like and (post id, value) for each rating the
    user gave these posts, in one query (PostgreSQL only)."""
    ids = int_array(post_ids)
    with connection.cursor() as cursor:
        cursor.execute(_reactions_sql(), [user_id, ids, user_id, ids])
        return list(cursor.fetchall())
