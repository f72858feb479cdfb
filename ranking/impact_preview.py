"""The amendment impact preview: how a proposed policy would change real feeds.

Runs the feed's own candidate code (`ranking.candidates.candidates_build`) for
a sample of real, active users and compares the active and the proposed
policy with `ranking.simulation.impact.policy_impact`.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from typing import Any

from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from charter.selectors import NoActiveCharter, policy_active_record
from feed.models import User
from ranking.candidate_rows import HOME_WINDOW
from ranking.candidates import candidates_build, models_active
from ranking.ranker_core import Candidate

logger = logging.getLogger(__name__)

IMPACT_SAMPLE = 50
IMPACT_CACHE_SECONDS = 3600


def impact_sample(*, limit: int = IMPACT_SAMPLE) -> list[User]:
    """Up to `limit` real users, most active first (posts in the window), ties by id."""
    from django.db.models import Count

    since = timezone.now() - HOME_WINDOW
    return list(
        User.objects.filter(is_active=True)
        .annotate(n=Count("posts", filter=Q(posts__created_at__gt=since)))
        .filter(n__gt=0)
        .order_by("-n", "id")[:limit]
    )


def impact_preview_for(
    *, amendment_id: int, proposed_policy: Mapping[str, Any], proposed_sha: str
) -> dict[str, Any] | None:
    """How the amendment's policy would change real feeds, cached per
    (amendment, active policy, proposed policy, model versions).

    Returns None when no charter is in force. Uses `candidates_build` (the
    feed's own code) and `ranking.simulation.impact.policy_impact`.
    """
    from ranking.simulation.impact import policy_impact

    try:
        active_version, active_sha, active_policy = policy_active_record()
    except NoActiveCharter:
        return None
    models = models_active()
    key_src = "|".join(
        [
            str(amendment_id),
            active_sha,
            proposed_sha,
            ",".join(f"{k}:{v}" for k, v in sorted(models.versions.items())),
        ]
    )
    key = "ranking:impact:" + hashlib.sha256(key_src.encode()).hexdigest()
    try:
        cached = cache.get(key)
    except Exception:
        # No cache: compute the preview afresh rather than fail the page.
        logger.warning("cache unavailable for the impact preview", exc_info=True)
        cached = None
    if cached is not None:
        return dict(cached)
    now = timezone.now()
    by_viewer: dict[int, list[Candidate]] = {}
    for user in impact_sample():
        cset = candidates_build(
            viewer=user, as_of=now, models=models, ensure_missing=False
        )
        if cset.candidates:
            by_viewer[int(user.pk)] = cset.candidates
    impact = policy_impact(by_viewer, active_policy, proposed_policy, now=now, k=10)
    impact.pop("per_viewer", None)
    summary = {
        **impact,
        "computed_at": now,
        "active_version": active_version,
        "model_versions": models.versions,
        "metric_rows": [
            {
                "name": name,
                "label": _METRIC_LABELS.get(name, name),
                "active": impact["metrics_a"].get(name),
                "proposed": impact["metrics_b"].get(name),
            }
            for name in sorted(set(impact["metrics_a"]) | set(impact["metrics_b"]))
        ],
    }
    try:
        cache.set(key, summary, IMPACT_CACHE_SECONDS)
    except Exception:
        logger.warning("cache unavailable for the impact preview", exc_info=True)
    return summary


_METRIC_LABELS = {
    "mean_incivility": "Mean incivility of the top 10",
    "mean_bridging": "Mean bridging score of the top 10",
    "mean_consensus": "Mean cross-group agreement of the top 10",
    "cross_cutting_share": "Share of the top 10 from outside the viewer's circle",
    "author_gini": "Author concentration (Gini) of the top 10",
}
