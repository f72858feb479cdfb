"""Live petition signature counts over a websocket at /ws/petitions/<id>/.

Public: anyone may watch a petition (no sign-in). Server -> client events:
  count  {"event": "count", "petition_id", "count", "status"}: sent on connect
         and after every signature or answer, once its transaction committed.
An unknown petition is accepted and closed at once with code 4404, so the
browser learns why (a refused handshake carries no code). Clients send nothing.
"""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .casework_models import Petition
from .petitions import petition_group

CLOSE_NOT_FOUND = 4404


def _petition_state(petition_id: int) -> tuple[int, str] | None:
    row = (
        Petition.objects.filter(pk=petition_id)
        .values_list("signature_count", "status")
        .first()
    )
    return None if row is None else (int(row[0]), str(row[1]))


class PetitionCountConsumer(AsyncJsonWebsocketConsumer):
    petition_id: int
    group: str | None = None

    async def connect(self) -> None:
        self.petition_id = int(self.scope["url_route"]["kwargs"]["petition_id"])
        state = await database_sync_to_async(_petition_state)(self.petition_id)
        if state is None:
            await self.accept()
            await self.close(code=CLOSE_NOT_FOUND)
            return
        # Join before accepting and before reading the count the client is
        # shown, so no signature can fall between the two unannounced.
        self.group = petition_group(self.petition_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        state = await database_sync_to_async(_petition_state)(self.petition_id)
        if state is not None:
            await self._send_count(*state)

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        # Watching is all a client can do; anything it sends is ignored.
        return None

    async def petition_count(self, event: dict[str, Any]) -> None:
        await self._send_count(int(event["count"]), str(event["status"]))

    async def _send_count(self, count: int, status: str) -> None:
        await self.send_json(
            {
                "event": "count",
                "petition_id": self.petition_id,
                "count": count,
                "status": status,
            }
        )
