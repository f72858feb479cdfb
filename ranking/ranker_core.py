"""The charter ranker as pure functions: candidates + policy in, ranked page out.

No database, no clock: the caller passes ``now`` and everything else, so the same
inputs always give the same order and any decision can be replayed.

1. Each objective's effective weight is its policy weight times the viewer's
   multiplier, clamped to the charter's ``user_controls`` bounds for that signal
   (signals without bounds cannot be tuned). Forbidden signals — the registry's
   ``FORBIDDEN_BY_DESIGN`` and the policy's ``forbidden_signals`` — never carry
   weight, whatever the policy or the candidates say.
2. score = Σ weight × signal. Signal values are clamped to the registry's range; a
   missing value counts as the middle of the range (neither lifts nor lowers).
   Objectives with ``half_life_hours`` compute recency from ``created_at``.
3. ``demote`` constraints put an item whose signal is above the threshold below
   every undemoted item, with a record of the rule that fired.
4. A greedy re-rank fills each page in order of (demoted, −score, −created_at,
   −item_id) — a total order, hence determinism — while keeping every author to
   at most ``max_author_share`` of a page and at least ``min_cross_cutting_share``
   of a page from outside the viewer's circle. When the candidates cannot satisfy
   a constraint, the page is filled anyway and the shortfall is reported.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from ranking.explain import Demotion, Reason, reasons_for, signal_midpoint
from ranking.registry import FORBIDDEN_BY_DESIGN, SIGNALS

DEFAULT_PAGE_SIZE = 30


# slots: a feed page builds ~1,700 of these; without a per-instance __dict__
# there are half as many objects for the garbage collector to track.
@dataclass(frozen=True, slots=True)
class Candidate:
    """An item the viewer could be shown, with its signal values."""

    item_id: int
    author_id: int
    created_at: datetime
    signals: Mapping[str, float]
    # Values that depend on the viewer (cross_cutting, affinity, ...).
    viewer_signals: Mapping[str, float] = field(default_factory=dict)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class CandidateColumns:
    """Candidates as parallel arrays, the form the ranker computes on.

    A feed builds these straight from database rows (ranking.candidates), so
    ~1,700 candidates never become 1,700 objects; `columns_of` builds them from
    `Candidate` objects, so both inputs rank through the same code.
    """

    item_ids: np.ndarray  # int64
    author_ids: np.ndarray  # int64
    # created_at as whole microseconds since the Unix epoch: exact, so ages
    # are computed as the datetimes would give them.
    created_us: np.ndarray  # int64
    # Per signal name: the candidate's value, NaN where it has none. For a
    # name present both as a stored and as a viewer signal the registry's
    # `viewer_dependent` decides which one counts (see `columns_of`).
    values: Mapping[str, np.ndarray]
    # Whether created_at was timezone-aware (it is everywhere in the app).
    aware: bool = True
    # The objects, when built by `columns_of`: ranked items keep their own
    # created_at then.
    source: Sequence[Candidate] | None = None

    def __len__(self) -> int:
        return int(self.item_ids.shape[0])

    def created_at(self, k: int) -> datetime:
        """The created_at of candidate `k`."""
        if self.source is not None:
            return self.source[k].created_at
        epoch = _EPOCH if self.aware else _EPOCH_NAIVE
        return epoch + timedelta(microseconds=int(self.created_us[k]))

    def value(self, name: str) -> np.ndarray:
        """Values of `name` (NaN where missing), an all-NaN column if unknown."""
        found = self.values.get(name)
        return found if found is not None else np.full(len(self), np.nan)


def columns_of(candidates: Sequence[Candidate]) -> CandidateColumns:
    """`candidates` as columns.

    A signal's value is the candidate's viewer value first for a
    viewer-dependent signal and its stored value first otherwise, the other
    mapping filling in; values that are not finite count as missing.
    """
    n = len(candidates)
    aware = bool(n) and candidates[0].created_at.tzinfo is not None
    epoch = _EPOCH if aware else _EPOCH_NAIVE
    names = sorted(
        {k for c in candidates for k in c.signals}
        | {k for c in candidates for k in c.viewer_signals}
    )
    values: dict[str, np.ndarray] = {}
    stored_maps = [c.signals for c in candidates]
    viewer_maps = [c.viewer_signals for c in candidates]
    for name in names:
        spec = SIGNALS.get(name)
        if spec is not None and spec.viewer_dependent:
            first, second = viewer_maps, stored_maps
        else:
            first, second = stored_maps, viewer_maps
        vals: list[Any] = [m.get(name) for m in first]
        if None in vals:
            vals = [
                v if v is not None else m.get(name)
                for v, m in zip(vals, second, strict=True)
            ]
        values[name] = np.array(
            [np.nan if v is None else float(v) for v in vals], dtype=np.float64
        )
    return CandidateColumns(
        item_ids=np.array([c.item_id for c in candidates], dtype=np.int64),
        author_ids=np.array([c.author_id for c in candidates], dtype=np.int64),
        created_us=np.array(
            [(c.created_at - epoch) // _MICROSECOND for c in candidates],
            dtype=np.int64,
        ),
        values=values,
        aware=aware,
        source=candidates,
    )


@dataclass(frozen=True)
class RankedItem:
    item_id: int
    author_id: int
    created_at: datetime
    position: int
    score: float
    # weight × value per weighted signal (the terms of the score).
    contributions: dict[str, float]
    demotions: tuple[Demotion, ...]
    reasons: tuple[Reason, ...]

    @property
    def demoted(self) -> bool:
        return bool(self.demotions)


@dataclass(frozen=True)
class RankResult:
    items: list[RankedItem]
    # Effective weights actually used (after multipliers and forbidden signals).
    weights: dict[str, float]
    # Human-readable notes on constraints the candidates could not satisfy.
    unmet: list[str]
    # Signals named by the policy that were refused (forbidden) — never weighed.
    ignored_signals: list[str]


@dataclass(frozen=True)
class _Plan:
    weights: dict[str, float]
    articles: dict[str, str]
    half_lives: dict[str, float]
    demote_rules: list[tuple[str, float, str]]
    author_share: tuple[float, str] | None
    cross_share: tuple[float, str] | None
    page_size: int
    ignored: list[str]


def _forbidden(policy: Mapping[str, Any]) -> frozenset[str]:
    return FORBIDDEN_BY_DESIGN | frozenset(policy.get("forbidden_signals") or ())


def _plan(policy: Mapping[str, Any], multipliers: Mapping[str, float] | None) -> _Plan:
    forbidden = _forbidden(policy)
    bounds = {
        c["signal"]: (float(c["min"]), float(c["max"]))
        for c in policy.get("user_controls") or ()
    }
    weights: dict[str, float] = {}
    articles: dict[str, str] = {}
    half_lives: dict[str, float] = {}
    ignored: list[str] = []
    for obj in policy.get("objectives") or ():
        name = obj["signal"]
        if name in forbidden:
            ignored.append(name)
            continue
        if name not in SIGNALS:
            raise ValueError(f"policy names unknown signal '{name}'")
        weight = float(obj["weight"])
        if multipliers and name in multipliers and name in bounds:
            lo, hi = bounds[name]
            weight *= min(max(float(multipliers[name]), lo), hi)
        # Two objectives on one signal add up, as the score is a sum.
        weights[name] = weights.get(name, 0.0) + weight
        articles.setdefault(name, str(obj.get("article", "")))
        if obj.get("half_life_hours"):
            half_lives[name] = float(obj["half_life_hours"])
    demote_rules: list[tuple[str, float, str]] = []
    author_share = cross_share = None
    for con in policy.get("constraints") or ():
        kind = con.get("kind")
        article = str(con.get("article", ""))
        if kind == "demote":
            if con["signal"] in forbidden:
                ignored.append(con["signal"])
                continue
            if con["signal"] not in SIGNALS:
                raise ValueError(f"demotion names unknown signal '{con['signal']}'")
            demote_rules.append((con["signal"], float(con["above"]), article))
        elif kind == "max_author_share":
            author_share = (float(con["value"]), article)
        elif kind == "min_cross_cutting_share":
            cross_share = (float(con["value"]), article)
        else:
            raise ValueError(f"unknown constraint kind '{kind}'")
    page_size = int((policy.get("feed") or {}).get("page_size") or DEFAULT_PAGE_SIZE)
    if page_size < 1:
        raise ValueError("feed.page_size must be at least 1")
    return _Plan(
        weights=weights,
        articles=articles,
        half_lives=half_lives,
        demote_rules=demote_rules,
        author_share=author_share,
        cross_share=cross_share,
        page_size=page_size,
        ignored=sorted(set(ignored)),
    )


def _signal_matrix(
    cols: CandidateColumns, names: list[str], plan: _Plan, now: datetime
) -> np.ndarray:
    """Clamped values, one column per name; missing → the signal's midpoint."""
    n = len(cols)
    out = np.empty((n, len(names)))
    for col, name in enumerate(names):
        spec = SIGNALS[name]
        mid = (spec.low + spec.high) / 2.0
        if name in plan.half_lives:
            half = plan.half_lives[name]
            if n and cols.aware != (now.tzinfo is not None):
                raise TypeError(
                    "can't subtract offset-naive and offset-aware datetimes"
                )
            epoch = _EPOCH if now.tzinfo is not None else _EPOCH_NAIVE
            now_us = (now - epoch) // _MICROSECOND
            # Exact integer ages, then the same float steps as
            # (now - created_at).total_seconds() / 3600.
            ages = (now_us - cols.created_us).astype(np.float64) / 1e6 / 3600.0
            out[:, col] = np.power(0.5, np.maximum(ages, 0.0) / half)
            continue
        col_vals = cols.value(name)
        col_vals = np.where(np.isfinite(col_vals), col_vals, mid)
        out[:, col] = np.clip(col_vals, spec.low, spec.high)
    return out


def rank(
    candidates: Sequence[Candidate] | CandidateColumns,
    policy: Mapping[str, Any],
    *,
    now: datetime,
    user_multipliers: Mapping[str, float] | None = None,
    limit: int | None = None,
    explain_top: int = 3,
    overrides: Mapping[int, str] | None = None,
) -> RankResult:
    """Rank ``candidates`` under ``policy``; return the first ``limit`` items.

    ``limit=None`` ranks every candidate. Raises ValueError for a policy that
    names an unknown signal or constraint (policies are validated on adoption;
    this is the last line of defence, not the user-facing check).

    ``overrides`` maps item ids to a by-hand decision (accountability's
    ItemOverride): "restore" lifts every demotion rule from the item, "demote"
    demotes it whatever its signals say (rule "override").
    """
    plan = _plan(policy, user_multipliers)
    cols = (
        candidates
        if isinstance(candidates, CandidateColumns)
        else columns_of(candidates)
    )
    ids = cols.item_ids.tolist()
    if len(set(ids)) != len(ids):
        raise ValueError("candidates must have distinct item ids")
    names = sorted(plan.weights)
    demote_names = sorted({r[0] for r in plan.demote_rules} - set(names))
    need_cc = plan.cross_share is not None and "cross_cutting" not in names
    extra = demote_names + (["cross_cutting"] if need_cc else [])
    mat = _signal_matrix(cols, names + extra, plan, now)
    col = {name: k for k, name in enumerate(names + extra)}
    n = len(cols)
    score = np.zeros(n)
    # Column by column, so each row's score is computed the same way whatever
    # the order of the candidates (a requirement for replayable decisions).
    w = np.array([plan.weights[name] for name in names])
    contrib = mat[:, : len(names)] * w
    for k in range(len(names)):
        score = score + contrib[:, k]
    demoted = np.zeros(n, dtype=bool)
    for sig, above, _ in plan.demote_rules:
        demoted |= mat[:, col[sig]] > above
    forced_down: set[int] = set()
    if overrides:
        for k, item_id in enumerate(ids):
            effect = overrides.get(item_id)
            if effect == "restore":
                demoted[k] = False
            elif effect == "demote":
                demoted[k] = True
                forced_down.add(k)
    # created_us orders exactly as created_at does.
    order = np.lexsort((-cols.item_ids, -cols.created_us, -score, demoted))
    cross = (
        mat[:, col["cross_cutting"]] >= 0.5
        if plan.cross_share is not None
        else np.zeros(n, dtype=bool)
    )
    authors = cols.author_ids.tolist()
    placed, forced, unmet = _rerank(order.tolist(), authors, cross, plan, limit)

    rows = np.array(placed, dtype=np.int64)
    mids = np.array([signal_midpoint(name) for name in names])
    lifts = (mat[rows, : len(names)] - mids) * w
    # Only the strongest lifts become reasons: pick them for all items at once
    # (a stable sort over name-ordered columns breaks ties by name).
    top_cols = np.argsort(-np.abs(lifts), axis=1, kind="stable")[:, :explain_top]
    top_lifts = np.take_along_axis(lifts, top_cols, axis=1).tolist()
    top_cols_l = top_cols.tolist()
    contrib_rows = contrib[rows].tolist()
    scores = score[rows].tolist()
    demoted_rows = demoted[rows].tolist()
    items: list[RankedItem] = []
    for pos, idx in enumerate(placed):
        dem = (
            tuple(
                Demotion("demote", sig, float(mat[idx, col[sig]]), above, art)
                for sig, above, art in plan.demote_rules
                if mat[idx, col[sig]] > above
            )
            if demoted_rows[pos] and idx not in forced_down
            else ()
        )
        placement: tuple[Reason, ...] = ()
        if idx in forced and plan.cross_share is not None:
            placement = (
                Reason(
                    signal="cross_cutting",
                    text="shown so that every page includes voices from outside "
                    "your usual circle",
                    article=plan.cross_share[1],
                    lift=0.0,
                    kind="placement",
                ),
            )
        if idx in forced_down:
            placement = placement + (
                Reason(
                    signal="",
                    text="moved down by a recorded decision of the moderators "
                    "or the board",
                    article="",
                    lift=0.0,
                    kind="override",
                ),
            )
        items.append(
            RankedItem(
                item_id=ids[idx],
                author_id=authors[idx],
                created_at=cols.created_at(idx),
                position=pos,
                score=scores[pos],
                contributions=dict(zip(names, contrib_rows[pos], strict=True)),
                demotions=dem,
                reasons=reasons_for(
                    {
                        names[k]: lift
                        for k, lift in zip(top_cols_l[pos], top_lifts[pos], strict=True)
                    },
                    plan.articles,
                    dem,
                    placement,
                    top=explain_top,
                ),
            )
        )
    return RankResult(
        items=items,
        weights=dict(plan.weights),
        unmet=unmet,
        ignored_signals=plan.ignored,
    )


def _rerank(
    order: list[int],
    authors: list[int],
    cross: np.ndarray,
    plan: _Plan,
    limit: int | None,
) -> tuple[list[int], set[int], list[str]]:
    """Greedy page filling under the author-share and cross-cutting constraints.

    Within a page an author's cap only tightens, so items skipped for it stay
    skipped: two forward-only pointers (any item / cross-cutting item) make each
    page one pass over the remaining candidates.
    """
    size = plan.page_size
    cap = (
        max(1, math.floor(plan.author_share[0] * size + 1e-9))
        if plan.author_share
        else size
    )
    share = plan.cross_share[0] if plan.cross_share else 0.0
    target = len(order) if limit is None else min(limit, len(order))
    placed: list[int] = []
    forced: set[int] = set()
    unmet: list[str] = []
    remaining = order
    page_no = 0
    while len(placed) < target:
        page_no += 1
        length = min(size, len(remaining))
        need = math.ceil(share * length - 1e-9)
        counts: dict[int, int] = {}
        taken: set[int] = set()
        g = c = a = 0
        cap_broken = cc_short = False
        for slot in range(length):
            pick = -1
            if need > 0 and need >= length - slot:
                while c < len(remaining):
                    x = remaining[c]
                    if x not in taken and cross[x] and counts.get(authors[x], 0) < cap:
                        pick = x
                        forced.add(x)
                        break
                    c += 1
                if pick < 0:
                    cc_short = True
            if pick < 0:
                while g < len(remaining):
                    x = remaining[g]
                    if x not in taken and counts.get(authors[x], 0) < cap:
                        pick = x
                        break
                    g += 1
            if pick < 0:
                # Every remaining item's author is at the cap: fill anyway.
                while remaining[a] in taken:
                    a += 1
                pick = remaining[a]
                cap_broken = True
            taken.add(pick)
            placed.append(pick)
            counts[authors[pick]] = counts.get(authors[pick], 0) + 1
            if cross[pick]:
                need -= 1
        if cap_broken and plan.author_share:
            unmet.append(
                f"page {page_no}: too few authors to keep each to "
                f"{plan.author_share[0]:.0%} of the page (Article "
                f"{plan.author_share[1]})"
            )
        if cc_short and plan.cross_share:
            unmet.append(
                f"page {page_no}: too few items from outside the viewer's circle "
                f"for {plan.cross_share[0]:.0%} of the page (Article "
                f"{plan.cross_share[1]})"
            )
        remaining = [x for x in remaining if x not in taken]
    del placed[target:]
    return placed, forced, unmet


@dataclass(frozen=True)
class PageBudget:
    """How much of the feed a viewer may still be served today."""

    page_size: int
    # Items allowed on the next page (0 once the daily limit is reached).
    next_page: int
    # Show "you're caught up" after this page.
    caught_up: bool


def page_budget(
    policy: Mapping[str, Any], *, served_today: int, remaining_candidates: int
) -> PageBudget:
    """Apply the charter's ``feed`` section: page size, daily limit, caught-up marker.

    The marker is shown when the daily limit is reached or the ranked candidates
    run out, if the charter asks for it.
    """
    feed = policy.get("feed") or {}
    size = int(feed.get("page_size") or DEFAULT_PAGE_SIZE)
    limit = feed.get("daily_limit")
    left_today = (
        max(0, int(limit) - served_today) if limit is not None else remaining_candidates
    )
    next_page = max(0, min(size, left_today, remaining_candidates))
    exhausted = next_page >= min(left_today, remaining_candidates)
    return PageBudget(
        page_size=size,
        next_page=next_page,
        caught_up=bool(feed.get("caught_up_marker")) and exhausted,
    )


def chronological(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Newest first, ties by id: the baseline feed (no profiling, no signals)."""
    return sorted(candidates, key=lambda c: (c.created_at, c.item_id), reverse=True)
