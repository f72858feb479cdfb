"""Decision records (statements of reasons), item overrides and decision replay.

The ranker calls `decision_record_ensure` for every demotion it applies and
`overrides_active_for` before applying demotions. Records of automated
demotions are public and replayable but not logged one by one in the ledger
(there would be one per demoted post per policy and model version); every
by-hand change — an override — is logged, in the same transaction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from feed.models import Post

from .casework_models import (
    DecisionRecord,
    DecisionSource,
    DecisionVisibility,
    ItemOverride,
    OverrideEffect,
)
from .clock import clock_now
from .services import ledger_append
from .verify import canonical_json

REASON_MAX = 3000


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def decision_inputs_key(
    *, rule: Mapping[str, Any], model_versions: Mapping[str, Any], source: str
) -> str:
    """The hash that makes a decision record unique beside its post and policy."""
    return _sha256(
        canonical_json(
            {
                "rule": dict(rule),
                "model_versions": dict(model_versions),
                "source": source,
            }
        )
    )


def decision_rule_from_demotion(demotion: Any) -> dict[str, Any]:
    """The `rule` of a ranker_core Demotion, as stored on a decision record."""
    return {
        "kind": str(demotion.rule),
        "signal": str(demotion.signal),
        "above": float(demotion.threshold),
    }


def _facts_for_rule(
    rule: Mapping[str, Any], article: str, signal_values: Mapping[str, Any]
) -> str:
    if rule.get("kind") == "demote" and "signal" in rule:
        value = signal_values.get(rule["signal"])
        shown = f"{float(value):.2f}" if isinstance(value, int | float) else "unknown"
        return (
            f"The ranker's {rule['signal']} score for this post was {shown}, above "
            f"the limit of {float(rule['above']):.2f} that Article {article} of the "
            "charter sets, so the post is placed below every post that is not "
            "demoted. No person took this decision; any author can appeal it."
        )
    return f"Restricted under Article {article} of the charter."


def decision_record_ensure(
    *,
    post_id: int,
    rule: Mapping[str, Any],
    article: str,
    signal_values: Mapping[str, Any],
    policy_version: int,
    policy_sha256: str,
    model_versions: Mapping[str, Any],
    source: str = DecisionSource.RANKER,
    moderator: Any | None = None,
    facts: str | None = None,
    visibility: str = DecisionVisibility.DEMOTED,
    now: datetime | None = None,
) -> DecisionRecord:
    """The decision record for (post, rule, policy version, model versions), made once.

    Idempotent: the ranker may call it on every feed render; the first call
    writes the record and later calls (even concurrent ones) return it. Costs
    one SELECT when the record exists. Raises Post.DoesNotExist for a missing
    post and ValidationError for a malformed rule or source.
    """
    if source not in DecisionSource.values:
        raise ValidationError({"source": [f"Use one of {DecisionSource.values}."]})
    if visibility not in DecisionVisibility.values:
        raise ValidationError(
            {"visibility": [f"Use one of {DecisionVisibility.values}."]}
        )
    if not isinstance(rule, Mapping) or not rule.get("kind"):
        raise ValidationError({"rule": ["Give the rule as a dict with a 'kind'."]})
    if not str(article).strip():
        raise ValidationError({"article": ["Name the charter article applied."]})
    if source == DecisionSource.MODERATION and moderator is None:
        raise ValidationError(
            {"moderator": ["A moderation decision names its moderator."]}
        )
    key = decision_inputs_key(rule=rule, model_versions=model_versions, source=source)
    lookup = {"post_ref": post_id, "policy_version": policy_version, "inputs_key": key}
    existing = DecisionRecord.objects.filter(**lookup).first()
    if existing is not None:
        return existing
    post = Post.objects.only("id", "body", "created_at").get(pk=post_id)
    clean_rule = dict(rule)
    clean_signals = {str(k): float(v) for k, v in signal_values.items()}
    try:
        with transaction.atomic():
            return DecisionRecord.objects.create(
                post=post,
                content_sha256=_sha256(post.body.encode("utf-8")),
                decision_visibility=visibility,
                ground_article=str(article),
                facts=facts or _facts_for_rule(clean_rule, str(article), clean_signals),
                automated_detection=source == DecisionSource.RANKER,
                automated_decision=source == DecisionSource.RANKER,
                content_date=post.created_at,
                application_date=now or clock_now(),
                signal_values=clean_signals,
                policy_sha256=policy_sha256,
                model_versions=dict(model_versions),
                rule=clean_rule,
                source=source,
                moderator=moderator,
                **lookup,
            )
    except IntegrityError:
        # A concurrent render wrote the same record first.
        return DecisionRecord.objects.get(**lookup)


def decision_statement(record: DecisionRecord) -> dict[str, Any]:
    """The record in the field names of the DSA transparency database's statements."""
    return {
        "puid": record.public_id,
        "decision_visibility": (
            "DECISION_VISIBILITY_CONTENT_DEMOTED"
            if record.decision_visibility == DecisionVisibility.DEMOTED
            else "DECISION_VISIBILITY_CONTENT_LABELLED"
        ),
        "decision_ground": "DECISION_GROUND_INCOMPATIBLE_CONTENT",
        "incompatible_content_ground": f"Charter Social charter, Article "
        f"{record.ground_article}",
        "decision_facts": record.facts,
        "content_type": ["CONTENT_TYPE_TEXT"],
        "automated_detection": "Yes" if record.automated_detection else "No",
        "automated_decision": (
            "AUTOMATED_DECISION_FULLY"
            if record.automated_decision
            else "AUTOMATED_DECISION_NOT_AUTOMATED"
        ),
        "source_type": (
            "SOURCE_VOLUNTARY"
            if record.source == DecisionSource.RANKER
            else "SOURCE_ARTICLE_16"
        ),
        "content_date": record.content_date.date().isoformat(),
        "application_date": record.application_date.date().isoformat(),
        "content_sha256": record.content_sha256,
        "post_id": record.post_ref,
        "signal_values": record.signal_values,
        "policy_version": record.policy_version,
        "policy_sha256": record.policy_sha256,
        "model_versions": record.model_versions,
        "rule": record.rule,
        "source": record.source,
        "created_at": record.created_at.isoformat(),
    }


# --- overrides ---------------------------------------------------------------


def _may_override(user: Any) -> bool:
    from charter.selectors import board_member_is

    return bool(
        getattr(user, "is_moderator", False)
        or getattr(user, "is_staff", False)
        or board_member_is(user=user)
    )


def override_create(
    *,
    post_id: int,
    effect: str,
    reason: str,
    decided_by: Any,
    article: str = "",
    decision_record: DecisionRecord | None = None,
    now: datetime | None = None,
) -> ItemOverride:
    """Change one post's ranking by hand and log it as `ranking.override`, atomically.

    Replaces (revokes) any override already active on the post. Only board
    members, moderators and administrators may override; the machine never
    does. Raises PermissionDenied, ValidationError or Post.DoesNotExist.
    """
    if effect not in OverrideEffect.values:
        raise ValidationError(
            {"effect": [f"Choose 'restore' or 'demote', not '{effect}'."]}
        )
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Give the reasons for the override."]})
    if len(reason) > REASON_MAX:
        raise ValidationError(
            {"reason": [f"Keep the reasons under {REASON_MAX} characters."]}
        )
    if not _may_override(decided_by):
        raise PermissionDenied(
            "Only board members and moderators can override a post's ranking."
        )
    now = now or clock_now()
    with transaction.atomic():
        post = Post.objects.select_for_update().only("id").get(pk=post_id)
        previous = list(
            ItemOverride.objects.select_for_update().filter(
                post=post, revoked_at__isnull=True
            )
        )
        ItemOverride.objects.filter(pk__in=[o.pk for o in previous]).update(
            revoked_at=now
        )
        entry = ledger_append(
            kind="ranking.override",
            actor=f"user:{decided_by.pk}",
            subject=f"post:{post.pk}",
            article=article or None,
            payload={
                "effect": effect,
                "reason": reason,
                "decision_record": decision_record.public_id
                if decision_record
                else None,
                "replaces": [o.pk for o in previous],
            },
        )
        return ItemOverride.objects.create(
            post=post,
            effect=effect,
            reason=reason,
            article=article,
            decided_by=decided_by,
            decision_record=decision_record,
            ledger_index=entry.index,
            created_at=now,
        )


def overrides_active_for(*, post_ids: Iterable[int]) -> dict[int, str]:
    """Active override effect by post id ('restore' or 'demote'); one query.

    'restore': a demotion rule that fires on the post does not apply.
    'demote': the post is demoted whatever its signals say.
    """
    ids = list(post_ids)
    if not ids:
        return {}
    return dict(
        ItemOverride.objects.filter(
            post_id__in=ids, revoked_at__isnull=True
        ).values_list("post_id", "effect")
    )


# --- replay ------------------------------------------------------------------


@dataclass(frozen=True)
class ReplayResult:
    reproduced: bool
    differences: list[str] = field(default_factory=list)
    # What was recomputed, for the API and the command's verbose output.
    recomputed: list[dict[str, Any]] = field(default_factory=list)


def decision_get(*, public_id: str) -> DecisionRecord:
    """One decision record by its public id; raises DecisionRecord.DoesNotExist."""
    return DecisionRecord.objects.select_related("post", "moderator").get(
        public_id=public_id
    )


def decision_replay(*, record: DecisionRecord) -> ReplayResult:
    """Recompute the decision from its recorded inputs with the ranker's own code.

    Looks up the charter version the record names, checks its policy hash
    against the record and against the policy itself, checks that the named
    model versions were stored, then runs `ranking.ranker_core.rank` on a
    candidate built from the recorded signal values at the recorded dates and
    compares the demotions it applies with the recorded rule.
    """
    from charter.models import CharterVersion
    from charter.policy import policy_sha256
    from ranking.models import ModelArtefact
    from ranking.ranker_core import Candidate, rank

    differences: list[str] = []
    version = (
        CharterVersion.objects.filter(number=record.policy_version)
        .values("policy", "policy_sha256")
        .first()
    )
    if version is None:
        return ReplayResult(
            False, [f"charter version {record.policy_version} does not exist"]
        )
    policy = version["policy"]
    if version["policy_sha256"] != record.policy_sha256:
        differences.append(
            f"policy hash: recorded {record.policy_sha256}, charter version "
            f"{record.policy_version} has {version['policy_sha256']}"
        )
    if policy_sha256(policy) != version["policy_sha256"]:
        differences.append(
            f"the stored policy of charter version {record.policy_version} no "
            "longer matches its own hash"
        )
    for name, number in sorted(record.model_versions.items()):
        if not ModelArtefact.objects.filter(name=name, version=number).exists():
            differences.append(f"model {name} v{number} is not stored")
    if record.source != DecisionSource.RANKER:
        differences.append(
            "decided by a moderator, not computed by the ranker: the inputs are "
            "checked above but there is no computation to repeat"
        )
        return ReplayResult(False, differences)
    candidate = Candidate(
        item_id=record.post_ref,
        author_id=0,
        created_at=record.content_date,
        signals=dict(record.signal_values),
    )
    item = rank([candidate], policy, now=record.application_date).items[0]
    recomputed = [
        {
            "rule": decision_rule_from_demotion(d),
            "article": d.article,
            "value": d.value,
        }
        for d in item.demotions
    ]
    matching = [
        r
        for r in recomputed
        if r["rule"] == record.rule and r["article"] == record.ground_article
    ]
    if not matching:
        if not recomputed:
            differences.append(
                f"policy version {record.policy_version} does not demote this post "
                f"on the recorded signal values {record.signal_values}"
            )
        else:
            differences.append(
                "the ranker applies "
                + "; ".join(f"{r['rule']} (Article {r['article']})" for r in recomputed)
                + f", not the recorded {record.rule} (Article {record.ground_article})"
            )
    return ReplayResult(not differences, differences, recomputed)
