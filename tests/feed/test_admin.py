"""Feed admin pages render for staff: list columns, filters and search are valid."""

from __future__ import annotations

import pytest
from django.urls import reverse

from feed import services

pytestmark = pytest.mark.django_db

MODELS = [
    "user",
    "post",
    "follow",
    "like",
    "rating",
    "report",
    "block",
    "mute",
    "mention",
    "notification",
]


@pytest.mark.parametrize("model", MODELS)
def test_changelist_renders_with_data(admin_client, make_user, make_post, model):
    alice, bob = make_user("alice"), make_user("bob")
    post = make_post(alice, "hi @bob")
    services.follow_create(follower=bob, followee_id=alice.id)
    services.like_create(user=bob, post_id=post.id)
    services.rating_set(user=bob, post_id=post.id, value="helpful")
    services.report_create(reporter=bob, post_id=post.id, reason="spam")
    services.mute_create(muter=alice, muted_id=bob.id)
    services.block_create(blocker=alice, blocked_id=make_user("carol").id)
    url = reverse(f"admin:feed_{model}_changelist")
    assert admin_client.get(url).status_code == 200
    assert admin_client.get(url, {"q": "alice"}).status_code == 200


def test_post_change_page_keeps_counters_read_only(admin_client, make_user, make_post):
    post = make_post(make_user("alice"))
    response = admin_client.get(reverse("admin:feed_post_change", args=[post.id]))
    assert response.status_code == 200
    assert b'name="like_count"' not in response.content
