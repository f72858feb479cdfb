"""Websocket routes of the accountability app (gathered by charter_social.routing)."""

from typing import Any

from django.urls import path

from .consumers import PetitionCountConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/petitions/<int:petition_id>/", PetitionCountConsumer.as_asgi()),
]
