"""ASGI entry point: HTTP through Django, websockets through Channels."""

import gc
import logging
import os
import threading

import django
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "charter_social.settings")
# Django must be set up before anything imports models (the consumers do), as
# get_asgi_application() does; HTTP then goes through the synchronous chain.
django.setup(set_prefix=False)

from charter_social.asgi_http import SyncChainASGIHandler  # noqa: E402

django_asgi_app = SyncChainASGIHandler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ChannelNameRouter, ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from charter_social.routing import websocket_urlpatterns, worker_channels  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))
        ),
        "channel": ChannelNameRouter(worker_channels),
    }
)


def _warm_models() -> None:
    """Load the active ranking models before the first request needs them."""
    from django.db import connection

    from ranking.selectors import models_warm

    try:
        models_warm()
    except Exception:  # noqa: BLE001 - the request path loads and reports
        logging.getLogger(__name__).warning(
            "could not load the ranking models at start", exc_info=True
        )
    finally:
        connection.close()


if settings.WARM_MODELS_AT_START:
    threading.Thread(target=_warm_models, name="warm-models", daemon=True).start()

# Everything imported so far lives as long as the process. Moving it out of the
# collector's generations keeps full collections short, which otherwise land on
# whichever request triggers them (measured: ~100 ms pauses on ranked feeds).
gc.collect()
gc.freeze()
# A request allocates tens of thousands of objects, so the default threshold
# (700) ran a young collection every few milliseconds and a full one every
# ~150 requests (40-80 ms each, on whichever request met it). Measured over
# 600 feed and thread requests in one process: 4.4-5.7% of the time in the
# collector at 700, 2.3-3.2% at 50,000, with no full collections.
gc.set_threshold(50_000, 20, 20)
