"""The ASGI entry point: HTTP through the synchronous chain, in one hop."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from channels.testing import HttpCommunicator


@pytest.mark.django_db(transaction=True)
async def test_http_runs_the_sync_chain_and_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from asgiref import sync

    from charter_social.asgi import django_asgi_app
    from charter_social.asgi_http import SyncChainASGIHandler

    assert isinstance(django_asgi_app, SyncChainASGIHandler)
    assert not asyncio.iscoroutinefunction(django_asgi_app._middleware_chain)

    hops: list[Any] = []
    real = sync.SyncToAsync.__call__

    async def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        hops.append(getattr(self.func, "__name__", repr(self.func)))
        return await real(self, *args, **kwargs)

    monkeypatch.setattr(sync.SyncToAsync, "__call__", counting)
    communicator = HttpCommunicator(
        django_asgi_app,
        "GET",
        "/api/charter/policy/schema/",
        headers=[(b"host", b"localhost")],
    )
    response = await communicator.get_response()
    assert response["status"] == 200
    # The charter policy's JSON Schema, as the API publishes it.
    assert json.loads(response["body"])["$id"].endswith("policy.schema.json")
    # The view and its middleware ran in a single hop to a thread.
    assert hops.count("get_response") == 1
