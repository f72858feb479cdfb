"""Writes of the social core: one function per thing a person does.

Each service validates its input, owns its transaction, and schedules live
broadcasts and background work only after commit. Errors are raised as
django ValidationError / PermissionDenied with a message for the person.
"""

from __future__ import annotations

import re

from django.contrib.auth import password_validation
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import events
from .models import (
    Block,
    Follow,
    Like,
    Mention,
    Mute,
    Notification,
    Post,
    Rating,
    Report,
    User,
)
from .selectors import (
    blocked_either_way,
    post_get_for_viewer,
    post_get_for_write,
    user_get,
)
from .text import USERNAME_PATTERN, mentioned_usernames, post_body_clean

USERNAME_RE = re.compile(rf"^{USERNAME_PATTERN}$")
RESERVED_USERNAMES = frozenset(
    {
        "admin",
        "api",
        "charter",
        "transparency",
        "static",
        "login",
        "logout",
        "signup",
        "settings",
        "system",
        "board",
        "moderator",
        "support",
        "root",
    }
)


# Accounts -----------------------------------------------------------------------------


def user_signup(
    *, username: str, password: str, email: str = "", display_name: str = ""
) -> User:
    """Create a citizen account after checking the username and password rules."""
    username = (username or "").strip()
    if not USERNAME_RE.match(username):
        raise ValidationError(
            {"username": "Use 3–30 letters, digits or underscores for your username."}
        )
    if username.lower() in RESERVED_USERNAMES:
        raise ValidationError(
            {"username": "That username is reserved; choose another."}
        )
    if len(display_name) > 50:
        raise ValidationError(
            {"display_name": "Display names can be at most 50 characters."}
        )
    candidate = User(username=username, email=email, display_name=display_name.strip())
    try:
        password_validation.validate_password(password, user=candidate)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    try:
        with transaction.atomic():
            if User.objects.filter(username__iexact=username).exists():
                raise ValidationError(
                    {"username": "That username is taken; choose another."}
                )
            candidate.set_password(password)
            candidate.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"username": "That username is taken; choose another."}
        ) from exc
    return candidate


def profile_update(*, user: User, display_name: str, bio: str) -> User:
    """Change the public display name and bio."""
    display_name = (display_name or "").strip()
    bio = (bio or "").strip()
    errors = {}
    if len(display_name) > 50:
        errors["display_name"] = "Display names can be at most 50 characters."
    if len(bio) > 300:
        errors["bio"] = f"Bios can be at most 300 characters; this one has {len(bio)}."
    if errors:
        raise ValidationError(errors)
    user.display_name = display_name
    user.bio = bio
    user.save(update_fields=["display_name", "bio"])
    return user


def password_change(*, user: User, old_password: str, new_password: str) -> User:
    """Change a password after confirming the old one."""
    if not user.check_password(old_password):
        raise ValidationError({"old_password": "Your current password is not correct."})
    try:
        password_validation.validate_password(new_password, user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    return user


def account_delete(*, user: User, password: str) -> None:
    """Delete the account and everything it wrote, after confirming the password."""
    if not user.check_password(password):
        raise ValidationError(
            {"password": "Enter your current password to delete your account."}
        )
    with transaction.atomic():
        # Replies by others survive, detached; counters on posts they reacted to drop.
        liked = Like.objects.filter(user=user).values("post_id")
        Post.objects.filter(id__in=liked).update(like_count=F("like_count") - 1)
        for value, field in ((1, "helpful_count"), (-1, "unhelpful_count")):
            rated = Rating.objects.filter(user=user, value=value).values("post_id")
            Post.objects.filter(id__in=rated).update(**{field: F(field) - 1})
        parent_ids = list(
            Post.objects.filter(author=user, parent__isnull=False)
            .exclude(parent__author=user)
            .values_list("parent_id", flat=True)
        )
        for parent_id in parent_ids:
            Post.objects.filter(id=parent_id, reply_count__gt=0).update(
                reply_count=F("reply_count") - 1
            )
        user.delete()


# Posts --------------------------------------------------------------------------------


def post_create(*, author: User, body: object, parent_id: int | None = None) -> Post:
    """Publish a post, or a reply when `parent_id` is given.

    Mentions and the reply notify their targets; followers with the home page
    open see a "new posts" banner; ranking signals are computed off the request.
    """
    try:
        clean_body = post_body_clean(body)
    except ValueError as exc:
        raise ValidationError({"body": str(exc)}) from exc
    with transaction.atomic():
        parent: Post | None = None
        if parent_id is not None:
            # post_get_for_write already answers 404 when either account
            # blocks the other, so a blocked account cannot reply.
            parent = post_get_for_write(viewer=author, post_id=parent_id)
        post = Post.objects.create(
            author=author,
            body=clean_body,
            parent=parent,
            root_id=(parent.root_id or parent.id) if parent else None,
            created_at=timezone.now(),
        )
        if parent is not None:
            Post.objects.filter(id=parent.id).update(reply_count=F("reply_count") + 1)
            if parent.author_id != author.id:
                _notify(
                    recipient_id=parent.author_id,
                    actor=author,
                    kind=Notification.Kind.REPLY,
                    post=post,
                )
            thread_root = post.root_id or post.id
            events.broadcast_after_commit(
                events.group_for_thread(thread_root),
                {
                    "type": "thread.reply",
                    "post_id": post.id,
                    "parent_id": parent.id,
                    "reply_count": parent.reply_count + 1,
                },
            )
        _record_mentions(
            post=post, author=author, skip_user_id=parent.author_id if parent else None
        )
        events.broadcast_after_commit(
            events.group_for_author(author.id),
            {
                "type": "post.created",
                "post_id": post.id,
                "author_id": author.id,
                "author": author.username,
                "is_reply": parent is not None,
            },
        )
        _enqueue_signals(post.id)
    return post


def _record_mentions(*, post: Post, author: User, skip_user_id: int | None) -> None:
    names = mentioned_usernames(post.body)
    if not names:
        return
    # Usernames are unique case-insensitively, so match each mention that way.
    matches = Q()
    for name in names[:50]:
        matches |= Q(username__iexact=name)
    users = User.objects.filter(matches, is_active=True).exclude(id=author.id)
    for user in users:
        if blocked_either_way(author.id, user.id):
            continue
        Mention.objects.get_or_create(post=post, user=user)
        if user.id != skip_user_id:
            _notify(
                recipient_id=user.id,
                actor=author,
                kind=Notification.Kind.MENTION,
                post=post,
            )


def _enqueue_signals(post_id: int) -> None:
    # Ranking computes signals for new posts off the request path; until that
    # app provides the hook the feed simply has no signals yet.
    try:
        from ranking.services import post_signals_enqueue
    except ImportError:
        return
    post_signals_enqueue(post_ids=[post_id])


def post_delete(*, user: User, post_id: int) -> None:
    """Delete one's own post; replies by others stay, detached."""
    with transaction.atomic():
        post = post_get_for_viewer(viewer=user, post_id=post_id, for_update=True)
        if post.author_id != user.id:
            raise PermissionDenied("You can only delete your own posts.")
        if post.parent_id is not None:
            Post.objects.filter(id=post.parent_id, reply_count__gt=0).update(
                reply_count=F("reply_count") - 1
            )
        post.delete()


# Follows, blocks, mutes ---------------------------------------------------------------


def follow_create(*, follower: User, followee_id: int) -> Follow:
    """Follow an account; its new posts appear in the follower's home feed."""
    followee = user_get(user_id=followee_id)
    if followee.id == follower.id:
        raise ValidationError("You can't follow yourself.")
    if blocked_either_way(follower.id, followee.id):
        raise PermissionDenied("You can't follow this account.")
    try:
        with transaction.atomic():
            follow = Follow.objects.create(follower=follower, followee=followee)
            _notify(
                recipient_id=followee.id,
                actor=follower,
                kind=Notification.Kind.FOLLOW,
                post=None,
            )
            events.broadcast_after_commit(
                events.group_for_user(follower.id),
                {
                    "type": "follows.changed",
                    "author_id": followee.id,
                    "following": True,
                },
            )
    except IntegrityError as exc:
        raise ValidationError(f"You already follow @{followee.username}.") from exc
    return follow


def follow_delete(*, follower: User, followee_id: int) -> None:
    """Stop following an account."""
    with transaction.atomic():
        deleted, _ = Follow.objects.filter(
            follower=follower, followee_id=followee_id
        ).delete()
        if not deleted:
            raise ValidationError("You don't follow this account.")
        events.broadcast_after_commit(
            events.group_for_user(follower.id),
            {"type": "follows.changed", "author_id": followee_id, "following": False},
        )


def follow_priority_set(*, follower: User, followee_id: int, priority: int) -> Follow:
    """Set how much a followed account matters (-2..2); it feeds ranking's affinity."""
    if (
        not isinstance(priority, int)
        or isinstance(priority, bool)
        or not -2 <= priority <= 2
    ):
        raise ValidationError(
            {"priority": "Priority must be a whole number from -2 to 2."}
        )
    updated = Follow.objects.filter(follower=follower, followee_id=followee_id).update(
        priority=priority
    )
    if not updated:
        raise ValidationError("Follow the account before giving it a priority.")
    return Follow.objects.get(follower=follower, followee_id=followee_id)


def block_create(*, blocker: User, blocked_id: int) -> Block:
    """Block an account: it can no longer see, reply to or follow the blocker."""
    blocked = user_get(user_id=blocked_id)
    if blocked.id == blocker.id:
        raise ValidationError("You can't block yourself.")
    try:
        with transaction.atomic():
            block = Block.objects.create(blocker=blocker, blocked=blocked)
            Follow.objects.filter(follower=blocker, followee=blocked).delete()
            Follow.objects.filter(follower=blocked, followee=blocker).delete()
            for uid, other in ((blocker.id, blocked.id), (blocked.id, blocker.id)):
                events.broadcast_after_commit(
                    events.group_for_user(uid),
                    {"type": "follows.changed", "author_id": other, "following": False},
                )
    except IntegrityError as exc:
        raise ValidationError(f"You already block @{blocked.username}.") from exc
    return block


def block_delete(*, blocker: User, blocked_id: int) -> None:
    """Lift a block."""
    deleted, _ = Block.objects.filter(blocker=blocker, blocked_id=blocked_id).delete()
    if not deleted:
        raise ValidationError("You don't block this account.")


def mute_create(*, muter: User, muted_id: int) -> Mute:
    """Mute an account: its posts vanish from the muter's feeds."""
    muted = user_get(user_id=muted_id)
    if muted.id == muter.id:
        raise ValidationError("You can't mute yourself.")
    try:
        with transaction.atomic():
            mute = Mute.objects.create(muter=muter, muted=muted)
            events.broadcast_after_commit(
                events.group_for_user(muter.id),
                {"type": "mutes.changed", "author_id": muted.id, "muted": True},
            )
    except IntegrityError as exc:
        raise ValidationError(f"You already mute @{muted.username}.") from exc
    return mute


def mute_delete(*, muter: User, muted_id: int) -> None:
    """Unmute an account."""
    with transaction.atomic():
        deleted, _ = Mute.objects.filter(muter=muter, muted_id=muted_id).delete()
        if not deleted:
            raise ValidationError("You don't mute this account.")
        events.broadcast_after_commit(
            events.group_for_user(muter.id),
            {"type": "mutes.changed", "author_id": muted_id, "muted": False},
        )


# Reactions ----------------------------------------------------------------------------


def like_create(*, user: User, post_id: int) -> Like:
    """Like a post. Likes are counted and shown; the charter ranker never uses them.

    The returned like's `post` is the post as it stands after the like, author
    loaded (the counts its thread is told).
    """
    try:
        with transaction.atomic():
            post = post_get_for_write(viewer=user, post_id=post_id)
            like = Like.objects.create(user=user, post=post)
            Post.objects.filter(id=post.id).update(like_count=F("like_count") + 1)
    except IntegrityError as exc:
        raise ValidationError("You already like this post.") from exc
    fresh = _broadcast_counts(post.id)
    if fresh is not None:
        like.post = fresh
    return like


def like_delete(*, user: User, post_id: int) -> None:
    """Take back a like."""
    with transaction.atomic():
        deleted, _ = Like.objects.filter(user=user, post_id=post_id).delete()
        if not deleted:
            raise ValidationError("You don't like this post.")
        Post.objects.filter(id=post_id, like_count__gt=0).update(
            like_count=F("like_count") - 1
        )
    _broadcast_counts(post_id)


RATING_NAMES = {"helpful": Rating.Value.HELPFUL, "unhelpful": Rating.Value.UNHELPFUL}


def rating_set(*, user: User, post_id: int, value: object) -> Rating:
    """Rate a post helpful or unhelpful; rating again changes the rating.

    `value` is "helpful", "unhelpful", 1 or -1. The returned rating's `post` is
    the post as it stands after the rating, author loaded.
    """
    if isinstance(value, str) and value in RATING_NAMES:
        numeric = int(RATING_NAMES[value])
    elif isinstance(value, int) and not isinstance(value, bool) and value in (1, -1):
        numeric = value
    else:
        raise ValidationError({"value": 'Rate with "helpful" or "unhelpful".'})
    with transaction.atomic():
        post = post_get_for_write(viewer=user, post_id=post_id)
        if post.author_id == user.id:
            raise ValidationError("You can't rate your own post.")
        rating, changed = _rating_write(user=user, post=post, numeric=numeric)
    fresh = _post_after_write(post.id)
    if fresh is not None:
        if changed:
            _counts_announce(fresh)
        rating.post = fresh
    return rating


def _rating_write(*, user: User, post: Post, numeric: int) -> tuple[Rating, bool]:
    """Store the rating and move the counters; (rating, whether anything changed)."""
    try:
        existing: Rating | None = Rating.objects.select_for_update().get(
            user=user, post=post
        )
    except Rating.DoesNotExist:
        existing = None
    if existing is None:
        try:
            with transaction.atomic():
                rating = Rating.objects.create(user=user, post=post, value=numeric)
        except IntegrityError:
            # A concurrent request rated first; treat this one as a change.
            existing = Rating.objects.select_for_update().get(user=user, post=post)
        else:
            field = "helpful_count" if numeric == 1 else "unhelpful_count"
            Post.objects.filter(id=post.id).update(**{field: F(field) + 1})
            return rating, True
    if existing.value == numeric:
        return existing, False
    old_field = "helpful_count" if existing.value == 1 else "unhelpful_count"
    new_field = "helpful_count" if numeric == 1 else "unhelpful_count"
    Post.objects.filter(id=post.id).update(
        **{old_field: F(old_field) - 1, new_field: F(new_field) + 1}
    )
    existing.value = numeric
    existing.save(update_fields=["value", "updated_at"])
    return existing, True


def rating_delete(*, user: User, post_id: int) -> None:
    """Withdraw a rating."""
    with transaction.atomic():
        rating = (
            Rating.objects.select_for_update()
            .filter(user=user, post_id=post_id)
            .first()
        )
        if rating is None:
            raise ValidationError("You haven't rated this post.")
        field = "helpful_count" if rating.value == 1 else "unhelpful_count"
        rating.delete()
        Post.objects.filter(id=post_id, **{f"{field}__gt": 0}).update(
            **{field: F(field) - 1}
        )
    _broadcast_counts(post_id)


def _post_after_write(post_id: int) -> Post | None:
    """The post as it stands after a reaction, author loaded (None if deleted).

    Read after the write's own transaction: outside any other, after commit, so
    it includes every change committed before it, as a reload would show.
    """
    try:
        return Post.objects.select_related("author").get(id=post_id)
    except Post.DoesNotExist:
        return None


def _counts_announce(post: Post) -> None:
    """Tell everyone with the post's thread open its counts, once committed."""
    events.broadcast_after_commit(
        events.group_for_thread(post.root_id or post.id),
        {
            "type": "post.counts",
            "id": post.id,
            "like_count": post.like_count,
            "reply_count": post.reply_count,
            "helpful_count": post.helpful_count,
            "unhelpful_count": post.unhelpful_count,
            "post_id": post.id,
        },
    )


def _broadcast_counts(post_id: int) -> Post | None:
    post = _post_after_write(post_id)
    if post is not None:
        _counts_announce(post)
    return post


# Reports and notifications ------------------------------------------------------------


def report_create(
    *, reporter: User, post_id: int, reason: str, details: str = ""
) -> Report:
    """Flag a post for moderators, with a reason."""
    if reason not in Report.Reason.values:
        choices = ", ".join(Report.Reason.values)
        raise ValidationError({"reason": f"Choose a reason from: {choices}."})
    details = (details or "").strip()
    if len(details) > 1000:
        raise ValidationError(
            {"details": "Keep the details to 1000 characters or fewer."}
        )
    try:
        with transaction.atomic():
            post = post_get_for_write(viewer=reporter, post_id=post_id)
            if post.author_id == reporter.id:
                raise ValidationError(
                    "You can't report your own post; delete it instead."
                )
            return Report.objects.create(
                reporter=reporter, post=post, reason=reason, details=details
            )
    except IntegrityError as exc:
        raise ValidationError("You have already reported this post.") from exc


def _notify(
    *, recipient_id: int, actor: User, kind: str, post: Post | None
) -> Notification:
    notification = Notification.objects.create(
        recipient_id=recipient_id, actor=actor, kind=kind, post=post
    )
    events.broadcast_after_commit(
        events.group_for_user(recipient_id),
        {
            "type": "notification.created",
            "notification_id": notification.id,
            "kind": kind,
            "actor": actor.username,
            "post_id": post.id if post else None,
        },
    )
    return notification


def notifications_mark_read(*, user: User) -> int:
    """Mark every unread notification read; returns how many changed."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
