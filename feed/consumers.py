"""Live feed over a websocket at /ws/feed/ (signed-in accounts only).

Server -> client events (JSON objects with an "event" key):
  new_post         {"post_id", "author", "is_reply"}: a followed account (or you)
                   posted; show a "new posts" banner, never insert it unasked
  notification     {"notification_id", "kind", "actor", "post_id"}
  counts           {"post_id", "like_count", "reply_count", "helpful_count",
                   "unhelpful_count"}: a post in a watched thread changed
  thread_reply     {"post_id", "parent_id", "reply_count"}: a reply in a watched thread
  follows_changed  {"author_id", "following"}: this account (maybe in another tab)
                   followed or unfollowed
  mutes_changed    {"author_id", "muted"}
  watching / unwatched  {"post_id", "root_id"}: acknowledges an action
  error            {"detail"}: a bad client message; the socket stays open

Client -> server actions:
  {"action": "watch_thread", "post_id": N}    live counts and replies for N's thread
  {"action": "unwatch_thread", "post_id": N}

Anonymous connections are accepted and closed at once with code 4401, so the
browser sees why (a refused handshake carries no code).
"""

from __future__ import annotations

import json
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.http import Http404

from . import events, selectors
from .models import Block, Mute, Post, User

CLOSE_UNAUTHENTICATED = 4401
# One page rarely shows more than a few threads; the cap keeps a misbehaving
# client from joining unbounded groups.
MAX_WATCHED_THREADS = 50


def _initial_state(user: User) -> tuple[list[int], set[int], set[int]]:
    followed = selectors.followed_ids(user=user)
    muted = set(Mute.objects.filter(muter=user).values_list("muted_id", flat=True))
    blocked = set(
        Block.objects.filter(blocker=user).values_list("blocked_id", flat=True)
    )
    blocked |= set(
        Block.objects.filter(blocked=user).values_list("blocker_id", flat=True)
    )
    return followed, muted, blocked


def _thread_root_for(user: User, post_id: int) -> int:
    post = selectors.post_get_for_viewer(viewer=user, post_id=post_id)
    return post.root_id or post.id


def _thread_root_of(post_id: int) -> int | None:
    row = Post.objects.filter(id=post_id).values_list("id", "root_id").first()
    return (row[1] or row[0]) if row else None


class FeedConsumer(AsyncJsonWebsocketConsumer):
    user: User
    joined: set[str]
    muted: set[int]
    blocked: set[int]
    watched: dict[int, int]  # thread root id -> how many watch requests name it

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        self.user = user
        self.joined = set()
        self.watched = {}
        # Join the private group before reading follows, so a follow made in
        # between is delivered as follows.changed instead of being missed.
        await self._join(events.group_for_user(user.id))
        followed, self.muted, self.blocked = await database_sync_to_async(
            _initial_state
        )(user)
        for author_id in [user.id, *followed]:
            await self._join(events.group_for_author(author_id))
        # Accept only once subscribed: an open socket means nothing is missed.
        await self.accept()

    async def disconnect(self, code: int) -> None:
        for group in getattr(self, "joined", set()):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _join(self, group: str) -> None:
        await self.channel_layer.group_add(group, self.channel_name)
        self.joined.add(group)

    async def _leave(self, group: str) -> None:
        await self.channel_layer.group_discard(group, self.channel_name)
        self.joined.discard(group)

    # Client actions -----------------------------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None
    ) -> None:
        if text_data is None:
            await self._error("Send actions as JSON text frames.")
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._error("That message is not valid JSON.")
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self._error(
                'Send an object such as {"action": "watch_thread", "post_id": 1}.'
            )
            return
        action = content.get("action")
        post_id = content.get("post_id")
        if action not in ("watch_thread", "unwatch_thread"):
            await self._error('Unknown action; use "watch_thread" or "unwatch_thread".')
            return
        if not isinstance(post_id, int) or isinstance(post_id, bool) or post_id < 1:
            await self._error("post_id must be a positive whole number.")
            return
        if action == "watch_thread":
            await self._watch(post_id)
        else:
            await self._unwatch(post_id)

    async def _watch(self, post_id: int) -> None:
        try:
            root_id = await database_sync_to_async(_thread_root_for)(self.user, post_id)
        except Http404:
            await self._error("No such post.")
            return
        if root_id not in self.watched and len(self.watched) >= MAX_WATCHED_THREADS:
            await self._error(f"Watch at most {MAX_WATCHED_THREADS} threads at once.")
            return
        self.watched[root_id] = self.watched.get(root_id, 0) + 1
        await self._join(events.group_for_thread(root_id))
        await self.send_json(
            {"event": "watching", "post_id": post_id, "root_id": root_id}
        )

    async def _unwatch(self, post_id: int) -> None:
        root_id = post_id if post_id in self.watched else None
        if root_id is None:
            root_id = await database_sync_to_async(_thread_root_of)(post_id)
        if root_id is None or root_id not in self.watched:
            await self._error("You are not watching that thread.")
            return
        self.watched[root_id] -= 1
        if self.watched[root_id] <= 0:
            del self.watched[root_id]
            await self._leave(events.group_for_thread(root_id))
        await self.send_json(
            {"event": "unwatched", "post_id": post_id, "root_id": root_id}
        )

    async def _error(self, detail: str) -> None:
        await self.send_json({"event": "error", "detail": detail})

    # Channel-layer messages (types sent by feed.services via feed.events) -------------

    async def post_created(self, message: dict[str, Any]) -> None:
        author_id = message["author_id"]
        if author_id in self.muted or author_id in self.blocked:
            return
        await self.send_json(
            {
                "event": "new_post",
                "post_id": message["post_id"],
                "author": message.get("author"),
                "is_reply": message.get("is_reply", False),
            }
        )

    async def follows_changed(self, message: dict[str, Any]) -> None:
        author_id = message["author_id"]
        group = events.group_for_author(author_id)
        if message["following"]:
            await self._join(group)
        elif author_id != self.user.id:
            await self._leave(group)
        await self.send_json(
            {
                "event": "follows_changed",
                "author_id": author_id,
                "following": message["following"],
            }
        )

    async def mutes_changed(self, message: dict[str, Any]) -> None:
        author_id = message["author_id"]
        if message["muted"]:
            self.muted.add(author_id)
        else:
            self.muted.discard(author_id)
        await self.send_json(
            {
                "event": "mutes_changed",
                "author_id": author_id,
                "muted": message["muted"],
            }
        )

    async def notification_created(self, message: dict[str, Any]) -> None:
        await self.send_json(
            {
                "event": "notification",
                "notification_id": message["notification_id"],
                "kind": message["kind"],
                "actor": message["actor"],
                "post_id": message.get("post_id"),
            }
        )

    async def post_counts(self, message: dict[str, Any]) -> None:
        await self.send_json(
            {
                "event": "counts",
                "post_id": message["post_id"],
                "like_count": message["like_count"],
                "reply_count": message["reply_count"],
                "helpful_count": message["helpful_count"],
                "unhelpful_count": message["unhelpful_count"],
            }
        )

    async def thread_reply(self, message: dict[str, Any]) -> None:
        await self.send_json(
            {
                "event": "thread_reply",
                "post_id": message["post_id"],
                "parent_id": message["parent_id"],
                "reply_count": message["reply_count"],
            }
        )
