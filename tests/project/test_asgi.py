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


def _recording_handler(monkeypatch: pytest.MonkeyPatch) -> tuple[Any, list[Any]]:
    """A fresh handler that records the thread each request's view ran in
    (the Thread objects, kept alive, so a new thread never compares equal to
    an ended one whose ident the system reused)."""
    import threading

    from charter_social.asgi_http import SyncChainASGIHandler

    handler = SyncChainASGIHandler()
    threads: list[Any] = []
    real = handler.get_response

    def recording(request: Any) -> Any:
        threads.append(threading.current_thread())
        return real(request)

    monkeypatch.setattr(handler, "get_response", recording)
    return handler, threads


async def _get(handler: Any, path: str = "/healthz") -> dict[str, Any]:
    communicator = HttpCommunicator(
        handler, "GET", path, headers=[(b"host", b"localhost")]
    )
    response: dict[str, Any] = await communicator.get_response(timeout=10)
    await communicator.wait(timeout=10)  # the handler's own ending, too
    return response


@pytest.mark.django_db(transaction=True)
async def test_requests_one_after_another_reuse_one_thread_and_return_its_connection(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.db import connection

    handler, threads = _recording_handler(monkeypatch)
    for _ in range(3):
        assert (await _get(handler))["status"] == 200
    assert len(threads) == 3
    assert threads[0] is threads[1] is threads[2]
    assert handler.request_threads.idle_count == 1
    # The database connection the requests used was closed (handed back) at
    # the end of each request, not kept by the long-lived thread.
    executor = handler.request_threads.take()
    assert executor.submit(lambda: connection.connection is None).result(5)


@pytest.mark.django_db(transaction=True)
async def test_concurrent_requests_get_threads_of_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    handler, threads = _recording_handler(monkeypatch)
    inside = threading.Barrier(3, timeout=10)
    real = handler.get_response

    def meeting(request: Any) -> Any:
        # Returns only when all three requests are in a view at once, which
        # cannot happen if they shared a thread.
        inside.wait()
        return real(request)

    monkeypatch.setattr(handler, "get_response", meeting)
    responses = await asyncio.gather(*(_get(handler) for _ in range(3)))
    assert [r["status"] for r in responses] == [200, 200, 200]
    assert len(set(threads)) == 3
    assert handler.request_threads.idle_count == 3


def test_an_executor_still_busy_is_not_lent_again() -> None:
    import threading

    from charter_social.asgi_http import RequestThreadPool

    pool = RequestThreadPool(keep=2)
    busy = pool.take()
    release = threading.Event()
    job = busy.submit(release.wait, 10)
    pool.give_back(busy)  # a view its client walked away from, still running
    assert pool.idle_count == 0
    release.set()
    assert job.result(5) is True

    first, second, third = pool.take(), pool.take(), pool.take()
    assert len({id(first), id(second), id(third), id(busy)}) == 4
    for executor in (first, second, third):
        pool.give_back(executor)
    assert pool.idle_count == 2  # the surplus one was let go
    assert pool.take() in (first, second, third)


def test_a_forked_child_does_not_borrow_executors_whose_threads_stayed_behind() -> None:
    import os

    from charter_social.asgi_http import RequestThreadPool

    pool = RequestThreadPool()
    warm = pool.take()
    assert warm.submit(lambda: 1).result(5) == 1  # its thread is running
    pool.give_back(warm)
    assert pool.idle_count == 1
    child = os.fork()
    if child == 0:  # the child: the executor came along, its thread did not
        try:
            executor = pool.take()
            ok = executor is not warm and executor.submit(lambda: 2).result(5) == 2
            os._exit(0 if ok else 1)
        except BaseException:  # noqa: BLE001 - report any failure as a code
            os._exit(2)
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert pool.take() is warm  # the parent's pool is untouched
