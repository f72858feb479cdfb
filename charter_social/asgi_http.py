"""Django's ASGI handler with the middleware chain run synchronously, in one hop.

Every view and middleware here is synchronous. Django's ASGIHandler builds its
chain for async use, and a synchronous middleware at the bottom of the list
makes it adapt twice: the chain runs in a worker thread, hands the request
back to the event loop for the URL resolution, which hands it to the same
thread again for the view, and the response retraces both steps. That is six
thread/loop switches a request, measured under `make load` as a visible share
of each process's CPU. Here `get_response_async` runs Django's synchronous
`get_response` — the whole chain and the view — in one `sync_to_async` call:
two switches.

Each request also used to get a thread of its own: Django enters a fresh
ThreadSensitiveContext per request, which creates a one-thread executor, starts
its thread, and on exit starts a second thread to join the first. Here the
request's context is given an executor from a small pool of long-lived
one-thread executors instead (asgiref's documented `executor=` argument), so a
thread serves many requests one after another, as under a threaded WSGI
server. An executor that still has work when its request ends (a view the
client walked away from, still running) is not reused: it finishes that work
and its thread ends, as before.

Nothing else changes: it is the same handler (request parsing, the
request_started / request_finished signals that return database connections,
streaming, disconnects), the chain runs in the request's thread-sensitive
thread as before, so connections stay per request, and code in a view that
calls async_to_sync (the live-update broadcasts) still reaches the server's
event loop.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase

# Idle executors kept for reuse; above this (a burst of concurrent requests)
# the extra ones end their threads when their request ends.
IDLE_EXECUTORS_KEPT = 32


class RequestThreadExecutor(ThreadPoolExecutor):
    """One worker thread, and a count of the work submitted and not yet done."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="request")
        self._pending = 0
        self._pending_lock = threading.Lock()

    def submit(
        self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Future[Any]:
        with self._pending_lock:
            self._pending += 1
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(self._one_done)
        return future

    def _one_done(self, _future: Future[Any]) -> None:
        with self._pending_lock:
            self._pending -= 1

    @property
    def idle(self) -> bool:
        with self._pending_lock:
            return self._pending == 0


class RequestThreadPool:
    """Long-lived one-thread executors, one lent to each request at a time.

    Used from the event loop's thread only (take/give_back), so the free list
    needs no lock. A forked child (a server that imports the application and
    then forks its workers, or the test suite's live server) inherits the
    executors but not their threads, and work sent to them would wait for
    ever; so the pool notices the new process and starts afresh.
    """

    def __init__(self, keep: int = IDLE_EXECUTORS_KEPT) -> None:
        self.keep = keep
        self._idle: list[RequestThreadExecutor] = []
        self._pid = os.getpid()

    def take(self) -> RequestThreadExecutor:
        if self._pid != os.getpid():
            self._idle, self._pid = [], os.getpid()
        return self._idle.pop() if self._idle else RequestThreadExecutor()

    def give_back(self, executor: RequestThreadExecutor) -> None:
        if executor.idle and len(self._idle) < self.keep:
            self._idle.append(executor)
        else:
            # Still busy (an abandoned view) or surplus: let its thread end
            # once its queue is done, without waiting for it here.
            executor.shutdown(wait=False)

    @property
    def idle_count(self) -> int:
        return len(self._idle)


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        # ASGIHandler built an async chain; build the synchronous one instead.
        self.load_middleware(is_async=False)
        self.request_threads = RequestThreadPool()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(
                f"Django can only handle ASGI/HTTP connections, not {scope['type']}."
            )
        executor = self.request_threads.take()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self.request_threads.give_back(executor)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        response: HttpResponseBase = await sync_to_async(
            self.get_response, thread_sensitive=True
        )(request)
        return response
