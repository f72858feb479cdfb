"""Page URLs of the site (namespace "frontend")."""

from django.urls import path, register_converter

from . import accounts, actions, views


class UsernameConverter:
    """Only characters Django's username validator admits (sign-up is stricter;
    admin-made accounts may use . @ + -), so odd bytes such as NUL never reach
    the database and an impossible name is a plain 404."""

    regex = r"[\w.@+-]{1,150}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(UsernameConverter, "username")

app_name = "frontend"
urlpatterns = [
    path("", views.home, name="home"),
    path("public/", views.public, name="public"),
    path("search/", views.search, name="search"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", actions.notifications_read, name="notifications_read"),
    path("feed/new-count/", views.new_count, name="new_count"),
    path("login/", accounts.LoginView.as_view(), name="login"),
    path("logout/", accounts.logout_view, name="logout"),
    path("signup/", accounts.signup, name="signup"),
    path("settings/", accounts.settings_page, name="settings"),
    path("settings/profile/", accounts.settings_profile, name="settings_profile"),
    path("settings/password/", accounts.settings_password, name="settings_password"),
    path("settings/export/", accounts.settings_export, name="settings_export"),
    path("settings/delete/", accounts.settings_delete, name="settings_delete"),
    path("posts/", actions.compose, name="compose"),
    path("posts/<int:post_id>/", views.thread, name="thread"),
    path("posts/<int:post_id>/counts/", views.thread_counts, name="thread_counts"),
    path("posts/<int:post_id>/react/", actions.react, name="react"),
    path("posts/<int:post_id>/report/", actions.report, name="report"),
    path("posts/<int:post_id>/delete/", actions.delete, name="delete"),
    path("@<username:username>/", views.profile, name="profile"),
    path(
        "@<username:username>/<slug:action>/", actions.relationship, name="relationship"
    ),
]
