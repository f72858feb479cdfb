"""Feed API routes, mounted under /api/ (namespace "feed_api")."""

from django.urls import path

from . import api

app_name = "feed_api"
urlpatterns = [
    path("auth/token/", api.TokenView.as_view(), name="token"),
    path("auth/signup/", api.SignupView.as_view(), name="signup"),
    path("me/", api.MeView.as_view(), name="me"),
    path("me/password/", api.PasswordView.as_view(), name="password"),
    path("me/export/", api.ExportView.as_view(), name="export"),
    path("me/notifications/", api.NotificationsView.as_view(), name="notifications"),
    path(
        "me/notifications/read/",
        api.NotificationsReadView.as_view(),
        name="notifications_read",
    ),
    path("posts/", api.PostListView.as_view(), name="posts"),
    path("posts/<int:post_id>/", api.PostDetailView.as_view(), name="post"),
    path("posts/<int:post_id>/thread/", api.ThreadView.as_view(), name="thread"),
    path("posts/<int:post_id>/like/", api.LikeView.as_view(), name="like"),
    path("posts/<int:post_id>/rating/", api.RatingView.as_view(), name="rating"),
    path("posts/<int:post_id>/report/", api.ReportView.as_view(), name="report"),
    path("timelines/home/", api.HomeTimelineView.as_view(), name="home"),
    path("timelines/public/", api.PublicTimelineView.as_view(), name="public"),
    path("users/<str:username>/", api.ProfileView.as_view(), name="user"),
    path("users/<str:username>/posts/", api.UserPostsView.as_view(), name="user_posts"),
    path("users/<str:username>/follow/", api.FollowView.as_view(), name="follow"),
    path("users/<str:username>/block/", api.BlockView.as_view(), name="block"),
    path("users/<str:username>/mute/", api.MuteView.as_view(), name="mute"),
    path("search/", api.SearchView.as_view(), name="search"),
]
