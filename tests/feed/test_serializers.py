"""PostSerializer's direct rendering is the declared fields' rendering, exactly."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework import serializers

from feed import services
from feed.models import Post
from feed.serializers import CountsSerializer, PostSerializer

pytestmark = pytest.mark.django_db


def _declared(post: Post, context: dict[str, Any]) -> dict[str, Any]:
    # DRF's generic field-by-field walk over the declared fields: what the
    # schema promises and what every endpoint answered before the fast path.
    serializer = PostSerializer(context=context)
    return dict(serializers.Serializer.to_representation(serializer, post))


@pytest.mark.parametrize("case", ["signed-out", "no-reactions", "reacted"])
def test_post_renders_as_its_declared_fields(make_user, make_post, case):
    alice, bob = make_user("alice", display_name="Alice A."), make_user("bob")
    root = make_post(alice, "see https://example.org/a?b=1 and @bob <b>bold</b>")
    reply = make_post(bob, "a reply\non two lines", parent=root)
    deeper = make_post(alice, "deeper", parent=reply)
    services.like_create(user=bob, post_id=root.id)
    reacted = {
        root.id: {"liked": True, "rating": 1},
        deeper.id: {"liked": False, "rating": -1},
    }
    context: dict[str, Any] = {
        "reactions": {"signed-out": None, "no-reactions": {}, "reacted": reacted}[case]
    }
    posts = list(Post.objects.select_related("author").order_by("id"))
    rendered = PostSerializer(posts, many=True, context=context).data
    assert [dict(item) for item in rendered] == [_declared(p, context) for p in posts]
    # The direct path is not vacuously equal: the values are really there.
    by_id = {item["id"]: item for item in rendered}
    for post in posts:
        # Counts are a method field: compare with the schema's own serializer.
        counts = CountsSerializer().to_representation(post)
        assert by_id[post.id]["counts"] == dict(counts)
    assert by_id[deeper.id]["root_id"] == root.id
    assert by_id[deeper.id]["parent_id"] == reply.id
    assert by_id[root.id]["parent_id"] is None
    assert by_id[root.id]["counts"]["likes"] == 1
    assert by_id[root.id]["author"] == {"username": "alice", "display_name": "Alice A."}
    assert "&lt;b&gt;" in by_id[root.id]["body_html"]
    assert by_id[root.id]["created_at"].endswith("Z")


def test_single_post_renders_as_its_declared_fields(make_user, make_post):
    post = make_post(make_user("alice"))
    post = Post.objects.select_related("author").get(id=post.id)
    context = {"reactions": {post.id: {"liked": True, "rating": None}}}
    assert dict(PostSerializer(post, context=context).data) == _declared(post, context)
