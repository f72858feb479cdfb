"""The live feed websocket against the real ASGI application and channel layer.

These run on whichever layer the settings pick: channels_redis when REDIS_URL
is set, the in-memory layer otherwise.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction
from django.test import Client

from charter_social.asgi import application
from feed import services
from feed.models import Post, User

pytestmark = pytest.mark.django_db(transaction=True)

ORIGIN = (b"origin", b"http://127.0.0.1")
TIMEOUT = 3


@pytest.fixture(autouse=True)
async def fresh_channel_layer() -> AsyncIterator[None]:
    yield
    layer = get_channel_layer()
    if hasattr(layer, "flush"):
        await layer.flush()


@database_sync_to_async
def create_user(username: str) -> User:
    return User.objects.create_user(username=username, password="correct-horse-42")


@database_sync_to_async
def session_cookie_for(user: User) -> bytes:
    client = Client()
    client.force_login(user)
    name = settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


async def connect(user: User | None) -> WebsocketCommunicator:
    headers = [ORIGIN]
    if user is not None:
        headers.append((b"cookie", await session_cookie_for(user)))
    communicator = WebsocketCommunicator(application, "/ws/feed/", headers=headers)
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    return communicator


async def receive(communicator: WebsocketCommunicator) -> dict[str, Any]:
    return await communicator.receive_json_from(timeout=TIMEOUT)


async def test_anonymous_socket_is_closed_with_4401() -> None:
    communicator = WebsocketCommunicator(application, "/ws/feed/", headers=[ORIGIN])
    connected, _ = await communicator.connect(timeout=TIMEOUT)
    assert connected
    assert await communicator.receive_output(timeout=TIMEOUT) == {
        "type": "websocket.close",
        "code": 4401,
    }


async def test_followed_authors_post_arrives_only_after_commit() -> None:
    alice, bob = await create_user("alice"), await create_user("bob")
    await database_sync_to_async(services.follow_create)(
        follower=alice, followee_id=bob.id
    )
    communicator = await connect(alice)

    def post_then_roll_back() -> None:
        with transaction.atomic():
            services.post_create(author=bob, body="never mind")
            raise RuntimeError("the request failed after the post was written")

    with pytest.raises(RuntimeError):
        await database_sync_to_async(post_then_roll_back)()
    assert await communicator.receive_nothing(timeout=0.5)
    assert not await database_sync_to_async(Post.objects.exists)()

    def post_and_look_before_commit() -> Post:
        with transaction.atomic():
            post = services.post_create(author=bob, body="for real")
            # Written but not committed: the socket must still be silent.
            assert async_to_sync(communicator.receive_nothing)(0.3)
        return post

    post = await database_sync_to_async(post_and_look_before_commit)()
    assert await receive(communicator) == {
        "event": "new_post",
        "post_id": post.id,
        "author": "bob",
        "is_reply": False,
    }
    await communicator.disconnect()


async def test_unfollowed_authors_post_does_not_arrive() -> None:
    alice, carol = await create_user("alice"), await create_user("carol")
    communicator = await connect(alice)
    await database_sync_to_async(services.post_create)(
        author=carol, body="not for alice"
    )
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_muted_authors_post_does_not_arrive() -> None:
    alice, bob = await create_user("alice"), await create_user("bob")
    await database_sync_to_async(services.follow_create)(
        follower=alice, followee_id=bob.id
    )
    await database_sync_to_async(services.mute_create)(muter=alice, muted_id=bob.id)
    communicator = await connect(alice)
    await database_sync_to_async(services.post_create)(author=bob, body="muted words")
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_mute_and_unmute_while_connected_apply_at_once() -> None:
    alice, bob = await create_user("alice"), await create_user("bob")
    await database_sync_to_async(services.follow_create)(
        follower=alice, followee_id=bob.id
    )
    communicator = await connect(alice)
    await database_sync_to_async(services.mute_create)(muter=alice, muted_id=bob.id)
    assert await receive(communicator) == {
        "event": "mutes_changed",
        "author_id": bob.id,
        "muted": True,
    }
    await database_sync_to_async(services.post_create)(author=bob, body="muted words")
    assert await communicator.receive_nothing(timeout=0.5)
    await database_sync_to_async(services.mute_delete)(muter=alice, muted_id=bob.id)
    assert (await receive(communicator))["muted"] is False
    post = await database_sync_to_async(services.post_create)(
        author=bob, body="heard again"
    )
    assert (await receive(communicator))["post_id"] == post.id
    await communicator.disconnect()


async def test_following_while_connected_joins_and_unfollowing_leaves() -> None:
    alice, bob = await create_user("alice"), await create_user("bob")
    communicator = await connect(alice)
    await database_sync_to_async(services.follow_create)(
        follower=alice, followee_id=bob.id
    )
    assert await receive(communicator) == {
        "event": "follows_changed",
        "author_id": bob.id,
        "following": True,
    }
    post = await database_sync_to_async(services.post_create)(
        author=bob, body="hello follower"
    )
    assert (await receive(communicator))["post_id"] == post.id
    await database_sync_to_async(services.follow_delete)(
        follower=alice, followee_id=bob.id
    )
    assert (await receive(communicator))["following"] is False
    await database_sync_to_async(services.post_create)(author=bob, body="gone quiet")
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_rating_pushes_new_counts_to_a_socket_watching_the_thread() -> None:
    alice, bob, carol = (
        await create_user("alice"),
        await create_user("bob"),
        await create_user("carol"),
    )
    root = await database_sync_to_async(services.post_create)(
        author=bob, body="the thread"
    )
    reply = await database_sync_to_async(services.post_create)(
        author=bob, body="a reply", parent_id=root.id
    )
    communicator = await connect(alice)
    await communicator.send_json_to({"action": "watch_thread", "post_id": reply.id})
    assert await receive(communicator) == {
        "event": "watching",
        "post_id": reply.id,
        "root_id": root.id,
    }

    await database_sync_to_async(services.rating_set)(
        user=carol, post_id=reply.id, value="helpful"
    )
    assert await receive(communicator) == {
        "event": "counts",
        "post_id": reply.id,
        "like_count": 0,
        "reply_count": 0,
        "helpful_count": 1,
        "unhelpful_count": 0,
    }
    await database_sync_to_async(services.like_create)(user=carol, post_id=root.id)
    counts = await receive(communicator)
    assert (counts["post_id"], counts["like_count"], counts["reply_count"]) == (
        root.id,
        1,
        1,
    )

    await communicator.send_json_to({"action": "unwatch_thread", "post_id": reply.id})
    assert (await receive(communicator))["event"] == "unwatched"
    await database_sync_to_async(services.rating_set)(
        user=carol, post_id=reply.id, value="unhelpful"
    )
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()


async def test_reply_in_watched_thread_pushes_reply_count() -> None:
    alice, bob = await create_user("alice"), await create_user("bob")
    root = await database_sync_to_async(services.post_create)(
        author=alice, body="the thread"
    )
    communicator = await connect(bob)
    await communicator.send_json_to({"action": "watch_thread", "post_id": root.id})
    await receive(communicator)
    reply = await database_sync_to_async(services.post_create)(
        author=alice, body="more", parent_id=root.id
    )
    assert await receive(communicator) == {
        "event": "thread_reply",
        "post_id": reply.id,
        "parent_id": root.id,
        "reply_count": 1,
    }
    await communicator.disconnect()


async def test_reply_notification_arrives_live() -> None:
    alice, bob = await create_user("alice"), await create_user("bob")
    post = await database_sync_to_async(services.post_create)(
        author=alice, body="ask me"
    )
    communicator = await connect(alice)
    reply = await database_sync_to_async(services.post_create)(
        author=bob, body="answer", parent_id=post.id
    )
    message = await receive(communicator)
    assert message["event"] == "notification"
    assert (message["kind"], message["actor"], message["post_id"]) == (
        "reply",
        "bob",
        reply.id,
    )
    await communicator.disconnect()


async def test_own_post_reaches_own_other_tabs() -> None:
    alice = await create_user("alice")
    communicator = await connect(alice)
    post = await database_sync_to_async(services.post_create)(
        author=alice, body="from my phone"
    )
    assert (await receive(communicator))["post_id"] == post.id
    await communicator.disconnect()


@pytest.mark.parametrize(
    ("frame", "detail"),
    [
        ("not json", "not valid JSON"),
        ("[1, 2]", "Send an object"),
        ('{"action": "dance", "post_id": 1}', "Unknown action"),
        ('{"action": "watch_thread", "post_id": "1"}', "positive whole number"),
        ('{"action": "watch_thread", "post_id": true}', "positive whole number"),
        ('{"action": "watch_thread", "post_id": 999999}', "No such post"),
        ('{"action": "unwatch_thread", "post_id": 5}', "not watching"),
    ],
)
async def test_bad_client_messages_get_an_error_and_keep_the_socket(
    frame: str, detail: str
) -> None:
    alice = await create_user("alice")
    communicator = await connect(alice)
    await communicator.send_to(text_data=frame)
    message = await receive(communicator)
    assert message["event"] == "error"
    assert detail in message["detail"]
    # Still open and serving.
    post = await database_sync_to_async(services.post_create)(
        author=alice, body="still here"
    )
    assert (await receive(communicator))["post_id"] == post.id
    await communicator.disconnect()


async def test_cannot_watch_a_thread_of_an_account_that_blocks_you() -> None:
    alice, bob = await create_user("alice"), await create_user("bob")
    post = await database_sync_to_async(services.post_create)(
        author=bob, body="private-ish"
    )
    await database_sync_to_async(services.block_create)(
        blocker=bob, blocked_id=alice.id
    )
    communicator = await connect(alice)
    await communicator.send_json_to({"action": "watch_thread", "post_id": post.id})
    assert await receive(communicator) == {"event": "error", "detail": "No such post."}
    await communicator.disconnect()


async def test_being_blocked_while_connected_stops_that_authors_posts() -> None:
    alice, bob = await create_user("alice"), await create_user("bob")
    await database_sync_to_async(services.follow_create)(
        follower=alice, followee_id=bob.id
    )
    communicator = await connect(alice)
    await database_sync_to_async(services.block_create)(
        blocker=bob, blocked_id=alice.id
    )
    assert await receive(communicator) == {
        "event": "follows_changed",
        "author_id": bob.id,
        "following": False,
    }
    await database_sync_to_async(services.post_create)(author=bob, body="not for alice")
    assert await communicator.receive_nothing(timeout=0.5)
    await communicator.disconnect()
