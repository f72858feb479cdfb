"""The ranked-feed tests' small world: a viewer, friends in two opinion groups,
an outsider with a bridging post, a muted account, and helpers to read feeds."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pytest
from django.core.cache import cache
from django.utils import timezone

from feed.models import Follow, Mute, Post, User
from ranking import feed as ranked
from ranking.artefacts import FORMAT_NPZ, FitResult, arrays_dump, training_data_sha256
from ranking.selectors import model_cache_clear
from ranking.services import model_activate, model_artefact_create, post_signals_store


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    cache.clear()
    model_cache_clear()
    yield
    cache.clear()
    model_cache_clear()


@dataclass
class World:
    viewer: User
    friends: list[User]
    outsider: User
    stranger: User
    muted: User
    posts: dict[str, Post]
    now: datetime


def store_signals(name: str, values: dict[int, float], version: int = 1) -> None:
    post_signals_store(name=name, version=version, values=values)


def activate_groups(groups: dict[int, int]) -> None:
    """Store and activate a consensus artefact that puts these users in groups."""
    ids = np.array(sorted(groups), dtype=np.int64)
    blob = arrays_dump(
        {
            "item_ids": np.array([], dtype=np.int64),
            "item_consensus": np.array([], dtype=np.float64),
            "item_groups_rating": np.zeros((0, 2), dtype=np.float64),
            "rater_ids": ids,
            "rater_group": np.array([groups[i] for i in ids.tolist()], dtype=np.int64),
            "n_groups": np.array([2]),
        }
    )
    artefact = model_artefact_create(
        name="consensus",
        result=FitResult(
            blob=blob,
            format=FORMAT_NPZ,
            training_data_sha256=training_data_sha256([sorted(groups.items())]),
        ),
    )
    model_activate(artefact=artefact, actor="test")


def activate_tiny_incivility(tag: str) -> None:
    """Fit, store and activate an incivility model on twelve texts (`tag` makes
    its training-data hash its own)."""
    from ranking.artefacts import FORMAT_SKOPS, sklearn_dump
    from ranking.incivility import incivility_fit

    texts = ["you idiot", "shut up moron", "thanks for sharing", "lovely garden"] * 3
    artefact = model_artefact_create(
        name="incivility",
        result=FitResult(
            blob=sklearn_dump(incivility_fit(texts=texts, labels=[1, 1, 0, 0] * 3)),
            format=FORMAT_SKOPS,
            training_data_sha256=training_data_sha256([tag]),
        ),
    )
    model_activate(artefact=artefact, actor="test")


def make_post(author: User, body: str, at: datetime) -> Post:
    return Post.objects.create(author=author, body=body, created_at=at)


@pytest.fixture
def world(active_charter: Any, make_user: Callable[..., User]) -> World:
    now = timezone.now()
    viewer = make_user("viewer")
    friends = [make_user(f"friend{i}") for i in range(8)]
    outsider = make_user("outsider")
    stranger = make_user("stranger")
    muted = make_user("mutedone")
    for f in friends:
        Follow.objects.create(follower=viewer, followee=f)
    Mute.objects.create(muter=viewer, muted=muted)
    posts: dict[str, Post] = {}
    k = 0
    for i, f in enumerate(friends):
        for j in range(6):
            k += 1
            posts[f"f{i}_{j}"] = make_post(
                f, f"Friend {i} on the allotment, note {j}.", now - timedelta(minutes=k)
            )
    posts["own"] = make_post(viewer, "My own note.", now - timedelta(minutes=3))
    posts["bridge"] = make_post(
        outsider, "A well-sourced summary.", now - timedelta(hours=2)
    )
    posts["plain_stranger"] = make_post(
        stranger, "Unrated musings.", now - timedelta(hours=1)
    )
    posts["muted_bridge"] = make_post(muted, "Also bridging.", now - timedelta(hours=2))
    posts["rude"] = make_post(
        friends[0], "You are all idiots.", now - timedelta(seconds=30)
    )
    ids = [p.id for p in posts.values()]
    store_signals("incivility", {i: 0.1 for i in ids} | {posts["rude"].id: 0.95})
    store_signals(
        "bridging",
        {posts["bridge"].id: 0.6, posts["muted_bridge"].id: 0.7, posts["f1_0"].id: 0.3},
    )
    store_signals("consensus", {posts["bridge"].id: 0.8})
    groups = {viewer.id: 0, outsider.id: 1, muted.id: 1}
    groups |= {f.id: (0 if i < 6 else 1) for i, f in enumerate(friends)}
    activate_groups(groups)
    return World(viewer, friends, outsider, stranger, muted, posts, now)


def ids_of(page: ranked.FeedPage) -> list[int]:
    return [p.id for p in page.items]


def all_pages(
    viewer: User, mode: str | None = None, now: datetime | None = None
) -> list[int]:
    seen: list[int] = []
    cursor = None
    for _ in range(20):
        page = ranked.feed_for(viewer=viewer, mode=mode, cursor=cursor, now=now)
        seen += ids_of(page)
        cursor = page.next_cursor
        if not cursor:
            break
    return seen


def all_explanations(viewer: User, now: datetime) -> dict[int, ranked.Explanation]:
    found: dict[int, ranked.Explanation] = {}
    cursor = None
    for _ in range(20):
        page = ranked.feed_for(viewer=viewer, cursor=cursor, now=now)
        found |= page.explanations
        cursor = page.next_cursor
        if not cursor:
            break
    return found
