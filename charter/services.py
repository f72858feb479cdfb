"""Writes to the charter: genesis, board terms, and the amendment lifecycle.

draft -> deliberation -> voting -> adopted | rejected. Adoption is the only
code path that creates a charter version after genesis, and therefore the only
way the ranker's policy ever changes. Every step that the public must be able
to prove appends a ledger entry inside the same transaction as the write, so a
rolled-back step leaves no entry and a committed one always has its entry.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accountability.services import ledger_append

from .models import (
    Amendment,
    AmendmentComment,
    AmendmentStatus,
    BoardMembership,
    CharterArticle,
    CharterVersion,
    Vote,
    VoteChoice,
)
from .policy import policy_sha256, policy_validate, validation_messages
from .selectors import (
    NoActiveCharter,
    board_member_is,
    board_sitting_user_ids,
    board_term_overlaps,
    charter_latest_adopted,
    charter_text_sha256,
    charter_version_text,
    policy_active,
)
from .text import CharterText, charter_text_clean, charter_text_parse

DATA_DIR = Path(__file__).resolve().parent / "data"
GENESIS_TEXT = DATA_DIR / "charter_v1.md"
GENESIS_POLICY = DATA_DIR / "policy_v1.json"
DEFAULT_VOTING_DAYS = 7
MAX_VOTING_DAYS = 60
COMMENT_MAX = 2000
RATIONALE_MAX = 10_000
# Shares are compared with a small tolerance so that 2 of 3 meets a 2/3 majority.
EPSILON = 1e-9


def _actor(user: Any) -> str:
    return f"user:{user.pk}"


def _board_article() -> str | None:
    """The article authorising the board's procedures, cited on its ledger entries."""
    try:
        return str(policy_active()["citations"]["board"])
    except (NoActiveCharter, KeyError):
        return None


def _version_create(
    *,
    number: int,
    text: CharterText,
    policy: dict[str, Any],
    summary: str,
    adopted_at: datetime,
    effective_at: datetime,
    amendment: Amendment | None,
    actor: str,
) -> CharterVersion:
    """Insert a version and log its adoption and activation, in the caller's atomic."""
    sha = policy_sha256(policy)
    # Cite the amendment article of the version that decided (genesis cites its own).
    article = _board_article() or str(policy["citations"]["board"])
    version = CharterVersion.objects.create(
        number=number,
        title=text.title,
        preamble=text.preamble,
        policy=policy,
        policy_sha256=sha,
        summary=summary[:200],
        adopted_at=adopted_at,
        effective_at=effective_at,
        amendment=amendment,
    )
    CharterArticle.objects.bulk_create(
        CharterArticle(
            version=version, position=i, number=a.number, title=a.title, body=a.body
        )
        for i, a in enumerate(text.articles)
    )
    subject = f"charter:v{number}"
    common = {
        "version": number,
        "policy_sha256": sha,
        "effective_at": effective_at.isoformat(),
    }
    ledger_append(
        kind="charter.version_adopted",
        actor=actor,
        subject=subject,
        article=article,
        payload={
            **common,
            "adopted_at": adopted_at.isoformat(),
            "text_sha256": charter_text_sha256(text),
            "summary": version.summary,
            "amendment": amendment.pk if amendment else None,
        },
    )
    # With no scheduler, activation is recorded when it is decided: the policy
    # becomes the ranker's at `effective_at`, which the entry states.
    ledger_append(
        kind="policy.activated",
        actor=actor,
        subject=subject,
        payload=common,
        article=article,
    )
    return version


def charter_genesis() -> CharterVersion:
    """Create charter v1 from `charter/data/` once; later calls return it unchanged.

    v1 is adopted and effective now; its `charter.version_adopted` and
    `policy.activated` ledger entries are written in the same transaction.
    """
    existing = CharterVersion.objects.filter(number=1).first()
    if existing is not None:
        return existing
    text = charter_text_parse(GENESIS_TEXT.read_text(encoding="utf-8"))
    policy = policy_validate(
        json.loads(GENESIS_POLICY.read_text(encoding="utf-8")),
        articles={a.number for a in text.articles},
    )
    now = timezone.now()
    try:
        with transaction.atomic():
            return _version_create(
                number=1,
                text=text,
                policy=policy,
                summary="Genesis: the founding charter.",
                adopted_at=now,
                effective_at=now,
                amendment=None,
                actor="system:genesis",
            )
    except IntegrityError:
        # A concurrent genesis won the race; its version is the one.
        return CharterVersion.objects.get(number=1)


def _term_payload(term: BoardMembership, change: str) -> dict[str, Any]:
    return {
        "change": change,
        "member": term.user.username,
        "role": term.role,
        "starts_at": term.starts_at.isoformat(),
        "ends_at": term.ends_at.isoformat() if term.ends_at else None,
    }


def _admin_actor(admin: Any | None) -> str:
    return _actor(admin) if admin is not None else "system:admin"


def board_membership_grant(
    *,
    user: Any,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    role: str = "",
    granted_by: Any | None = None,
) -> BoardMembership:
    """Give `user` a board term (an administrator's act); terms may not overlap.

    Who sits on the board decides every vote, so each grant is logged as
    `board.term`.
    """
    starts_at = starts_at or timezone.now()
    if ends_at is not None and ends_at <= starts_at:
        raise ValidationError({"ends_at": ["The term must end after it starts."]})
    with transaction.atomic():
        # Lock the user's terms so two grants at once cannot both pass the check.
        list(BoardMembership.objects.select_for_update().filter(user_id=user.pk))
        if board_term_overlaps(user=user, starts_at=starts_at, ends_at=ends_at):
            raise ValidationError(
                {
                    "starts_at": [
                        f"{user.username} already has a board term in that period."
                    ]
                }
            )
        term = BoardMembership.objects.create(
            user=user, starts_at=starts_at, ends_at=ends_at, role=role.strip()[:100]
        )
        ledger_append(
            kind="board.term",
            actor=_admin_actor(granted_by),
            subject=f"user:{user.pk}",
            payload=_term_payload(term, "granted"),
            article=_board_article(),
        )
    return term


def board_membership_update(
    *,
    membership: BoardMembership,
    ends_at: datetime | None,
    role: str,
    changed_by: Any | None = None,
) -> BoardMembership:
    """Set when a term ends (e.g. a resignation) and its role; the start stays fixed.

    Logged as `board.term`, so a term cut short during a vote is on the record.
    """
    with transaction.atomic():
        term = (
            BoardMembership.objects.select_for_update()
            .select_related("user")
            .get(pk=membership.pk)
        )
        if ends_at is not None and ends_at <= term.starts_at:
            raise ValidationError({"ends_at": ["The term must end after it starts."]})
        if board_term_overlaps(
            user=term.user,
            starts_at=term.starts_at,
            ends_at=ends_at,
            exclude_pk=term.pk,
        ):
            raise ValidationError(
                {
                    "ends_at": [
                        "The longer term would overlap another term of this member."
                    ]
                }
            )
        term.ends_at = ends_at
        term.role = role.strip()[:100]
        term.save(update_fields=["ends_at", "role"])
        ledger_append(
            kind="board.term",
            actor=_admin_actor(changed_by),
            subject=f"user:{term.user_id}",
            payload=_term_payload(term, "updated"),
            article=_board_article(),
        )
    return term


def _require_board(user: Any, action: str) -> None:
    if not board_member_is(user=user):
        raise PermissionDenied(
            f"Only sitting members of the oversight board can {action}."
        )


def _locked(amendment: Amendment) -> Amendment:
    # Every transition re-reads the row under lock so two people acting at once
    # cannot both move it (e.g. two concurrent closes adopting twice).
    return Amendment.objects.select_for_update().get(pk=amendment.pk)


def _require_status(amendment: Amendment, *allowed: str, action: str) -> None:
    if amendment.status not in allowed:
        wanted = " or ".join(AmendmentStatus(s).label.lower() for s in allowed)
        raise ValidationError(
            {
                "status": [
                    f"You can {action} only while the amendment is {wanted}; it is "
                    f"{amendment.get_status_display().lower()}."
                ]
            }
        )


def amendment_propose(
    *,
    proposer: Any,
    title: str,
    rationale: str,
    text_title: str | None = None,
    preamble: str | None = None,
    articles: list[dict[str, str]] | None = None,
    policy: dict[str, Any] | None = None,
    effective_at: datetime | None = None,
) -> Amendment:
    """A board member drafts the next charter version; omitted parts keep today's.

    The whole proposal is validated before anything is written; the policy is
    checked against the proposed articles, so a citation of a removed article
    is refused. Logs `amendment.proposed`.
    """
    _require_board(proposer, "propose amendments")
    base = charter_latest_adopted()
    if base is None:
        raise ValidationError("There is no charter to amend yet.")
    base_text = charter_version_text(base)
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    rationale = (rationale or "").strip()
    if not title or len(title) > 200:
        errors["title"] = ["Give the amendment a title of 1 to 200 characters."]
    if not rationale:
        errors["rationale"] = ["Explain why the charter should change."]
    elif len(rationale) > RATIONALE_MAX:
        errors["rationale"] = [f"Keep the rationale under {RATIONALE_MAX} characters."]
    if effective_at is not None and effective_at <= timezone.now():
        errors["effective_at"] = [
            "The effective time must be in the future (or left empty)."
        ]
    text: CharterText | None = None
    try:
        text = charter_text_clean(
            title=base_text.title if text_title is None else text_title,
            preamble=base_text.preamble if preamble is None else preamble,
            articles=[a.as_dict() for a in base_text.articles]
            if articles is None
            else articles,
        )
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(field, []).extend(messages)
    proposed_policy = base.policy if policy is None else policy
    clean_policy: dict[str, Any] | None = None
    if text is not None:
        try:
            clean_policy = policy_validate(
                proposed_policy, articles={a.number for a in text.articles}
            )
        except ValidationError as exc:
            errors["policy"] = validation_messages(exc)
    if not errors and text == base_text and clean_policy == base.policy:
        errors["policy"] = ["The amendment changes neither the text nor the policy."]
    if errors:
        raise ValidationError(errors)
    assert text is not None and clean_policy is not None
    with transaction.atomic():
        amendment = Amendment.objects.create(
            base_version=base,
            proposer=proposer,
            title=title,
            rationale=rationale,
            text_title=text.title,
            preamble=text.preamble,
            articles=[a.as_dict() for a in text.articles],
            policy=clean_policy,
            policy_sha256=policy_sha256(clean_policy),
            effective_at=effective_at,
        )
        ledger_append(
            kind="amendment.proposed",
            actor=_actor(proposer),
            subject=f"amendment:{amendment.pk}",
            article=_board_article(),
            payload={
                "amendment": amendment.pk,
                "title": title,
                "base_version": base.number,
                "policy_sha256": amendment.policy_sha256,
                "text_sha256": charter_text_sha256(text),
                "effective_at": effective_at.isoformat() if effective_at else None,
            },
        )
    return amendment


def _log_stage_opened(
    *, amendment: Amendment, actor: Any, stage: str, **extra: Any
) -> None:
    """Log that an amendment entered a public stage (deliberation or voting)."""
    ledger_append(
        kind="amendment.opened",
        actor=_actor(actor),
        subject=f"amendment:{amendment.pk}",
        article=_board_article(),
        payload={
            "amendment": amendment.pk,
            "stage": stage,
            "policy_sha256": amendment.policy_sha256,
            **extra,
        },
    )


def amendment_open_deliberation(*, actor: Any, amendment: Amendment) -> Amendment:
    """A board member opens a draft to public comment. Logs `amendment.opened`."""
    _require_board(actor, "open amendments for deliberation")
    with transaction.atomic():
        amendment = _locked(amendment)
        _require_status(amendment, AmendmentStatus.DRAFT, action="open deliberation")
        amendment.status = AmendmentStatus.DELIBERATION
        amendment.deliberation_opened_at = timezone.now()
        amendment.save(update_fields=["status", "deliberation_opened_at"])
        _log_stage_opened(amendment=amendment, actor=actor, stage="deliberation")
    return amendment


def amendment_comment(
    *, author: Any, amendment: Amendment, body: str
) -> AmendmentComment:
    """Anyone signed in comments on an amendment under deliberation or vote."""
    if not getattr(author, "is_authenticated", False):
        raise PermissionDenied("Sign in to comment on amendments.")
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": ["Write a comment before posting it."]})
    if len(body) > COMMENT_MAX:
        raise ValidationError(
            {"body": [f"Keep comments under {COMMENT_MAX} characters."]}
        )
    with transaction.atomic():
        amendment = _locked(amendment)
        _require_status(
            amendment,
            AmendmentStatus.DELIBERATION,
            AmendmentStatus.VOTING,
            action="comment",
        )
        return AmendmentComment.objects.create(
            amendment=amendment, author=author, body=body
        )


def _stale_reason(amendment: Amendment, latest: CharterVersion | None) -> str | None:
    if latest is not None and latest.pk != amendment.base_version_id:
        return (
            f"It amends version {amendment.base_version.number}, but version "
            f"{latest.number} has been adopted since; propose it again on the "
            "current text."
        )
    return None


def amendment_open_voting(
    *, actor: Any, amendment: Amendment, closes_at: datetime | None = None
) -> Amendment:
    """A board member ends deliberation and opens the vote until `closes_at`.

    Defaults to a seven-day window. Logs `amendment.opened` with the window.
    """
    _require_board(actor, "open votes")
    now = timezone.now()
    closes_at = closes_at or now + timedelta(days=DEFAULT_VOTING_DAYS)
    if closes_at <= now:
        raise ValidationError({"closes_at": ["The vote must close in the future."]})
    if closes_at > now + timedelta(days=MAX_VOTING_DAYS):
        raise ValidationError(
            {"closes_at": [f"A vote may stay open at most {MAX_VOTING_DAYS} days."]}
        )
    with transaction.atomic():
        amendment = _locked(amendment)
        _require_status(amendment, AmendmentStatus.DELIBERATION, action="open the vote")
        stale = _stale_reason(amendment, charter_latest_adopted())
        if stale:
            raise ValidationError({"status": [stale]})
        amendment.status = AmendmentStatus.VOTING
        amendment.voting_opened_at = now
        amendment.voting_closes_at = closes_at
        amendment.save(update_fields=["status", "voting_opened_at", "voting_closes_at"])
        _log_stage_opened(
            amendment=amendment,
            actor=actor,
            stage="voting",
            closes_at=closes_at.isoformat(),
        )
    return amendment


def vote_cast(*, voter: Any, amendment: Amendment, choice: str) -> Vote:
    """A board member votes yes, no or abstain; a later call changes the ballot.

    Only possible while the voting window is open. Logs `vote.cast` each time,
    so changed ballots stay visible in the record.
    """
    _require_board(voter, "vote on amendments")
    if choice not in VoteChoice.values:
        raise ValidationError({"choice": ["Vote yes, no or abstain."]})
    with transaction.atomic():
        amendment = _locked(amendment)
        _require_status(amendment, AmendmentStatus.VOTING, action="vote")
        assert amendment.voting_closes_at is not None
        if timezone.now() >= amendment.voting_closes_at:
            raise ValidationError({"status": ["The voting window has closed."]})
        vote, _ = Vote.objects.update_or_create(
            amendment=amendment, voter=voter, defaults={"choice": choice}
        )
        ledger_append(
            kind="vote.cast",
            actor=_actor(voter),
            subject=f"amendment:{amendment.pk}",
            article=_board_article(),
            payload={
                "amendment": amendment.pk,
                "voter": voter.username,
                "choice": choice,
            },
        )
    return vote


def _tally(
    *, votes: list[Vote], electorate: set[int], board_rules: dict[str, Any]
) -> tuple[dict[str, int], bool, bool]:
    """Count the ballots of sitting members; return (counts, quorum met, passed)."""
    counts = {choice: 0 for choice in VoteChoice.values}
    for vote in votes:
        if vote.voter_id in electorate:
            counts[vote.choice] += 1
    cast = sum(counts.values())
    quorum_met = (
        bool(electorate) and cast >= board_rules["quorum"] * len(electorate) - EPSILON
    )
    decided = counts["yes"] + counts["no"]
    passed = (
        quorum_met
        and counts["yes"] > counts["no"]
        and counts["yes"] >= board_rules["majority"] * decided - EPSILON
    )
    return counts, quorum_met, passed


def amendment_close_vote(*, actor: Any, amendment: Amendment) -> Amendment:
    """A board member closes the vote and the charter's own rules decide it.

    Allowed once the window has passed, or earlier when every sitting member
    has voted. The electorate is the board sitting at closing time; quorum and
    majority come from the policy in force then. Adoption creates the next
    version, effective at the stated time (or now if that has passed), and
    logs `vote.closed`, `charter.version_adopted` and `policy.activated` in
    this transaction; rejection logs `vote.closed` only.
    """
    _require_board(actor, "close votes")
    with transaction.atomic():
        amendment = _locked(amendment)
        _require_status(amendment, AmendmentStatus.VOTING, action="close the vote")
        now = timezone.now()
        electorate = board_sitting_user_ids(at=now)
        votes = list(amendment.votes.select_related("voter"))
        assert amendment.voting_closes_at is not None
        if now < amendment.voting_closes_at:
            voted = {v.voter_id for v in votes} & electorate
            if voted != electorate:
                raise ValidationError(
                    {
                        "status": [
                            "The vote stays open until "
                            f"{amendment.voting_closes_at:%Y-%m-%d %H:%M} UTC; "
                            "it can close early only once every sitting member has "
                            "voted "
                            f"({len(voted)} of {len(electorate)} have)."
                        ]
                    }
                )
        # Serialises adoptions: the newest version row is locked until commit.
        latest = CharterVersion.objects.select_for_update().order_by("-number").first()
        board_rules = policy_active(at=now)["board"]
        counts, quorum_met, passed = _tally(
            votes=votes, electorate=electorate, board_rules=board_rules
        )
        stale = _stale_reason(amendment, latest)
        if stale:
            passed = False
            outcome = f"Rejected: {stale}"
        elif not quorum_met:
            outcome = (
                f"Rejected: quorum not met ({sum(counts.values())} of "
                f"{len(electorate)} sitting members voted; "
                f"{board_rules['quorum']:.0%} needed)."
            )
        elif not passed:
            outcome = (
                f"Rejected: {counts['yes']} yes, {counts['no']} no; at least "
                f"{board_rules['majority']:.0%} yes among yes and no votes needed."
            )
        else:
            outcome = (
                f"Adopted: {counts['yes']} yes, {counts['no']} no, "
                f"{counts['abstain']} abstaining, of {len(electorate)} sitting members."
            )
        amendment.status = (
            AmendmentStatus.ADOPTED if passed else AmendmentStatus.REJECTED
        )
        amendment.closed_at = now
        amendment.yes_count = counts["yes"]
        amendment.no_count = counts["no"]
        amendment.abstain_count = counts["abstain"]
        amendment.electorate = len(electorate)
        amendment.outcome = outcome
        amendment.save(
            update_fields=[
                "status",
                "closed_at",
                "yes_count",
                "no_count",
                "abstain_count",
                "electorate",
                "outcome",
            ]
        )
        ledger_append(
            kind="vote.closed",
            actor=_actor(actor),
            subject=f"amendment:{amendment.pk}",
            article=_board_article(),
            payload={
                "amendment": amendment.pk,
                "result": amendment.status,
                "yes": counts["yes"],
                "no": counts["no"],
                "abstain": counts["abstain"],
                "electorate": len(electorate),
                "quorum": board_rules["quorum"],
                "majority": board_rules["majority"],
                "ballots": sorted(
                    (v.voter.username, v.choice)
                    for v in votes
                    if v.voter_id in electorate
                ),
                "policy_sha256": amendment.policy_sha256,
                "outcome": outcome,
            },
        )
        if passed:
            assert latest is not None
            text = charter_text_clean(
                title=amendment.text_title,
                preamble=amendment.preamble,
                articles=amendment.articles,
            )
            _version_create(
                number=latest.number + 1,
                text=text,
                policy=amendment.policy,
                summary=amendment.title,
                adopted_at=now,
                effective_at=max(amendment.effective_at or now, now),
                amendment=amendment,
                actor=_actor(actor),
            )
    return amendment
