"""The simulation table at 2,000 users / 20,000 posts (SIMULATION — synthetic data).

    .venv/bin/python bench/bench_simulation.py [--users 2000 --posts 20000 --seed 1]

Prints the Markdown comparison table (chronological vs engagement-optimised vs
charter feeds), the bridging drift numbers, fit details and timings, and writes
JSON / Markdown / SVG into var/bench_simulation/.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ranking.simulation.report import markdown_table, write_outputs  # noqa: E402
from ranking.simulation.run import run_simulation  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--posts", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "bench_simulation")
    args = parser.parse_args()
    started = time.perf_counter()
    result = run_simulation(
        users=args.users,
        posts=args.posts,
        seed=args.seed,
        eval_viewers=args.viewers,
        progress=lambda m: print(f"  [{time.perf_counter() - started:6.1f}s] {m}"),
    )
    print()
    print(markdown_table(result))
    d = result["bridging_drift"]
    print(
        "robust vs reference intercepts on these (selection-biased) ratings: "
        f"Spearman {d.get('robust_vs_reference_intercepts', float('nan')):.3f}; "
        f"plain vs reference {d.get('plain_vs_reference_intercepts', float('nan')):.3f}"
    )
    f, t = result["fit"], result["timing"]
    print(
        f"ratings {int(f['n_ratings']):,}; "
        f"bridging fit {f['bridging_fit_seconds']:.2f}s "
        f"({int(f['bridging_core_items']):,} posts in the core, exposure gate "
        f"{f['exposure_gate']:.2f}); opinion groups {int(f['opinion_groups'])}; "
        f"engagement model train AUC {f['engagement_train_auc']:.3f}"
    )
    print(
        f"charter rank p50 {t['charter_rank_ms_p50']:.1f} ms per viewer over "
        f"{t['mean_candidates']:.0f} candidates; total {t['total_seconds']:.1f}s"
    )
    paths = write_outputs(result, args.out)
    print("wrote", ", ".join(str(p) for p in paths.values()))


if __name__ == "__main__":
    main()
