"""Who may write what: every write endpoint × anonymous / citizen / moderator /
board member / administrator.

The endpoints are enumerated from the URL resolver (and cross-checked against
the OpenAPI schema), so a new write endpoint that nobody put in the matrix
fails `test_every_write_endpoint_is_in_the_matrix`.

Each case runs against a fresh database with a real active charter, a sitting
board (so amendments can be proposed, deliberated and voted on), a demoted post
with its decision record, a petition and a report. "ok" means the role gets
through every gate and the write happens (2xx, or a redirect that is not to the
sign-in page); "denied" means 401/403, or a redirect to sign in for pages.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone
from rest_framework.test import APIClient

from feed import services as feed_services
from feed.models import Post, Report, User

ROLES = ("anonymous", "citizen", "moderator", "board", "admin")
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
EVERYONE = frozenset(ROLES)
NOBODY: frozenset[str] = frozenset()
BOARD = frozenset({"board"})
MODERATORS = frozenset({"moderator"})
PASSWORD = "correct-horse-42"
WRITE_METHODS = ("post", "put", "patch", "delete")


class World:
    """Lazily built state a write needs; each test gets its own."""

    def __init__(self, make_user: Callable[..., User], actor: User | None) -> None:
        self.make_user = make_user
        self.actor = actor

    @cached_property
    def charter(self) -> Any:
        from charter.services import charter_genesis

        return charter_genesis()

    @cached_property
    def chair(self) -> User:
        """A second sitting board member who owns the amendments and petitions'
        answers, so the actor is never acting on their own item."""
        from charter.services import board_membership_grant

        self.charter  # noqa: B018 - the board needs a charter
        user = self.make_user("chair")
        board_membership_grant(user=user, starts_at=timezone.now() - timedelta(days=1))
        return user

    def needs_board(self, path: str) -> str:
        """`path`, once a sitting board (and so a charter) exists."""
        self.chair  # noqa: B018
        return path

    @cached_property
    def other(self) -> User:
        return self.make_user("other")

    @cached_property
    def post(self) -> Post:
        return feed_services.post_create(author=self.other, body="A post by other.")

    def own_post(self) -> Post:
        assert self.actor is not None
        return feed_services.post_create(author=self.actor, body="My own post.")

    def policy_reweighted(self) -> dict[str, Any]:
        policy = copy.deepcopy(self.charter.policy)
        for objective in policy["objectives"]:
            if objective["signal"] == "bridging":
                objective["weight"] = 1.5
        return policy

    def amendment(self, status: str) -> Any:
        from charter import services

        amendment = services.amendment_propose(
            proposer=self.chair,
            title="Lift bridging",
            rationale="Less hostility.",
            policy=self.policy_reweighted(),
        )
        if status in ("deliberation", "voting"):
            amendment = services.amendment_open_deliberation(
                actor=self.chair, amendment=amendment
            )
        if status == "voting":
            amendment = services.amendment_open_voting(
                actor=self.chair, amendment=amendment, closes_at=None
            )
        return amendment

    def amendment_closable(self) -> Any:
        """In voting with its window already over."""
        amendment = self.amendment("voting")
        type(amendment).objects.filter(pk=amendment.pk).update(
            voting_closes_at=timezone.now() - timedelta(minutes=1)
        )
        return amendment

    def decision(self, *, author: User) -> Any:
        from accountability.decisions import decision_record_ensure

        post = feed_services.post_create(author=author, body="You are all idiots.")
        return decision_record_ensure(
            post_id=post.pk,
            rule={"kind": "demote", "signal": "incivility", "above": 0.85},
            article="1",
            signal_values={"incivility": 0.93, "bridging": 0.1},
            policy_version=self.charter.number,
            policy_sha256=self.charter.policy_sha256,
            model_versions={},
        )

    def appeal(self) -> Any:
        from accountability.appeals import appeal_file

        record = self.decision(author=self.other)
        return appeal_file(
            appellant=self.other,
            public_id=record.public_id,
            statement="It was a joke between friends.",
        )

    def petition(self, *, awaiting_answer: bool = False) -> Any:
        from accountability.petitions import petition_file

        self.charter  # noqa: B018
        petition = petition_file(
            author=self.other,
            target="article",
            title="Article 1 is too vague",
            text="Say what incivility means.",
            article="1",
        )
        if awaiting_answer:
            from accountability.casework_models import Petition

            Petition.objects.filter(pk=petition.pk).update(
                status="threshold_reached",
                threshold_reached_at=timezone.now(),
                deadline_at=timezone.now() + timedelta(days=30),
            )
            petition.refresh_from_db()
        return petition

    def report(self) -> Report:
        self.charter  # noqa: B018 - a decision cites the charter in force
        reporter = self.make_user("reporter")
        return feed_services.report_create(
            reporter=reporter, post_id=self.post.id, reason="spam", details=""
        )


Build = Callable[[World], tuple[str, dict[str, Any] | None]]


@dataclass(frozen=True)
class Case:
    """One write request and the roles that may make it."""

    label: str
    route: str  # URL name, e.g. "feed_api:posts"
    method: str
    build: Build
    allowed: frozenset[str]
    api: bool = True
    # Roles that pass the permission gate but whose write is refused with a
    # 400 for a reason of substance (e.g. a board member's account is on record).
    refused: frozenset[str] = frozenset()


def _c(
    label: str,
    route: str,
    method: str,
    build: Build,
    allowed: frozenset[str],
    *,
    api: bool = True,
    refused: frozenset[str] = frozenset(),
) -> Case:
    return Case(label, route, method, build, allowed, api, refused)


def _like_first(w: World) -> tuple[str, None]:
    if w.actor is not None:
        feed_services.like_create(user=w.actor, post_id=w.post.id)
    return f"/api/posts/{w.post.id}/like/", None


def _rate_first(w: World) -> tuple[str, None]:
    if w.actor is not None:
        feed_services.rating_set(user=w.actor, post_id=w.post.id, value="helpful")
    return f"/api/posts/{w.post.id}/rating/", None


def _follow_first(path: str, kind: str, body: dict[str, Any] | None = None) -> Build:
    def build(w: World) -> tuple[str, dict[str, Any] | None]:
        other = w.other
        if w.actor is not None:
            getattr(feed_services, f"{kind}_create")(
                **{
                    {"follow": "follower", "block": "blocker", "mute": "muter"}[
                        kind
                    ]: w.actor,
                    {
                        "follow": "followee_id",
                        "block": "blocked_id",
                        "mute": "muted_id",
                    }[kind]: other.id,
                }
            )
        return path.format(username=other.username), body

    return build


def _own_decision_appeal(w: World) -> tuple[str, dict[str, Any]]:
    author = w.actor if w.actor is not None else w.other
    record = w.decision(author=author)
    return f"/api/transparency/decisions/{record.public_id}/appeals/", {
        "statement": "It was quoted, not said."
    }


def _others_decision_appeal(w: World) -> tuple[str, dict[str, Any]]:
    record = w.decision(author=w.other)
    return f"/api/transparency/decisions/{record.public_id}/appeals/", {
        "statement": "Not mine, but unfair."
    }


API_CASES: list[Case] = [
    # Accounts
    _c(
        "token for own credentials",
        "feed_api:token",
        "post",
        lambda w: (
            "/api/auth/token/",
            {
                "username": (w.actor or w.other).username,
                "password": PASSWORD,
            },
        ),
        EVERYONE,
    ),
    _c(
        "revoke token",
        "feed_api:token",
        "delete",
        lambda w: ("/api/auth/token/", None),
        SIGNED_IN,
    ),
    _c(
        "sign up",
        "feed_api:signup",
        "post",
        lambda w: (
            "/api/auth/signup/",
            {"username": "newcomer", "password": "a-long-fresh-pass-9"},
        ),
        EVERYONE,
    ),
    _c(
        "edit profile",
        "feed_api:me",
        "patch",
        lambda w: ("/api/me/", {"bio": "Hi."}),
        SIGNED_IN,
    ),
    _c(
        "delete own account",
        "feed_api:me",
        "delete",
        lambda w: ("/api/me/", {"password": PASSWORD}),
        SIGNED_IN - BOARD,
        refused=BOARD,
    ),
    _c(
        "change password",
        "feed_api:password",
        "post",
        lambda w: (
            "/api/me/password/",
            {"old_password": PASSWORD, "new_password": "another-long-pass-7"},
        ),
        SIGNED_IN,
    ),
    _c(
        "mark notifications read",
        "feed_api:notifications_read",
        "post",
        lambda w: ("/api/me/notifications/read/", None),
        SIGNED_IN,
    ),
    # Posts and reactions
    _c(
        "post",
        "feed_api:posts",
        "post",
        lambda w: ("/api/posts/", {"body": "Hello."}),
        SIGNED_IN,
    ),
    _c(
        "delete own post",
        "feed_api:post",
        "delete",
        lambda w: (f"/api/posts/{(w.own_post() if w.actor else w.post).id}/", None),
        SIGNED_IN,
    ),
    _c(
        "delete someone else's post",
        "feed_api:post",
        "delete",
        lambda w: (f"/api/posts/{w.post.id}/", None),
        NOBODY,
    ),
    _c(
        "like",
        "feed_api:like",
        "post",
        lambda w: (f"/api/posts/{w.post.id}/like/", None),
        SIGNED_IN,
    ),
    _c("unlike", "feed_api:like", "delete", _like_first, SIGNED_IN),
    _c(
        "rate",
        "feed_api:rating",
        "put",
        lambda w: (f"/api/posts/{w.post.id}/rating/", {"value": "helpful"}),
        SIGNED_IN,
    ),
    _c("unrate", "feed_api:rating", "delete", _rate_first, SIGNED_IN),
    _c(
        "report",
        "feed_api:report",
        "post",
        lambda w: (f"/api/posts/{w.post.id}/report/", {"reason": "spam"}),
        SIGNED_IN,
    ),
    # Relationships
    _c(
        "follow",
        "feed_api:follow",
        "post",
        lambda w: (f"/api/users/{w.other.username}/follow/", None),
        SIGNED_IN,
    ),
    _c(
        "follow priority",
        "feed_api:follow",
        "put",
        _follow_first("/api/users/{username}/follow/", "follow", {"priority": 1}),
        SIGNED_IN,
    ),
    _c(
        "unfollow",
        "feed_api:follow",
        "delete",
        _follow_first("/api/users/{username}/follow/", "follow"),
        SIGNED_IN,
    ),
    _c(
        "block",
        "feed_api:block",
        "post",
        lambda w: (f"/api/users/{w.other.username}/block/", None),
        SIGNED_IN,
    ),
    _c(
        "unblock",
        "feed_api:block",
        "delete",
        _follow_first("/api/users/{username}/block/", "block"),
        SIGNED_IN,
    ),
    _c(
        "mute",
        "feed_api:mute",
        "post",
        lambda w: (f"/api/users/{w.other.username}/mute/", None),
        SIGNED_IN,
    ),
    _c(
        "unmute",
        "feed_api:mute",
        "delete",
        _follow_first("/api/users/{username}/mute/", "mute"),
        SIGNED_IN,
    ),
    # Feed preferences and per-post feedback (ranking)
    _c(
        "feed preferences",
        "ranking_api:preferences",
        "put",
        lambda w: ("/api/feed/preferences/", {"mode": "chronological"}),
        SIGNED_IN,
    ),
    _c(
        "more/less like this",
        "ranking_api:feedback",
        "put",
        lambda w: (f"/api/posts/{w.post.id}/feedback/", {"more": False}),
        SIGNED_IN,
    ),
    _c(
        "withdraw more/less feedback",
        "ranking_api:feedback",
        "delete",
        lambda w: (f"/api/posts/{w.post.id}/feedback/", None),
        SIGNED_IN,
    ),
    # Casework
    _c(
        "appeal a decision on one's own post",
        "accountability_api:decision_appeals",
        "post",
        _own_decision_appeal,
        SIGNED_IN,
    ),
    _c(
        "appeal a decision on someone else's post",
        "accountability_api:decision_appeals",
        "post",
        _others_decision_appeal,
        NOBODY,
    ),
    _c(
        "answer an appeal",
        "accountability_api:appeal_answer",
        "post",
        lambda w: (
            f"/api/appeals/{w.appeal().pk}/answer/",
            {"outcome": "upheld", "reasons": "Article 1 covers insults."},
        ),
        BOARD,
    ),
    _c(
        "file a petition",
        "accountability_api:petitions",
        "post",
        lambda w: (
            (w.charter and "/api/petitions/"),
            {
                "target": "article",
                "title": "Article 2 needs examples",
                "text": "Examples help.",
                "article": "2",
            },
        ),
        SIGNED_IN,
    ),
    _c(
        "sign a petition",
        "accountability_api:petition_sign",
        "post",
        lambda w: (f"/api/petitions/{w.petition().pk}/signatures/", None),
        SIGNED_IN,
    ),
    _c(
        "answer a petition",
        "accountability_api:petition_answer",
        "post",
        lambda w: (
            f"/api/petitions/{w.petition(awaiting_answer=True).pk}/answer/",
            {"outcome": "upheld", "reasons": "Article 1 is clear enough."},
        ),
        BOARD,
    ),
    _c(
        "decide a report",
        "accountability_api:moderation_decide",
        "post",
        lambda w: (
            f"/api/moderation/reports/{w.report().pk}/decision/",
            {"outcome": "dismiss", "reasons": "Not spam."},
        ),
        MODERATORS,
    ),
    # Charter
    _c(
        "propose an amendment",
        "charter_api:amendments",
        "post",
        lambda w: (
            w.needs_board("/api/charter/amendments/"),
            {
                "title": "Lift bridging",
                "rationale": "Less hostility.",
                "policy": w.policy_reweighted(),
            },
        ),
        BOARD,
    ),
    _c(
        "open deliberation",
        "charter_api:amendment-deliberation",
        "post",
        lambda w: (
            f"/api/charter/amendments/{w.amendment('draft').pk}/deliberation/",
            None,
        ),
        BOARD,
    ),
    _c(
        "open voting",
        "charter_api:amendment-voting",
        "post",
        lambda w: (
            f"/api/charter/amendments/{w.amendment('deliberation').pk}/voting/",
            {},
        ),
        BOARD,
    ),
    _c(
        "comment on an amendment",
        "charter_api:amendment-comments",
        "post",
        lambda w: (
            f"/api/charter/amendments/{w.amendment('deliberation').pk}/comments/",
            {"body": "Good idea."},
        ),
        SIGNED_IN,
    ),
    _c(
        "vote",
        "charter_api:amendment-vote",
        "post",
        lambda w: (
            f"/api/charter/amendments/{w.amendment('voting').pk}/vote/",
            {"choice": "yes"},
        ),
        BOARD,
    ),
    _c(
        "close a vote",
        "charter_api:amendment-close",
        "post",
        lambda w: (
            f"/api/charter/amendments/{w.amendment_closable().pk}/close/",
            None,
        ),
        BOARD,
    ),
]


def _page_post(path: str, data: dict[str, Any] | None = None) -> Build:
    return lambda w: (path, data or {})


def _version_markdown(w: World) -> str:
    client = Client()
    response = client.get(f"/charter/versions/{w.charter.number}.md")
    assert response.status_code == 200
    return response.content.decode()


PAGE_CASES: list[Case] = [
    _c(
        "sign in",
        "frontend:login",
        "post",
        lambda w: (
            "/login/",
            {"username": (w.actor or w.other).username, "password": PASSWORD},
        ),
        EVERYONE,
        api=False,
    ),
    _c(
        "sign out",
        "frontend:logout",
        "post",
        _page_post("/logout/"),
        EVERYONE,
        api=False,
    ),
    _c(
        "sign up",
        "frontend:signup",
        "post",
        _page_post(
            "/signup/",
            {
                "username": "newcomer",
                "password": "a-long-fresh-pass-9",
                "password_confirm": "a-long-fresh-pass-9",
            },
        ),
        # Signed-in people are sent home instead (a redirect, not a denial).
        EVERYONE,
        api=False,
    ),
    _c(
        "edit profile",
        "frontend:settings_profile",
        "post",
        _page_post("/settings/profile/", {"display_name": "Me", "bio": "Hi."}),
        SIGNED_IN,
        api=False,
    ),
    _c(
        "change password",
        "frontend:settings_password",
        "post",
        _page_post(
            "/settings/password/",
            {
                "old_password": PASSWORD,
                "new_password": "another-long-pass-7",
                "new_password_confirm": "another-long-pass-7",
            },
        ),
        SIGNED_IN,
        api=False,
    ),
    _c(
        "delete account",
        "frontend:settings_delete",
        "post",
        _page_post("/settings/delete/", {"password": PASSWORD, "confirm": "on"}),
        SIGNED_IN - BOARD,
        api=False,
        refused=BOARD,
    ),
    _c(
        "mark notifications read",
        "frontend:notifications_read",
        "post",
        _page_post("/notifications/read/"),
        SIGNED_IN,
        api=False,
    ),
    _c(
        "compose",
        "frontend:compose",
        "post",
        _page_post("/posts/", {"body": "Hi."}),
        SIGNED_IN,
        api=False,
    ),
    _c(
        "react",
        "frontend:react",
        "post",
        lambda w: (f"/posts/{w.post.id}/react/", {"reaction": "helpful"}),
        SIGNED_IN,
        api=False,
    ),
    _c(
        "report",
        "frontend:report",
        "post",
        lambda w: (f"/posts/{w.post.id}/report/", {"reason": "spam"}),
        SIGNED_IN,
        api=False,
    ),
    _c(
        "delete own post",
        "frontend:delete",
        "post",
        lambda w: (f"/posts/{(w.own_post() if w.actor else w.post).id}/delete/", {}),
        SIGNED_IN,
        api=False,
    ),
    _c(
        "delete someone else's post",
        "frontend:delete",
        "post",
        lambda w: (f"/posts/{w.post.id}/delete/", {}),
        NOBODY,
        api=False,
    ),
    _c(
        "follow",
        "frontend:relationship",
        "post",
        lambda w: (f"/@{w.other.username}/follow/", {}),
        SIGNED_IN,
        api=False,
    ),
    _c(
        "feed preferences",
        "ranking:preferences",
        "post",
        _page_post("/ranking/feed/preferences/", {"mode": "chronological"}),
        SIGNED_IN,
        api=False,
    ),
    _c(
        "more/less like this",
        "ranking:feedback",
        "post",
        lambda w: (f"/ranking/posts/{w.post.id}/feedback/", {"more": "less"}),
        SIGNED_IN,
        api=False,
    ),
    _c(
        "propose an amendment",
        "charter:amendment-new",
        "post",
        lambda w: (
            w.needs_board("/charter/amendments/new/"),
            {
                "title": "Lift bridging",
                "rationale": "Less hostility.",
                "text": _version_markdown(w),
                "policy": __import__("json").dumps(w.policy_reweighted()),
            },
        ),
        BOARD,
        api=False,
    ),
    _c(
        "open deliberation",
        "charter:amendment-deliberation",
        "post",
        lambda w: (f"/charter/amendments/{w.amendment('draft').pk}/deliberation/", {}),
        BOARD,
        api=False,
    ),
    _c(
        "open voting",
        "charter:amendment-voting",
        "post",
        lambda w: (
            f"/charter/amendments/{w.amendment('deliberation').pk}/voting/",
            {"days": 7},
        ),
        BOARD,
        api=False,
    ),
    _c(
        "comment on an amendment",
        "charter:amendment-comment",
        "post",
        lambda w: (
            f"/charter/amendments/{w.amendment('deliberation').pk}/comment/",
            {"body": "Good idea."},
        ),
        SIGNED_IN,
        api=False,
    ),
    _c(
        "vote",
        "charter:amendment-vote",
        "post",
        lambda w: (
            f"/charter/amendments/{w.amendment('voting').pk}/vote/",
            {"choice": "yes"},
        ),
        BOARD,
        api=False,
    ),
    _c(
        "close a vote",
        "charter:amendment-close",
        "post",
        lambda w: (f"/charter/amendments/{w.amendment_closable().pk}/close/", {}),
        BOARD,
        api=False,
    ),
    _c(
        "appeal a decision on one's own post",
        "accountability:decision_appeal",
        "post",
        lambda w: (
            f"/transparency/decisions/"
            f"{w.decision(author=w.actor or w.other).public_id}/appeal",
            {"statement": "It was quoted, not said."},
        ),
        SIGNED_IN,
        api=False,
    ),
    _c(
        "file a petition",
        "accountability:petition_new",
        "post",
        lambda w: (
            (w.charter and "/transparency/petitions/new/"),
            {
                "target": "article",
                "title": "Article 2 needs examples",
                "text": "Examples help.",
                "article": "2",
            },
        ),
        SIGNED_IN,
        api=False,
    ),
    _c(
        "sign a petition",
        "accountability:petition_sign",
        "post",
        lambda w: (f"/transparency/petitions/{w.petition().pk}/sign", {}),
        SIGNED_IN,
        api=False,
    ),
    _c(
        "answer a petition",
        "accountability:petition_answer",
        "post",
        lambda w: (
            f"/transparency/petitions/{w.petition(awaiting_answer=True).pk}/answer",
            {"outcome": "upheld", "reasons": "Article 1 is clear enough."},
        ),
        BOARD,
        api=False,
    ),
    _c(
        "answer an appeal",
        "accountability:appeal",
        "post",
        lambda w: (
            f"/transparency/appeals/{w.appeal().pk}/",
            {"outcome": "upheld", "reasons": "Article 1 covers insults."},
        ),
        BOARD,
        api=False,
    ),
    _c(
        "decide a report",
        "accountability:moderation_decide",
        "post",
        lambda w: (
            f"/transparency/moderation/reports/{w.report().pk}/decide",
            {"outcome": "dismiss", "reasons": "Not spam."},
        ),
        MODERATORS,
        api=False,
    ),
]

CASES = API_CASES + PAGE_CASES

# Function views that only read (GET/HEAD). Listing a page here is a claim the
# test checks: a POST to it does not change anything (405, or the same page).
READ_ONLY_PAGES = frozenset(
    {
        "healthz",
        "accountability:index",
        "accountability:entry",
        "accountability:log",
        "accountability:checkpoint",
        "accountability:key",
        "accountability:keys",
        "accountability:inclusion",
        "accountability:consistency",
        "accountability:verifier",
        "accountability:my_decisions",
        "accountability:decision",
        "accountability:petitions",
        "accountability:petition",
        "accountability:board_queue",
        "accountability:moderation_queue",
        "accountability:moderation_log",
        "accountability:reports",
        "accountability:reports_csv",
        "accountability:reports_json",
        "accountability:research",
        "accountability:report_chart",
        "charter:current",
        "charter:policy-json",
        "charter:policy-schema",
        "charter:versions",
        "charter:version",
        "charter:version-md",
        "charter:version-json",
        "charter:version-policy-json",
        "charter:diff",
        "charter:board",
        "charter:amendments",
        "charter:amendment",
        "frontend:home",
        "frontend:public",
        "frontend:search",
        "frontend:notifications",
        "frontend:new_count",
        "frontend:settings",
        "frontend:settings_export",
        "frontend:thread",
        "frontend:thread_counts",
        "frontend:profile",
    }
)
# Class-based views whose extra methods are not writes of their own.
NOT_WRITES = frozenset({("frontend:login", "put")})


def _walk(
    patterns: list[Any], prefix: str = "", ns: str = ""
) -> Iterator[tuple[str, str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            namespace = ns + (f"{pattern.namespace}:" if pattern.namespace else "")
            yield from _walk(
                pattern.url_patterns, prefix + str(pattern.pattern), namespace
            )
        elif isinstance(pattern, URLPattern):
            yield (
                prefix + str(pattern.pattern),
                ns + (pattern.name or ""),
                pattern.callback,
            )


def write_endpoints() -> tuple[set[tuple[str, str]], set[str]]:
    """(route name, method) of every class-based write; names of function views."""
    writes: set[tuple[str, str]] = set()
    functions: set[str] = set()
    for _route, name, callback in _walk(get_resolver().url_patterns):
        if name.startswith("admin:"):
            continue  # Django's admin: staff only, tested in test_admin_is_staff_only
        view_class = getattr(callback, "cls", None) or getattr(
            callback, "view_class", None
        )
        if view_class is None:
            functions.add(name)
            continue
        for method in WRITE_METHODS:
            if hasattr(view_class, method) and (name, method) not in NOT_WRITES:
                writes.add((name, method))
    return writes, functions


def test_every_write_endpoint_is_in_the_matrix() -> None:
    writes, functions = write_endpoints()
    covered = {(case.route, case.method) for case in CASES}
    missing = sorted(writes - covered)
    assert not missing, f"write endpoints without a permission-matrix entry: {missing}"
    page_cases = {case.route for case in PAGE_CASES}
    unclassified = sorted(functions - page_cases - READ_ONLY_PAGES)
    assert not unclassified, (
        "page views neither in the write matrix nor listed as read-only: "
        f"{unclassified}"
    )
    stale = sorted(covered - writes - {(n, "post") for n in functions})
    assert not stale, f"matrix entries for endpoints that no longer exist: {stale}"


def test_every_write_operation_of_the_openapi_schema_is_in_the_matrix(
    api_client: APIClient,
) -> None:
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    covered = {(case.route, case.method) for case in API_CASES}
    missing = []
    for path, operations in schema["paths"].items():
        for method in operations:
            if method not in WRITE_METHODS:
                continue
            concrete = path.replace("{", "").replace("}", "")
            # Fill path parameters with something the converters accept.
            for token in (
                "post_id",
                "amendment_id",
                "petition_id",
                "appeal_id",
                "report_id",
                "number",
                "index",
            ):
                concrete = concrete.replace(token, "1")
            concrete = concrete.replace("username", "someone").replace(
                "public_id", "DR-1"
            )
            name = resolve(concrete).view_name
            if (name, method) not in covered:
                missing.append((path, method))
    assert not missing, f"schema write operations missing from the matrix: {missing}"


def _actor(role: str, make_user: Callable[..., User]) -> User | None:
    if role == "anonymous":
        return None
    if role == "citizen":
        return make_user("actor")
    if role == "moderator":
        return make_user("actor", is_moderator=True)
    if role == "admin":
        return make_user("actor", is_staff=True, is_superuser=True)
    from charter.services import board_membership_grant, charter_genesis

    user = make_user("actor")
    charter_genesis()
    board_membership_grant(user=user, starts_at=timezone.now() - timedelta(days=1))
    return user


def _outcome(case: Case, status: int, location: str) -> str:
    if status >= 500:
        return f"server error {status}"
    if status in (401, 403):
        return "denied"
    if not case.api and status == 302 and "/login/" in location:
        return "denied"
    if 200 <= status < 400:
        return "ok"
    return f"status {status}"


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.route}:{c.method}:{c.label}")
def test_permission_matrix(
    case: Case, role: str, make_user: Callable[..., User], db: Any
) -> None:
    actor = _actor(role, make_user)
    world = World(make_user, actor)
    path, body = case.build(world)
    if case.api:
        client: Any = APIClient()
        if actor is not None:
            client.force_authenticate(actor)
        response = getattr(client, case.method)(path, body, format="json")
    else:
        client = Client()
        if actor is not None:
            client.force_login(actor)
        response = client.post(path, body or {})
    expected = "ok" if role in case.allowed else "denied"
    if role in case.refused:
        expected = "status 400"
    got = _outcome(case, response.status_code, response.get("Location", ""))
    detail = response.content[:300]
    assert got == expected, f"{role} {case.method.upper()} {path}: {got} — {detail!r}"


def test_admin_is_staff_only(make_user: Callable[..., User]) -> None:
    """Django's admin: visitors and citizens (even moderators) are sent to its login."""
    for user in (
        None,
        make_user("citizen"),
        make_user("mod", is_moderator=True),
    ):
        client = Client()
        if user is not None:
            client.force_login(user)
        response = client.post("/admin/feed/post/add/", {"body": "x"})
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
    assert not Post.objects.filter(body="x").exists()
    admin = make_user("root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(admin)
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("name", sorted(READ_ONLY_PAGES - {"healthz"}))
def test_read_only_pages_take_no_writes(name: str) -> None:
    """A POST to a read-only page is refused or answered like a read (never 5xx)."""
    from django.urls import NoReverseMatch, reverse

    kwargs_options: list[dict[str, Any]] = [
        {},
        {"index": 1},
        {"number": 1},
        {"post_id": 1},
        {"petition_id": 1},
        {"amendment_id": 1},
        {"public_id": "DR-1"},
        {"username": "nobody"},
        {"metric": "posts"},
    ]
    for kwargs in kwargs_options:
        try:
            path = reverse(name, kwargs=kwargs)
            break
        except NoReverseMatch:
            continue
    else:  # pragma: no cover - a new converter needs an entry above
        pytest.fail(f"cannot build a URL for {name}")
    response = Client().post(path, {})
    assert response.status_code < 500
    assert User.objects.count() == 0 and Post.objects.count() == 0
