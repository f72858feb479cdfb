"""The live petition count over /ws/petitions/<id>/ (public, after commit)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from channels import DEFAULT_CHANNEL_LAYER
from channels.db import database_sync_to_async
from channels.layers import channel_layers, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections

from accountability.petitions import petition_file, petition_sign
from charter_social.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def fresh_channel_layer() -> AsyncIterator[None]:
    """Empty the layer afterwards: a later live server forks this process and
    would inherit groups whose queues belong to this test's event loop."""
    yield
    layer = get_channel_layer()
    if hasattr(layer, "flush"):
        await layer.flush()
    # Drop the instance too: its queues are bound to this test's event loop.
    channel_layers.backends.pop(DEFAULT_CHANNEL_LAYER, None)
    # The consumer's thread holds a connection that would block dropping the
    # test database.
    await database_sync_to_async(connections.close_all)()


async def test_watchers_get_the_count_on_connect_and_after_each_signature(
    active_charter: Any, make_user: Any
) -> None:
    author = await database_sync_to_async(make_user)()
    signer = await database_sync_to_async(make_user)()
    petition = await database_sync_to_async(petition_file)(
        author=author,
        target="article",
        article="1",
        title="Live count petition",
        text="t",
    )
    communicator = WebsocketCommunicator(application, f"/ws/petitions/{petition.pk}/")
    connected, _ = await communicator.connect()
    assert connected
    first = await communicator.receive_json_from(timeout=5)
    assert first == {
        "event": "count",
        "petition_id": petition.pk,
        "count": 1,
        "status": "open",
    }
    await database_sync_to_async(petition_sign)(signer=signer, petition_id=petition.pk)
    update = await communicator.receive_json_from(timeout=5)
    assert update["count"] == 2
    await communicator.disconnect()


async def test_unknown_petition_closes_with_4404(active_charter: Any) -> None:
    communicator = WebsocketCommunicator(application, "/ws/petitions/424242/")
    connected, _ = await communicator.connect()
    assert connected
    closed = await communicator.receive_output(timeout=5)
    assert closed == {"type": "websocket.close", "code": 4404}
