"""feed.hot_reads: the fixed-SQL reads read what the ORM reads."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from feed import hot_reads, selectors, services
from feed.models import Post, User

pytestmark = pytest.mark.django_db


def _fields(obj: Any) -> dict[str, Any]:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_posts_with_authors_match_select_related(
    make_user: Callable[..., User], django_assert_num_queries: Any
) -> None:
    alice, bob = make_user("alice"), make_user("bob", display_name="Bob B.")
    root = services.post_create(author=alice, body="A root post")
    reply = services.post_create(author=bob, body="A reply", parent_id=root.id)
    alone = services.post_create(author=bob, body="On its own")
    ids = [root.id, reply.id, alone.id, 10**9]
    with django_assert_num_queries(1):
        fast = hot_reads.posts_with_authors(ids=ids)
        # Everything a page shows is loaded: no query per post.
        names = [
            (p.author.username, p.parent and p.parent.author.username)
            for p in fast.values()
        ]
    orm = {
        p.id: p
        for p in Post.objects.filter(id__in=ids).select_related(
            "author", "parent__author"
        )
    }
    assert set(fast) == set(orm) == {root.id, reply.id, alone.id}
    for pid, post in fast.items():
        assert _fields(post) == _fields(orm[pid])
        assert _fields(post.author) == _fields(orm[pid].author)
        if orm[pid].parent is None:
            assert post.parent is None
        else:
            assert _fields(post.parent) == _fields(orm[pid].parent)
            assert _fields(post.parent.author) == _fields(orm[pid].parent.author)
    assert ("bob", "alice") in names and ("bob", None) in names
    assert hot_reads.posts_with_authors(ids=[]) == {}


def test_viewer_reactions_read_likes_and_ratings(
    make_user: Callable[..., User], django_assert_num_queries: Any
) -> None:
    alice, bob = make_user("alice"), make_user("bob")
    posts = [services.post_create(author=bob, body=f"post {n}") for n in range(4)]
    services.like_create(user=alice, post_id=posts[0].id)
    services.like_create(user=alice, post_id=posts[1].id)
    services.rating_set(user=alice, post_id=posts[1].id, value="helpful")
    services.rating_set(user=alice, post_id=posts[2].id, value="unhelpful")
    services.like_create(user=bob, post_id=posts[3].id)  # someone else's like
    with django_assert_num_queries(1):
        reactions = selectors.viewer_reactions_for(viewer=alice, posts=posts)
    assert reactions == {
        posts[0].id: {"liked": True, "rating": None},
        posts[1].id: {"liked": True, "rating": 1},
        posts[2].id: {"liked": False, "rating": -1},
        posts[3].id: {"liked": False, "rating": None},
    }
    if connection.vendor == "postgresql":
        rows = hot_reads.reaction_rows(user_id=alice.id, post_ids=[p.id for p in posts])
        assert sorted(rows, key=lambda r: (r[0], r[1] is None)) == [
            (posts[0].id, None),
            (posts[1].id, 1),
            (posts[1].id, None),
            (posts[2].id, -1),
        ]
