"""Reads of the social core: timelines, threads, profiles, search, exports.

Every timeline uses keyset ("cursor") pagination on (created_at, id), so a
page never shifts when new posts arrive and no query uses OFFSET. The shape
of each queryset (select_related etc.) is decided here, once.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import connection
from django.db.models import CharField, Q, QuerySet, SmallIntegerField, Value
from django.http import Http404

from . import hot_reads
from .models import Block, Follow, Like, Mute, Notification, Post, Rating, User

DEFAULT_PAGE_SIZE = 30
MAX_PAGE_SIZE = 100


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.created_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            padded = token + "=" * (-len(token) % 4)
            created_raw, id_raw = base64.urlsafe_b64decode(padded).decode().split("|")
            created_at = datetime.fromisoformat(created_raw)
            if created_at.tzinfo is None:
                raise ValueError("naive time")
            return cls(created_at=created_at, id=int(id_raw))
        except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
            raise ValidationError(
                {"cursor": "The cursor is malformed; use the `next` value of a page."}
            ) from exc


@dataclass
class Page:
    items: list[Post]
    next_cursor: str | None
    # Per-post reactions of the viewer: {post_id: {"liked": bool, "rating": 1|-1|None}}
    viewer_reactions: dict[int, dict[str, Any]] = field(default_factory=dict)


def page_size_clean(raw: object) -> int:
    """Parse a requested page size, or raise a ValidationError saying what fits."""
    if raw in (None, ""):
        return DEFAULT_PAGE_SIZE
    try:
        size = int(str(raw))
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise ValidationError(
            {"limit": f"limit must be a whole number from 1 to {MAX_PAGE_SIZE}."}
        )
    return size


def _post_shape(queryset: QuerySet[Post]) -> QuerySet[Post]:
    return queryset.select_related("author", "parent__author")


def _after_cursor(queryset: QuerySet[Post], cursor: str | None) -> QuerySet[Post]:
    if not cursor:
        return queryset
    position = Cursor.decode(cursor)
    # The redundant `created_at <= t` is what lets the database start the
    # newest-first index scan at the cursor: the OR alone is no index range, so
    # every deeper page rescanned (and filtered) all newer posts from the top.
    return queryset.filter(
        Q(created_at__lte=position.created_at),
        Q(created_at__lt=position.created_at)
        | Q(created_at=position.created_at, id__lt=position.id),
    )


def _paginate(
    queryset: QuerySet[Post], *, cursor: str | None, limit: int, viewer: User | None
) -> Page:
    rows = list(
        _after_cursor(queryset, cursor).order_by("-created_at", "-id")[: limit + 1]
    )
    has_more = len(rows) > limit
    items = rows[:limit]
    next_cursor = (
        Cursor(items[-1].created_at, items[-1].id).encode()
        if has_more and items
        else None
    )
    return Page(
        items=items,
        next_cursor=next_cursor,
        viewer_reactions=viewer_reactions_for(viewer=viewer, posts=items),
    )


def hidden_author_ids(*, viewer: User | None, include_muted: bool) -> list[int]:
    """Accounts the viewer must not see (blocks both ways) or chose not to (mutes)."""
    if viewer is None or not viewer.is_authenticated:
        return []
    # One query: it runs on every feed page and thread. Each row is (who made
    # it, whom it names); the other account of the pair is the hidden one.
    pairs = Block.objects.filter(Q(blocker=viewer) | Q(blocked=viewer)).values_list(
        "blocker_id", "blocked_id"
    )
    if include_muted:
        pairs = pairs.union(
            Mute.objects.filter(muter=viewer).values_list("muter_id", "muted_id"),
            all=True,
        )
    return sorted({named if maker == viewer.id else maker for maker, named in pairs})


def blocked_either_way(user_a_id: int, user_b_id: int) -> bool:
    """True when either account blocks the other."""
    return Block.objects.filter(
        Q(blocker_id=user_a_id, blocked_id=user_b_id)
        | Q(blocker_id=user_b_id, blocked_id=user_a_id)
    ).exists()


def followed_ids(*, user: User) -> list[int]:
    """Ids of the accounts `user` follows."""
    return list(
        Follow.objects.filter(follower=user).values_list("followee_id", flat=True)
    )


def home_candidates_for(*, viewer: User) -> QuerySet[Post]:
    """Posts for the viewer's home feed: own and followed authors, minus hidden ones.

    The ranking service starts from this set; the chronological feed pages it by time.
    """
    authors = Follow.objects.filter(follower=viewer).values("followee_id")
    queryset = Post.objects.filter(Q(author_id__in=authors) | Q(author_id=viewer.id))
    hidden = hidden_author_ids(viewer=viewer, include_muted=True)
    if hidden:
        queryset = queryset.exclude(author_id__in=hidden)
    return _post_shape(queryset)


def timeline_home(
    *, viewer: User, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> Page:
    """Chronological home timeline: followed accounts and one's own, newest first."""
    return _paginate(
        home_candidates_for(viewer=viewer), cursor=cursor, limit=limit, viewer=viewer
    )


def timeline_public(
    *, viewer: User | None, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE
) -> Page:
    """Every public post, newest first, minus accounts blocked either way or muted."""
    queryset = Post.objects.all()
    hidden = hidden_author_ids(viewer=viewer, include_muted=True)
    if hidden:
        queryset = queryset.exclude(author_id__in=hidden)
    return _paginate(_post_shape(queryset), cursor=cursor, limit=limit, viewer=viewer)


def timeline_profile(
    *,
    viewer: User | None,
    author: User,
    cursor: str | None = None,
    limit: int = DEFAULT_PAGE_SIZE,
) -> Page:
    """One account's posts and replies, newest first."""
    if (
        viewer is not None
        and viewer.is_authenticated
        and blocked_either_way(viewer.id, author.id)
    ):
        raise Http404("No such account.")
    return _paginate(
        _post_shape(Post.objects.filter(author=author)),
        cursor=cursor,
        limit=limit,
        viewer=viewer,
    )


def user_get(*, user_id: int) -> User:
    """An active account by id, or 404."""
    try:
        return User.objects.get(id=user_id, is_active=True)
    except (User.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("No such account.") from exc


def _username_possible(username: str) -> bool:
    # PostgreSQL refuses NUL in text parameters; no account can have one anyway.
    return "\x00" not in username


def user_get_by_username(*, username: str) -> User:
    """An active account by username (any case), or 404; blocks are not applied."""
    if not _username_possible(username):
        raise Http404("No such account.")
    try:
        return User.objects.get(username__iexact=username, is_active=True)
    except User.DoesNotExist as exc:
        raise Http404("No such account.") from exc


def user_get_for_viewer(*, viewer: User | None, username: str) -> User:
    """An active account by username as the viewer may see it (blocks hide it)."""
    if not _username_possible(username):
        raise Http404("No such account.")
    try:
        user = User.objects.get(username__iexact=username, is_active=True)
    except User.DoesNotExist as exc:
        raise Http404("No such account.") from exc
    if (
        viewer is not None
        and viewer.is_authenticated
        and blocked_either_way(viewer.id, user.id)
    ):
        raise Http404("No such account.")
    return user


def _post_id(raw: object) -> int:
    try:
        return int(str(raw))
    except ValueError as exc:
        raise Http404("No such post.") from exc


def _visible_or_404(post: Post, viewer: User | None) -> Post:
    if (
        viewer is not None
        and viewer.is_authenticated
        and post.author_id != viewer.id
        and blocked_either_way(viewer.id, post.author_id)
    ):
        raise Http404("No such post.")
    return post


def post_get_for_viewer(
    *,
    viewer: User | None,
    post_id: object,
    for_update: bool = False,
    with_parent: bool = True,
) -> Post:
    """A post the viewer may see, or 404 (unknown id, or a block between them).

    The author is joined; `with_parent=False` leaves out the parent and its
    author, which only the pages show ("Replying to @…"), not the API.
    """
    pid = _post_id(post_id)
    if for_update:
        queryset = Post.objects.select_for_update()
    elif with_parent:
        queryset = _post_shape(Post.objects.all())
    else:
        queryset = Post.objects.select_related("author")
    try:
        post = queryset.get(id=pid)
    except ObjectDoesNotExist as exc:
        raise Http404("No such post.") from exc
    return _visible_or_404(post, viewer)


def post_get_for_write(*, viewer: User, post_id: object) -> Post:
    """The bare row of a post `viewer` acts on (no joins), or 404 as for reading.

    For services, which need the post's ids and counters, never its author.
    """
    try:
        post = Post.objects.get(id=_post_id(post_id))
    except ObjectDoesNotExist as exc:
        raise Http404("No such post.") from exc
    return _visible_or_404(post, viewer)


THREAD_MAX_POSTS = 500


def _parents_link(posts: list[Post]) -> None:
    """Attach each reply's parent, author loaded, without joining it in SQL.

    In a thread nearly every parent is on the page already; the others (hidden
    by a block, or past the page's end) are read in one query. Joining the
    parent and its author for every row instead doubled the query's columns.
    """
    by_id = {p.id: p for p in posts}
    missing = {p.parent_id for p in posts if p.parent_id and p.parent_id not in by_id}
    if missing:
        by_id.update(Post.objects.select_related("author").in_bulk(missing))
    parent_field = Post._meta.get_field("parent")
    for post in posts:
        if post.parent_id is not None:
            # A parent deleted meanwhile is cached as None: never a lazy query.
            parent_field.set_cached_value(post, by_id.get(post.parent_id))


def thread_for(
    *, viewer: User | None, post_id: object
) -> tuple[Post, list[Post], dict[int, dict[str, Any]]]:
    """The post, its whole thread in reading order, and the viewer's reactions to it.

    Each post has its author and (for replies) its parent with the parent's
    author loaded. 404 for an unknown post or one hidden by a block.
    """
    pid = _post_id(post_id)
    try:
        # get(), not first(): no ORDER BY (the model's ordering) to compile.
        author_id, root_id = Post.objects.values_list("author_id", "root_id").get(
            id=pid
        )
    except ObjectDoesNotExist as exc:
        raise Http404("No such post.") from exc
    # Blocks both ways: the same accounts that make the post itself a 404.
    hidden = hidden_author_ids(viewer=viewer, include_muted=False)
    if author_id in hidden:
        raise Http404("No such post.")
    root_id = root_id or pid
    queryset = Post.objects.filter(Q(id=root_id) | Q(root_id=root_id))
    if hidden:
        queryset = queryset.exclude(author_id__in=hidden)
    posts = list(
        queryset.select_related("author").order_by("created_at", "id")[
            :THREAD_MAX_POSTS
        ]
    )
    post = next((p for p in posts if p.id == pid), None)
    if post is None:  # past the end of a very long thread
        try:
            post = Post.objects.select_related("author").get(id=pid)
        except ObjectDoesNotExist as exc:  # deleted since the lookup
            raise Http404("No such post.") from exc
        _parents_link([post, *posts])
    else:
        _parents_link(posts)
    return post, posts, viewer_reactions_for(viewer=viewer, posts=posts)


def viewer_reactions_for(
    *, viewer: User | None, posts: list[Post]
) -> dict[int, dict[str, Any]]:
    """Whether the viewer liked and how they rated each post, in one query."""
    if viewer is None or not viewer.is_authenticated or not posts:
        return {}
    ids = [p.id for p in posts]
    # Likes come back with a NULL value, ratings with theirs (never NULL).
    rows: Any
    if connection.vendor == "postgresql":
        rows = hot_reads.reaction_rows(user_id=int(viewer.pk), post_ids=ids)
    else:
        likes = Like.objects.filter(user=viewer, post_id__in=ids).values_list(
            "post_id", Value(None, output_field=SmallIntegerField())
        )
        ratings = Rating.objects.filter(user=viewer, post_id__in=ids).values_list(
            "post_id", "value"
        )
        rows = likes.union(ratings, all=True)
    liked: set[int] = set()
    rated: dict[int, int] = {}
    for post_id, value in rows:
        if value is None:
            liked.add(post_id)
        else:
            rated[post_id] = value
    return {pid: {"liked": pid in liked, "rating": rated.get(pid)} for pid in ids}


def _tagged(queryset: QuerySet[Any], tag: str, maker: str) -> QuerySet[Any]:
    return queryset.values_list(Value(tag, output_field=CharField()), maker)


def relationship_for(*, viewer: User | None, other: User) -> dict[str, bool]:
    """How the viewer relates to another account (for follow/mute/block buttons)."""
    if viewer is None or not viewer.is_authenticated or viewer.id == other.id:
        return {
            "following": False,
            "followed_by": False,
            "muting": False,
            "blocking": False,
        }
    # One round trip: the follows both ways, the mute and the block, each row
    # tagged with its table and the account that made it.
    rows = set(
        _tagged(
            Follow.objects.filter(
                Q(follower=viewer, followee=other) | Q(follower=other, followee=viewer)
            ),
            "follow",
            "follower_id",
        ).union(
            _tagged(Mute.objects.filter(muter=viewer, muted=other), "mute", "muter_id"),
            _tagged(
                Block.objects.filter(blocker=viewer, blocked=other),
                "block",
                "blocker_id",
            ),
            all=True,
        )
    )
    return {
        "following": ("follow", viewer.id) in rows,
        "followed_by": ("follow", other.id) in rows,
        "muting": ("mute", viewer.id) in rows,
        "blocking": ("block", viewer.id) in rows,
    }


def profile_stats(*, user: User) -> dict[str, int]:
    """Public counts shown on a profile."""
    return {
        "posts": Post.objects.filter(author=user).count(),
        "followers": Follow.objects.filter(followee=user).count(),
        "following": Follow.objects.filter(follower=user).count(),
    }


SEARCH_MAX_RESULTS = 50


def search_query_clean(raw: object) -> str:
    """Validate a search query."""
    query = str(raw or "").strip()
    if len(query) < 2:
        raise ValidationError({"q": "Search for at least 2 characters."})
    if len(query) > 200:
        raise ValidationError({"q": "Search queries can be at most 200 characters."})
    if "\x00" in query:
        # PostgreSQL refuses NUL in text parameters; say so instead of failing.
        raise ValidationError({"q": "Search queries can't contain NUL characters."})
    return query


def posts_search(*, viewer: User | None, query: str, limit: int = 20) -> list[Post]:
    """Posts matching the query: full-text search on PostgreSQL, else substrings."""
    queryset = Post.objects.all()
    hidden = hidden_author_ids(viewer=viewer, include_muted=True)
    if hidden:
        queryset = queryset.exclude(author_id__in=hidden)
    limit = min(limit, SEARCH_MAX_RESULTS)
    if settings.IS_POSTGRES:
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        vector = SearchVector("body", config="english")
        search = SearchQuery(query, config="english", search_type="websearch")
        queryset = (
            queryset.annotate(document=vector, rank=SearchRank(vector, search))
            .filter(document=search)
            .order_by("-rank", "-created_at", "-id")
        )
    else:
        for term in query.split()[:8]:
            queryset = queryset.filter(body__icontains=term)
        queryset = queryset.order_by("-created_at", "-id")
    return list(_post_shape(queryset)[:limit])


def users_search(*, viewer: User | None, query: str, limit: int = 20) -> list[User]:
    """Accounts whose username or display name contains the query."""
    queryset = User.objects.filter(is_active=True).filter(
        Q(username__icontains=query) | Q(display_name__icontains=query)
    )
    hidden = hidden_author_ids(viewer=viewer, include_muted=False)
    if hidden:
        queryset = queryset.exclude(id__in=hidden)
    return list(queryset.order_by("username")[: min(limit, SEARCH_MAX_RESULTS)])


def notifications_for(*, user: User, limit: int = 50) -> list[Notification]:
    """The newest notifications of an account."""
    return list(
        Notification.objects.filter(recipient=user)
        .select_related("actor", "post")
        .order_by("-created_at", "-id")[:limit]
    )


def notifications_unread_count(*, user: User) -> int:
    """How many notifications are unread."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def account_export(*, user: User) -> dict[str, Any]:
    """Everything the account has written or chosen, as JSON-serialisable data."""

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "format": "charter-social-export/1",
        "account": {
            "id": user.id,
            "username": user.username,
            "display_name": user.display_name,
            "bio": user.bio,
            "email": user.email,
            "date_joined": iso(user.date_joined),
        },
        "posts": [
            {
                "id": p.id,
                "body": p.body,
                "parent_id": p.parent_id,
                "created_at": iso(p.created_at),
            }
            for p in Post.objects.filter(author=user).order_by("created_at", "id")
        ],
        "following": [
            {
                "username": f.followee.username,
                "priority": f.priority,
                "since": iso(f.created_at),
            }
            for f in Follow.objects.filter(follower=user).select_related("followee")
        ],
        "likes": [
            {"post_id": like.post_id, "at": iso(like.created_at)}
            for like in Like.objects.filter(user=user)
        ],
        "ratings": [
            {
                "post_id": r.post_id,
                "value": "helpful" if r.value == 1 else "unhelpful",
                "at": iso(r.updated_at),
            }
            for r in Rating.objects.filter(user=user)
        ],
        "reports": [
            {
                "post_id": r.post_id,
                "reason": r.reason,
                "details": r.details,
                "status": r.status,
                "at": iso(r.created_at),
            }
            for r in user.reports_made.all()
        ],
        "blocks": [
            b.blocked.username
            for b in Block.objects.filter(blocker=user).select_related("blocked")
        ],
        "mutes": [
            m.muted.username
            for m in Mute.objects.filter(muter=user).select_related("muted")
        ],
    }
