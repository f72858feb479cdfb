"""The home feed the viewer chose: chronological, or ranked by the charter.

`feed_for` is what the home page and the API call. In the ranked and tuned
modes it:

1. reads the policy in force, the active model versions and the viewer's
   choices (mode, sliders);
2. builds the viewer's candidates (`ranking.candidates.candidates_build`);
3. ranks them with `ranker_core.rank` at a frozen `as_of` time, applying the
   active overrides, and records a decision for every demotion;
4. serves the page the charter's `feed` section allows (page size, daily
   limit, caught-up marker) behind a signed cursor that carries `as_of` and
   the offset, so every page of one session ranks the same candidates at the
   same time and pages never overlap.

The same inputs, policy and model versions give the same page. With no
charter in force the feed is chronological.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from accountability.casework_models import DecisionRecord, DecisionSource
from accountability.decisions import (
    decision_inputs_key,
    decision_record_ensure,
    decision_rule_from_demotion,
)
from accountability.reports import feed_served_record, feed_served_statements
from feed import selectors as feed_selectors
from feed.hot_reads import posts_with_authors
from feed.models import Post, User
from feed.selectors import Page
from ranking import sessions
from ranking.candidates import CandidateSet, candidates_build, candidates_extend
from ranking.context import FeedContext, feed_context_for
from ranking.explain import Demotion
from ranking.models import FeedMode
from ranking.preferences import (
    feed_preference_get,
    multipliers_clamp,
)
from ranking.ranker_core import PageBudget, page_budget, rank
from ranking.registry import FORBIDDEN_BY_DESIGN, SIGNALS

logger = logging.getLogger(__name__)

# Cursor tokens: signed (not encrypted) so they cannot be forged or reused by
# another account; they expire with the day's reading session.
CURSOR_SALT = "ranking.feed.cursor"
CURSOR_MAX_AGE = timedelta(hours=12)
# Served item ids per viewer per UTC day, for the charter's daily limit.
SERVED_TTL_SECONDS = 2 * 24 * 3600


@dataclass(frozen=True)
class Explanation:
    """Why an item is where it is, in plain words, with the charter behind it."""

    reasons: list[dict[str, str]]
    notes: list[str]
    policy_version: int
    model_versions: dict[str, int]
    demoted: bool
    score: float


@dataclass
class FeedPage(Page):
    """A home-feed page with what the ranking adds to the chronological Page."""

    mode: str = FeedMode.CHRONOLOGICAL
    caught_up: bool = False
    explanations: dict[int, Explanation] = field(default_factory=dict)
    policy_version: int | None = None
    model_versions: dict[str, int] = field(default_factory=dict)
    # Human-readable notes about the whole page (e.g. no charter in force).
    notes: list[str] = field(default_factory=list)
    # The policy in force (None without a charter) and the viewer's stored
    # multipliers, for the page's feed controls.
    policy: dict[str, Any] | None = None
    multipliers: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Token:
    mode: str
    as_of: datetime
    offset: int


# --- cursors and the daily limit -----------------------------------------------------


def _cursor_encode(*, viewer_id: int, token: _Token) -> str:
    return signing.dumps(
        {
            "u": viewer_id,
            "m": token.mode,
            "t": token.as_of.isoformat(),
            "o": token.offset,
        },
        salt=CURSOR_SALT,
        compress=True,
    )


def _cursor_decode(raw: str, *, viewer_id: int, mode: str) -> _Token:
    bad = ValidationError(
        {
            "cursor": "This page link is broken or has expired; start again from "
            "the first page of your feed."
        }
    )
    try:
        data = signing.loads(raw, salt=CURSOR_SALT, max_age=CURSOR_MAX_AGE)
        token = _Token(
            mode=str(data["m"]),
            as_of=datetime.fromisoformat(str(data["t"])),
            offset=int(data["o"]),
        )
        owner = int(data["u"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise bad from exc
    if owner != viewer_id or token.offset < 0 or token.as_of.tzinfo is None:
        raise bad
    if token.mode != mode:
        raise ValidationError(
            {
                "cursor": f"This page link belongs to the {token.mode} feed; you "
                f"are now viewing the {mode} feed. Start again from its first page."
            }
        )
    return token


def _served_key(viewer_id: int, day: str) -> str:
    return f"ranking:served:{viewer_id}:{day}"


def served_today(*, viewer_id: int, now: datetime | None = None) -> set[int]:
    """Ids of the ranked items served to the viewer today (UTC), from the cache.

    The cache is optional: when it cannot be reached the set is empty (the
    daily limit fails open, like the rate limits) and the feed still serves.
    """
    day = (now or timezone.now()).astimezone(UTC).date().isoformat()
    try:
        return set(cache.get(_served_key(viewer_id, day)) or ())
    except Exception:
        logger.warning("cache unavailable: daily feed limit not applied", exc_info=True)
        return set()


def _served_and_session(
    *, viewer_id: int, mode: str, now: datetime
) -> tuple[set[int], sessions.RankedSession | None]:
    """`served_today` and the viewer's stored session, in one cache round trip."""
    served_key = _served_key(viewer_id, now.astimezone(UTC).date().isoformat())
    session_key = sessions.session_key(viewer_id=viewer_id, mode=mode)
    try:
        found = cache.get_many([served_key, session_key])
    except Exception:
        logger.warning("cache unavailable: no daily limit, no session", exc_info=True)
        return set(), None
    return (
        set(found.get(served_key) or ()),
        sessions.session_checked(found.get(session_key), viewer_id=viewer_id),
    )


def _served_add(
    viewer_id: int, ids: Sequence[int], now: datetime, served: set[int]
) -> None:
    """Count `ids` as served today, on top of `served` (read at the start of the
    request: two pages of one viewer served at the same instant may count
    once, which leaves the daily limit soft, as it is when the cache is down)."""
    day = now.astimezone(UTC).date().isoformat()
    # Distinct items: reloading the same page does not use up the day's limit.
    updated = served | set(ids)
    if updated == served:
        return
    try:
        cache.set(_served_key(viewer_id, day), sorted(updated), SERVED_TTL_SECONDS)
    except Exception:
        logger.warning("cache unavailable: served items not counted", exc_info=True)


# --- the feed ------------------------------------------------------------------------


def demotions_due(
    cset: CandidateSet, policy: Mapping[str, Any]
) -> list[tuple[int, Demotion]]:
    """Every (post, demotion rule that fires on it) among the candidates — the
    same test as ranker_core's (value above the threshold), minus posts an
    override restores. Computed here, not from the ranked page, because demoted
    posts sit at the bottom of the feed and would otherwise be recorded late."""
    forbidden = FORBIDDEN_BY_DESIGN | frozenset(policy.get("forbidden_signals") or ())
    rules = [
        (str(c["signal"]), float(c["above"]), str(c.get("article", "")))
        for c in policy.get("constraints") or ()
        if c.get("kind") == "demote" and c.get("signal") not in forbidden
    ]
    cols = cset.columns
    ids = cols.item_ids.tolist()
    found: list[tuple[int, int, int, float]] = []
    for r, (sig, above, _) in enumerate(rules):
        values = cols.value(sig)
        # A missing value (NaN) is never above a threshold.
        for k in np.nonzero(values > above)[0].tolist():
            if cset.overrides.get(ids[k]) != "restore":
                found.append((k, r, ids[k], float(values[k])))
    # In candidate order, then rule order: records are made in this order.
    found.sort()
    return [
        (pid, Demotion("demote", rules[r][0], value, rules[r][1], rules[r][2]))
        for _, r, pid, value in found
    ]


def _record_demotions(
    cset: CandidateSet,
    policy: Mapping[str, Any],
    *,
    policy_version: int,
    policy_sha: str,
    now: datetime,
) -> None:
    """A decision record for every demotion the ranker applies (one SELECT when
    all exist), so each author can see it and appeal."""
    wanted: list[tuple[int, dict[str, Any], str, Demotion]] = []
    for post_id, demotion in demotions_due(cset, policy):
        rule = decision_rule_from_demotion(demotion)
        key = decision_inputs_key(
            rule=rule,
            model_versions=cset.versions_of(post_id),
            source=DecisionSource.RANKER,
        )
        wanted.append((post_id, rule, key, demotion))
    if not wanted:
        return
    have = set(
        DecisionRecord.objects.filter(
            post_ref__in=sorted({w[0] for w in wanted}), policy_version=policy_version
        ).values_list("post_ref", "inputs_key")
    )
    for post_id, rule, key, demotion in wanted:
        if (post_id, key) in have:
            continue
        try:
            decision_record_ensure(
                post_id=post_id,
                rule=rule,
                article=demotion.article,
                signal_values=cset.signals_of(post_id),
                policy_version=policy_version,
                policy_sha256=policy_sha,
                model_versions=cset.versions_of(post_id),
                now=now,
            )
        except Exception:
            # The record is owed but must not take the feed down; it is
            # written on the next render.
            logger.exception("could not record the demotion of post %s", post_id)


def _exposure_record(
    *, viewer_id: int, items: list[Mapping[str, Any]], now: datetime
) -> None:
    """Add the served page to the transparency aggregates (accountability's
    `feed_served_statements`, two upserts) in one transaction, so one commit,
    and on PostgreSQL in one round trip.

    On PostgreSQL, when the feed is not already inside a caller's transaction,
    that commit is asynchronous (`SET LOCAL synchronous_commit TO OFF`): the
    page does not wait for the WAL flush, which under disk contention was the
    tail of the feed's latency. The sums stay exact and consistent (the
    transaction is atomic, upserts add up); a database crash can lose at most
    the last fraction of a second of served-page counts, never corrupt them.
    Inside a caller's transaction nothing changes, as SET LOCAL would apply to
    all of that caller's writes.
    """
    own = not connection.in_atomic_block
    if own and connection.vendor == "postgresql":
        statements = feed_served_statements(items=items, now=now)
        with connection.cursor() as cursor:
            if statements and isinstance(cursor.cursor, psycopg.ClientCursor):
                # One round trip: statements sent together in autocommit run
                # as one implicit transaction, atomic, and SET LOCAL holds
                # for it (client-side binding allows several statements).
                cursor.execute(
                    "; ".join(
                        ["SET LOCAL synchronous_commit TO OFF"]
                        + [sql for sql, _ in statements]
                    ),
                    [p for _, params in statements for p in params],
                )
                return
    # savepoint=False: inside a caller's transaction this adds no statements.
    with transaction.atomic(savepoint=False):
        if own and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        feed_served_record(viewer_id=viewer_id, items=items, now=now)


def feed_mode_for(*, viewer: User, mode: str | None) -> str:
    """The requested mode, else the viewer's stored choice.

    Raises ValidationError for an unknown mode.
    """
    if mode in (None, ""):
        return str(feed_preference_get(user=viewer).mode)
    if mode not in FeedMode.values:
        raise ValidationError(
            {"mode": f"Choose one of {', '.join(FeedMode.values)}, not '{mode}'."}
        )
    return str(mode)


def feed_for(
    *,
    viewer: User,
    mode: str | None = None,
    cursor: str | None = None,
    now: datetime | None = None,
) -> FeedPage:
    """The viewer's home feed page in the chosen (or stored) mode.

    Raises ValidationError for an unknown mode or a broken cursor (a 400).
    """
    context = feed_context_for(viewer=viewer, at=now or timezone.now())
    chosen = (
        context.mode if mode in (None, "") else feed_mode_for(viewer=viewer, mode=mode)
    )
    record = context.policy_record
    if chosen == FeedMode.CHRONOLOGICAL or record is None:
        page = chronological_feed_for(viewer=viewer, cursor=cursor)
        if record is None and chosen != FeedMode.CHRONOLOGICAL:
            page.notes.append(
                "No charter is in force yet, so your feed is shown newest first."
            )
    else:
        page = ranked_feed_for(
            viewer=viewer, mode=chosen, cursor=cursor, context=context, now=now
        )
    # For the page's controls, so they cost no further queries.
    page.policy = record[2] if record else None
    page.multipliers = context.multipliers
    return page


def chronological_feed_for(*, viewer: User, cursor: str | None) -> FeedPage:
    """Newest first, no profiling: exactly feed.selectors.timeline_home."""
    page = feed_selectors.timeline_home(viewer=viewer, cursor=cursor)
    return FeedPage(
        items=page.items,
        next_cursor=page.next_cursor,
        viewer_reactions=page.viewer_reactions,
        mode=FeedMode.CHRONOLOGICAL,
    )


def ranked_feed_for(
    *,
    viewer: User,
    mode: str,
    cursor: str | None,
    context: FeedContext,
    now: datetime | None = None,
) -> FeedPage:
    """One page of the charter-ranked (or tuned) feed; see the module docstring.

    The page comes from the viewer's ranked session (ranking.sessions) when
    that still holds, else from a fresh ranking, which becomes the session.
    """
    assert context.policy_record is not None
    policy_version, policy_sha, policy = context.policy_record
    viewer_id = int(viewer.pk)
    wall = now or timezone.now()
    token = _cursor_decode(cursor, viewer_id=viewer_id, mode=mode) if cursor else None
    offset = token.offset if token else 0
    models = context.models
    inputs = context.inputs
    multipliers = context.multipliers if mode == FeedMode.TUNED else {}
    clamped = multipliers_clamp(multipliers, policy) or None
    observed = sessions.session_observe(
        inputs=inputs, at=token.as_of if token else wall
    )
    state = sessions.session_state(
        policy_version=policy_version,
        policy_sha=policy_sha,
        model_versions=models.versions,
        mode=mode,
        multipliers=clamped,
        inputs=inputs,
        overrides=observed.overrides,
    )
    served, session = _served_and_session(viewer_id=viewer_id, mode=mode, now=wall)
    if session is not None and not (
        session.as_of == token.as_of and session.state == state
        if token
        else session.reusable_as_first_page(state=state, reach=observed.reach, now=wall)
    ):
        session = None
    budget = None
    if session is not None:
        budget = _budget(policy, served, session.total, offset)
        if not session.covers(offset + budget.next_page):
            session = None
    if session is None:
        as_of = token.as_of if token else wall
        cset = (
            candidates_build(viewer=viewer, as_of=as_of, models=models, inputs=inputs)
            if token
            else _first_page_candidates(
                viewer=viewer, context=context, observed=observed, as_of=wall
            )
        )
        budget = _budget(policy, served, len(cset), offset)
        # Only the items up to a few pages past this one are placed and
        # explained: the greedy re-rank fills pages in order, so the prefix
        # equals that of a full ranking (and a deeper ranking at the same
        # as_of extends it).
        depth = offset + budget.next_page + sessions.LOOKAHEAD_PAGES * budget.page_size
        placed = (
            rank(
                cset.columns,
                policy,
                now=as_of,
                user_multipliers=clamped,
                overrides=cset.overrides,
                limit=depth,
            ).items
            if budget.next_page > 0
            else []
        )
        if token is None:
            # Demotions are recorded when a session is ranked for its first
            # page; its later pages rank the same candidates under the same
            # versions.
            _record_demotions(
                cset,
                policy,
                policy_version=policy_version,
                policy_sha=policy_sha,
                now=wall,
            )
        session = sessions.session_from_ranking(
            viewer_id=viewer_id,
            mode=mode,
            as_of=as_of,
            state=state,
            reach=None if token else observed.reach,
            cset=cset,
            ranked=placed,
            policy_version=policy_version,
            model_versions=models.versions,
        )
        if placed:
            sessions.session_store(session)
    assert budget is not None
    return _page_from_session(
        viewer=viewer,
        session=session,
        budget=budget,
        offset=offset,
        policy=policy,
        wall=wall,
        model_versions=models.versions,
        served=served,
    )


def _first_page_candidates(
    *,
    viewer: User,
    context: FeedContext,
    observed: sessions.SessionObservation,
    as_of: datetime,
) -> CandidateSet:
    """The viewer's candidates at `as_of` for a first page, kept for the next.

    When the viewer's candidates were kept from an earlier ranking and only
    new home posts have arrived since, those are added to them
    (`candidates_extend`, exact by its checks); otherwise they are read
    afresh. Either way the result equals `candidates_build` at `as_of`.
    """
    inputs, models = context.inputs, context.models
    state = sessions.candidates_state(
        model_versions=models.versions, inputs=inputs, overrides=observed.overrides
    )
    kept = sessions.candidates_get(viewer_id=inputs.viewer_id)
    cset = None
    if kept is not None and kept.state == state:
        cset = candidates_extend(
            base=kept.cset,
            base_as_of=kept.as_of,
            as_of=as_of,
            inputs=inputs,
            models=models,
            reach=observed.reach,
            base_reach=kept.reach,
        )
    if cset is None:
        cset = candidates_build(
            viewer=viewer, as_of=as_of, models=models, inputs=inputs
        )
    sessions.candidates_store(
        sessions.StoredCandidates(
            viewer_id=inputs.viewer_id,
            as_of=as_of,
            state=state,
            reach=observed.reach,
            cset=cset,
        )
    )
    return cset


def _budget(
    policy: Mapping[str, Any], served: set[int], total: int, offset: int
) -> PageBudget:
    return page_budget(
        policy, served_today=len(served), remaining_candidates=max(0, total - offset)
    )


def _session_slice(
    session: sessions.RankedSession, offset: int, size: int
) -> tuple[list[sessions.SessionItem], dict[int, Post], int]:
    """Up to `size` stored items from `offset` whose posts still exist, the
    posts, and the offset after the last item taken (the next page's start).

    A post deleted since the ranking is skipped and the next stored item takes
    its place, so the page stays full and the next one still starts where
    this one ended.
    """
    chosen: list[sessions.SessionItem] = []
    posts: dict[int, Post] = {}
    end = offset
    while len(chosen) < size and end < len(session.items):
        batch = session.items[end : end + size - len(chosen)]
        found = posts_with_authors(ids=[i.item_id for i in batch])
        posts.update(found)
        chosen.extend(i for i in batch if i.item_id in found)
        end += len(batch)
    return chosen, posts, end


def _page_from_session(
    *,
    viewer: User,
    session: sessions.RankedSession,
    budget: PageBudget,
    offset: int,
    policy: Mapping[str, Any],
    wall: datetime,
    model_versions: dict[str, int],
    served: set[int],
) -> FeedPage:
    viewer_id = int(viewer.pk)
    chosen, posts, end = _session_slice(session, offset, budget.next_page)
    items = [posts[i.item_id] for i in chosen]
    more = budget.next_page > 0 and end < session.total and not budget.caught_up
    next_cursor = (
        _cursor_encode(
            viewer_id=viewer_id,
            token=_Token(mode=session.mode, as_of=session.as_of, offset=end),
        )
        if more
        else None
    )
    if chosen:
        _served_add(viewer_id, [i.item_id for i in chosen], wall, served)
        _exposure_record(
            viewer_id=viewer_id,
            items=[
                {
                    "author_id": i.author_id,
                    "incivility": i.incivility,
                    "bridging": i.bridging,
                    "cross_cutting": i.cross_cutting,
                }
                for i in chosen
            ],
            now=wall,
        )
    remaining = max(0, session.total - offset)
    page_notes: list[str] = []
    if budget.next_page == 0 and remaining > 0:
        page_notes.append(
            "You have reached today's limit of the charter's feed "
            f"({(policy.get('feed') or {}).get('daily_limit')} items). "
            "The chronological feed is still open to you."
        )
    return FeedPage(
        items=items,
        next_cursor=next_cursor,
        viewer_reactions=feed_selectors.viewer_reactions_for(
            viewer=viewer, posts=items
        ),
        mode=session.mode,
        caught_up=budget.caught_up,
        explanations={
            i.item_id: Explanation(
                reasons=i.reason_dicts(),
                notes=list(i.notes),
                policy_version=session.policy_version,
                model_versions=session.model_versions,
                demoted=i.demoted,
                score=i.score,
            )
            for i in chosen
        },
        policy_version=session.policy_version,
        model_versions=model_versions,
        notes=page_notes,
    )


def signal_descriptions() -> list[dict[str, Any]]:
    """The signal registry as plain data, for the API."""
    return [
        {
            "name": s.name,
            "description": s.description,
            "low": s.low,
            "high": s.high,
            "version": s.version,
            "viewer_dependent": s.viewer_dependent,
        }
        for s in sorted(SIGNALS.values(), key=lambda s: s.name)
    ]
