"""Every policy item in plain words, grouped under the article that authorises it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ranking.registry import SIGNALS


@dataclass(frozen=True)
class PlainItem:
    article: str
    section: str
    text: str


def _pct(share: float) -> str:
    return f"{share * 100:g}%"


def _signal_label(name: str) -> str:
    return name.replace("_", " ")


def _objective(item: dict[str, Any]) -> str:
    name, weight = item["signal"], float(item["weight"])
    spec = SIGNALS.get(name)
    if weight == 0:
        return f"The {_signal_label(name)} signal is listed but carries no weight."
    if spec is None:
        reason = _signal_label(name)
    else:
        reason = spec.explains_up if weight > 0 else spec.explains_down
    verb = "Raises" if weight > 0 else "Lowers"
    text = f"{verb} a post when {reason} (weight {weight:+g})."
    if "half_life_hours" in item:
        text += f" Its freshness halves every {item['half_life_hours']:g} hours."
    return text


def _constraint(item: dict[str, Any]) -> str:
    kind = item["kind"]
    if kind == "max_author_share":
        return (
            f"No single author may fill more than {_pct(item['value'])} of a feed page."
        )
    if kind == "min_cross_cutting_share":
        return (
            f"At least {_pct(item['value'])} of each feed page comes from outside your "
            "usual circle, when such posts are available."
        )
    if kind == "demote":
        return (
            f"A post whose {_signal_label(item['signal'])} score is above "
            f"{item['above']:g} is demoted, and the demotion is recorded with its "
            "reasons."
        )
    return f"Constraint '{kind}'."


def policy_plain_items(policy: dict[str, Any]) -> list[PlainItem]:
    """Each objective, constraint and rule of `policy` as a sentence and its article."""
    items: list[PlainItem] = []
    for objective in policy.get("objectives", []):
        items.append(
            PlainItem(objective["article"], "objective", _objective(objective))
        )
    for constraint in policy.get("constraints", []):
        items.append(
            PlainItem(constraint["article"], "constraint", _constraint(constraint))
        )
    citations = policy.get("citations", {})
    forbidden = policy.get("forbidden_signals", [])
    if forbidden:
        names = ", ".join(_signal_label(n) for n in forbidden)
        items.append(
            PlainItem(
                citations.get("forbidden_signals", ""),
                "forbidden",
                f"These signals may never carry weight in ranking: {names}.",
            )
        )
    feed = policy.get("feed")
    if feed:
        text = (
            f"A feed page shows at most {feed['page_size']} posts, and the feed stops "
            f"after {feed['daily_limit']} posts a day."
        )
        if feed.get("caught_up_marker"):
            text += (
                " A \u201cyou\u2019re caught up\u201d marker shows where new posts end."
            )
        items.append(PlainItem(citations.get("feed", ""), "feed", text))
    for control in policy.get("user_controls", []):
        items.append(
            PlainItem(
                citations.get("user_controls", ""),
                "user_control",
                f"You may scale the weight of {_signal_label(control['signal'])} "
                f"in your own feed between {control['min']:g}\u00d7 and "
                f"{control['max']:g}\u00d7.",
            )
        )
    petitions = policy.get("petitions")
    if petitions:
        items.append(
            PlainItem(
                citations.get("petitions", ""),
                "petitions",
                f"A petition with {petitions['response_threshold']} co-signatures "
                f"must be answered by the board within {petitions['response_days']} "
                f"days; the answer may be appealed within {petitions['appeal_days']} "
                "days.",
            )
        )
    board = policy.get("board")
    if board:
        items.append(
            PlainItem(
                citations.get("board", ""),
                "board",
                f"An amendment needs ballots from at least {_pct(board['quorum'])} of "
                f"sitting board members, and at least {_pct(board['majority'])} yes "
                "among yes and no votes, with more yes than no.",
            )
        )
    return items


def policy_plain_by_article(policy: dict[str, Any]) -> dict[str, list[PlainItem]]:
    """`policy_plain_items` grouped by article number, in policy order."""
    grouped: dict[str, list[PlainItem]] = {}
    for item in policy_plain_items(policy):
        grouped.setdefault(item.article, []).append(item)
    return grouped
