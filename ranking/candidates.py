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
from datetime import datetime
from functools import cached_property
from typing import Any

import numpy as np
from django.conf import settings

from feed.models import User
from ranking.candidate_rows import (
    CANDIDATE_COLUMNS,
    HOME_CAP,
    HOME_WINDOW,
    candidate_rows,
    epoch_us,
    home_rows_since,
)
from ranking.consensus import NO_GROUP
from ranking.context import ActiveModels, ViewerInputs, viewer_inputs_for
from ranking.models import ModelArtefact
from ranking.ranker_core import Candidate, CandidateColumns
from ranking.selectors import artefacts_active, model_load
from ranking.services import post_signals_enqueue, post_signals_ensure

logger = logging.getLogger(__name__)

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

    def values_of(
        self, item_ids: Sequence[int], names: Sequence[str]
    ) -> list[list[float | None]]:
        """Per name, the items' values (None where an item has none), looked
        up for all of them at once."""
        rows = [self._rows[pid] for pid in item_ids]
        out = []
        for name in names:
            picked = self.columns.value(name)[rows]
            out.append(
                [None if v != v else v for v in picked.tolist()]  # NaN -> None
            )
        return out

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


def models_active() -> ActiveModels:
    """Versions and hashes of the active models, in one query (blobs not read)."""
    rows = artefacts_active()
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


def _floats(values: Sequence[Any]) -> np.ndarray:
    """A nullable float column as an array, NaN for NULL."""
    return np.array(
        [np.nan if v is None else float(v) for v in values], dtype=np.float64
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
    home_authors = inputs.home_authors
    home_rows, outside_rows = candidate_rows(
        as_of=as_of,
        home_authors=home_authors,
        excluded_authors=[*home_authors, *sorted(inputs.hidden)],
    )
    return _candidate_set(
        home_rows, outside_rows, inputs=inputs, models=models, ensure=ensure_missing
    )


def _candidate_set(
    home_rows: list[tuple[Any, ...]],
    outside_rows: list[tuple[Any, ...]],
    *,
    inputs: ViewerInputs,
    models: ActiveModels,
    ensure: bool,
) -> CandidateSet:
    """Candidate rows (`candidate_rows`) as a CandidateSet for this viewer."""
    viewer_id = inputs.viewer_id
    priorities = inputs.priorities
    followed = sorted(priorities)
    rows = home_rows + outside_rows
    outside = frozenset(int(r[0]) for r in outside_rows)

    missing = [int(r[0]) for r in rows if r[3] is None]
    filled: dict[int, tuple[float, int]] = {}
    if missing and ensure and models.incivility_active:
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
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(CANDIDATE_COLUMNS)
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
            created_us=np.array([epoch_us(v) for v in columns[2]], dtype=np.int64),
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


# --- extending a set with the posts that arrived since -------------------------------

# More new posts than this since the last ranking: rank from scratch.
EXTEND_CAP = 200


def candidates_extend(
    *,
    base: CandidateSet,
    base_as_of: datetime,
    as_of: datetime,
    inputs: ViewerInputs,
    models: ActiveModels,
    reach: tuple[int, int | None],
    base_reach: tuple[int, int | None],
) -> CandidateSet | None:
    """`base` (built at `base_as_of` for the same viewer inputs and models) plus
    the home posts created since: the set `candidates_build` would return at
    `as_of`, or None when that cannot be guaranteed.

    It is guaranteed when nothing but new home posts changed: `reach` (the
    home window's count and newest id at `as_of`) must be `base_reach` plus
    exactly the posts read here (so none was deleted or inserted with an
    earlier date), no candidate of `base` has left the window, and every
    candidate of `base` had its incivility score. Outside candidates and
    stored signals only change with the models or the viewer's inputs, which
    the caller has checked are the same.
    """
    if base.unscored or as_of <= base_as_of:
        return None
    window_start = epoch_us(as_of - HOME_WINDOW)
    if len(base) and int(base.columns.created_us.min()) <= window_start:
        return None
    new_rows = home_rows_since(
        after=base_as_of,
        as_of=as_of,
        home_authors=inputs.home_authors,
        limit=EXTEND_CAP,
    )
    if len(new_rows) >= EXTEND_CAP:
        return None
    newest = max([base_reach[1] or 0, *(int(r[0]) for r in new_rows)]) or None
    if reach != (base_reach[0] + len(new_rows), newest):
        return None
    if not new_rows:
        return base
    added = _candidate_set(new_rows, [], inputs=inputs, models=models, ensure=True)
    return _merged(base, added)


def _merged(base: CandidateSet, added: CandidateSet) -> CandidateSet:
    """Both sets' rows, keeping the newest HOME_CAP home rows (outside rows all
    come from `base`): what one query over both would have returned."""
    a, b = base.columns, added.columns
    ids = np.concatenate([a.item_ids, b.item_ids])
    created = np.concatenate([a.created_us, b.created_us])
    keep = np.ones(ids.shape[0], dtype=bool)
    home = ~np.isin(ids, np.fromiter(base.outside, dtype=np.int64))
    if int(home.sum()) > HOME_CAP:
        # The home query's order: newest first, ties by id.
        home_rows = np.nonzero(home)[0]
        order = np.lexsort((-ids[home_rows], -created[home_rows]))
        keep[home_rows[order[HOME_CAP:]]] = False
    values = {
        name: np.concatenate([a.value(name), b.value(name)])[keep]
        for name in sorted(set(a.values) | set(b.values))
    }
    kept = ids[keep]
    kept_set = set(kept.tolist())
    overrides = {
        pid: effect
        for pid, effect in (base.overrides | added.overrides).items()
        if pid in kept_set
    }
    return CandidateSet(
        columns=CandidateColumns(
            item_ids=kept,
            author_ids=np.concatenate([a.author_ids, b.author_ids])[keep],
            created_us=created[keep],
            values=values,
        ),
        outside=base.outside,
        overrides=overrides,
        unscored=added.unscored,
        signal_versions=np.vstack([base.signal_versions, added.signal_versions])[keep],
        author_notes={**base.author_notes, **added.author_notes},
    )
