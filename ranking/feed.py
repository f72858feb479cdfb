"""The DB-backed home feed: candidates from the database, ranked by the charter.

`feed_for` is what the home page and the API call. In the ranked and tuned
modes it:

1. reads the policy in force, the active model versions, the viewer's choices
   (mode, sliders, follows and their priorities, "more / less like this");
2. builds candidates (`candidates_build`): the viewer's home candidates over a
   recent window (newest `HOME_CAP`), plus posts from outside the viewer's
   circle that rate high on `bridging` (`OUTSIDE_CAP`), minus blocked and
   muted accounts, each with its stored signals and the viewer-dependent
   `cross_cutting` and `affinity`;
3. ranks them with `ranker_core.rank` at a frozen `as_of` time, applying the
   active overrides, and records a decision for every demotion;
4. serves the page the charter's `feed` section allows (page size, daily
   limit, caught-up marker) behind a signed cursor that carries `as_of` and
   the offset, so every page of one session ranks the same candidates at the
   same time and pages never overlap.

The same inputs, policy and model versions give the same page. Nothing here
crashes a feed on missing data: a missing signal counts as neutral and the
item's explanation says so; with no charter in force the feed is chronological.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import BigIntegerField, FilteredRelation, Func, Q, QuerySet
from django.utils import timezone

from accountability.casework_models import DecisionRecord, DecisionSource
from accountability.decisions import (
    decision_inputs_key,
    decision_record_ensure,
    decision_rule_from_demotion,
)
from accountability.reports import feed_served_record
from charter.selectors import NoActiveCharter, policy_active_record
from feed import selectors as feed_selectors
from feed.models import Follow, Post, User
from feed.selectors import Page
from ranking.consensus import NO_GROUP
from ranking.explain import Demotion
from ranking.models import FeedMode, ModelArtefact
from ranking.preferences import (
    feed_preference_get,
    item_feedback_for,
    multipliers_clamp,
)
from ranking.ranker_core import Candidate, RankedItem, page_budget, rank
from ranking.registry import FORBIDDEN_BY_DESIGN, SIGNALS
from ranking.selectors import model_load
from ranking.services import post_signals_enqueue, post_signals_ensure

logger = logging.getLogger(__name__)

# Home candidates: posts of the last HOME_WINDOW, newest HOME_CAP of them.
HOME_WINDOW = timedelta(days=14)
HOME_CAP = 1500
# Posts from outside the viewer's circle with a bridging score of at least
# OUTSIDE_MIN_BRIDGING (about the top quartile of the demo society's scores),
# the best OUTSIDE_CAP of the window.
OUTSIDE_CAP = 200
OUTSIDE_MIN_BRIDGING = 0.3
# Posts without an incivility score scored on the request path per page; the
# rest go to the background worker and count as neutral meanwhile.
ENSURE_CAP = 50
# Cursor tokens: signed (not encrypted) so they cannot be forged or reused by
# another account; they expire with the day's reading session.
CURSOR_SALT = "ranking.feed.cursor"
CURSOR_MAX_AGE = timedelta(hours=12)
# Served item ids per viewer per UTC day, for the charter's daily limit.
SERVED_TTL_SECONDS = 2 * 24 * 3600

_STORED = ("incivility", "bridging", "consensus")


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
class ActiveModels:
    versions: dict[str, int]
    hashes: dict[str, str]
    consensus: ModelArtefact | None
    incivility_active: bool


@dataclass(frozen=True)
class CandidateSet:
    """Ranker inputs for one viewer plus what explanations and records need."""

    candidates: list[Candidate]
    # Per-item notes, only for the items that have any (most have none: one
    # list fewer per candidate to allocate and collect).
    notes: dict[int, list[str]]
    # The post's own model versions (for decision records), by post id.
    versions: dict[int, dict[str, int]]
    outside: frozenset[int]
    # Active by-hand overrides ("restore" / "demote") by post id.
    overrides: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Token:
    mode: str
    as_of: datetime
    offset: int


def artefacts_active() -> list[ModelArtefact]:
    """The active model artefacts (without blobs), by name."""
    return list(
        ModelArtefact.objects.filter(is_active=True).defer("blob").order_by("name")
    )


def models_active() -> ActiveModels:
    """Versions and hashes of the active models, in one query (blobs not read)."""
    rows = list(ModelArtefact.objects.filter(is_active=True).defer("blob"))
    by_name = {a.name: a for a in rows}
    return ActiveModels(
        versions={a.name: int(a.version) for a in rows},
        hashes={a.name: a.blob_sha256 for a in rows},
        consensus=by_name.get("consensus"),
        incivility_active="incivility" in by_name,
    )


# --- opinion groups ------------------------------------------------------------------


def _groups_of(
    artefact: ModelArtefact | None, user_ids: Sequence[int]
) -> dict[int, int]:
    """Opinion group of each user that has one in the consensus artefact."""
    if artefact is None or not user_ids:
        return {}
    try:
        arrays = model_load(artefact=artefact)
    except Exception:
        # A refused or unreadable artefact: groups unknown, the feed goes on.
        logger.exception("consensus artefact unusable; opinion groups unknown")
        return {}
    raters = arrays["rater_ids"]
    groups = arrays["rater_group"]
    ids = np.array(sorted(set(user_ids)), dtype=np.int64)
    pos = np.searchsorted(raters, ids)
    pos_ok = np.minimum(pos, max(len(raters) - 1, 0))
    found = (pos < len(raters)) & (raters[pos_ok] == ids) if len(raters) else pos < 0
    out: dict[int, int] = {}
    for uid, p, ok in zip(ids.tolist(), pos_ok.tolist(), found.tolist(), strict=True):
        if ok and int(groups[p]) != NO_GROUP:
            out[uid] = int(groups[p])
    return out


def _viewer_group(
    viewer_id: int, followed: Sequence[int], groups: Mapping[int, int]
) -> tuple[int | None, str]:
    """The viewer's opinion group: their own, else the majority of whom they follow."""
    if viewer_id in groups:
        return groups[viewer_id], ""
    counts = Counter(groups[f] for f in followed if f in groups)
    if counts:
        # Ties go to the lowest group number, so the choice is deterministic.
        best = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        return best, (
            "Your opinion group is taken from most of the accounts you follow, "
            "as you have not rated enough posts yet."
        )
    return None, (
        "Your opinion group is not known yet (rate a few posts helpful or "
        "unhelpful), so no post counts as from outside your usual circle."
    )


# --- candidates ----------------------------------------------------------------------


_COLUMNS = (
    "id",
    "author_id",
    "created_at",
    "signals__incivility",
    "signals__bridging",
    "signals__consensus",
    "signals__incivility_version",
    "signals__bridging_version",
    "signals__consensus_version",
    "ov__effect",
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class _EpochMicroseconds(Func):
    """A timestamp as whole microseconds since the Unix epoch (PostgreSQL).

    Django reads each timestamptz through a timezone-aware loader written in
    Python: for ~1,700 candidates that was ~5 ms of every ranked page. Integers
    load in C, and `_EPOCH + timedelta(microseconds=n)` rebuilds the same
    aware UTC datetime exactly (EXTRACT(EPOCH ...) is exact numeric on
    PostgreSQL 14+, and rounding to bigint is exact for microseconds before).
    """

    template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"
    output_field = BigIntegerField()

    @property
    def convert_value(self) -> Any:
        # psycopg already returns an int: skip Django's per-row int() converter.
        return self._convert_value_noop  # type: ignore[attr-defined]


def _candidate_rows(queryset: QuerySet[Post], limit: int) -> list[tuple[Any, ...]]:
    """`_COLUMNS` of the first `limit` posts of `queryset`; on PostgreSQL the
    third column is created_at in epoch microseconds (see `_created_at`)."""
    if connection.vendor != "postgresql":
        return list(queryset.values_list(*_COLUMNS)[:limit])
    columns = ("id", "author_id", "created_us", *_COLUMNS[3:])
    return list(
        queryset.annotate(created_us=_EpochMicroseconds("created_at")).values_list(
            *columns
        )[:limit]
    )


def _created_at(value: datetime | int) -> datetime:
    """The aware created_at of a `_candidate_rows` row's third column."""
    if isinstance(value, datetime):
        return value
    return _EPOCH + timedelta(microseconds=value)


def _with_override(queryset: QuerySet[Post]) -> QuerySet[Post]:
    """Join each post's active override effect (`ov__effect`), as accountability's
    `overrides_active_for` defines it (an unrevoked ItemOverride; at most one
    per post, a database constraint), in the candidate query itself: cheaper
    than a second query with ~1,700 ids in an IN list."""
    return queryset.annotate(
        ov=FilteredRelation(
            "overrides", condition=Q(overrides__revoked_at__isnull=True)
        )
    )


def _affinity(
    *,
    post_id: int,
    author_id: int,
    viewer_id: int,
    priorities: Mapping[int, int],
    author_feedback: Mapping[int, int],
    post_feedback: Mapping[int, bool],
) -> float:
    """Explicit choices only: follows, their priority and "more / less like this".

    Followed: 0.5 at priority 0, from 0 (priority -2) to 1 (priority 2). Each
    "more / less like this" on one of the author's posts moves it by 0.25, and
    feedback on the post itself settles it at ±1. Likes never count.
    """
    if author_id == viewer_id:
        return 0.0
    value = 0.5 + 0.25 * priorities[author_id] if author_id in priorities else 0.0
    value += 0.25 * author_feedback.get(author_id, 0)
    if post_id in post_feedback:
        value = 1.0 if post_feedback[post_id] else -1.0
    return min(1.0, max(-1.0, value))


def candidates_build(
    *,
    viewer: User,
    as_of: datetime,
    models: ActiveModels,
    hidden: Sequence[int] | None = None,
    ensure_missing: bool = True,
) -> CandidateSet:
    """The viewer's candidates at `as_of`, with signals and per-item notes.

    The same code serves the feed and the amendment impact preview. Posts
    created after `as_of` are left out, so a frozen `as_of` freezes the set.
    """
    viewer_id = int(viewer.pk)
    if hidden is None:
        hidden = feed_selectors.hidden_author_ids(viewer=viewer, include_muted=True)
    hidden_set = set(hidden)
    priorities = {
        int(f): int(p)
        for f, p in Follow.objects.filter(follower_id=viewer_id).values_list(
            "followee_id", "priority"
        )
        if int(f) not in hidden_set
    }
    followed = sorted(priorities)
    since = as_of - HOME_WINDOW
    window = Q(created_at__lte=as_of, created_at__gt=since)
    home_rows = _candidate_rows(
        _with_override(Post.objects.filter(window))
        .filter(author_id__in=[*followed, viewer_id])
        .order_by("-created_at", "-id"),
        HOME_CAP,
    )
    outside_rows = _candidate_rows(
        _with_override(
            Post.objects.filter(window, signals__bridging__gte=OUTSIDE_MIN_BRIDGING)
        )
        .exclude(author_id__in=[*followed, viewer_id, *sorted(hidden_set)])
        .order_by("-signals__bridging", "-id"),
        OUTSIDE_CAP,
    )
    rows = home_rows + outside_rows
    outside = frozenset(int(r[0]) for r in outside_rows)

    missing = [int(r[0]) for r in rows if r[3] is None]
    filled: dict[int, tuple[float, int]] = {}
    if missing and ensure_missing and models.incivility_active:
        now_ids, later_ids = missing[:ENSURE_CAP], missing[ENSURE_CAP:]
        for pid, sig in post_signals_ensure(post_ids=now_ids).items():
            if sig.incivility is not None and sig.incivility_version is not None:
                filled[pid] = (float(sig.incivility), int(sig.incivility_version))
        if later_ids and not settings.RUN_BACKGROUND_INLINE:
            post_signals_enqueue(post_ids=later_ids)

    feedback = item_feedback_for(user=viewer)
    author_feedback: Counter[int] = Counter()
    post_feedback: dict[int, bool] = {}
    for post_id, author_id, more in feedback:
        author_feedback[author_id] += 1 if more else -1
        post_feedback[post_id] = more

    authors = sorted({int(r[1]) for r in rows})
    groups = _groups_of(models.consensus, [*authors, *followed, viewer_id])
    my_group, group_note = _viewer_group(viewer_id, followed, groups)

    # One pass over ~1,700 rows: what depends only on the author (opinion
    # group, its note, follow-based affinity) is worked out once per author.
    outside_note = (
        "You don't follow the author: it was added because people who "
        "usually disagree both found it helpful."
    )
    unknown_author_note = (
        "The author's opinion group is not known, so this is not counted "
        "as from outside your usual circle."
    )
    # Read-only mappings many candidates have in common (the author's
    # viewer signals, the models' versions) are shared, not built per row:
    # fewer allocations mean fewer and cheaper garbage collections.
    per_author: dict[int, tuple[tuple[str, ...], dict[str, float]]] = {}
    shared_versions: dict[tuple[Any, Any, Any], dict[str, int]] = {}
    cands: list[Candidate] = []
    notes: dict[int, list[str]] = {}
    versions: dict[int, dict[str, int]] = {}
    for row in rows:
        pid, author_id, created_at = int(row[0]), int(row[1]), _created_at(row[2])
        inc, bri, con, inc_v, bri_v, con_v = row[3:9]
        if inc is None and pid in filled:
            inc, inc_v = filled[pid]
        signals: dict[str, float] = {}
        item_notes: list[str] = []
        if inc is not None:
            signals["incivility"] = float(inc)
        if bri is not None:
            signals["bridging"] = float(bri)
        if con is not None:
            signals["consensus"] = float(con)
        if inc is None or bri is None or con is None:
            item_notes = [
                f"No {name} score yet, so it counts as neutral."
                for name in _STORED
                if name not in signals
            ]
        vers = shared_versions.get((inc_v, bri_v, con_v))
        if vers is None:
            vers = shared_versions[(inc_v, bri_v, con_v)] = {
                name: int(v)
                for name, v in zip(_STORED, (inc_v, bri_v, con_v), strict=True)
                if v is not None
            }
        known = per_author.get(author_id)
        if known is None:
            author_notes: tuple[str, ...] = ()
            if author_id == viewer_id:
                cross = 0.0
            elif my_group is None:
                cross = 0.0
                author_notes = (group_note,) if group_note else ()
            elif author_id not in groups:
                cross = 0.0
                author_notes = (unknown_author_note,)
            else:
                cross = 1.0 if groups[author_id] != my_group else 0.0
                author_notes = (group_note,) if group_note else ()
            affinity = _affinity(
                post_id=-1,
                author_id=author_id,
                viewer_id=viewer_id,
                priorities=priorities,
                author_feedback=author_feedback,
                post_feedback={},
            )
            known = per_author[author_id] = (
                author_notes,
                {"cross_cutting": cross, "affinity": affinity},
            )
        author_notes, viewer_signals = known
        if author_notes:
            item_notes.extend(author_notes)
        if pid in outside:
            item_notes.append(outside_note)
        if pid in post_feedback and author_id != viewer_id:
            # Feedback on the post itself settles its affinity (see _affinity).
            viewer_signals = {
                "cross_cutting": viewer_signals["cross_cutting"],
                "affinity": 1.0 if post_feedback[pid] else -1.0,
            }
        cands.append(
            Candidate(
                item_id=pid,
                author_id=author_id,
                created_at=created_at,
                signals=signals,
                viewer_signals=viewer_signals,
            )
        )
        if item_notes:
            notes[pid] = item_notes
        versions[pid] = vers
    return CandidateSet(
        candidates=cands,
        notes=notes,
        versions=versions,
        outside=outside,
        overrides={int(r[0]): str(r[9]) for r in rows if r[9]},
    )


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


def _served_add(viewer_id: int, ids: Sequence[int], now: datetime) -> None:
    day = now.astimezone(UTC).date().isoformat()
    key = _served_key(viewer_id, day)
    try:
        # Distinct items: reloading the same page does not use up the day's limit.
        served = set(cache.get(key) or ()) | set(ids)
        cache.set(key, sorted(served), SERVED_TTL_SECONDS)
    except Exception:
        logger.warning("cache unavailable: served items not counted", exc_info=True)


# --- the feed ------------------------------------------------------------------------


def _explanation(
    item: RankedItem,
    notes: list[str],
    policy_version: int,
    model_versions: dict[str, int],
) -> Explanation:
    reasons = [
        {"signal": r.signal, "text": r.text, "article": r.article, "kind": r.kind}
        for r in item.reasons
    ]
    return Explanation(
        reasons=reasons,
        notes=list(notes),
        policy_version=policy_version,
        model_versions=model_versions,
        demoted=item.demoted,
        score=round(float(item.score), 6),
    )


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
    due: list[tuple[int, Demotion]] = []
    for c in cset.candidates:
        if cset.overrides.get(c.item_id) == "restore":
            continue
        for sig, above, article in rules:
            value = c.signals.get(sig, c.viewer_signals.get(sig))
            if value is not None and float(value) > above:
                due.append(
                    (c.item_id, Demotion("demote", sig, float(value), above, article))
                )
    return due


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
    by_id = {c.item_id: c for c in cset.candidates}
    for post_id, demotion in demotions_due(cset, policy):
        rule = decision_rule_from_demotion(demotion)
        key = decision_inputs_key(
            rule=rule,
            model_versions=cset.versions.get(post_id, {}),
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
                signal_values=dict(by_id[post_id].signals),
                policy_version=policy_version,
                policy_sha256=policy_sha,
                model_versions=cset.versions.get(post_id, {}),
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
    `feed_served_record`, two upserts) in one transaction, so one commit.

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
    pref = feed_preference_get(user=viewer)
    chosen = (
        str(pref.mode)
        if mode in (None, "")
        else feed_mode_for(viewer=viewer, mode=mode)
    )
    stored = dict(pref.multipliers or {})
    try:
        record: tuple[int, str, dict[str, Any]] | None = policy_active_record(at=now)
    except NoActiveCharter:
        record = None
    if chosen == FeedMode.CHRONOLOGICAL or record is None:
        page = chronological_feed_for(viewer=viewer, cursor=cursor)
        if record is None and chosen != FeedMode.CHRONOLOGICAL:
            page.notes.append(
                "No charter is in force yet, so your feed is shown newest first."
            )
    else:
        page = ranked_feed_for(
            viewer=viewer,
            mode=chosen,
            cursor=cursor,
            policy_record=record,
            multipliers=stored if chosen == FeedMode.TUNED else {},
            now=now,
        )
    # For the page's controls, so they cost no further queries.
    page.policy = record[2] if record else None
    page.multipliers = stored
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
    policy_record: tuple[int, str, dict[str, Any]],
    multipliers: Mapping[str, float],
    now: datetime | None = None,
) -> FeedPage:
    """One page of the charter-ranked (or tuned) feed; see the module docstring."""
    policy_version, policy_sha, policy = policy_record
    viewer_id = int(viewer.pk)
    wall = now or timezone.now()
    if cursor:
        token = _cursor_decode(cursor, viewer_id=viewer_id, mode=mode)
    else:
        token = _Token(mode=mode, as_of=wall, offset=0)
    models = models_active()
    hidden = feed_selectors.hidden_author_ids(viewer=viewer, include_muted=True)
    cset = candidates_build(
        viewer=viewer, as_of=token.as_of, models=models, hidden=hidden
    )
    served = served_today(viewer_id=viewer_id, now=wall)
    total = len(cset.candidates)
    remaining = max(0, total - token.offset)
    budget = page_budget(
        policy, served_today=len(served), remaining_candidates=remaining
    )
    end = token.offset + budget.next_page
    # Only the items up to this page's end are placed and explained: the
    # greedy re-rank fills pages in order, so the prefix equals that of a full
    # ranking (and a later page, ranked again at the same as_of, continues it).
    placed = (
        rank(
            cset.candidates,
            policy,
            now=token.as_of,
            user_multipliers=multipliers_clamp(multipliers, policy) or None,
            overrides=cset.overrides,
            limit=end,
        ).items
        if budget.next_page > 0
        else []
    )
    if not cursor:
        # Demotions are recorded on a session's first page; later pages rank
        # the same candidates under the same versions.
        _record_demotions(
            cset,
            policy,
            policy_version=policy_version,
            policy_sha=policy_sha,
            now=wall,
        )
    chosen = placed[token.offset : end]
    ids = [i.item_id for i in chosen]
    posts = {
        p.id: p
        for p in Post.objects.filter(id__in=ids).select_related(
            "author", "parent__author"
        )
    }
    # A post deleted since ranking drops out rather than failing the page.
    chosen = [i for i in chosen if i.item_id in posts]
    items = [posts[i.item_id] for i in chosen]
    more = budget.next_page > 0 and end < total and not budget.caught_up
    next_cursor = (
        _cursor_encode(
            viewer_id=viewer_id, token=_Token(mode=mode, as_of=token.as_of, offset=end)
        )
        if more
        else None
    )
    by_id = {c.item_id: c for c in cset.candidates}
    if chosen:
        _served_add(viewer_id, ids, wall)
        _exposure_record(
            viewer_id=viewer_id,
            items=[
                {
                    "author_id": i.author_id,
                    "incivility": by_id[i.item_id].signals.get("incivility"),
                    "bridging": by_id[i.item_id].signals.get("bridging"),
                    "cross_cutting": bool(
                        by_id[i.item_id].viewer_signals.get("cross_cutting")
                    ),
                }
                for i in chosen
            ],
            now=wall,
        )
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
        mode=mode,
        caught_up=budget.caught_up,
        explanations={
            i.item_id: _explanation(
                i, cset.notes.get(i.item_id, []), policy_version, models.versions
            )
            for i in chosen
        },
        policy_version=policy_version,
        model_versions=models.versions,
        notes=page_notes,
    )


# --- the amendment impact preview ----------------------------------------------------

IMPACT_SAMPLE = 50
IMPACT_CACHE_SECONDS = 3600


def impact_sample(*, limit: int = IMPACT_SAMPLE) -> list[User]:
    """Up to `limit` real users, most active first (posts in the window), ties by id."""
    from django.db.models import Count

    since = timezone.now() - HOME_WINDOW
    return list(
        User.objects.filter(is_active=True)
        .annotate(n=Count("posts", filter=Q(posts__created_at__gt=since)))
        .filter(n__gt=0)
        .order_by("-n", "id")[:limit]
    )


def impact_preview_for(
    *, amendment_id: int, proposed_policy: Mapping[str, Any], proposed_sha: str
) -> dict[str, Any] | None:
    """How the amendment's policy would change real feeds, cached per
    (amendment, active policy, proposed policy, model versions).

    Returns None when no charter is in force. Uses `candidates_build` (the
    feed's own code) and `ranking.simulation.impact.policy_impact`.
    """
    from ranking.simulation.impact import policy_impact

    try:
        active_version, active_sha, active_policy = policy_active_record()
    except NoActiveCharter:
        return None
    models = models_active()
    key_src = "|".join(
        [
            str(amendment_id),
            active_sha,
            proposed_sha,
            ",".join(f"{k}:{v}" for k, v in sorted(models.versions.items())),
        ]
    )
    key = "ranking:impact:" + hashlib.sha256(key_src.encode()).hexdigest()
    try:
        cached = cache.get(key)
    except Exception:
        # No cache: compute the preview afresh rather than fail the page.
        logger.warning("cache unavailable for the impact preview", exc_info=True)
        cached = None
    if cached is not None:
        return dict(cached)
    now = timezone.now()
    by_viewer: dict[int, list[Candidate]] = {}
    for user in impact_sample():
        cset = candidates_build(
            viewer=user, as_of=now, models=models, ensure_missing=False
        )
        if cset.candidates:
            by_viewer[int(user.pk)] = cset.candidates
    impact = policy_impact(by_viewer, active_policy, proposed_policy, now=now, k=10)
    impact.pop("per_viewer", None)
    summary = {
        **impact,
        "computed_at": now,
        "active_version": active_version,
        "model_versions": models.versions,
        "metric_rows": [
            {
                "name": name,
                "label": _METRIC_LABELS.get(name, name),
                "active": impact["metrics_a"].get(name),
                "proposed": impact["metrics_b"].get(name),
            }
            for name in sorted(set(impact["metrics_a"]) | set(impact["metrics_b"]))
        ],
    }
    try:
        cache.set(key, summary, IMPACT_CACHE_SECONDS)
    except Exception:
        logger.warning("cache unavailable for the impact preview", exc_info=True)
    return summary


_METRIC_LABELS = {
    "mean_incivility": "Mean incivility of the top 10",
    "mean_bridging": "Mean bridging score of the top 10",
    "mean_consensus": "Mean cross-group agreement of the top 10",
    "cross_cutting_share": "Share of the top 10 from outside the viewer's circle",
    "author_gini": "Author concentration (Gini) of the top 10",
}


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
