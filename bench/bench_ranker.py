"""Ranker core latency: one viewer, 1,500 candidates carrying every signal.

    .venv/bin/python bench/bench_ranker.py [--runs 200]

Pure-core part (no database): builds 1,500 candidates with bridging, consensus,
incivility, cross_cutting, affinity (and forbidden predicted_engagement values the
ranker must ignore), then times ``ranking.ranker_core.rank`` under the charter
v1-like policy:
- the first page (what a feed request needs: 30 items, explained), and
- the full ordering of all 1,500 items (every item explained),
against a plain chronological sort of the same candidates measured in the same
run. Prints p50/p95/p99 in milliseconds and the ratios.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ranking.ranker_core import Candidate, chronological, rank  # noqa: E402
from ranking.simulation.rankers import CHARTER_V1_LIKE  # noqa: E402

NOW = datetime(2026, 11, 29, 12, tzinfo=UTC)


def candidates(n: int, seed: int) -> list[Candidate]:
    rng = random.Random(seed)
    return [
        Candidate(
            item_id=i,
            author_id=rng.randrange(300),
            created_at=NOW - timedelta(hours=rng.random() * 72),
            signals={
                "bridging": rng.uniform(-1, 1),
                "consensus": rng.random(),
                "incivility": rng.betavariate(1.2, 4),
                "predicted_engagement": rng.random(),
            },
            viewer_signals={
                "cross_cutting": float(rng.random() < 0.3),
                "affinity": rng.choice([0.0, 0.0, 0.0, 0.5, 1.0]),
            },
        )
        for i in range(n)
    ]


def timed(fn, runs: int) -> np.ndarray:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return np.array(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--candidates", type=int, default=1500)
    args = parser.parse_args()
    cands = candidates(args.candidates, 0)
    page = CHARTER_V1_LIKE["feed"]["page_size"]
    # Warm-up.
    rank(cands, CHARTER_V1_LIKE, now=NOW, limit=page)
    chronological(cands)
    rows = {
        "chronological sort": timed(lambda: chronological(cands), args.runs),
        f"charter rank, first page ({page})": timed(
            lambda: rank(cands, CHARTER_V1_LIKE, now=NOW, limit=page), args.runs
        ),
        f"charter rank, all {args.candidates}": timed(
            lambda: rank(cands, CHARTER_V1_LIKE, now=NOW), args.runs
        ),
    }
    base = rows["chronological sort"]
    print(f"ranker core, {args.candidates} candidates, {args.runs} runs (ms)")
    print(f"{'':34} {'p50':>8} {'p95':>8} {'p99':>8}  ratio p50 to chrono")
    for name, t in rows.items():
        p50, p95, p99 = np.percentile(t, [50, 95, 99])
        ratio = p50 / np.percentile(base, 50)
        print(f"{name:34} {p50:8.2f} {p95:8.2f} {p99:8.2f}  {ratio:8.1f}x")


if __name__ == "__main__":
    main()
