"""Websocket routes and background-worker channels gathered from each app."""

from typing import Any

from accountability.routing import websocket_urlpatterns as accountability_ws
from feed.routing import websocket_urlpatterns as feed_ws
from ranking.routing import worker_channels as ranking_workers

websocket_urlpatterns: list[Any] = [*feed_ws, *accountability_ws]
worker_channels: dict[str, Any] = {**ranking_workers}
