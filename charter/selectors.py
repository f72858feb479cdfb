"""Reads of the charter: the active version and policy, history, board, amendments.

"Active" is computed, never stored: the latest adopted version whose effective
time has passed. A version adopted with a future effective time therefore
becomes active on its own at that moment, with no scheduled job.
"""

from __future__ import annotations

import copy
import hashlib
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from .models import (
    Amendment,
    AmendmentComment,
    BoardMembership,
    CharterArticle,
    CharterVersion,
    Vote,
)
from .text import ArticleText, CharterText, charter_text_render


def charter_text_sha256(text: CharterText) -> str:
    """Hex SHA-256 of the Markdown rendering: the exact bytes of the .md download."""
    return hashlib.sha256(charter_text_render(text).encode("utf-8")).hexdigest()


def charter_version_text(version: CharterVersion) -> CharterText:
    """The prose of a stored version (articles should be prefetched)."""
    return CharterText(
        title=version.title,
        preamble=version.preamble,
        articles=tuple(
            ArticleText(number=a.number, title=a.title, body=a.body)
            for a in version.articles.all()
        ),
    )


def amendment_text(amendment: Amendment) -> CharterText:
    """The prose an amendment proposes (validated when it was proposed)."""
    return CharterText(
        title=amendment.text_title,
        preamble=amendment.preamble,
        articles=tuple(
            ArticleText(number=a["number"], title=a["title"], body=a["body"])
            for a in amendment.articles
        ),
    )


class NoActiveCharter(LookupError):
    """No charter version is in force yet (run `manage.py charter_genesis`)."""


def _versions() -> QuerySet[CharterVersion]:
    return CharterVersion.objects.prefetch_related(
        Prefetch("articles", queryset=CharterArticle.objects.order_by("position"))
    )


def charter_active(*, at: datetime | None = None) -> CharterVersion | None:
    """The charter version in force at `at` (default now), articles prefetched."""
    at = at or timezone.now()
    return _versions().filter(effective_at__lte=at).order_by("-number").first()


def charter_active_identity(
    *, at: datetime | None = None
) -> tuple[int, datetime, str] | None:
    """(number, adopted_at, policy_sha256) of the version in force, not its text.

    An adopted version never changes (the database refuses UPDATE), so these
    identify its whole content: a reader may keep what it rendered from them.
    """
    at = at or timezone.now()
    row = (
        CharterVersion.objects.filter(effective_at__lte=at)
        .order_by("-number")
        .values_list("number", "adopted_at", "policy_sha256")
        .first()
    )
    return None if row is None else (int(row[0]), row[1], str(row[2]))


def charter_latest_adopted() -> CharterVersion | None:
    """The newest adopted version, even if not yet effective; amendments build on it."""
    return _versions().order_by("-number").first()


def charter_pending(
    *, after: int = 0, at: datetime | None = None
) -> list[CharterVersion]:
    """Adopted versions numbered above `after` and not yet in force, soonest first."""
    at = at or timezone.now()
    return list(
        CharterVersion.objects.filter(effective_at__gt=at, number__gt=after).order_by(
            "effective_at", "number"
        )
    )


def charter_version_get(*, number: int) -> CharterVersion:
    """One version by number, articles prefetched; raises DoesNotExist."""
    return _versions().get(number=number)


def charter_versions_list() -> QuerySet[CharterVersion]:
    """Every adopted version, newest first, with the amendment that produced it."""
    return CharterVersion.objects.select_related("amendment").order_by("-number")


def policy_active_record(
    *, at: datetime | None = None
) -> tuple[int, str, dict[str, Any]]:
    """(version number, policy sha256, policy) in force at `at`, read in one query.

    Raises NoActiveCharter when no version is in force yet.
    """
    row = (
        CharterVersion.objects.filter(effective_at__lte=at or timezone.now())
        .order_by("-number")
        .values_list("number", "policy_sha256", "policy")
        .first()
    )
    if row is None:
        raise NoActiveCharter(
            "No charter is in force yet; run `manage.py charter_genesis`."
        )
    return int(row[0]), str(row[1]), copy.deepcopy(row[2])


def policy_active(*, at: datetime | None = None) -> dict[str, Any]:
    """The validated policy in force at `at` (default now); the caller owns the copy.

    Raises NoActiveCharter when no version is in force yet.
    """
    return policy_active_record(at=at)[2]


def policy_active_version(*, at: datetime | None = None) -> tuple[int, str]:
    """(version number, policy sha256) of the policy in force at `at`."""
    number, sha, _ = policy_active_record(at=at)
    return number, sha


def _sitting(at: datetime) -> Q:
    return Q(starts_at__lte=at) & (Q(ends_at__isnull=True) | Q(ends_at__gt=at))


def board_member_is(*, user: Any, at: datetime | None = None) -> bool:
    """Whether `user` holds a board term covering `at` (default now)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    at = at or timezone.now()
    return BoardMembership.objects.filter(_sitting(at), user_id=user.pk).exists()


def board_members_sitting(*, at: datetime | None = None) -> QuerySet[BoardMembership]:
    """Terms covering `at`, one row per term, user joined."""
    at = at or timezone.now()
    return (
        BoardMembership.objects.filter(_sitting(at))
        .select_related("user")
        .order_by("starts_at", "id")
    )


def board_sitting_user_ids(*, at: datetime | None = None) -> set[int]:
    """Ids of users sitting on the board at `at`: the electorate of a vote."""
    return set(board_members_sitting(at=at).values_list("user_id", flat=True))


def board_term_overlaps(
    *,
    user: Any,
    starts_at: datetime,
    ends_at: datetime | None,
    exclude_pk: int | None = None,
) -> bool:
    """Whether `user` already has a term overlapping [starts_at, ends_at)."""
    qs = BoardMembership.objects.filter(user_id=user.pk).exclude(ends_at__lte=starts_at)
    if ends_at is not None:
        qs = qs.exclude(starts_at__gte=ends_at)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.exists()


def board_terms_list() -> QuerySet[BoardMembership]:
    """Every term, current and past, for the public board page."""
    return BoardMembership.objects.select_related("user").order_by("-starts_at", "id")


def amendments_list(*, status: str | None = None) -> QuerySet[Amendment]:
    """Amendments newest first, with proposer and base version joined."""
    qs = Amendment.objects.select_related("proposer", "base_version", "adopted_version")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def amendment_get(*, amendment_id: int) -> Amendment:
    """One amendment with everything its page shows; raises DoesNotExist."""
    return (
        Amendment.objects.select_related("proposer", "base_version", "adopted_version")
        .prefetch_related(
            Prefetch(
                "comments", queryset=AmendmentComment.objects.select_related("author")
            ),
            Prefetch("votes", queryset=Vote.objects.select_related("voter")),
            Prefetch(
                "base_version__articles",
                queryset=CharterArticle.objects.order_by("position"),
            ),
        )
        .get(pk=amendment_id)
    )


def vote_of(*, amendment: Amendment, user: Any) -> Vote | None:
    """The ballot `user` cast on `amendment`, if any."""
    if not getattr(user, "is_authenticated", False):
        return None
    return Vote.objects.filter(amendment=amendment, voter_id=user.pk).first()
