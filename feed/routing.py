"""Websocket routes of the feed (gathered by charter_social.routing)."""

from typing import Any

from django.urls import path

from .consumers import FeedConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/feed/", FeedConsumer.as_asgi()),
]
