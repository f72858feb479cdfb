"""Plain-words reasons for a ranked item, each tied to the charter article behind it.

A signal's *lift* on an item is its effective weight times how far the item's value
sits from the middle of the signal's range: the middle neither lifts nor pushes
down. The largest lifts, whichever their direction, become the item's reasons, in
the registry's own words (``SignalSpec.explains_up`` / ``explains_down``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ranking.registry import SIGNALS

# Lifts smaller than this say nothing a person would notice.
MIN_LIFT = 0.05


@dataclass(frozen=True)
class Reason:
    """One reason, e.g. "people who usually disagree both found this helpful"."""

    signal: str
    text: str
    article: str
    # Signed effect on the score; demotions and placements carry 0.
    lift: float
    kind: str = "signal"  # "signal" | "demotion" | "placement"

    def __str__(self) -> str:
        return f"{self.text} — Article {self.article}"


@dataclass(frozen=True)
class Demotion:
    """A demotion rule that fired: the item goes below every undemoted item."""

    rule: str
    signal: str
    value: float
    threshold: float
    article: str


def signal_midpoint(name: str) -> float:
    """The neutral value of a registered signal: the middle of its range."""
    spec = SIGNALS[name]
    return (spec.low + spec.high) / 2.0


def reasons_for(
    lifts: dict[str, float],
    articles: dict[str, str],
    demotions: tuple[Demotion, ...] = (),
    placements: tuple[Reason, ...] = (),
    *,
    top: int = 3,
) -> tuple[Reason, ...]:
    """The item's reasons: demotions first, then placements, then top lifts.

    Ties between equal lifts are broken by signal name so that the same item
    always gets the same words.
    """
    out: list[Reason] = []
    for d in demotions:
        spec = SIGNALS[d.signal]
        out.append(
            Reason(
                signal=d.signal,
                text=(
                    f"moved down because {spec.explains_down} "
                    f"({d.signal} {d.value:.2f} is above the limit {d.threshold:.2f})"
                ),
                article=d.article,
                lift=0.0,
                kind="demotion",
            )
        )
    out.extend(placements)
    ranked = sorted(
        ((lift, name) for name, lift in lifts.items() if abs(lift) >= MIN_LIFT),
        key=lambda pair: (-abs(pair[0]), pair[1]),
    )
    for lift, name in ranked[:top]:
        spec = SIGNALS[name]
        out.append(
            Reason(
                signal=name,
                text=spec.explains_up if lift > 0 else spec.explains_down,
                article=articles[name],
                lift=lift,
            )
        )
    return tuple(out)
