"""Feed reads the pages need beyond feed.selectors, and the home-feed seam.

`home_feed_for` is the one place the home page asks for its items: it serves
the feed the viewer chose (charter-ranked by default, chronological, or tuned)
through ranking.feed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any

from django.db.models import Q
from django.urls import get_script_prefix, reverse

from feed import selectors
from feed.models import Post, User
from feed.selectors import Cursor, Page
from ranking.feed import FeedPage, feed_for

# The "new posts" banner never claims more than this; "99+" reads fine.
NEW_COUNT_CAP = 99

# Reversed in place of a real id, then split around: any id the URL converter
# accepts (`<int:...>`) renders as itself, with no quoting.
_ID_PLACEHOLDER = 918273645


@lru_cache(maxsize=64)
def _url_parts(name: str, kwarg: str, script_prefix: str) -> tuple[str, str]:
    """The text of `name`'s URL before and after its one integer argument.

    `script_prefix` is only part of the cache key: reverse() reads the
    current one itself, so each mount point gets its own entry.
    """
    url = reverse(name, kwargs={kwarg: _ID_PLACEHOLDER})
    head, tail = url.split(str(_ID_PLACEHOLDER))
    return head, tail


@lru_cache(maxsize=4096)
def _profile_url(username: str, script_prefix: str) -> str:
    # A pure function of the username (and the mount point, in the key):
    # authors repeat down a page and across requests.
    return reverse("frontend:profile", kwargs={"username": username})


def profile_url(username: str) -> str:
    """reverse("frontend:profile", ...) for `username`, memoised."""
    return _profile_url(username, get_script_prefix())


def id_url_parts(name: str, kwarg: str) -> tuple[str, str]:
    """The text of `name`'s URL before and after its one integer argument,
    under the current mount point: head + str(id) + tail is the URL."""
    return _url_parts(name, kwarg, get_script_prefix())


def id_url(name: str, kwarg: str, value: int) -> str:
    """reverse(name, kwargs={kwarg: value}) for an integer-argument route,
    without the resolver walk: a feed page reversed ~7 URLs per post."""
    head, tail = id_url_parts(name, kwarg)
    return f"{head}{int(value)}{tail}"


@dataclass(frozen=True)
class FeedItem:
    """A post as one viewer sees it: the post plus their own reactions to it."""

    post: Post
    liked: bool
    rating: int | None
    # Why the ranked feed placed it here (ranking.feed.Explanation); None in
    # chronological timelines.
    explanation: Any = None
    # The viewer's "show more / less like this" on it (True / False / None).
    feedback: bool | None = None

    # Ready-made text for templates that show a post: a string renders
    # without the number localisation an int goes through, and the URLs skip
    # the `{% url %}` resolver walk. frontend.post_html, which builds the
    # feed's own markup, makes the same strings from per-page parts instead
    # (tests/frontend/test_post_html.py checks it against templates using
    # these).
    @cached_property
    def pid(self) -> str:
        return str(int(self.post.id))

    @cached_property
    def profile_url(self) -> str:
        return profile_url(self.post.author.username)

    @cached_property
    def thread_url(self) -> str:
        return id_url("frontend:thread", "post_id", self.post.id)

    @cached_property
    def react_url(self) -> str:
        return id_url("frontend:react", "post_id", self.post.id)

    @cached_property
    def delete_url(self) -> str:
        return id_url("frontend:delete", "post_id", self.post.id)

    @cached_property
    def report_url(self) -> str:
        return id_url("frontend:report", "post_id", self.post.id)

    @cached_property
    def feedback_url(self) -> str:
        return id_url("ranking:feedback", "post_id", self.post.id)

    @cached_property
    def charter_url(self) -> str:
        """The charter version this item was ranked under ('' when unranked)."""
        if self.explanation is None:
            return ""
        return id_url("charter:version", "number", self.explanation.policy_version)


def home_feed_for(
    viewer: User, cursor: str | None, mode: str | None = None
) -> FeedPage:
    """The signed-in home feed in the viewer's chosen mode (ranked by default).

    Raises ValidationError for a broken cursor or an unknown mode.
    """
    return feed_for(viewer=viewer, mode=mode, cursor=cursor)


def feed_items(
    posts: list[Post],
    reactions: dict[int, dict[str, Any]],
    explanations: dict[int, Any] | None = None,
    feedback: dict[int, bool] | None = None,
) -> list[FeedItem]:
    """Pair posts with the viewer's reactions (and, in the ranked feed, the
    explanation and feedback) so templates need no dict lookups."""
    explanations = explanations or {}
    feedback = feedback or {}
    items = []
    for post in posts:
        mine = reactions.get(post.id, {})
        items.append(
            FeedItem(
                post=post,
                liked=bool(mine.get("liked")),
                rating=mine.get("rating"),
                explanation=explanations.get(post.id),
                feedback=feedback.get(post.id),
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
