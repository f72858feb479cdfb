"""REST API of the social core (mounted under /api/).

Views are thin: parse with an input serializer, call one service or selector,
serialise the result. Errors raised by services (ValidationError,
PermissionDenied, Http404) become {"detail": ...} responses in
charter_social.api_errors.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, update_session_auth_hash
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer
from rest_framework.views import APIView

from charter_social.authentication import TokenAuthentication
from charter_social.ratelimit import (
    CacheRateThrottle,
    FollowThrottle,
    PostThrottle,
    RatingThrottle,
    client_address,
    lockout_message,
    login_failed,
    login_lockout_check,
)

from . import selectors, services
from .models import Post, User
from .selectors import Page
from .serializers import (
    ErrorSerializer,
    FollowPrioritySerializer,
    FollowSerializer,
    MarkedReadSerializer,
    MeSerializer,
    NotificationListSerializer,
    PasswordChangeSerializer,
    PasswordConfirmSerializer,
    PostCreateSerializer,
    PostSearchResultsSerializer,
    PostSerializer,
    ProfileSerializer,
    ProfileUpdateSerializer,
    RatingSerializer,
    RelationshipSerializer,
    ReportCreateSerializer,
    ReportSerializer,
    SignupResponseSerializer,
    SignupSerializer,
    ThreadSerializer,
    TimelineSerializer,
    TokenRequestSerializer,
    TokenSerializer,
    UserSearchResultsSerializer,
    UserSummarySerializer,
)

ERRORS = {
    400: OpenApiResponse(
        ErrorSerializer, description="The input needs changing; see detail."
    ),
    401: OpenApiResponse(
        ErrorSerializer, description="Sign in (token or session) first."
    ),
    403: OpenApiResponse(ErrorSerializer, description="Not allowed for this account."),
    404: OpenApiResponse(ErrorSerializer, description="No such post or account."),
    429: OpenApiResponse(
        ErrorSerializer, description="Too many attempts; wait and retry."
    ),
}
PAGE_PARAMETERS = [
    OpenApiParameter("cursor", str, description="`next` from the previous page."),
    OpenApiParameter(
        "limit",
        int,
        description=f"Posts per page, 1..{selectors.MAX_PAGE_SIZE} "
        f"(default {selectors.DEFAULT_PAGE_SIZE}).",
    ),
]


# An account that holds a public office (a board term, casework it answered)
# is referenced by the public record, which must not lose its actors.
ACCOUNT_ON_RECORD = (
    "This account is part of the public record (for example a board term), so "
    "it can't be deleted here. Ask an administrator to end the role first."
)


def _errors(*codes: int) -> dict[int, OpenApiResponse]:
    return {code: ERRORS[code] for code in codes}


class FeedAPIView(APIView):
    # Token first so an unauthenticated request gets 401 with a WWW-Authenticate
    # header (session-only would answer 403, which hides how to sign in).
    authentication_classes = [TokenAuthentication, SessionAuthentication]

    def parse(
        self, serializer_class: type[Serializer], request: Request
    ) -> dict[str, Any]:
        """Validated input of `serializer_class`, or a 400 naming the fields to fix."""
        serializer = serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def viewer(self, request: Request) -> User | None:
        user = request.user
        return user if user.is_authenticated else None

    def me(self, request: Request) -> User:
        return request.user  # type: ignore[return-value]

    def page_response(self, request: Request, page: Page) -> Response:
        context = {"reactions": page.viewer_reactions if self.viewer(request) else None}
        return Response(
            {
                "results": PostSerializer(page.items, many=True, context=context).data,
                "next": page.next_cursor,
            }
        )

    def post_response(
        self, request: Request, post_id: int, *, status_code: int = status.HTTP_200_OK
    ) -> Response:
        """The post as the viewer sees it now (fresh counts and reactions)."""
        viewer = self.viewer(request)
        post = selectors.post_get_for_viewer(
            viewer=viewer, post_id=post_id, with_parent=False
        )
        return Response(self.post_data(viewer, post), status=status_code)

    def post_data(
        self,
        viewer: User | None,
        post: Post,
        reactions: dict[int, dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """`post` serialised for `viewer`; `reactions` when already known."""
        if viewer and reactions is None:
            reactions = selectors.viewer_reactions_for(viewer=viewer, posts=[post])
        return PostSerializer(
            post, context={"reactions": reactions if viewer else None}
        ).data

    def page_args(self, request: Request) -> dict[str, Any]:
        return {
            "cursor": request.query_params.get("cursor") or None,
            "limit": selectors.page_size_clean(request.query_params.get("limit")),
        }


class SignInThrottle(CacheRateThrottle):
    """Slows password guessing: attempts per client address and username.

    Counted in the shared cache with the sign-in page (same scope); while the
    cache is down a per-process counter keeps it (charter_social.ratelimit).
    """

    scope = "sign_in"
    methods = frozenset({"POST"})

    def ident(self, request: Request) -> str:
        data = request.data if isinstance(request.data, dict) else {}
        username = str(data.get("username", ""))[:150].lower()
        # The socket address, not X-Forwarded-For: a guesser could rotate that
        # header freely. Behind a proxy this becomes a per-username limit.
        return f"{client_address(request)}:{username}"


class SignupThrottle(CacheRateThrottle):
    """Limits account creation per client address; bulk sign-up feeds spam."""

    scope = "signup"
    methods = frozenset({"POST"})

    def ident(self, request: Request) -> str:
        return client_address(request)


# Auth and the signed-in account -------------------------------------------------------


class TokenView(FeedAPIView):
    def get_throttles(self) -> list[Any]:
        request = getattr(self, "request", None)
        if request is not None and request.method == "POST":
            return [SignInThrottle()]
        return []

    def get_permissions(self) -> list[Any]:
        request = getattr(self, "request", None)
        if request is not None and request.method == "POST":
            return [AllowAny()]
        return [IsAuthenticated()]

    def get_authenticators(self) -> list[Any]:
        # Obtaining a token needs no prior authentication; ignoring any session
        # also spares scripts the CSRF check that session writes need.
        request = getattr(self, "request", None)
        if request is not None and request.method == "POST":
            return []
        return super().get_authenticators()

    @extend_schema(
        operation_id="auth_token_create",
        summary="Exchange a username and password for an API token",
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, **_errors(400, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = self.parse(TokenRequestSerializer, request)
        address = client_address(request)
        locked_for = login_lockout_check(username=data["username"], address=address)
        if locked_for is not None:
            raise Throttled(wait=locked_for, detail=lockout_message(locked_for))
        user = authenticate(
            request._request, username=data["username"], password=data["password"]
        )
        if user is None:
            login_failed(username=data["username"], address=address)
            # One message for an unknown account and a wrong password, so the
            # endpoint cannot be used to find out which usernames exist.
            raise DjangoValidationError(
                "No account matches that username and password."
            )
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key, "username": user.username})

    @extend_schema(
        operation_id="auth_token_destroy",
        summary="Revoke the API token of the signed-in account",
        request=None,
        responses={204: None, **_errors(401)},
    )
    def delete(self, request: Request) -> Response:
        Token.objects.filter(user=self.me(request)).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignupView(FeedAPIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [SignupThrottle]

    @extend_schema(
        operation_id="auth_signup",
        summary="Create an account and get its API token",
        request=SignupSerializer,
        responses={201: SignupResponseSerializer, **_errors(400, 429)},
        auth=[],
    )
    def post(self, request: Request) -> Response:
        data = self.parse(SignupSerializer, request)
        user = services.user_signup(**data)
        token, _ = Token.objects.get_or_create(user=user)
        return Response(
            {"user": _me_data(user), "token": token.key}, status=status.HTTP_201_CREATED
        )


def _me_data(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "bio": user.bio,
        "email": user.email,
        "date_joined": user.date_joined,
        "unread_notifications": selectors.notifications_unread_count(user=user),
    }


class DeleteWithBodySchema(AutoSchema):
    """Documents the JSON body of a DELETE, which drf-spectacular leaves out by default.

    Deleting an account asks for the password in the body, and a client must be
    able to read that from the schema.
    """

    def _get_request_body(self, direction: str = "request") -> Any:
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"


class MeView(FeedAPIView):
    permission_classes = [IsAuthenticated]
    schema = DeleteWithBodySchema()

    @extend_schema(
        operation_id="me_retrieve",
        summary="The signed-in account's profile",
        responses={200: MeSerializer, **_errors(401)},
    )
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(_me_data(self.me(request))).data)

    @extend_schema(
        operation_id="me_update",
        summary="Change display name and/or bio",
        request=ProfileUpdateSerializer,
        responses={200: MeSerializer, **_errors(400, 401)},
    )
    def patch(self, request: Request) -> Response:
        data = self.parse(ProfileUpdateSerializer, request)
        me = self.me(request)
        user = services.profile_update(
            user=me,
            display_name=data.get("display_name", me.display_name),
            bio=data.get("bio", me.bio),
        )
        return Response(MeSerializer(_me_data(user)).data)

    @extend_schema(
        operation_id="me_destroy",
        summary="Delete the account and everything it wrote (needs the password)",
        request=PasswordConfirmSerializer,
        responses={204: None, **_errors(400, 401)},
    )
    def delete(self, request: Request) -> Response:
        data = self.parse(PasswordConfirmSerializer, request)
        try:
            services.account_delete(user=self.me(request), password=data["password"])
        except ProtectedError as exc:
            raise DjangoValidationError(ACCOUNT_ON_RECORD) from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordView(FeedAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="me_password_change",
        summary="Change the password; the API token is replaced",
        description=(
            "A new password ends every other way in: other sessions stop working "
            "and the old API token is revoked. The response carries the new token."
        ),
        request=PasswordChangeSerializer,
        responses={200: TokenSerializer, **_errors(400, 401)},
    )
    def post(self, request: Request) -> Response:
        data = self.parse(PasswordChangeSerializer, request)
        user = services.password_change(user=self.me(request), **data)
        if request.auth is None:
            # Signed in by session: keep this session valid, end the others.
            update_session_auth_hash(request._request, user)
        # A token stolen before the change must stop working with it.
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
        return Response({"token": token.key, "username": user.username})


class ExportView(FeedAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="me_export",
        summary="Download everything the account wrote or chose, as JSON",
        responses={200: OpenApiTypes.OBJECT, **_errors(401)},
    )
    def get(self, request: Request) -> Response:
        response = Response(selectors.account_export(user=self.me(request)))
        response["Content-Disposition"] = (
            'attachment; filename="charter-social-export.json"'
        )
        return response


class NotificationsView(FeedAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="me_notifications",
        summary="The newest notifications",
        responses={200: NotificationListSerializer, **_errors(401)},
    )
    def get(self, request: Request) -> Response:
        me = self.me(request)
        return Response(
            NotificationListSerializer(
                {
                    "results": selectors.notifications_for(user=me),
                    "unread": selectors.notifications_unread_count(user=me),
                }
            ).data
        )


class NotificationsReadView(FeedAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="me_notifications_mark_read",
        summary="Mark every notification read",
        request=None,
        responses={200: MarkedReadSerializer, **_errors(401)},
    )
    def post(self, request: Request) -> Response:
        return Response(
            {"marked": services.notifications_mark_read(user=self.me(request))}
        )


# Posts and reactions ------------------------------------------------------------------


class PostListView(FeedAPIView):
    throttle_classes = [PostThrottle]

    @extend_schema(
        operation_id="posts_create",
        summary="Publish a post, or a reply when parent_id is given",
        request=PostCreateSerializer,
        responses={201: PostSerializer, **_errors(400, 401, 403, 404, 429)},
    )
    def post(self, request: Request) -> Response:
        data = self.parse(PostCreateSerializer, request)
        me = self.me(request)
        post = services.post_create(
            author=me, body=data["body"], parent_id=data.get("parent_id")
        )
        # Nobody, the author included, has reacted to a post this new.
        unreacted = {post.id: {"liked": False, "rating": None}}
        return Response(
            self.post_data(me, post, unreacted), status=status.HTTP_201_CREATED
        )


class PostDetailView(FeedAPIView):
    @extend_schema(
        operation_id="posts_retrieve",
        summary="One post",
        responses={200: PostSerializer, **_errors(404)},
    )
    def get(self, request: Request, post_id: int) -> Response:
        return self.post_response(request, post_id)

    @extend_schema(
        operation_id="posts_destroy",
        summary="Delete one's own post (replies by others stay)",
        responses={204: None, **_errors(401, 403, 404)},
    )
    def delete(self, request: Request, post_id: int) -> Response:
        services.post_delete(user=self.me(request), post_id=post_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ThreadView(FeedAPIView):
    @extend_schema(
        operation_id="posts_thread",
        summary="The whole thread a post belongs to, in reading order",
        responses={200: ThreadSerializer, **_errors(404)},
    )
    def get(self, request: Request, post_id: int) -> Response:
        viewer = self.viewer(request)
        post, posts, reactions = selectors.thread_for(viewer=viewer, post_id=post_id)
        context = {"reactions": reactions if viewer else None}
        return Response(
            {
                "post_id": post.id,
                "root_id": post.root_id or post.id,
                "results": PostSerializer(posts, many=True, context=context).data,
            }
        )


class LikeView(FeedAPIView):
    throttle_classes = [RatingThrottle]

    @extend_schema(
        operation_id="posts_like",
        summary="Like a post",
        request=None,
        responses={201: PostSerializer, **_errors(400, 401, 404, 429)},
    )
    def post(self, request: Request, post_id: int) -> Response:
        me = self.me(request)
        like = services.like_create(user=me, post_id=post_id)
        return Response(self.post_data(me, like.post), status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="posts_unlike",
        summary="Take back a like",
        responses={200: PostSerializer, **_errors(400, 401, 404)},
    )
    def delete(self, request: Request, post_id: int) -> Response:
        services.like_delete(user=self.me(request), post_id=post_id)
        return self.post_response(request, post_id)


class RatingView(FeedAPIView):
    throttle_classes = [RatingThrottle]

    @extend_schema(
        operation_id="posts_rate",
        summary="Rate a post helpful or unhelpful (rating again changes it)",
        request=RatingSerializer,
        responses={200: PostSerializer, **_errors(400, 401, 404, 429)},
    )
    def put(self, request: Request, post_id: int) -> Response:
        data = self.parse(RatingSerializer, request)
        me = self.me(request)
        rating = services.rating_set(user=me, post_id=post_id, value=data["value"])
        return Response(self.post_data(me, rating.post))

    @extend_schema(
        operation_id="posts_unrate",
        summary="Withdraw a rating",
        responses={200: PostSerializer, **_errors(400, 401, 404)},
    )
    def delete(self, request: Request, post_id: int) -> Response:
        services.rating_delete(user=self.me(request), post_id=post_id)
        return self.post_response(request, post_id)


class ReportView(FeedAPIView):
    @extend_schema(
        operation_id="posts_report",
        summary="Flag a post for moderators",
        request=ReportCreateSerializer,
        responses={201: ReportSerializer, **_errors(400, 401, 404)},
    )
    def post(self, request: Request, post_id: int) -> Response:
        data = self.parse(ReportCreateSerializer, request)
        report = services.report_create(
            reporter=self.me(request), post_id=post_id, **data
        )
        return Response(ReportSerializer(report).data, status=status.HTTP_201_CREATED)


# Timelines ----------------------------------------------------------------------------


class HomeTimelineView(FeedAPIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="timelines_home",
        summary="Chronological home timeline: followed accounts and one's own posts",
        parameters=PAGE_PARAMETERS,
        responses={200: TimelineSerializer, **_errors(400, 401)},
    )
    def get(self, request: Request) -> Response:
        page = selectors.timeline_home(
            viewer=self.me(request), **self.page_args(request)
        )
        return self.page_response(request, page)


class PublicTimelineView(FeedAPIView):
    @extend_schema(
        operation_id="timelines_public",
        summary="Every post, newest first (minus blocked and muted accounts)",
        parameters=PAGE_PARAMETERS,
        responses={200: TimelineSerializer, **_errors(400)},
    )
    def get(self, request: Request) -> Response:
        page = selectors.timeline_public(
            viewer=self.viewer(request), **self.page_args(request)
        )
        return self.page_response(request, page)


class UserPostsView(FeedAPIView):
    @extend_schema(
        operation_id="users_posts",
        summary="One account's posts and replies, newest first",
        parameters=PAGE_PARAMETERS,
        responses={200: TimelineSerializer, **_errors(400, 404)},
    )
    def get(self, request: Request, username: str) -> Response:
        viewer = self.viewer(request)
        author = selectors.user_get_for_viewer(viewer=viewer, username=username)
        page = selectors.timeline_profile(
            viewer=viewer, author=author, **self.page_args(request)
        )
        return self.page_response(request, page)


# Profiles and relations ---------------------------------------------------------------


class ProfileView(FeedAPIView):
    @extend_schema(
        operation_id="users_retrieve",
        summary="A public profile and how the viewer relates to it",
        responses={200: ProfileSerializer, **_errors(404)},
    )
    def get(self, request: Request, username: str) -> Response:
        viewer = self.viewer(request)
        user = selectors.user_get_for_viewer(viewer=viewer, username=username)
        return Response(
            {
                "username": user.username,
                "display_name": user.display_name,
                "bio": user.bio,
                "date_joined": user.date_joined,
                "stats": selectors.profile_stats(user=user),
                "relationship": selectors.relationship_for(viewer=viewer, other=user),
            }
        )


class RelationView(FeedAPIView):
    """Shared by follow, block and mute: the target is named by username.

    Writes look the account up without the block filter so a blocker can still
    unblock; the services decide what a block forbids.
    """

    permission_classes = [IsAuthenticated]

    def target(self, username: str) -> User:
        return selectors.user_get_by_username(username=username)

    def relationship(self, request: Request, other: User, status_code: int) -> Response:
        data = selectors.relationship_for(viewer=self.me(request), other=other)
        return Response(data, status=status_code)


class FollowView(RelationView):
    throttle_classes = [FollowThrottle]

    @extend_schema(
        operation_id="users_follow",
        summary="Follow an account",
        request=None,
        responses={201: RelationshipSerializer, **_errors(400, 401, 403, 404, 429)},
    )
    def post(self, request: Request, username: str) -> Response:
        other = self.target(username)
        services.follow_create(follower=self.me(request), followee_id=other.id)
        return self.relationship(request, other, status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="users_follow_priority",
        summary="Set how much a followed account matters to you (-2..2)",
        request=FollowPrioritySerializer,
        responses={200: FollowSerializer, **_errors(400, 401, 404)},
    )
    def put(self, request: Request, username: str) -> Response:
        data = self.parse(FollowPrioritySerializer, request)
        other = self.target(username)
        follow = services.follow_priority_set(
            follower=self.me(request), followee_id=other.id, priority=data["priority"]
        )
        return Response({"username": other.username, "priority": follow.priority})

    @extend_schema(
        operation_id="users_unfollow",
        summary="Stop following an account",
        responses={200: RelationshipSerializer, **_errors(400, 401, 404)},
    )
    def delete(self, request: Request, username: str) -> Response:
        other = self.target(username)
        services.follow_delete(follower=self.me(request), followee_id=other.id)
        return self.relationship(request, other, status.HTTP_200_OK)


class BlockView(RelationView):
    @extend_schema(
        operation_id="users_block",
        summary="Block an account: it can no longer see, reply to or follow you",
        request=None,
        responses={201: RelationshipSerializer, **_errors(400, 401, 404)},
    )
    def post(self, request: Request, username: str) -> Response:
        other = self.target(username)
        services.block_create(blocker=self.me(request), blocked_id=other.id)
        return self.relationship(request, other, status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="users_unblock",
        summary="Lift a block",
        responses={200: RelationshipSerializer, **_errors(400, 401, 404)},
    )
    def delete(self, request: Request, username: str) -> Response:
        other = self.target(username)
        services.block_delete(blocker=self.me(request), blocked_id=other.id)
        return self.relationship(request, other, status.HTTP_200_OK)


class MuteView(RelationView):
    @extend_schema(
        operation_id="users_mute",
        summary="Mute an account: its posts vanish from your feeds",
        request=None,
        responses={201: RelationshipSerializer, **_errors(400, 401, 404)},
    )
    def post(self, request: Request, username: str) -> Response:
        other = self.target(username)
        services.mute_create(muter=self.me(request), muted_id=other.id)
        return self.relationship(request, other, status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="users_unmute",
        summary="Unmute an account",
        responses={200: RelationshipSerializer, **_errors(400, 401, 404)},
    )
    def delete(self, request: Request, username: str) -> Response:
        other = self.target(username)
        services.mute_delete(muter=self.me(request), muted_id=other.id)
        return self.relationship(request, other, status.HTTP_200_OK)


# Search -------------------------------------------------------------------------------

SEARCH_TYPES = ("posts", "users")


class SearchView(FeedAPIView):
    @extend_schema(
        operation_id="search",
        summary="Search posts (full text on PostgreSQL) or accounts",
        parameters=[
            OpenApiParameter("q", str, required=True, description="2..200 characters."),
            OpenApiParameter(
                "type", str, enum=list(SEARCH_TYPES), description="Default posts."
            ),
        ],
        responses={
            200: PolymorphicProxySerializer(
                component_name="SearchResults",
                # Keyed by the `type` values the response carries, so the
                # schema's discriminator mapping names "posts" and "users".
                serializers={
                    "posts": PostSearchResultsSerializer,
                    "users": UserSearchResultsSerializer,
                },
                resource_type_field_name="type",
            ),
            **_errors(400),
        },
    )
    def get(self, request: Request) -> Response:
        kind = request.query_params.get("type") or "posts"
        if kind not in SEARCH_TYPES:
            raise ValidationError({"type": ['Search type must be "posts" or "users".']})
        query = selectors.search_query_clean(request.query_params.get("q"))
        viewer = self.viewer(request)
        if kind == "users":
            users = selectors.users_search(viewer=viewer, query=query)
            return Response(
                {
                    "type": "users",
                    "results": UserSummarySerializer(users, many=True).data,
                }
            )
        posts = selectors.posts_search(viewer=viewer, query=query)
        reactions = (
            selectors.viewer_reactions_for(viewer=viewer, posts=posts)
            if viewer
            else None
        )
        return Response(
            {
                "type": "posts",
                "results": PostSerializer(
                    posts, many=True, context={"reactions": reactions}
                ).data,
            }
        )
