"""The plan of a synthetic data set for benchmarks, as numpy arrays.

Sized up to 100k users / 1M posts / 5M ratings. Deterministic for a seed;
every denormalised counter on Post is computed here from the planned rows, so
whatever writes the plan writes consistent counters.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np

from .text import scale_bodies

BODY_POOL = 4096
# How far back a reply's parent may be, in posts: threads form among recent posts.
REPLY_WINDOW = 2000
# Reactions arrive within this long after the post (capped at now).
REACTION_DELAY_MINUTES = 3 * 24 * 60


@dataclass
class ScalePlan:
    """A synthetic data set as arrays of row indexes (not database ids).

    Users sit in two camps (-1, +1) or between them (0); ratings agree with
    the rater's camp most of the time, so the bridging model has real
    structure to fit at scale too.
    """

    users: int
    posts: int
    days: float
    seed: int
    camp: np.ndarray
    post_author: np.ndarray
    post_seconds: np.ndarray  # seconds after the window start, ascending
    post_parent: np.ndarray  # -1 for a top-level post
    post_root: np.ndarray  # -1 for a top-level post
    post_body: np.ndarray  # index into body_pool
    body_pool: list[str]
    follow_src: np.ndarray
    follow_dst: np.ndarray
    like_user: np.ndarray
    like_post: np.ndarray
    like_minute: np.ndarray
    rating_user: np.ndarray
    rating_post: np.ndarray
    rating_value: np.ndarray
    rating_minute: np.ndarray
    like_count: np.ndarray
    reply_count: np.ndarray
    helpful_count: np.ndarray
    unhelpful_count: np.ndarray

    @property
    def replies(self) -> int:
        return int((self.post_parent >= 0).sum())


def _follows(
    rng: np.random.Generator, users: int, per_user: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exactly min(per_user, users - 1) distinct followees per user, never oneself."""
    per_user = min(per_user, users - 1)
    if per_user == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    if per_user * 4 >= users:
        # Dense: sample each row without replacement (small user counts only).
        offsets = np.stack(
            [rng.choice(users - 1, per_user, replace=False) + 1 for _ in range(users)]
        )
    else:
        # Sparse: oversample with replacement, drop repeats, keep the first
        # per_user distinct offsets; redraw the rare rows left short.
        extra = max(8, per_user // 10)
        drawn = np.sort(rng.integers(1, users, size=(users, per_user + extra)), axis=1)
        repeat = np.zeros(drawn.shape, dtype=bool)
        repeat[:, 1:] = drawn[:, 1:] == drawn[:, :-1]
        order = np.argsort(repeat, axis=1, kind="stable")[:, :per_user]
        offsets = np.take_along_axis(drawn, order, axis=1)
        for row in np.nonzero((~repeat).sum(axis=1) < per_user)[0]:
            offsets[row] = rng.choice(users - 1, per_user, replace=False) + 1
    src = np.repeat(np.arange(users, dtype=np.int64), per_user)
    dst = (src + offsets.reshape(-1)) % users
    return src, dst


def _pairs(
    rng: np.random.Generator, wanted: int, users: int, post_author: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """`wanted` distinct (user, post) pairs, none by the post's own author, sorted."""
    posts = len(post_author)
    if wanted == 0 or posts == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    possible = users * posts - posts
    if wanted > possible // 2:
        raise ValueError(
            f"Asked for {wanted:,} reactions but {users:,} users and {posts:,} posts "
            f"allow at most {possible // 2:,}; ask for fewer or add users or posts."
        )
    keys = np.zeros(0, dtype=np.int64)
    while len(keys) < wanted:
        sample = int((wanted - len(keys)) * 1.1) + 64
        user = rng.integers(0, users, size=sample, dtype=np.int64)
        post = rng.integers(0, posts, size=sample, dtype=np.int64)
        keep = post_author[post] != user
        keys = np.union1d(keys, user[keep] * posts + post[keep])
    if len(keys) > wanted:
        keys = np.sort(rng.choice(keys, size=wanted, replace=False))
    return keys // posts, keys % posts


def _reaction_minutes(
    rng: np.random.Generator, post_seconds: np.ndarray, post: np.ndarray, days: float
) -> np.ndarray:
    last = int(days * 24 * 60)
    delay = rng.integers(0, REACTION_DELAY_MINUTES, size=len(post))
    return np.minimum((post_seconds[post] // 60).astype(np.int64) + delay, last)


def scale_plan(
    *,
    users: int,
    posts: int,
    ratings: int,
    likes: int,
    follows_per_user: int,
    reply_share: float,
    days: float,
    seed: int,
) -> ScalePlan:
    """Plan a data set of the given size; the same arguments give the same data."""
    rng = np.random.default_rng(seed)
    camp = rng.choice(
        np.array([-1, 0, 1], dtype=np.int8), size=users, p=[0.42, 0.16, 0.42]
    )
    # Some accounts post far more than others (log-normal activity).
    activity = rng.lognormal(0.0, 1.0, size=users)
    post_author = rng.choice(users, size=posts, p=activity / activity.sum()).astype(
        np.int64
    )
    post_seconds = np.sort(rng.uniform(0.0, days * 86400.0, size=posts))
    index = np.arange(posts, dtype=np.int64)
    window = np.minimum(index, REPLY_WINDOW)
    parent = index - 1 - np.floor(rng.random(posts) * window).astype(np.int64)
    parent[(rng.random(posts) >= reply_share) | (parent < 0)] = -1
    root = np.full(posts, -1, dtype=np.int64)
    for i in np.nonzero(parent >= 0)[0].tolist():
        p = int(parent[i])
        root[i] = root[p] if root[p] >= 0 else p
    follow_src, follow_dst = _follows(rng, users, follows_per_user)
    like_user, like_post = _pairs(rng, likes, users, post_author)
    rating_user, rating_post = _pairs(rng, ratings, users, post_author)
    rater_camp, author_camp = camp[rating_user], camp[post_author[rating_post]]
    helpful_chance = np.where(
        rater_camp == author_camp,
        0.8,
        np.where((rater_camp == 0) | (author_camp == 0), 0.6, 0.25),
    )
    rating_value = np.where(
        rng.random(len(rating_user)) < helpful_chance, 1, -1
    ).astype(np.int8)
    return ScalePlan(
        users=users,
        posts=posts,
        days=days,
        seed=seed,
        camp=camp,
        post_author=post_author,
        post_seconds=post_seconds,
        post_parent=parent,
        post_root=root,
        post_body=rng.integers(0, BODY_POOL, size=posts),
        body_pool=scale_bodies(random.Random(seed), BODY_POOL),
        follow_src=follow_src,
        follow_dst=follow_dst,
        like_user=like_user,
        like_post=like_post,
        like_minute=_reaction_minutes(rng, post_seconds, like_post, days),
        rating_user=rating_user,
        rating_post=rating_post,
        rating_value=rating_value,
        rating_minute=_reaction_minutes(rng, post_seconds, rating_post, days),
        like_count=np.bincount(like_post, minlength=posts),
        reply_count=np.bincount(parent[parent >= 0], minlength=posts),
        helpful_count=np.bincount(rating_post[rating_value == 1], minlength=posts),
        unhelpful_count=np.bincount(rating_post[rating_value == -1], minlength=posts),
    )
