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

Nothing else changes: it is the same handler (request parsing, the
request_started / request_finished signals that return database connections,
streaming, disconnects), the chain runs in the request's thread-sensitive
thread as before, so connections stay per request, and code in a view that
calls async_to_sync (the live-update broadcasts) still reaches the server's
event loop.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        # ASGIHandler built an async chain; build the synchronous one instead.
        self.load_middleware(is_async=False)

    async def get_response_async(self, request: HttpRequest) -> HttpResponseBase:
        response: HttpResponseBase = await sync_to_async(
            self.get_response, thread_sensitive=True
        )(request)
        return response
