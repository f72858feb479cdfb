"""Feed choices people make: which feed (ranked, chronological, tuned), the
tuned feed's sliders, and explicit "show more / less like this" feedback.

Services (writes) validate against the charter in force, so a slider can only
be set within the bounds the charter's `user_controls` allow; the ranker clamps
again at ranking time because a later charter may narrow those bounds.
Selectors (reads) never write: a person without a stored preference gets the
default (the charter-ranked feed).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from charter.selectors import policy_active
from feed.models import User
from feed.selectors import post_get_for_viewer
from ranking.models import FeedMode, FeedPreference, ItemFeedback

# How many of a person's newest feedback rows the ranker reads per page.
FEEDBACK_READ_CAP = 500


def user_controls_bounds(policy: Mapping[str, Any]) -> dict[str, tuple[float, float]]:
    """{signal: (min, max)} of the multipliers the charter lets people set."""
    return {
        str(c["signal"]): (float(c["min"]), float(c["max"]))
        for c in policy.get("user_controls") or ()
    }


def multipliers_clamp(
    multipliers: Mapping[str, float], policy: Mapping[str, Any]
) -> dict[str, float]:
    """The stored multipliers the policy still allows, clamped to its bounds."""
    bounds = user_controls_bounds(policy)
    out: dict[str, float] = {}
    for name, value in sorted(multipliers.items()):
        if name in bounds:
            lo, hi = bounds[name]
            out[name] = min(max(float(value), lo), hi)
    return out


def _multipliers_clean(raw: object, policy: Mapping[str, Any]) -> dict[str, float]:
    if not isinstance(raw, Mapping):
        raise ValidationError(
            {
                "multipliers": "Send the multipliers as an object, "
                'e.g. {"bridging": 1.5}.'
            }
        )
    bounds = user_controls_bounds(policy)
    out: dict[str, float] = {}
    errors: list[str] = []
    for name, value in raw.items():
        if name not in bounds:
            allowed = ", ".join(sorted(bounds)) or "none"
            errors.append(
                f"The charter does not let you tune '{name}'; you can tune: {allowed}."
            )
            continue
        lo, hi = bounds[name]
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            errors.append(f"Give '{name}' as a number from {lo:g} to {hi:g}.")
            continue
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if not math.isfinite(number) or not lo <= number <= hi:
            errors.append(
                f"Set '{name}' to a number from {lo:g} to {hi:g} "
                "(the bounds the charter allows)."
            )
            continue
        out[str(name)] = number
    if errors:
        raise ValidationError({"multipliers": errors})
    return dict(sorted(out.items()))


def feed_preference_get(*, user: User) -> FeedPreference:
    """The person's feed preference, or an unsaved default (ranked, no sliders)."""
    found = FeedPreference.objects.filter(user_id=user.pk).first()
    return found or FeedPreference(
        user_id=user.pk, mode=FeedMode.RANKED, multipliers={}
    )


def feed_preference_set(
    *,
    user: User,
    mode: str | None = None,
    multipliers: Mapping[str, object] | None = None,
) -> FeedPreference:
    """Store which feed the person sees and/or their tuned-feed sliders.

    Omitted fields keep their stored value. Raises ValidationError naming what
    to change: an unknown mode, a signal the charter does not let people tune,
    or a value outside the charter's bounds.
    """
    errors: dict[str, Any] = {}
    if mode is not None and mode not in FeedMode.values:
        errors["mode"] = f"Choose one of {', '.join(FeedMode.values)}, not '{mode}'."
    clean: dict[str, float] | None = None
    if multipliers is not None:
        try:
            clean = _multipliers_clean(multipliers, policy_active())
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        pref, _ = FeedPreference.objects.select_for_update().get_or_create(
            user_id=user.pk
        )
        if mode is not None:
            pref.mode = mode
        if clean is not None:
            pref.multipliers = clean
        pref.save()
    return pref


def item_feedback_set(*, user: User, post_id: int, more: bool) -> ItemFeedback:
    """Record "show more like this" (`more=True`) or "less" on a post; replaces any
    earlier feedback on it. Raises Http404 for a post the person cannot see."""
    if not isinstance(more, bool):
        raise ValidationError({"more": "Send true (show more) or false (show less)."})
    post = post_get_for_viewer(viewer=user, post_id=post_id)
    with transaction.atomic():
        feedback, _ = ItemFeedback.objects.update_or_create(
            user=user, post=post, defaults={"more": more}
        )
    return feedback


def item_feedback_clear(*, user: User, post_id: int) -> bool:
    """Withdraw the person's feedback on a post; True when there was some."""
    with transaction.atomic():
        deleted, _ = ItemFeedback.objects.filter(user=user, post_id=post_id).delete()
    return bool(deleted)


def item_feedback_for(*, user: User) -> list[tuple[int, int, bool]]:
    """(post id, author id, more) of the person's newest feedback (capped)."""
    return [
        (int(p), int(a), bool(m))
        for p, a, m in ItemFeedback.objects.filter(user_id=user.pk)
        .order_by("-updated_at", "-id")
        .values_list("post_id", "post__author_id", "more")[:FEEDBACK_READ_CAP]
    ]


def item_feedback_on(*, user: User, post_ids: list[int]) -> dict[int, bool]:
    """The person's feedback on these posts, by post id."""
    return dict(
        ItemFeedback.objects.filter(user_id=user.pk, post_id__in=post_ids).values_list(
            "post_id", "more"
        )
    )
