"""Write a simulation result as JSON, a Markdown table and an SVG chart.

Every output carries the label "SIMULATION — synthetic data".
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from ranking.simulation.run import LABEL, METRICS

FEEDS = ["chronological", "engagement", "charter"]


def markdown_table(result: dict[str, Any]) -> str:
    """The comparison as a Markdown table, with the label and the drift numbers."""
    p = result["parameters"]
    lines = [
        f"**{LABEL}** — {p['users']} users, {p['posts']} posts, seed {p['seed']}, "
        f"{p['eval_viewers']} viewers × {p['feed_size']} items",
        "",
        "| metric | better | " + " | ".join(FEEDS) + " |",
        "|---|---|" + "---:|" * len(FEEDS),
    ]
    for key, label, better in METRICS:
        row = [f"{result['metrics'][f][key]:.3f}" for f in FEEDS]
        lines.append(f"| {label} | {better} | " + " | ".join(row) + " |")
    d = result["bridging_drift"]
    lines += [
        "",
        f"Bridging drift under selection bias ({LABEL}): Spearman of the fitted "
        f"intercept with the hidden 'less favourable camp' truth on "
        f"{int(d['core_items'])} fitted posts —",
        "",
        "| fit | Spearman with truth |",
        "|---|---:|",
    ]
    if "reference" in d:
        lines.append(f"| reference (gradient descent) | {d['reference']:.3f} |")
    lines += [
        f"| ours, plain ALS | {d['ours_plain']:.3f} |",
        f"| ours, robust (exposure-anchored) | {d['ours_robust']:.3f} |",
        "",
        f"Candidates: {p['candidates']}.",
    ]
    return "\n".join(lines) + "\n"


def _svg_matplotlib(result: dict[str, Any], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    keys = [m for m in METRICS]
    fig, axes = plt.subplots(2, 3, figsize=(11, 6))
    colours = {
        "chronological": "#888888",
        "engagement": "#d9534f",
        "charter": "#2b7bb9",
    }
    for ax, (key, label, better) in zip(axes.ravel(), keys, strict=True):
        values = [result["metrics"][f][key] for f in FEEDS]
        ax.bar(FEEDS, values, color=[colours[f] for f in FEEDS])
        ax.set_title(
            f"{label}\n({better} is better)" if better != "—" else label, fontsize=8
        )
        ax.tick_params(labelsize=7)
        for n, val in enumerate(values):
            ax.annotate(f"{val:.2f}", (n, val), ha="center", va="bottom", fontsize=7)
    fig.suptitle(f"{LABEL} — feeds compared", fontsize=11, color="#b00000")
    fig.tight_layout()
    fig.savefig(path, format="svg", metadata={"Title": LABEL})
    plt.close(fig)
    return True


def _svg_by_hand(result: dict[str, Any], path: Path) -> None:
    """A plain bar chart, for machines without matplotlib."""
    width, row_h = 720, 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{60 + row_h * len(METRICS)}" font-family="sans-serif">',
        f"<title>{escape(LABEL)}</title>",
        f'<text x="10" y="24" font-size="16" fill="#b00000">{escape(LABEL)}</text>',
    ]
    colours = {"chronological": "#888", "engagement": "#d9534f", "charter": "#2b7bb9"}
    for n, (key, label, _) in enumerate(METRICS):
        y0 = 50 + n * row_h
        parts.append(f'<text x="10" y="{y0}" font-size="12">{escape(label)}</text>')
        vals = [result["metrics"][f][key] for f in FEEDS]
        top = max(abs(v) for v in vals) or 1.0
        for k, (feed, val) in enumerate(zip(FEEDS, vals, strict=True)):
            w = 400 * abs(val) / top
            y = y0 + 6 + k * 18
            parts.append(
                f'<rect x="120" y="{y}" width="{w:.1f}" height="14" '
                f'fill="{colours[feed]}"/>'
                f'<text x="10" y="{y + 12}" font-size="11">{feed}</text>'
                f'<text x="{125 + w:.1f}" y="{y + 12}" font-size="11">{val:.3f}</text>'
            )
    parts.append("</svg>")
    path.write_text("\n".join(parts), encoding="utf-8")


def write_outputs(result: dict[str, Any], out_dir: Path) -> dict[str, Path]:
    """Write simulation.json, simulation.md and simulation.svg into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": out_dir / "simulation.json",
        "markdown": out_dir / "simulation.md",
        "chart": out_dir / "simulation.svg",
    }
    paths["json"].write_text(
        json.dumps(result, indent=2, sort_keys=True, default=float, ensure_ascii=False),
        encoding="utf-8",
    )
    paths["markdown"].write_text(
        f"# {LABEL}\n\n" + markdown_table(result), encoding="utf-8"
    )
    if not _svg_matplotlib(result, paths["chart"]):
        _svg_by_hand(result, paths["chart"])
    return paths
