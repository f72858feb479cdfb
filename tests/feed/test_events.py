"""After-commit broadcasts: batched per transaction, never sent for a rollback.

Real commits (transactional tests) and the real channel layer the settings
pick: channels_redis when REDIS_URL is set, the in-memory layer otherwise.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from channels.layers import get_channel_layer
from django.db import connection, transaction

from feed import events, services
from feed.models import User

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def inbox() -> Iterator[Any]:
    """A channel in groups "test.a" and "test.b"; call it to read what arrived.

    Reads run on one event loop of their own: channels_redis binds a channel's
    receive buffer to the loop that first reads it.
    """
    layer = get_channel_layer()
    loop = asyncio.new_event_loop()
    channel = loop.run_until_complete(layer.new_channel())
    for group in ("test.a", "test.b"):
        loop.run_until_complete(layer.group_add(group, channel))

    async def drain() -> list[dict[str, Any]]:
        received = []
        while True:
            try:
                received.append(await asyncio.wait_for(layer.receive(channel), 0.3))
            except TimeoutError:
                return received

    yield lambda: loop.run_until_complete(drain())
    for group in ("test.a", "test.b"):
        loop.run_until_complete(layer.group_discard(group, channel))
    if hasattr(layer, "flush"):
        loop.run_until_complete(layer.flush())
    loop.close()


def test_broadcasts_of_one_transaction_leave_as_one_hook_in_order(inbox) -> None:
    with transaction.atomic():
        hooks_before = len(connection.run_on_commit)
        events.broadcast_after_commit("test.a", {"type": "t", "n": 1})
        events.broadcast_after_commit("test.b", {"type": "t", "n": 2})
        events.broadcast_after_commit("test.a", {"type": "t", "n": 3})
        assert len(connection.run_on_commit) == hooks_before + 1
        assert inbox() == []  # nothing before the commit
    assert [m["n"] for m in inbox()] == [1, 2, 3]


def test_rolled_back_savepoint_drops_only_its_own_broadcasts(inbox) -> None:
    with transaction.atomic():
        events.broadcast_after_commit("test.a", {"type": "t", "n": 1})
        try:
            with transaction.atomic():
                events.broadcast_after_commit("test.a", {"type": "t", "n": 2})
                raise RuntimeError("the inner write failed")
        except RuntimeError:
            pass
        events.broadcast_after_commit("test.b", {"type": "t", "n": 3})
    assert [m["n"] for m in inbox()] == [1, 3]


def test_rolled_back_transaction_sends_nothing_and_the_next_one_does(inbox) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        events.broadcast_after_commit("test.a", {"type": "t", "n": 1})
        raise RuntimeError("the request failed")
    assert inbox() == []
    with transaction.atomic():
        events.broadcast_after_commit("test.a", {"type": "t", "n": 2})
    assert [m["n"] for m in inbox()] == [2]


def test_follow_tells_both_accounts_in_one_batch(monkeypatch) -> None:
    alice = User.objects.create_user(username="alice", password="correct-horse-42")
    bob = User.objects.create_user(username="bob", password="correct-horse-42")
    sent: list[list[tuple[str, dict[str, Any]]]] = []
    original = events.broadcast_now

    def recording(messages: list[tuple[str, dict[str, Any]]]) -> None:
        sent.append(list(messages))
        original(messages)

    monkeypatch.setattr(events, "broadcast_now", recording)
    services.follow_create(follower=alice, followee_id=bob.id)
    assert [[(group, m["type"]) for group, m in batch] for batch in sent] == [
        [
            (events.group_for_user(bob.id), "notification.created"),
            (events.group_for_user(alice.id), "follows.changed"),
        ]
    ]


def test_unreachable_channel_layer_never_fails_the_write(settings) -> None:
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [{"address": "redis://127.0.0.1:1/0"}]},
        }
    }
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    try:
        alice = User.objects.create_user(username="alice", password="x-horse-42")
        bob = User.objects.create_user(username="bob", password="x-horse-42")
        follow = services.follow_create(follower=alice, followee_id=bob.id)
        assert follow.pk is not None
    finally:
        channel_layers.backends.clear()
