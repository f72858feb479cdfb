"""An independent reference for the bridging model, fitted the way the published
Community Notes scorer fits it.

Written from the published description of that scorer, not copied: the same model
(rating ≈ μ + b_rater + b_item + f_rater · f_item, one factor), the same loss (mean
squared error + 0.03 · mean(factor²) per factor block + 0.15 · mean(intercept²) per
intercept block, the global intercept included), the same initialisation (Xavier-
uniform factors, zero intercepts), the same optimiser (full-batch Adam, learning
rate 1.0 from scratch), the same stopping rule (loss change below 1e-7, or the loss
rising after epoch 100) and the same sign convention (most raters get a negative
factor). Gradients are written out by hand in numpy, so no autograd is needed.

Its job is to be the yardstick ``ranking.bridging`` is checked against; it is
deliberately plain and slow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class ReferenceFit:
    item_intercept: np.ndarray  # indexed by the caller's item index; NaN if unfitted
    item_factor: np.ndarray
    rater_intercept: np.ndarray
    rater_factor: np.ndarray
    global_intercept: float
    epochs: int
    loss: float


def reference_filter(
    rater_idx: np.ndarray,
    item_idx: np.ndarray,
    n_raters: int,
    n_items: int,
    min_rater_ratings: int = 10,
    min_item_raters: int = 5,
) -> np.ndarray:
    """Keep raters with enough ratings and items with enough raters, to a fixpoint."""
    keep = np.ones(len(rater_idx), dtype=bool)
    while True:
        rc = np.bincount(rater_idx[keep], minlength=n_raters)
        ic = np.bincount(item_idx[keep], minlength=n_items)
        ok = (
            keep
            & (rc[rater_idx] >= min_rater_ratings)
            & (ic[item_idx] >= min_item_raters)
        )
        if (ok == keep).all():
            return keep
        keep = ok


class _Adam:
    def __init__(self, shapes: list[int], lr: float) -> None:
        self.lr = lr
        self.m = [np.zeros(s) for s in shapes]
        self.v = [np.zeros(s) for s in shapes]
        self.t = 0

    def step(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        self.t += 1
        c1 = 1.0 - 0.9**self.t
        c2 = 1.0 - 0.999**self.t
        for p, g, m, v in zip(params, grads, self.m, self.v, strict=True):
            m *= 0.9
            m += 0.1 * g
            v *= 0.999
            v += 0.001 * g * g
            p -= self.lr * (m / c1) / (np.sqrt(v / c2) + 1e-8)


def reference_fit(
    rater_idx: np.ndarray,
    item_idx: np.ndarray,
    values: np.ndarray,
    *,
    n_raters: int,
    n_items: int,
    l2_lambda: float = 0.03,
    l2_intercept_multiplier: float = 5.0,
    lr: float = 1.0,
    convergence: float = 1e-7,
    max_epochs: int = 5000,
    seed: int = 0,
) -> ReferenceFit:
    """Fit the reference model on the filtered core of the ratings."""
    keep = reference_filter(rater_idx, item_idx, n_raters, n_items)
    raters = np.unique(rater_idx[keep])
    items = np.unique(item_idx[keep])
    r = np.searchsorted(raters, rater_idx[keep])
    i = np.searchsorted(items, item_idx[keep])
    y = np.asarray(values, dtype=np.float64)[keep]
    nr, ni, n = len(raters), len(items), len(y)
    rng = np.random.default_rng(seed)
    # Xavier-uniform on an (n, 1) embedding: bound sqrt(6 / (fan_in + fan_out)).
    f_r = rng.uniform(-1, 1, nr) * np.sqrt(6.0 / (1 + nr))
    f_i = rng.uniform(-1, 1, ni) * np.sqrt(6.0 / (1 + ni))
    b_r = np.zeros(nr)
    b_i = np.zeros(ni)
    mu = np.zeros(1)
    lam_b = l2_lambda * l2_intercept_multiplier
    params = [b_r, b_i, f_r, f_i, mu]
    opt = _Adam([nr, ni, nr, ni, 1], lr)

    def loss_and_err() -> tuple[float, np.ndarray]:
        err = mu[0] + b_r[r] + b_i[i] + f_r[r] * f_i[i] - y
        reg = l2_lambda * ((f_r**2).mean() + (f_i**2).mean()) + lam_b * (
            (b_r**2).mean() + (b_i**2).mean() + mu[0] ** 2
        )
        return float((err**2).mean() + reg), err

    loss, err = loss_and_err()
    prev = 1e10
    epoch = 0
    while abs(loss - prev) > convergence and not (epoch > 100 and loss > prev):
        if epoch >= max_epochs:
            break
        prev = loss
        g = 2.0 * err / n
        grads = [
            np.bincount(r, weights=g, minlength=nr) + 2 * lam_b * b_r / nr,
            np.bincount(i, weights=g, minlength=ni) + 2 * lam_b * b_i / ni,
            np.bincount(r, weights=g * f_i[i], minlength=nr) + 2 * l2_lambda * f_r / nr,
            np.bincount(i, weights=g * f_r[r], minlength=ni) + 2 * l2_lambda * f_i / ni,
            np.array([g.sum() + 2 * lam_b * mu[0]]),
        ]
        opt.step(params, grads)
        loss, err = loss_and_err()
        epoch += 1

    if np.count_nonzero(f_r < 0) / max(np.count_nonzero(f_r), 1) < 0.5:
        f_r *= -1
        f_i *= -1
    out_b = np.full(n_items, np.nan)
    out_f = np.full(n_items, np.nan)
    out_b[items] = b_i
    out_f[items] = f_i
    rb = np.full(n_raters, np.nan)
    rf = np.full(n_raters, np.nan)
    rb[raters] = b_r
    rf[raters] = f_r
    return ReferenceFit(out_b, out_f, rb, rf, float(mu[0]), epoch, loss)
