"""Ranked reading sessions: one ranking serves a reader's later pages and reloads.

Ranking a home feed means reading ~1,700 candidates with their signals and
ranking them under the charter: most of what a ranked page costs. A session
keeps the outcome of one ranking in the shared cache — its `as_of`, the
ranked order to a few pages beyond the one asked for, and for each item its
explanation and the facts the transparency aggregates count — so that:

- later pages of a session (the signed cursor carries `as_of`) come from the
  stored order, so pages never overlap or skip an item, even when the viewer
  follows someone or a post arrives between two pages;
- reloading the first page serves the same ranking again while nothing it
  depends on has changed and it is younger than `SESSION_REUSE`.

"Nothing has changed" is checked on every request, never assumed. A session
stores the fingerprint of its inputs (`session_state`): the policy version
and sha256, the model versions, the mode and the viewer's multipliers, their
follows and priorities, hidden accounts, "more / less like this", and the
active by-hand overrides. A first page is reused only if, in addition, the
posts in the viewer's home window (their count and newest id,
`SessionObservation.reach`) are the ones the session ranked: a new post, a
deleted one or a follow ranks afresh. A session ranked while some candidates
still waited for their incivility score (new posts the worker has not
reached) is reused for `SESSION_REUSE_UNSCORED` only.

What a reused page differs in from a fresh ranking is time alone: recency is
computed at the session's `as_of`, at most `SESSION_REUSE` ago, and the cursor
and explanations say which `as_of` that was, so the page can be replayed.
The cache is optional: when it cannot be reached every request ranks afresh.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.core.cache import cache
from django.db import connection

from accountability.casework_models import ItemOverride
from charter_social.pg import int_array
from feed.models import Post
from ranking.candidate_rows import HOME_WINDOW
from ranking.candidates import CandidateSet, ViewerInputs
from ranking.ranker_core import RankedItem

logger = logging.getLogger(__name__)

# How long a first page may be served again from an unchanged session: the
# recency of every item is then at most this old.
SESSION_REUSE = timedelta(minutes=2)
# ... and when some candidates had no incivility score yet (the worker scores
# new posts within seconds; they counted as neutral meanwhile).
SESSION_REUSE_UNSCORED = timedelta(seconds=10)
# How long later pages of a session are served from it; an older cursor ranks
# its candidates again at the same as_of (the cursor itself lasts 12 hours).
SESSION_TTL_SECONDS = 30 * 60
# Pages ranked and stored beyond the one asked for, so a reader scrolling on
# reads a stored page (a page further ranks again at the same as_of).
LOOKAHEAD_PAGES = 1
# How long a viewer's candidates are kept to be extended with new posts rather
# than read again (`candidates_extend`): ~150 KB each, so briefly.
CANDIDATES_TTL_SECONDS = 5 * 60
# Part of the cache key: a change to what a session stores changes it, so a
# deployment never reads another version's sessions.
_FORMAT = 2


class SessionItem(NamedTuple):
    """One ranked item as the page shows it and the aggregates count it.

    A named tuple: a session holds ~60 of these and is read from the cache on
    every ranked page, and tuples unpickle several times faster than objects.
    """

    item_id: int
    author_id: int
    # Exposure facts for accountability's transparency aggregates.
    incivility: float | None
    bridging: float | None
    cross_cutting: bool
    # The explanation: reasons as (signal, text, article, kind), notes, demotion.
    reasons: tuple[tuple[str, str, str, str], ...]
    notes: tuple[str, ...]
    demoted: bool
    score: float

    def reason_dicts(self) -> list[dict[str, str]]:
        """The reasons as the API serialises them."""
        return [dict(zip(REASON_KEYS, r, strict=True)) for r in self.reasons]


REASON_KEYS = ("signal", "text", "article", "kind")


@dataclass(frozen=True)
class RankedSession:
    """The stored outcome of ranking one viewer's candidates at `as_of`."""

    viewer_id: int
    mode: str
    as_of: datetime
    # `session_state` of the inputs it was ranked from.
    state: str
    # The home window it ranked (count, newest id); None for a session ranked
    # for a later page, which is never served as a first page.
    reach: tuple[int, int | None] | None
    # How many candidates there were, and the ranked prefix of them.
    total: int
    items: tuple[SessionItem, ...]
    unscored: int
    policy_version: int
    model_versions: dict[str, int]

    @property
    def complete(self) -> bool:
        return len(self.items) >= self.total

    def covers(self, end: int) -> bool:
        """Whether the stored order reaches item `end` (exclusive)."""
        return self.complete or end <= len(self.items)

    def reusable_as_first_page(
        self, *, state: str, reach: tuple[int, int | None], now: datetime
    ) -> bool:
        """Whether a first page asked for at `now` may be served from here."""
        if self.reach is None or self.state != state or self.reach != reach:
            return False
        limit = SESSION_REUSE_UNSCORED if self.unscored else SESSION_REUSE
        return timedelta(0) <= now - self.as_of <= limit


@dataclass(frozen=True)
class SessionObservation:
    """What is read on every ranked request to tell whether a session holds."""

    # Posts in the viewer's home window: (count, newest id).
    reach: tuple[int, int | None]
    # By-hand overrides: (active count, newest id). They are only ever
    # created or revoked, so any change moves one of the two.
    overrides: tuple[int, int | None]


def session_observe(*, inputs: ViewerInputs, at: datetime) -> SessionObservation:
    """Count the viewer's home window at `at` and the overrides, in one query.

    The home window is the one `candidates_build` reads: posts by the
    followed accounts and the viewer, created in (at - HOME_WINDOW, at].
    """
    authors = inputs.home_authors
    adapt = connection.ops.adapt_datetimefield_value
    quote = connection.ops.quote_name
    author_params: list[Any]
    if connection.vendor == "postgresql":
        # One array parameter: the same text for every viewer (charter_social.pg).
        by_author, author_params = "author_id = ANY(%s::bigint[])", [int_array(authors)]
    else:
        by_author = "author_id IN (" + ", ".join(["%s"] * len(authors)) + ")"
        author_params = list(authors)
    sql = (
        "SELECT p.n, p.top, o.n, o.top FROM "
        f"(SELECT COUNT(*) AS n, MAX(id) AS top FROM {quote(Post._meta.db_table)} "
        f"WHERE {by_author} AND created_at > %s "
        "AND created_at <= %s) AS p CROSS JOIN "
        "(SELECT SUM(CASE WHEN revoked_at IS NULL THEN 1 ELSE 0 END) AS n, "
        f"MAX(id) AS top FROM {quote(ItemOverride._meta.db_table)}) AS o"
    )
    params = [*author_params, adapt(at - HOME_WINDOW), adapt(at)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return SessionObservation(
        reach=(int(row[0] or 0), None if row[1] is None else int(row[1])),
        overrides=(int(row[2] or 0), None if row[3] is None else int(row[3])),
    )


def session_state(
    *,
    policy_version: int,
    policy_sha: str,
    model_versions: Mapping[str, int],
    mode: str,
    multipliers: Mapping[str, float] | None,
    inputs: ViewerInputs,
    overrides: tuple[int, int | None],
) -> str:
    """A digest of everything a ranking depends on except the clock and the
    posts themselves: equal digests, equal rankings at the same `as_of`."""
    parts = (
        _FORMAT,
        policy_version,
        policy_sha,
        tuple(sorted(model_versions.items())),
        mode,
        tuple(sorted((multipliers or {}).items())),
        inputs.fingerprint(),
        overrides,
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def session_from_ranking(
    *,
    viewer_id: int,
    mode: str,
    as_of: datetime,
    state: str,
    reach: tuple[int, int | None] | None,
    cset: CandidateSet,
    ranked: Sequence[RankedItem],
    policy_version: int,
    model_versions: Mapping[str, int],
) -> RankedSession:
    """A session holding `ranked` (a prefix of the ranking of `cset`)."""
    ids = [item.item_id for item in ranked]
    incivility, bridging, cross = cset.values_of(
        ids, ("incivility", "bridging", "cross_cutting")
    )
    items = tuple(
        SessionItem(
            item_id=item.item_id,
            author_id=item.author_id,
            incivility=incivility[k],
            bridging=bridging[k],
            cross_cutting=bool(cross[k]),
            reasons=tuple((r.signal, r.text, r.article, r.kind) for r in item.reasons),
            notes=tuple(cset.notes_of(item.item_id)),
            demoted=item.demoted,
            score=round(float(item.score), 6),
        )
        for k, item in enumerate(ranked)
    )
    return RankedSession(
        viewer_id=viewer_id,
        mode=mode,
        as_of=as_of,
        state=state,
        reach=reach,
        total=len(cset),
        items=items,
        unscored=cset.unscored,
        policy_version=policy_version,
        model_versions=dict(model_versions),
    )


@dataclass(frozen=True)
class StoredCandidates:
    """A viewer's candidates as of a ranking, kept to be extended later."""

    viewer_id: int
    as_of: datetime
    # `candidates_state` of the inputs they were built from.
    state: str
    reach: tuple[int, int | None]
    cset: CandidateSet


def candidates_state(
    *,
    model_versions: Mapping[str, int],
    inputs: ViewerInputs,
    overrides: tuple[int, int | None],
) -> str:
    """A digest of what a viewer's candidates depend on besides the posts."""
    parts = (
        _FORMAT,
        tuple(sorted(model_versions.items())),
        inputs.fingerprint(),
        overrides,
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def _candidates_key(viewer_id: int) -> str:
    return f"ranking:candidates:{_FORMAT}:{viewer_id}"


def candidates_get(*, viewer_id: int) -> StoredCandidates | None:
    """The viewer's kept candidates, or None."""
    try:
        found: Any = cache.get(_candidates_key(viewer_id))
    except Exception:
        logger.warning("cache unavailable: candidates not kept", exc_info=True)
        return None
    if not isinstance(found, StoredCandidates) or found.viewer_id != viewer_id:
        return None
    return found


def candidates_store(stored: StoredCandidates) -> None:
    """Keep the viewer's candidates for `CANDIDATES_TTL_SECONDS` (best effort)."""
    # A copy without the set's cached lookups: only the columns travel.
    lean = replace(stored, cset=replace(stored.cset))
    try:
        cache.set(_candidates_key(stored.viewer_id), lean, CANDIDATES_TTL_SECONDS)
    except Exception:
        logger.warning("cache unavailable: candidates not kept", exc_info=True)


def session_key(*, viewer_id: int, mode: str) -> str:
    """The cache key of the viewer's session in `mode`."""
    return f"ranking:session:{_FORMAT}:{viewer_id}:{mode}"


def session_checked(found: object, *, viewer_id: int) -> RankedSession | None:
    """`found` (read from the cache) if it is a session of this viewer."""
    if not isinstance(found, RankedSession) or found.viewer_id != viewer_id:
        return None
    return found


def session_get(*, viewer_id: int, mode: str) -> RankedSession | None:
    """The viewer's stored session in `mode`, or None (none, expired, or the
    cache cannot be reached)."""
    try:
        found: Any = cache.get(session_key(viewer_id=viewer_id, mode=mode))
    except Exception:
        logger.warning("cache unavailable: ranking afresh", exc_info=True)
        return None
    return session_checked(found, viewer_id=viewer_id)


def session_store(session: RankedSession) -> None:
    """Keep `session` as the viewer's current one in its mode (best effort)."""
    try:
        key = session_key(viewer_id=session.viewer_id, mode=session.mode)
        cache.set(key, session, SESSION_TTL_SECONDS)
    except Exception:
        logger.warning("cache unavailable: session not kept", exc_info=True)
