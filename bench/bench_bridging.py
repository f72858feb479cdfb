"""Bridging fit: speed, memory, agreement with the reference, and drift.

    .venv/bin/python bench/bench_bridging.py [--quick]

Prints, for synthetic ratings (SIMULATION — synthetic data):
1. fit time for ~60k and ~1M ratings (best of a few runs, and the run-to-run
   spread) and peak memory of the 1M fit (tracemalloc peak of numpy/Python
   allocations in a separate run, plus the process's max RSS);
2. agreement with the reference gradient-descent implementation on held-out data
   (random exposure): Spearman of intercepts, |Pearson| of factors, and the
   reference's own time on the same data (the baseline for the speed ratio);
3. drift under selection bias: Spearman of intercepts with the hidden truth
   ('how the less favourable camp reacts') for the reference, our plain fit and
   our robust fit, at several strengths of selection bias.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
from scipy.stats import pearsonr, spearmanr
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from reference_bridging import reference_fit  # noqa: E402

from ranking.bridging import FLAG_FITTED, fit_bridging  # noqa: E402
from ranking.simulation.society import (  # noqa: E402
    bridging_truth,
    generate_society,
    sample_ratings,
)


def _data(users: int, posts: int, per_rater: float, bias: float, seed: int):
    society = generate_society(users, posts, seed=seed, follows_per_user=0)
    r, i, v = sample_ratings(
        society, ratings_per_rater=per_rater, seed=seed + 1, selection_bias=bias
    )
    return society, r, i, v


def _time_fit(r, i, v, n_r, n_i, runs: int) -> tuple[float, float, float, dict]:
    """(best wall, worst wall, best CPU) seconds over ``runs`` fits.

    CPU time is reported next to wall time because the machine is shared: under
    load, wall time measures the neighbours as much as the fit.
    """
    walls, cpus = [], []
    result = None
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        result = fit_bridging(r, i, v, n_raters=n_r, n_items=n_i)
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    assert result is not None
    return min(walls), max(walls), min(cpus), result.metrics


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="skip the 1M fit")
    args = parser.parse_args()
    print("SIMULATION — synthetic data (bridging benchmark)")
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    # Warm imports (scipy.sparse.linalg) outside the timed region.
    soc, r, i, v = _data(200, 400, 20, 0.0, 0)
    fit_bridging(r, i, v, n_raters=200, n_items=400)

    print("\n== speed (single thread) ==")
    sizes = [("60k", 2000, 6000, 30, 3)]
    if not args.quick:
        sizes.append(("1M", 20000, 50000, 50, 2))
    for label, users, posts, per, runs in sizes:
        for bias in (0.0, 3.0):
            _, r, i, v = _data(users, posts, per, bias, 7)
            with threadpool_limits(limits=1):
                best, worst, cpu, m = _time_fit(r, i, v, users, posts, runs)
            print(
                f"{label:>4} ratings={r.size:>8,} bias={bias:.0f}: wall best "
                f"{best:6.2f}s worst {worst:6.2f}s, CPU best {cpu:6.2f}s  "
                f"sweeps={int(m['sweeps'])} "
                f"core items={int(m['n_core_items']):,} "
                f"gate={m.get('exposure_gate', 0):.2f}"
            )
        if label == "1M":
            # The reference on the same (last, biased) 1M ratings: the speed
            # baseline at scale, measured in the same run.
            with threadpool_limits(limits=1):
                c = time.process_time()
                ref = reference_fit(r, i, v, n_raters=users, n_items=posts)
                t_ref = time.process_time() - c
            ours = fit_bridging(r, i, v, n_raters=users, n_items=posts)
            mask = ~np.isnan(ref.item_intercept)
            rho = spearmanr(ours.item_intercept[mask], ref.item_intercept[mask])[0]
            print(
                f"  reference on the same 1M: CPU {t_ref:.2f}s ({ref.epochs} Adam "
                f"epochs) -> ours is {t_ref / cpu:.1f}x faster; intercept Spearman "
                f"ours~ref {rho:.3f}"
            )
            tracemalloc.start()
            fit_bridging(r, i, v, n_raters=users, n_items=posts)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"  1M peak traced allocations {peak / 2**20:,.0f} MiB; "
                f"process max RSS so far {rss:,.0f} MiB (includes the data)"
            )

    print("\n== agreement with the reference on held-out data (random exposure) ==")
    for users, posts, per in ((1000, 3000, 30), (2000, 6000, 30)):
        _, r, i, v = _data(users, posts, per, 0.0, 31)
        with threadpool_limits(limits=1):
            c = time.process_time()
            ref = reference_fit(r, i, v, n_raters=users, n_items=posts)
            t_ref = time.process_time() - c
            mask = ~np.isnan(ref.item_intercept)
            for robust in (False, True):
                c = time.process_time()
                ours = fit_bridging(
                    r, i, v, n_raters=users, n_items=posts, robust=robust
                )
                t_ours = time.process_time() - c
                rho = spearmanr(ours.item_intercept[mask], ref.item_intercept[mask])[0]
                fac = pearsonr(ours.item_factor[mask], ref.item_factor[mask])[0]
                print(
                    f"ratings={r.size:,} {'robust' if robust else 'plain '}: "
                    f"intercept Spearman {rho:.4f}  |factor r| {abs(fac):.4f}  "
                    f"CPU ours {t_ours:.2f}s vs reference {t_ref:.2f}s "
                    f"({ref.epochs} Adam epochs) -> {t_ref / t_ours:.1f}x faster"
                )

    print("\n== drift under selection bias (Spearman with hidden truth) ==")
    print("bias | reference | ours plain | ours robust | robust~ref intercepts")
    for bias in (0.0, 1.0, 2.0, 3.0):
        soc, r, i, v = _data(1500, 6000, 40, bias, 41)
        truth = bridging_truth(soc)
        with threadpool_limits(limits=1):
            ref = reference_fit(r, i, v, n_raters=1500, n_items=6000)
            plain = fit_bridging(r, i, v, n_raters=1500, n_items=6000, robust=False)
            robust = fit_bridging(r, i, v, n_raters=1500, n_items=6000)
        core = plain.item_flag == FLAG_FITTED
        print(
            f"{bias:4.1f} | {spearmanr(ref.item_intercept[core], truth[core])[0]:9.3f} "
            f"| {spearmanr(plain.item_intercept[core], truth[core])[0]:10.3f} "
            f"| {spearmanr(robust.item_intercept[core], truth[core])[0]:11.3f} "
            f"| {spearmanr(robust.item_intercept[core], ref.item_intercept[core])[0]:.3f}"  # noqa: E501
        )


if __name__ == "__main__":
    main()
