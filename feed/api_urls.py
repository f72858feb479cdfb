from django.urls import path  # noqa: F401

app_name = "feed_api"
urlpatterns: list = []
