"""The signal registry: every signal the ranker may weigh, described for people.

The charter's policy validation checks signal names against this registry, so a
policy can only name signals that exist. Forbidden signals are registered too,
so the charter can name them in order to forbid them; they can never carry
weight (see `FORBIDDEN_BY_DESIGN`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SignalSpec:
    name: str
    description: str
    low: float
    high: float
    version: str
    viewer_dependent: bool
    # Plain-words phrase used in explanations when this signal lifts an item.
    explains_up: str
    # ... and when it pushes an item down.
    explains_down: str


SIGNALS: dict[str, SignalSpec] = {
    spec.name: spec
    for spec in [
        SignalSpec(
            name="bridging",
            description=(
                "How much people who usually disagree both rated this post helpful: "
                "the post's intercept in a one-factor matrix factorisation of ratings."
            ),
            low=-1.0,
            high=1.0,
            version="1",
            viewer_dependent=False,
            explains_up="people who usually disagree both found this helpful",
            explains_down="people across viewpoints found this unhelpful",
        ),
        SignalSpec(
            name="consensus",
            description=(
                "Agreement across the opinion groups found in the ratings: the lowest "
                "share of helpful ratings among the groups that rated the post."
            ),
            low=0.0,
            high=1.0,
            version="1",
            viewer_dependent=False,
            explains_up="every opinion group that rated this mostly found it helpful",
            explains_down="opinion groups disagree sharply about this",
        ),
        SignalSpec(
            name="incivility",
            description=(
                "Estimated probability that the text is insulting, abusive or "
                "profane, from a text classifier refined by upheld reports."
            ),
            low=0.0,
            high=1.0,
            version="1",
            viewer_dependent=False,
            explains_up="its language is civil",
            explains_down="its language looks uncivil",
        ),
        SignalSpec(
            name="cross_cutting",
            description=(
                "1 when the author's opinion group differs from the viewer's, "
                "else 0: a voice from outside your usual circle."
            ),
            low=0.0,
            high=1.0,
            version="1",
            viewer_dependent=True,
            explains_up="it comes from outside your usual circle",
            explains_down="it comes from inside your usual circle",
        ),
        SignalSpec(
            name="recency",
            description=(
                "Freshness: it halves every few hours after posting; "
                "the charter sets the half-life."
            ),
            low=0.0,
            high=1.0,
            version="1",
            viewer_dependent=False,
            explains_up="it is recent",
            explains_down="it is older",
        ),
        SignalSpec(
            name="affinity",
            description=(
                "Explicit choices only: you follow the author, the priority you gave "
                "them, and your 'show more / less like this' feedback. Never likes."
            ),
            low=-1.0,
            high=1.0,
            version="1",
            viewer_dependent=True,
            explains_up="you follow the author or asked for more like this",
            explains_down="you asked to see less like this",
        ),
        SignalSpec(
            name="predicted_engagement",
            description=(
                "Predicted probability of a like or reply. Registered only so the "
                "charter can forbid it; it may never carry weight."
            ),
            low=0.0,
            high=1.0,
            version="1",
            viewer_dependent=True,
            explains_up="it is predicted to draw engagement",
            explains_down="it is predicted to draw little engagement",
        ),
        SignalSpec(
            name="dwell_time",
            description=(
                "Predicted seconds spent looking at the item. Registered only so the "
                "charter can forbid it; it may never carry weight."
            ),
            low=0.0,
            high=600.0,
            version="1",
            viewer_dependent=True,
            explains_up="it is predicted to hold attention",
            explains_down="it is predicted to hold little attention",
        ),
    ]
}

# Engagement-prediction signals: no charter may give them non-zero weight.
FORBIDDEN_BY_DESIGN: frozenset[str] = frozenset({"predicted_engagement", "dwell_time"})


def signal_get(name: str) -> SignalSpec:
    """Return the registered signal, or raise KeyError naming the known ones."""
    try:
        return SIGNALS[name]
    except KeyError:
        known = ", ".join(sorted(SIGNALS))
        raise KeyError(f"unknown signal '{name}'; known signals: {known}") from None


def signal_names() -> list[str]:
    """All registered signal names, sorted."""
    return sorted(SIGNALS)
