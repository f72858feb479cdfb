"""Bridging scores: a one-factor matrix factorisation of helpfulness ratings.

The model is the published Community Notes form,

    rating ≈ μ + b_rater + b_item + f_rater · f_item,

fitted on raters with at least ``min_rater_ratings`` ratings and items with at least
``min_item_raters`` raters. An item's intercept ``b_item`` is its bridging score:
the helpfulness left over once the viewpoint axis (``f_rater · f_item``) has
explained everything that partisanship can explain. The factor ``f_item`` is the
item's slant.

The objective is the reference one, term for term: mean squared error plus
``λ · mean(param²)`` for each parameter block (λ = 0.03 for factors, 0.15 for
intercepts, the global intercept included). Because the penalties are *means*, in
the summed form each item row carries a ridge of ``λ · N / n_items`` — this is
what makes the fit agree with the reference rather than merely resemble it.

It is minimised by alternating least squares instead of gradient descent: with the
rater parameters fixed, each item's ``(b_item, f_item)`` is a 2×2 ridge regression
with a closed-form solution, and all items are solved at once from per-item sums
gathered with ``np.bincount``; then the same for raters, then μ. Each sweep costs a
handful of passes over the ratings and never increases the loss.

Robustness to selection bias (``robust=True``): when raters mostly rate what they
already agree with, cross-side ratings are rare, the rating data alone no longer
pins down the viewpoint axis (the fitted rater factors become mostly noise), and
each item's intercept absorbs its own side's approval: intercepts drift toward
partisan favourites. But the same selection makes *which* items a rater chose to
rate a strong signal of viewpoint. The robust fit reads the main axis of the
rater×item incidence matrix (a spectral embedding) and uses it as a prior for the
rater factors (ridge toward it instead of toward 0), with a strength gated by how
far that axis stands out of random-graph noise. Under random exposure the gate is
0 and the fit is exactly the plain one, so agreement with the reference is kept
where the reference is right. Measured on the synthetic society (bench
``bench/bench_bridging.py``), this raises the rank correlation of intercepts with
the hidden "less favourable side" truth; the inverse-propensity reweighting by
rater side that is also available (``ipw_clip > 1``) did not, and is off.

Items and raters below the thresholds are not part of the fit. Items that have
some ratings get a *shrunk prior*: their parameters are solved against the fitted
raters with ``prior_strength`` pseudo-ratings pulling both parameters toward 0,
and they are flagged ``thin``. Unrated items get 0 and are flagged ``unrated``.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FLAG_FITTED = 0
FLAG_THIN = 1
FLAG_UNRATED = 2
FLAG_NAMES: dict[int, str] = {
    FLAG_FITTED: "fitted",
    FLAG_THIN: "thin",
    FLAG_UNRATED: "unrated",
}

FACTOR_LAMBDA = 0.03
INTERCEPT_LAMBDA = 0.15


@dataclass(frozen=True)
class BridgingResult:
    """The fitted model. Arrays are indexed by the caller's rater/item indices."""

    item_intercept: np.ndarray
    item_factor: np.ndarray
    item_n_ratings: np.ndarray
    # FLAG_FITTED / FLAG_THIN / FLAG_UNRATED per item (see FLAG_NAMES).
    item_flag: np.ndarray
    rater_intercept: np.ndarray
    rater_factor: np.ndarray
    # True for raters that took part in the fit.
    rater_fitted: np.ndarray
    global_intercept: float
    metrics: dict[str, float] = field(default_factory=dict)

    def item_flag_name(self, item: int) -> str:
        """The flag of one item in words."""
        return FLAG_NAMES[int(self.item_flag[item])]


def _validate(
    rater_idx: np.ndarray,
    item_idx: np.ndarray,
    values: np.ndarray,
    n_raters: int,
    n_items: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rater_idx = np.asarray(rater_idx)
    item_idx = np.asarray(item_idx)
    values = np.asarray(values, dtype=np.float64)
    if not (rater_idx.shape == item_idx.shape == values.shape) or rater_idx.ndim != 1:
        raise ValueError(
            "rater_idx, item_idx and values must be 1-D arrays of the same length; "
            f"got shapes {rater_idx.shape}, {item_idx.shape}, {values.shape}"
        )
    if rater_idx.size and not (
        np.issubdtype(rater_idx.dtype, np.integer)
        and np.issubdtype(item_idx.dtype, np.integer)
    ):
        raise ValueError("rater_idx and item_idx must be integer arrays")
    if n_raters < 0 or n_items < 0:
        raise ValueError("n_raters and n_items must not be negative")
    if rater_idx.size:
        if rater_idx.min() < 0 or rater_idx.max() >= n_raters:
            raise ValueError(f"rater_idx must lie in [0, {n_raters}); pass n_raters")
        if item_idx.min() < 0 or item_idx.max() >= n_items:
            raise ValueError(f"item_idx must lie in [0, {n_items}); pass n_items")
        if not np.all(np.isfinite(values)) or values.min() < 0 or values.max() > 1:
            raise ValueError(
                "values must be finite and between 0 (not helpful) and 1 (helpful)"
            )
    return rater_idx.astype(np.int64), item_idx.astype(np.int64), values


def _filter_core(
    rater_idx: np.ndarray,
    item_idx: np.ndarray,
    n_raters: int,
    n_items: int,
    min_rater_ratings: int,
    min_item_raters: int,
) -> np.ndarray:
    """Mask of ratings inside the core: repeat both thresholds until stable."""
    keep = np.ones(rater_idx.size, dtype=bool)
    for _ in range(20):
        r_count = np.bincount(rater_idx[keep], minlength=n_raters)
        i_count = np.bincount(item_idx[keep], minlength=n_items)
        new_keep = (
            keep
            & (r_count[rater_idx] >= min_rater_ratings)
            & (i_count[item_idx] >= min_item_raters)
        )
        if np.array_equal(new_keep, keep):
            break
        keep = new_keep
    return keep


def _solve_2x2(
    a11: np.ndarray,
    a12: np.ndarray,
    a22: np.ndarray,
    y1: np.ndarray,
    y2: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    det = a11 * a22 - a12 * a12
    # Ridge terms keep det > 0 for every row that has any penalty; guard anyway.
    det = np.where(det > 1e-300, det, 1.0)
    return (a22 * y1 - a12 * y2) / det, (a11 * y2 - a12 * y1) / det


@dataclass
class _Core:
    """Ratings of the core, re-indexed densely (rows: raters, cols: items)."""

    r: np.ndarray
    i: np.ndarray
    y: np.ndarray
    n_r: int
    n_i: int


def _als(
    core: _Core,
    w: np.ndarray,
    *,
    b_r: np.ndarray,
    f_r: np.ndarray,
    b_i: np.ndarray,
    f_i: np.ndarray,
    mu: float,
    factor_lambda: float,
    intercept_lambda: float,
    max_iter: int,
    tol: float,
    anchor: np.ndarray | None = None,
    anchor_strength: float = 0.0,
) -> tuple[float, int, float]:
    """Alternating closed-form ridge solves, in place. Returns (mu, sweeps, loss).

    Every per-row sum an update needs is a sparse matrix-vector product with the
    weight pattern ``W`` or the weighted ratings ``WY`` (e.g. Σ_u w·f_u = W @ f_r
    and Σ_u w·f_u·(y − μ − b_u) = WY @ f_r − μ·(W @ f_r) − W @ (b_r·f_r)), so a
    sweep touches the ratings about ten times through compiled sparse kernels
    and never builds a per-rating temporary.
    """
    from scipy.sparse import csr_matrix

    r, i, y = core.r, core.i, core.y
    total_w = float(w.sum())
    # Mean-penalties expressed per row of the summed, weighted objective.
    lf_i = factor_lambda * total_w / core.n_i
    lb_i = intercept_lambda * total_w / core.n_i
    lf_r = factor_lambda * total_w / core.n_r
    lb_r = intercept_lambda * total_w / core.n_r
    lb_mu = intercept_lambda * total_w
    shape = (core.n_i, core.n_r)
    w_ir = csr_matrix((w, (i, r)), shape=shape)
    wy_ir = csr_matrix((w * y, (i, r)), shape=shape)
    w_ri = w_ir.T.tocsr()
    wy_ri = wy_ir.T.tocsr()
    w_i = np.asarray(w_ir.sum(axis=1)).ravel()
    w_r = np.asarray(w_ri.sum(axis=1)).ravel()
    wy_i = np.asarray(wy_ir.sum(axis=1)).ravel()
    wy_r = np.asarray(wy_ri.sum(axis=1)).ravel()
    wy_total = float(wy_i.sum())
    pull = anchor_strength if anchor is not None else 0.0
    pull_to = pull * anchor if anchor is not None else np.zeros(core.n_r)

    def loss() -> float:
        pred = mu + b_r[r] + b_i[i] + f_r[r] * f_i[i]
        mse = float(np.dot(w, (y - pred) ** 2)) / total_w
        reg = factor_lambda * (np.mean(f_r**2) + np.mean(f_i**2)) + intercept_lambda * (
            np.mean(b_r**2) + np.mean(b_i**2) + mu * mu
        )
        if anchor is not None:
            reg += pull * float(np.sum((f_r - anchor) ** 2)) / total_w
        return mse + float(reg)

    params = (b_r, f_r, b_i, f_i)
    snapshot = [p.copy() for p in params]
    snap_mu = mu
    step = 2.0
    prev = loss()
    sweeps = 0
    cur = prev
    for sweeps in range(1, max_iter + 1):  # noqa: B007 - sweeps is reported
        # Items given raters: 2×2 ridge per item.
        s_f = w_ir @ f_r
        s_b = w_ir @ b_r
        a22 = w_ir @ (f_r * f_r) + lf_i
        y1 = wy_i - mu * w_i - s_b
        y2 = wy_ir @ f_r - mu * s_f - w_ir @ (b_r * f_r)
        b_i[:], f_i[:] = _solve_2x2(w_i + lb_i, s_f, a22, y1, y2)
        # Raters given items; with an anchor the factor's ridge pulls toward it.
        s_f = w_ri @ f_i
        s_b = w_ri @ b_i
        a22 = w_ri @ (f_i * f_i) + lf_r + pull
        y1 = wy_r - mu * w_r - s_b
        y2 = wy_ri @ f_i - mu * s_f - w_ri @ (b_i * f_i) + pull_to
        b_r[:], f_r[:] = _solve_2x2(w_r + lb_r, s_f, a22, y1, y2)
        # Global intercept: Σ w (y − b_r − b_i − f_r f_i) from row sums.
        cross = float(np.dot(f_i, w_ir @ f_r))
        mu = (wy_total - float(np.dot(w_r, b_r)) - float(np.dot(w_i, b_i)) - cross) / (
            total_w + lb_mu
        )
        if sweeps % 5 == 0 or sweeps == max_iter:
            cur = loss()
            # Line-search extrapolation along the last five sweeps' path, as
            # used to speed up ALS for tensor factorisations: a single factor's
            # ALS otherwise crawls along flat valleys. Kept only if the
            # objective improves, so the loss still never increases.
            saved = [p.copy() for p in params]
            saved_mu = mu
            for p, old in zip(params, snapshot, strict=True):
                p += step * (p - old)
            mu = mu + step * (mu - snap_mu)
            tried = loss()
            if tried < cur:
                cur = tried
                step = min(step * 1.5, 16.0)
            else:
                for p, keep in zip(params, saved, strict=True):
                    p[:] = keep
                mu = saved_mu
                step = max(step / 2.0, 1.0)
            snapshot = [p.copy() for p in params]
            snap_mu = mu
            if abs(prev - cur) <= tol * max(abs(prev), 1e-12):
                break
            prev = cur
    return mu, sweeps, loss()


def _initial_rater_factor(core: _Core, seed: int) -> np.ndarray:
    """Start the factor at the leading singular vector of the centred ratings.

    ALS for a single factor behaves like a power iteration and crawls from a
    random start; starting on the dominant axis of the residuals (after rater and
    item means) cuts the sweeps several-fold. A seeded random start is the
    fallback for degenerate matrices.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import svds

    rng = np.random.default_rng(seed)
    fallback = rng.normal(0.0, 0.1, core.n_r)
    if min(core.n_r, core.n_i) <= 2:
        return fallback
    n_i = np.bincount(core.i, minlength=core.n_i)
    n_r = np.bincount(core.r, minlength=core.n_r)
    mu = float(core.y.mean())
    item_mean = np.bincount(core.i, weights=core.y - mu, minlength=core.n_i) / n_i
    res = core.y - mu - item_mean[core.i]
    res = res - (np.bincount(core.r, weights=res, minlength=core.n_r) / n_r)[core.r]
    a = csr_matrix((res, (core.r, core.i)), shape=(core.n_r, core.n_i))
    v0 = rng.uniform(0.5, 1.0, min(core.n_r, core.n_i))
    try:
        u, s, _ = svds(a, k=1, v0=v0, random_state=seed)
    except Exception:  # ARPACK non-convergence: the random start still works.
        return fallback
    vec = u[:, 0]
    return 0.3 * vec / max(float(np.std(vec)), 1e-12)


def _exposure_axis(core: _Core) -> tuple[np.ndarray, float]:
    """Each rater's position on the main axis of *who rates what*.

    Under selection bias the choice of what to rate is itself a strong signal of
    viewpoint, far stronger than the few cross-side ratings. The second singular
    vector of the degree-normalised rater×item incidence matrix (the first is
    trivial: it is proportional to the square root of the degrees) orders raters
    along that axis, as in spectral co-clustering.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.linalg import svds

    a = csr_matrix((np.ones(core.r.size), (core.r, core.i)), shape=(core.n_r, core.n_i))
    d_r = np.asarray(a.sum(axis=1)).ravel()
    d_i = np.asarray(a.sum(axis=0)).ravel()
    a = a.multiply(1.0 / np.sqrt(d_r)[:, None]).multiply(1.0 / np.sqrt(d_i)[None, :])
    if min(a.shape) <= 4:
        return np.zeros(core.n_r), 0.0
    # A fixed start vector keeps ARPACK, and hence the fit, deterministic.
    start = np.sqrt(d_r if core.n_r <= core.n_i else d_i)
    v0 = start / np.linalg.norm(start)
    u, s, _ = svds(a.tocsr(), k=3, v0=v0, random_state=0)
    order = np.argsort(-s)
    axis = u[:, order[1]] / np.sqrt(d_r)
    # How far the axis stands out of the noise: ~0 when raters pick what to
    # rate at random. Two yardsticks, the stricter wins: the next singular value
    # (the edge of the noise bulk) and the edge expected for a random bipartite
    # graph with these mean degrees, which also covers dense, near-rank-1
    # matrices whose third singular value is ~0.
    noise_edge = 1.0 / np.sqrt(d_r.mean()) + 1.0 / np.sqrt(d_i.mean())
    s2 = float(s[order[1]])
    gap = float(min(s2 / max(float(s[order[2]]), 1e-12), s2 / noise_edge) - 1.0)
    return axis, gap


def _side_weights(
    core: _Core, f_r: np.ndarray, clip: float
) -> tuple[np.ndarray, float]:
    """Inverse-propensity weights that rebalance each item's raters across sides."""
    side = (f_r[core.r] >= 0).astype(np.int64)
    rater_side = (f_r >= 0).astype(np.float64)
    pop_share_pos = float(rater_side.mean()) if rater_side.size else 0.5
    pop_share = np.array([1.0 - pop_share_pos, pop_share_pos])
    n_item = np.bincount(core.i, minlength=core.n_i).astype(np.float64)
    n_pos = np.bincount(core.i, weights=side.astype(np.float64), minlength=core.n_i)
    n_side = np.stack([n_item - n_pos, n_pos])  # (2, n_items)
    obs_share = n_side[side, core.i] / np.maximum(n_item[core.i], 1.0)
    w = pop_share[side] / np.maximum(obs_share, 1e-12)
    w = np.clip(w, 1.0 / clip, clip)
    # Keep each item's total weight equal to its number of ratings so the
    # per-item evidence (and hence the ridge's relative pull) is unchanged.
    w_sum = np.bincount(core.i, weights=w, minlength=core.n_i)
    w = w * (n_item[core.i] / np.maximum(w_sum[core.i], 1e-12))
    return w, float(np.mean(np.abs(w - 1.0)))


def fit_bridging(
    rater_idx: np.ndarray,
    item_idx: np.ndarray,
    values: np.ndarray,
    *,
    n_raters: int,
    n_items: int,
    min_rater_ratings: int = 10,
    min_item_raters: int = 5,
    factor_lambda: float = FACTOR_LAMBDA,
    intercept_lambda: float = INTERCEPT_LAMBDA,
    robust: bool = True,
    ipw_clip: float = 1.0,
    prior_strength: float = 5.0,
    anchor_scale: float = 0.25,
    anchor_strength: float = 100.0,
    gap_floor: float = 0.05,
    gap_full: float = 0.3,
    max_iter: int = 300,
    tol: float = 1e-6,
    seed: int = 0,
) -> BridgingResult:
    """Fit the one-factor bridging model to ratings given as parallel arrays.

    ``values`` are 1 (helpful), 0.5 (somewhat) or 0 (not helpful); duplicates of a
    (rater, item) pair count as separate ratings, so deduplicate upstream. The
    result is deterministic for a given ``seed``. With ``robust=True`` ratings are
    rebalanced across the two viewpoint sides per item (see the module docstring).
    Raises ValueError, saying what to change, on malformed input.
    """
    started = time.perf_counter()
    rater_idx, item_idx, values = _validate(
        rater_idx, item_idx, values, n_raters, n_items
    )
    item_n = np.bincount(item_idx, minlength=n_items).astype(np.int64)
    keep = _filter_core(
        rater_idx, item_idx, n_raters, n_items, min_rater_ratings, min_item_raters
    )
    core_raters = np.flatnonzero(np.bincount(rater_idx[keep], minlength=n_raters))
    core_items = np.flatnonzero(np.bincount(item_idx[keep], minlength=n_items))
    r_map = np.full(n_raters, -1, dtype=np.int64)
    r_map[core_raters] = np.arange(core_raters.size)
    i_map = np.full(n_items, -1, dtype=np.int64)
    i_map[core_items] = np.arange(core_items.size)

    rater_b = np.zeros(n_raters)
    rater_f = np.zeros(n_raters)
    item_b = np.zeros(n_items)
    item_f = np.zeros(n_items)
    flags = np.where(item_n > 0, FLAG_THIN, FLAG_UNRATED).astype(np.int8)
    mu = float(values.mean()) if values.size else 0.0
    metrics: dict[str, float] = {
        "n_ratings": float(values.size),
        "n_core_ratings": float(keep.sum()),
        "n_core_raters": float(core_raters.size),
        "n_core_items": float(core_items.size),
    }

    if core_items.size and core_raters.size:
        core = _Core(
            r=r_map[rater_idx[keep]],
            i=i_map[item_idx[keep]],
            y=values[keep],
            n_r=core_raters.size,
            n_i=core_items.size,
        )
        b_r = np.zeros(core.n_r)
        f_r = np.zeros(core.n_r)
        b_i = np.zeros(core.n_i)
        f_i = np.zeros(core.n_i)
        w = np.ones(core.y.size)
        mu0 = float(core.y.mean())
        anchor: np.ndarray | None = None
        strength = 0.0
        if robust:
            axis, gap = _exposure_axis(core)
            gate = float(np.clip((gap - gap_floor) / gap_full, 0.0, 1.0))
            metrics["exposure_gap"] = gap
            metrics["exposure_gate"] = gate
            if gate > 0:
                axis = axis - np.median(axis)
                anchor = anchor_scale * axis / max(float(np.std(axis)), 1e-12)
                # In the summed objective a rater row weighs N / n_raters ratings.
                strength = gate * anchor_strength * core.y.size / core.n_r
                f_r[:] = anchor
                if ipw_clip > 1:
                    w, metrics["ipw_mean_abs_deviation"] = _side_weights(
                        core, anchor, ipw_clip
                    )
        if anchor is None:
            f_r[:] = _initial_rater_factor(core, seed)
        mu, sweeps, loss = _als(
            core,
            w,
            b_r=b_r,
            f_r=f_r,
            b_i=b_i,
            f_i=f_i,
            mu=mu0,
            anchor=anchor,
            anchor_strength=strength,
            factor_lambda=factor_lambda,
            intercept_lambda=intercept_lambda,
            max_iter=max_iter,
            tol=tol,
        )
        metrics["sweeps"] = float(sweeps)
        # Identification, as the reference does it: the larger group of raters
        # gets a negative factor.
        n_nonzero = int(np.count_nonzero(f_r))
        if n_nonzero and np.count_nonzero(f_r < 0) / n_nonzero < 0.5:
            f_r *= -1.0
            f_i *= -1.0
        pred = mu + b_r[core.r] + b_i[core.i] + f_r[core.r] * f_i[core.i]
        metrics["train_rmse"] = float(np.sqrt(np.mean((core.y - pred) ** 2)))
        metrics["loss"] = float(loss)
        rater_b[core_raters] = b_r
        rater_f[core_raters] = f_r
        item_b[core_items] = b_i
        item_f[core_items] = f_i
        flags[core_items] = FLAG_FITTED

    _fit_thin_items(
        rater_idx,
        item_idx,
        values,
        flags,
        mu,
        rater_b,
        rater_f,
        item_b,
        item_f,
        n_items=n_items,
        prior_strength=prior_strength,
    )
    rater_fitted = np.zeros(n_raters, dtype=bool)
    rater_fitted[core_raters] = True
    metrics["fit_seconds"] = time.perf_counter() - started
    return BridgingResult(
        item_intercept=item_b,
        item_factor=item_f,
        item_n_ratings=item_n,
        item_flag=flags,
        rater_intercept=rater_b,
        rater_factor=rater_f,
        rater_fitted=rater_fitted,
        global_intercept=mu,
        metrics=metrics,
    )


def _fit_thin_items(
    rater_idx: np.ndarray,
    item_idx: np.ndarray,
    values: np.ndarray,
    flags: np.ndarray,
    mu: float,
    rater_b: np.ndarray,
    rater_f: np.ndarray,
    item_b: np.ndarray,
    item_f: np.ndarray,
    *,
    n_items: int,
    prior_strength: float,
) -> None:
    """Shrunk-prior estimates for rated items outside the core, in place.

    Raters outside the core contribute with zero intercept and factor: their
    rating still counts as evidence about the item's overall helpfulness.
    """
    sel = flags[item_idx] == FLAG_THIN
    if not sel.any():
        return
    i = item_idx[sel]
    fr = rater_f[rater_idx[sel]]
    res = values[sel] - mu - rater_b[rater_idx[sel]]
    n = np.bincount(i, minlength=n_items).astype(np.float64)
    a12 = np.bincount(i, weights=fr, minlength=n_items)
    a22 = np.bincount(i, weights=fr * fr, minlength=n_items) + prior_strength
    y1 = np.bincount(i, weights=res, minlength=n_items)
    y2 = np.bincount(i, weights=fr * res, minlength=n_items)
    b, f = _solve_2x2(n + prior_strength, a12, a22, y1, y2)
    thin = flags == FLAG_THIN
    item_b[thin] = b[thin]
    item_f[thin] = f[thin]


# --- CSV command line -------------------------------------------------------------


def _read_ratings_csv(
    path: Path,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], list[str]]:
    """Read rater_id,item_id,value; the last rating of a (rater, item) pair wins."""
    latest: dict[tuple[str, str], float] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = {"rater_id", "item_id", "value"} - set(reader.fieldnames or [])
        if missing:
            raise ValueError(
                f"{path}: missing column(s) {', '.join(sorted(missing))}; "
                "expected header rater_id,item_id,value"
            )
        for line_no, row in enumerate(reader, start=2):
            try:
                value = float(row["value"])
            except (TypeError, ValueError):
                raise ValueError(
                    f"{path}:{line_no}: value {row['value']!r} is not a number; "
                    "use 1 (helpful), 0.5 (somewhat) or 0 (not helpful)"
                ) from None
            if not 0.0 <= value <= 1.0:
                raise ValueError(
                    f"{path}:{line_no}: value {value} is outside 0..1; "
                    "use 1 (helpful), 0.5 (somewhat) or 0 (not helpful)"
                )
            latest[(row["rater_id"], row["item_id"])] = value
    rater_ids = sorted({k[0] for k in latest})
    item_ids = sorted({k[1] for k in latest})
    r_pos = {rid: n for n, rid in enumerate(rater_ids)}
    i_pos = {iid: n for n, iid in enumerate(item_ids)}
    r = np.fromiter((r_pos[k[0]] for k in latest), dtype=np.int64, count=len(latest))
    i = np.fromiter((i_pos[k[1]] for k in latest), dtype=np.int64, count=len(latest))
    v = np.fromiter(latest.values(), dtype=np.float64, count=len(latest))
    return r, i, v, rater_ids, item_ids


def main(argv: list[str] | None = None) -> int:
    """``python -m ranking.bridging RATINGS.csv --out SCORES.csv``."""
    parser = argparse.ArgumentParser(
        prog="python -m ranking.bridging",
        description="Fit bridging scores to a ratings file (rater_id,item_id,value).",
    )
    parser.add_argument("ratings", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--plain",
        action="store_true",
        help="skip the selection-bias reweighting (the reference model exactly)",
    )
    args = parser.parse_args(argv)
    try:
        r, i, v, _, item_ids = _read_ratings_csv(args.ratings)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    result = fit_bridging(
        r,
        i,
        v,
        n_raters=int(r.max(initial=-1)) + 1,
        n_items=len(item_ids),
        seed=args.seed,
        robust=not args.plain,
    )
    with args.out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["item_id", "intercept", "factor", "n_ratings", "status"])
        for n, item_id in enumerate(item_ids):
            writer.writerow(
                [
                    item_id,
                    f"{result.item_intercept[n]:.6f}",
                    f"{result.item_factor[n]:.6f}",
                    int(result.item_n_ratings[n]),
                    result.item_flag_name(n),
                ]
            )
    m = result.metrics
    print(
        f"fitted {int(m['n_core_items'])} of {len(item_ids)} items "
        f"({int(m['n_core_ratings'])} of {int(m['n_ratings'])} ratings) "
        f"in {m['fit_seconds']:.2f}s; the rest carry a shrunk prior "
        f"(status 'thin'); wrote {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
