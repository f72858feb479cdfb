"""Page URLs of the ranking app (namespace "ranking"), mounted under /ranking/."""

from django.urls import path

from . import views

app_name = "ranking"
urlpatterns = [
    path("feed/preferences/", views.preferences_update, name="preferences"),
    path("posts/<int:post_id>/feedback/", views.feedback_update, name="feedback"),
]
