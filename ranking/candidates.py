"""Ranker inputs from the database: one viewer's candidates with their signals.

`candidates_build` is shared by the home feed (ranking.feed) and the amendment
impact preview: the viewer's home candidates over a recent window (newest
`HOME_CAP`), plus posts from outside the viewer's circle that rate high on
`bridging` (`OUTSIDE_CAP`), minus blocked and muted accounts, each with its
stored signals and the viewer-dependent `cross_cutting` and `affinity`.
Nothing here crashes a feed on missing data: a missing signal counts as
neutral and the item's notes say so.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache, cached_property
from typing import Any

import numpy as np
from django.conf import settings
from django.db import connection
from django.db.models import FilteredRelation, Q, QuerySet

from accountability.casework_models import ItemOverride
from feed.models import Post, User
from ranking.consensus import NO_GROUP
from ranking.context import ActiveModels, ViewerInputs, viewer_inputs_for
from ranking.models import ModelArtefact, PostSignals
from ranking.ranker_core import Candidate, CandidateColumns
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

_STORED = ("incivility", "bridging", "consensus")


_OUTSIDE_NOTE = (
    "You don't follow the author: it was added because people who "
    "usually disagree both found it helpful."
)
_UNKNOWN_AUTHOR_NOTE = (
    "The author's opinion group is not known, so this is not counted "
    "as from outside your usual circle."
)


@dataclass(frozen=True)
class CandidateSet:
    """Ranker inputs for one viewer plus what explanations and records need.

    The candidates are columns (`ranker_core.CandidateColumns`): what a ranked
    page needs of single items (notes, versions, signal values) is looked up
    for those items only, and `candidates` builds Candidate objects on demand
    (the impact preview and tests use them).
    """

    columns: CandidateColumns
    outside: frozenset[int]
    # Active by-hand overrides ("restore" / "demote") by post id.
    overrides: dict[int, str]
    # Candidates still without an incivility score while a model is active
    # (the worker scores them shortly): a ranking of them is provisional.
    unscored: int
    # Versions of each row's stored signals (-1: none), in _STORED order.
    signal_versions: np.ndarray
    # Notes that hold for every post of an author (opinion group unknown...).
    author_notes: dict[int, tuple[str, ...]]

    def __len__(self) -> int:
        return len(self.columns)

    @cached_property
    def _rows(self) -> dict[int, int]:
        return {pid: k for k, pid in enumerate(self.columns.item_ids.tolist())}

    def signals_of(self, item_id: int) -> dict[str, float]:
        """The item's stored signal values (the ones it has)."""
        k = self._rows[item_id]
        return {
            name: float(self.columns.values[name][k])
            for name in _STORED
            if not np.isnan(self.columns.values[name][k])
        }

    def viewer_signals_of(self, item_id: int) -> dict[str, float]:
        """The item's viewer-dependent signal values."""
        k = self._rows[item_id]
        return {
            name: float(self.columns.values[name][k])
            for name in ("cross_cutting", "affinity")
        }

    def versions_of(self, item_id: int) -> dict[str, int]:
        """Model versions of the item's stored signals (for decision records)."""
        row = self.signal_versions[self._rows[item_id]].tolist()
        return {name: int(v) for name, v in zip(_STORED, row, strict=True) if v >= 0}

    def notes_of(self, item_id: int) -> list[str]:
        """What the ranker did not know about the item, in plain words."""
        k = self._rows[item_id]
        notes = [
            f"No {name} score yet, so it counts as neutral."
            for name in _STORED
            if np.isnan(self.columns.values[name][k])
        ]
        notes.extend(self.author_notes.get(int(self.columns.author_ids[k]), ()))
        if item_id in self.outside:
            notes.append(_OUTSIDE_NOTE)
        return notes

    @cached_property
    def candidates(self) -> list[Candidate]:
        """The same candidates as objects."""
        cols = self.columns
        return [
            Candidate(
                item_id=pid,
                author_id=author_id,
                created_at=cols.created_at(k),
                signals=self.signals_of(pid),
                viewer_signals=self.viewer_signals_of(pid),
            )
            for k, (pid, author_id) in enumerate(
                zip(cols.item_ids.tolist(), cols.author_ids.tolist(), strict=True)
            )
        ]


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


def _candidate_rows(queryset: QuerySet[Post], limit: int) -> list[tuple[Any, ...]]:
    return list(queryset.values_list(*_COLUMNS)[:limit])


def _orm_candidate_rows(
    *, as_of: datetime, home_authors: list[int], excluded_authors: list[int]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """`candidate_rows` through the ORM (any database)."""
    window = Q(created_at__lte=as_of, created_at__gt=as_of - HOME_WINDOW)
    home = _candidate_rows(
        _with_override(Post.objects.filter(window))
        .filter(author_id__in=home_authors)
        .order_by("-created_at", "-id"),
        HOME_CAP,
    )
    outside = _candidate_rows(
        _with_override(
            Post.objects.filter(window, signals__bridging__gte=OUTSIDE_MIN_BRIDGING)
        )
        .exclude(author_id__in=excluded_authors)
        .order_by("-signals__bridging", "-id"),
        OUTSIDE_CAP,
    )
    return home, outside


@cache
def _pg_candidate_sql() -> tuple[str, str]:
    """The two candidate queries of `_orm_candidate_rows` as PostgreSQL text,
    written once per process: author lists travel as one array parameter
    (`= ANY(%s)`), so the text never changes and nothing is compiled per
    page (the ORM's compile of these joins cost several ms a ranking), and
    created_at comes back as whole epoch microseconds: Django reads each
    timestamptz through a timezone-aware loader written in Python (~5 ms for
    ~1,700 rows), integers load in C, and EXTRACT(EPOCH ...) is exact
    numeric on PostgreSQL 14+, so the microseconds are exact."""
    quote = connection.ops.quote_name
    post, signals = quote(Post._meta.db_table), quote(PostSignals._meta.db_table)
    override = quote(ItemOverride._meta.db_table)
    select = (
        "SELECT p.id, p.author_id, "
        "(EXTRACT(EPOCH FROM p.created_at) * 1000000)::bigint, "
        "s.incivility, s.bridging, s.consensus, s.incivility_version, "
        "s.bridging_version, s.consensus_version, o.effect "
        f"FROM {post} p LEFT JOIN {signals} s ON s.post_id = p.id "
        f"LEFT JOIN {override} o ON o.post_id = p.id AND o.revoked_at IS NULL "
        "WHERE p.created_at <= %s AND p.created_at > %s "
    )
    home = select + (
        "AND p.author_id = ANY(%s) ORDER BY p.created_at DESC, p.id DESC LIMIT %s"
    )
    outside = select + (
        "AND s.bridging >= %s AND NOT (p.author_id = ANY(%s)) "
        "ORDER BY s.bridging DESC, p.id DESC LIMIT %s"
    )
    return home, outside


def candidate_rows(
    *, as_of: datetime, home_authors: list[int], excluded_authors: list[int]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(home rows, outside rows) of `_COLUMNS` at `as_of`.

    Home: posts by `home_authors` in the window, newest `HOME_CAP`. Outside:
    posts by anyone not in `excluded_authors` with a bridging score of at
    least OUTSIDE_MIN_BRIDGING, the best `OUTSIDE_CAP`. On PostgreSQL the
    third column is created_at in epoch microseconds (see `_epoch_us`).
    """
    if connection.vendor != "postgresql":
        return _orm_candidate_rows(
            as_of=as_of, home_authors=home_authors, excluded_authors=excluded_authors
        )
    home_sql, outside_sql = _pg_candidate_sql()
    since = as_of - HOME_WINDOW
    with connection.cursor() as cursor:
        cursor.execute(home_sql, [as_of, since, home_authors, HOME_CAP])
        home = list(cursor.fetchall())
        cursor.execute(
            outside_sql,
            [as_of, since, OUTSIDE_MIN_BRIDGING, excluded_authors, OUTSIDE_CAP],
        )
        outside = list(cursor.fetchall())
    return home, outside


def _epoch_us(value: datetime | int) -> int:
    """A `_candidate_rows` row's third column as epoch microseconds."""
    if isinstance(value, datetime):
        return (value - _EPOCH) // timedelta(microseconds=1)
    return int(value)


def _floats(values: Sequence[Any]) -> np.ndarray:
    """A nullable float column as an array, NaN for NULL."""
    return np.array(
        [np.nan if v is None else float(v) for v in values], dtype=np.float64
    )


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
    inputs: ViewerInputs | None = None,
) -> CandidateSet:
    """The viewer's candidates at `as_of`, with signals and per-item notes.

    The same code serves the feed and the amendment impact preview. Posts
    created after `as_of` are left out, so a frozen `as_of` freezes the set.
    `inputs` (from `viewer_inputs_for`) saves reading the viewer's choices
    again when the caller has them.
    """
    if inputs is None:
        inputs = viewer_inputs_for(viewer=viewer, hidden=hidden)
    viewer_id = inputs.viewer_id
    hidden_set = inputs.hidden
    priorities = inputs.priorities
    followed = sorted(priorities)
    home_rows, outside_rows = candidate_rows(
        as_of=as_of,
        home_authors=[*followed, viewer_id],
        excluded_authors=[*followed, viewer_id, *sorted(hidden_set)],
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

    author_feedback: Counter[int] = Counter()
    post_feedback: dict[int, bool] = {}
    for post_id, author_id, more in inputs.feedback:
        author_feedback[author_id] += 1 if more else -1
        post_feedback[post_id] = more

    authors = sorted({int(r[1]) for r in rows})
    groups = _groups_of(models.consensus, [*authors, *followed, viewer_id])
    my_group, group_note = _viewer_group(viewer_id, followed, groups)

    # What depends only on the author (opinion group, its note, follow-based
    # affinity) is worked out once per author; the rest are column operations.
    cross_of: dict[int, float] = {}
    affinity_of: dict[int, float] = {}
    author_notes: dict[int, tuple[str, ...]] = {}
    for author_id in authors:
        notes: tuple[str, ...] = ()
        if author_id == viewer_id:
            cross = 0.0
        elif my_group is None:
            cross = 0.0
            notes = (group_note,) if group_note else ()
        elif author_id not in groups:
            cross = 0.0
            notes = (_UNKNOWN_AUTHOR_NOTE,)
        else:
            cross = 1.0 if groups[author_id] != my_group else 0.0
            notes = (group_note,) if group_note else ()
        cross_of[author_id] = cross
        affinity_of[author_id] = _affinity(
            post_id=-1,
            author_id=author_id,
            viewer_id=viewer_id,
            priorities=priorities,
            author_feedback=author_feedback,
            post_feedback={},
        )
        if notes:
            author_notes[author_id] = notes

    n = len(rows)
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(_COLUMNS)
    author_list = [int(a) for a in columns[1]]
    values = {name: _floats(columns[3 + k]) for k, name in enumerate(_STORED)}
    signal_versions = np.array(
        [[-1 if v is None else int(v) for v in columns[6 + k]] for k in range(3)],
        dtype=np.int64,
    ).T.reshape(n, 3)
    rows_of = {int(pid): k for k, pid in enumerate(columns[0])}
    for pid, (value, version) in filled.items():
        values["incivility"][rows_of[pid]] = value
        signal_versions[rows_of[pid], 0] = version
    values["cross_cutting"] = np.array(
        [cross_of[a] for a in author_list], dtype=np.float64
    )
    affinity = np.array([affinity_of[a] for a in author_list], dtype=np.float64)
    for pid, more in post_feedback.items():
        k = rows_of.get(pid)
        if k is not None and author_list[k] != viewer_id:
            # Feedback on the post itself settles its affinity (see _affinity).
            affinity[k] = 1.0 if more else -1.0
    values["affinity"] = affinity
    return CandidateSet(
        columns=CandidateColumns(
            item_ids=np.array(columns[0], dtype=np.int64),
            author_ids=np.array(author_list, dtype=np.int64),
            created_us=np.array([_epoch_us(v) for v in columns[2]], dtype=np.int64),
            values=values,
        ),
        outside=outside,
        overrides={int(r[0]): str(r[9]) for r in rows if r[9]},
        unscored=(
            int(np.isnan(values["incivility"]).sum()) if models.incivility_active else 0
        ),
        signal_versions=signal_versions,
        author_notes=author_notes,
    )
