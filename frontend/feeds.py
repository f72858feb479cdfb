"""Feed reads the pages need beyond feed.selectors, and the home-feed seam.

`home_feed_for` is the one place the home page asks for its items: the ranking
service replaces the chronological timeline here, and nothing else in the
frontend has to change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Q

from feed import selectors
from feed.models import Post, User
from feed.selectors import Cursor, Page

# The "new posts" banner never claims more than this; "99+" reads fine.
NEW_COUNT_CAP = 99


@dataclass(frozen=True)
class FeedItem:
    """A post as one viewer sees it: the post plus their own reactions to it."""

    post: Post
    liked: bool
    rating: int | None


def home_feed_for(viewer: User, cursor: str | None) -> Page:
    """The signed-in home feed. The ranking service plugs in here later."""
    return selectors.timeline_home(viewer=viewer, cursor=cursor)


def feed_items(
    posts: list[Post], reactions: dict[int, dict[str, Any]]
) -> list[FeedItem]:
    """Pair posts with the viewer's reactions so templates need no dict lookups."""
    items = []
    for post in posts:
        mine = reactions.get(post.id, {})
        items.append(
            FeedItem(
                post=post, liked=bool(mine.get("liked")), rating=mine.get("rating")
            )
        )
    return items


def top_marker(page: Page) -> str:
    """The position of the newest item on a first page, for the "new posts" poll."""
    if not page.items:
        return ""
    newest = max(page.items, key=lambda p: (p.created_at, p.id))
    return Cursor(newest.created_at, newest.id).encode()


def home_new_count(*, viewer: User, since: str) -> int:
    """How many posts by others arrived in the viewer's home feed after `since`.

    `since` is a marker from `top_marker`; an empty marker means the viewer saw an
    empty feed, so everything counts. Raises ValidationError for a malformed marker.
    """
    queryset = selectors.home_candidates_for(viewer=viewer).exclude(author_id=viewer.id)
    if since:
        position = Cursor.decode(since)
        queryset = queryset.filter(
            Q(created_at__gt=position.created_at)
            | Q(created_at=position.created_at, id__gt=position.id)
        )
    return queryset.order_by()[: NEW_COUNT_CAP + 1].count()


def thread_counts(*, viewer: User | None, post_id: int) -> dict[str, dict[str, int]]:
    """Reaction and reply counts of every post of a thread the viewer may see."""
    _, posts, _ = selectors.thread_for(viewer=viewer, post_id=post_id)
    return {
        str(p.id): {
            "like_count": p.like_count,
            "reply_count": p.reply_count,
            "helpful_count": p.helpful_count,
            "unhelpful_count": p.unhelpful_count,
        }
        for p in posts
    }


def accounts_blocked_by(*, user: User) -> list[User]:
    """Accounts `user` blocks, for the settings page's unblock buttons."""
    return list(User.objects.filter(blocks_received__blocker=user).order_by("username"))


def accounts_muted_by(*, user: User) -> list[User]:
    """Accounts `user` mutes, for the settings page's unmute buttons."""
    return list(User.objects.filter(mutes_received__muter=user).order_by("username"))
