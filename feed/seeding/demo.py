"""The demo society: planned in memory, then written in one transaction.

Two camps argue about transport in a fictional city (see ``text``), with
moderates between them. ``demo_plan`` is a pure function of the seed, the
scale and the anchor time; ``demo_load`` writes the plan with bulk_create and
sets every denormalised counter on Post from the planned rows, so the
counters equal the real rows.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import transaction

from feed.models import Follow, Like, Mention, Notification, Post, Rating, Report, User

from .text import (
    CAMP_LABELS,
    DEMO_PASSWORD,
    Persona,
    personas_make,
    post_body,
    reply_body,
)

BASE_USERS = 64
BASE_POSTS = 640
BASE_REPLIES = 200
WINDOW = timedelta(days=14)
MAX_DEPTH = 3


@dataclass
class PlannedPost:
    author: int  # index into DemoPlan.personas
    body: str
    created_at: datetime
    topic: str
    slant: float  # hidden: where the post sits on the transport axis
    uncivil: bool  # hidden: written with a jab at the other camp
    bridging: bool  # hidden: a moderate, common-ground post
    parent: int | None = None  # index into DemoPlan.posts
    depth: int = 0
    mention: int | None = None  # persona mentioned with @ at the start


@dataclass
class DemoPlan:
    """Everything seed_demo writes, as plain data indexed by position."""

    personas: list[Persona]
    posts: list[PlannedPost]
    follows: list[tuple[int, int]] = field(default_factory=list)
    likes: list[tuple[int, int]] = field(default_factory=list)  # (persona, post)
    ratings: list[tuple[int, int, int]] = field(
        default_factory=list
    )  # (persona, post, ±1)
    reports: list[tuple[int, int]] = field(default_factory=list)  # (persona, post)
    moderators: list[int] = field(default_factory=list)
    board: list[int] = field(default_factory=list)
    joined: list[datetime] = field(default_factory=list)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _agreement(viewpoint: float, slant: float) -> float:
    """1 when viewer and post sit at the same point of the axis, 0 at opposite ends."""
    return 1.0 - abs(viewpoint - slant) / 2.0


def demo_plan(*, seed: int, scale: float, now: datetime) -> DemoPlan:
    """Plan the demo society; the same arguments always give the same plan."""
    rng = random.Random(seed)
    n_users = max(9, round(BASE_USERS * scale))
    personas = personas_make(rng, n_users)
    activity = [rng.uniform(0.5, 1.5) + abs(p.viewpoint) for p in personas]
    start = now - WINDOW

    posts: list[PlannedPost] = []
    times = sorted(
        rng.uniform(0, WINDOW.total_seconds()) for _ in range(round(BASE_POSTS * scale))
    )
    for offset in times:
        author = rng.choices(range(n_users), weights=activity)[0]
        persona = personas[author]
        # Camp members sometimes write a common-ground post too; those are the
        # posts both camps should find helpful.
        bridging = persona.stance == "moderate" or rng.random() < 0.08
        extremity = max(0.0, abs(persona.viewpoint) - 0.6) / 0.4
        uncivil = not bridging and rng.random() < 0.04 + 0.3 * extremity
        topic, body = post_body(
            rng, stance="moderate" if bridging else persona.stance, uncivil=uncivil
        )
        slant = rng.uniform(-0.15, 0.15) if bridging else persona.viewpoint
        posts.append(
            PlannedPost(
                author=author,
                body=body,
                created_at=start + timedelta(seconds=offset),
                topic=topic,
                slant=round(slant, 3),
                uncivil=uncivil,
                bridging=bridging,
            )
        )

    _plan_replies(rng, personas, posts, count=round(BASE_REPLIES * scale), now=now)
    plan = DemoPlan(personas=personas, posts=posts)
    plan.joined = [start - timedelta(days=rng.uniform(1, 90)) for _ in personas]
    _plan_follows(rng, plan)
    _plan_reactions(rng, plan)
    for index, post in enumerate(posts):
        if post.uncivil and rng.random() < 0.3:
            reporters = [
                i
                for i, p in enumerate(personas)
                if i != post.author and p.viewpoint * post.slant < 0
            ]
            if reporters:
                plan.reports.append((rng.choice(reporters), index))
    moderates = [i for i, p in enumerate(personas) if p.stance == "moderate"]
    plan.moderators = moderates[:2]
    by_stance = {
        s: [i for i, p in enumerate(personas) if p.stance == s] for s in CAMP_LABELS
    }
    # A balanced board: two seats per camp and one moderate, none of them the
    # moderators or the first demo logins.
    plan.board = by_stance["people"][1:3] + by_stance["moving"][1:3] + moderates[2:3]
    return plan


def _plan_replies(
    rng: random.Random,
    personas: list[Persona],
    posts: list[PlannedPost],
    *,
    count: int,
    now: datetime,
) -> None:
    latest = now - timedelta(minutes=1)
    for _ in range(count):
        # Outrage draws replies: uncivil and one-sided posts start more threads.
        weights = [1.0 + 3.0 * p.uncivil + abs(p.slant) for p in posts]
        parent_index = rng.choices(range(len(posts)), weights=weights)[0]
        parent = posts[parent_index]
        if parent.depth >= MAX_DEPTH and parent.parent is not None:
            parent_index, parent = parent.parent, posts[parent.parent]
        parent_view = personas[parent.author].viewpoint
        roll = rng.random()
        if roll < 0.55:
            pool = [
                i
                for i, p in enumerate(personas)
                if p.viewpoint * parent_view < 0 and p.stance != "moderate"
            ]
        elif roll < 0.85:
            pool = [i for i, p in enumerate(personas) if p.viewpoint * parent_view > 0]
        else:
            pool = [i for i, p in enumerate(personas) if p.stance == "moderate"]
        pool = [i for i in pool if i != parent.author] or [
            i for i in range(len(personas)) if i != parent.author
        ]
        author = rng.choice(pool)
        persona = personas[author]
        agrees = persona.viewpoint * parent.slant > 0 or persona.stance == "moderate"
        uncivil = (
            not agrees and abs(persona.viewpoint) > 0.6 and rng.random() < 0.25
        ) or (rng.random() < 0.02)
        mention = parent.author if rng.random() < 0.3 else None
        created = min(
            parent.created_at + timedelta(minutes=rng.uniform(3, 600)), latest
        )
        body = reply_body(
            rng,
            stance=persona.stance,
            topic=parent.topic,
            agrees=agrees,
            uncivil=uncivil,
            mention=personas[mention].username if mention is not None else None,
        )
        posts.append(
            PlannedPost(
                author=author,
                body=body,
                created_at=created,
                topic=parent.topic,
                slant=persona.viewpoint if persona.stance != "moderate" else 0.0,
                uncivil=uncivil,
                bridging=persona.stance == "moderate" and not uncivil,
                parent=parent_index,
                depth=parent.depth + 1,
                mention=mention,
            )
        )


def _plan_follows(rng: random.Random, plan: DemoPlan) -> None:
    personas = plan.personas
    for i, a in enumerate(personas):
        for j, b in enumerate(personas):
            if i == j:
                continue
            if a.stance == "moderate" or b.stance == "moderate":
                chance = 0.2
            elif a.stance == b.stance:
                chance = 0.4
            else:
                chance = 0.04  # the occasional bridge across camps
            if rng.random() < chance:
                plan.follows.append((i, j))


def _plan_reactions(rng: random.Random, plan: DemoPlan) -> None:
    for index, post in enumerate(plan.posts):
        for viewer, persona in enumerate(plan.personas):
            if viewer == post.author:
                continue
            agree = _agreement(persona.viewpoint, post.slant)
            # Likes reward agreement, and outrage the viewer agrees with most.
            like_logit = -3.6 + 2.5 * agree + 2.2 * post.uncivil * agree
            if rng.random() < _sigmoid(like_logit):
                plan.likes.append((viewer, index))
            # People mostly rate what they already agree with; common-ground
            # posts are rated, and found helpful, across camps.
            rate_logit = -3.4 + 2.2 * agree + 1.2 * post.bridging
            if rng.random() < _sigmoid(rate_logit):
                help_logit = (
                    -2.6 + 5.0 * agree - 2.2 * post.uncivil + 1.5 * post.bridging
                )
                value = 1 if rng.random() < _sigmoid(help_logit) else -1
                plan.ratings.append((viewer, index, value))


@dataclass(frozen=True)
class DemoSummary:
    users: int
    posts: int
    replies: int
    follows: int
    likes: int
    ratings: int
    reports: int
    logins: list[tuple[str, str]]  # (username, role)


def demo_load(plan: DemoPlan) -> DemoSummary:
    """Write a planned society to the database in one transaction."""
    # One hash for every demo account: hashing the same password 64 times at
    # Django's PBKDF2 cost would take most of a minute on a small machine.
    password_hash = make_password(DEMO_PASSWORD)
    moderators = set(plan.moderators)
    with transaction.atomic():
        users = User.objects.bulk_create(
            User(
                username=p.username,
                display_name=p.display_name,
                bio=p.bio,
                email=f"{p.username}@demo.invalid",
                password=password_hash,
                is_moderator=i in moderators,
                date_joined=plan.joined[i],
            )
            for i, p in enumerate(plan.personas)
        )
        posts = _posts_load(plan, users)
        Follow.objects.bulk_create(
            Follow(follower=users[a], followee=users[b]) for a, b in plan.follows
        )
        Like.objects.bulk_create(
            Like(user=users[u], post=posts[p]) for u, p in plan.likes
        )
        Rating.objects.bulk_create(
            Rating(user=users[u], post=posts[p], value=v) for u, p, v in plan.ratings
        )
        Report.objects.bulk_create(
            Report(reporter=users[u], post=posts[p], reason=Report.Reason.INCIVILITY)
            for u, p in plan.reports
        )
        _notifications_load(plan, users, posts)
        _board_seat(users=[users[i] for i in plan.board])
        post_ids = [p.id for p in posts]
        transaction.on_commit(lambda: _signals_enqueue(post_ids))
    # The first two accounts belong to one camp each (see stance_for_index).
    logins = [(users[i].username, CAMP_LABELS[plan.personas[i].stance]) for i in (0, 1)]
    logins += [(users[i].username, "moderator") for i in plan.moderators[:1]]
    logins += [(users[i].username, "board member") for i in plan.board[:1]]
    return DemoSummary(
        users=len(users),
        posts=len(posts),
        replies=sum(1 for p in plan.posts if p.parent is not None),
        follows=len(plan.follows),
        likes=len(plan.likes),
        ratings=len(plan.ratings),
        reports=len(plan.reports),
        logins=logins,
    )


def _posts_load(plan: DemoPlan, users: list[User]) -> list[Post]:
    likes = Counter(p for _, p in plan.likes)
    helpful = Counter(p for _, p, v in plan.ratings if v == 1)
    unhelpful = Counter(p for _, p, v in plan.ratings if v == -1)
    replies = Counter(p.parent for p in plan.posts if p.parent is not None)
    objects = [
        Post(
            author=users[p.author],
            body=p.body,
            created_at=p.created_at,
            like_count=likes[i],
            reply_count=replies[i],
            helpful_count=helpful[i],
            unhelpful_count=unhelpful[i],
        )
        for i, p in enumerate(plan.posts)
    ]
    # Insert depth by depth so every parent has its id before its replies.
    for depth in range(MAX_DEPTH + 1):
        wave = [i for i, p in enumerate(plan.posts) if p.depth == depth]
        for i in wave:
            planned = plan.posts[i]
            if planned.parent is not None:
                parent = objects[planned.parent]
                objects[i].parent = parent
                objects[i].root_id = parent.root_id or parent.id
        Post.objects.bulk_create([objects[i] for i in wave], batch_size=500)
    return objects


def _notifications_load(plan: DemoPlan, users: list[User], posts: list[Post]) -> None:
    mentions: list[Mention] = []
    notifications: list[Notification] = []
    for i, planned in enumerate(plan.posts):
        if planned.parent is None:
            continue
        parent_author = plan.posts[planned.parent].author
        if planned.mention is not None:
            mentions.append(Mention(post=posts[i], user=users[planned.mention]))
        if parent_author != planned.author:
            notifications.append(
                Notification(
                    recipient=users[parent_author],
                    actor=users[planned.author],
                    kind=Notification.Kind.REPLY,
                    post=posts[i],
                )
            )
    for follower, followee in plan.follows:
        notifications.append(
            Notification(
                recipient=users[followee],
                actor=users[follower],
                kind=Notification.Kind.FOLLOW,
            )
        )
    Mention.objects.bulk_create(mentions)
    Notification.objects.bulk_create(notifications, batch_size=500)


def _board_seat(*, users: list[User]) -> None:
    # The charter app may not be installed yet; the demo works without a board.
    try:
        from charter.services import board_membership_grant
    except ImportError:
        return
    for user in users:
        board_membership_grant(user=user, role="citizen seat")


def charter_genesis_run() -> bool:
    """Adopt charter v1 if the charter app is there; True when v1 exists afterwards."""
    try:
        from charter.services import charter_genesis
    except ImportError:
        return False
    charter_genesis()
    return True


def _signals_enqueue(post_ids: list[int]) -> None:
    # bulk_create bypasses post_create, so hand ranking the same work it would
    # have queued post by post.
    try:
        from ranking.services import post_signals_enqueue
    except ImportError:
        return
    post_signals_enqueue(post_ids=post_ids)
