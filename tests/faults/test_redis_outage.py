"""Redis stops mid-load: pages and the API keep serving, rate limits fail safe,
live updates fall back to polling; when Redis returns everything recovers.

A private redis-server on port 6390 is started, killed and restarted by the
test; the shared Redis on 6379 is never touched. The Daphne under load is a
forked process whose cache and channel layer point at the private Redis.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest
import redis

from faults.infra import LoadLog, PrivateRedis, forked_daphne, http, load_loop
from tests.conftest import _use_test_database

PORT = 6390
pytestmark = pytest.mark.skipif(
    not PrivateRedis.available(), reason="redis-server is not installed"
)


def _point_at_private_redis() -> None:
    """Runs in the forked Daphne: cache and channel layer on the private Redis."""
    from django.conf import settings
    from django.core.signals import setting_changed

    _use_test_database()
    url = f"redis://127.0.0.1:{PORT}/0"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": "fault",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [url], "prefix": "fault"},
        }
    }
    # Signals for new posts are computed in-process, so
    # the test isolates the web tier from the worker (test_worker_crash).
    settings.RUN_BACKGROUND_INLINE = True
    # One account posts for the whole load; its limit must not be what is tested.
    settings.RATE_LIMITS = {"post": (100_000, 60)}
    for name in ("CACHES", "CHANNEL_LAYERS"):
        setting_changed.send(
            sender=type(settings),
            setting=name,
            value=getattr(settings, name),
            enter=True,
        )


def test_redis_outage_mid_load_keeps_serving_and_recovers(
    citizen: dict[str, Any],
) -> None:
    from feed.models import Post

    with PrivateRedis(PORT) as private_redis:
        process = forked_daphne(_point_at_private_redis)
        base = f"http://127.0.0.1:{process.port.value}"
        api = {"Authorization": f"Token {citizen['token']}"}
        page = {"Cookie": citizen["cookie"]}
        counter = itertools.count()

        def post() -> Any:
            body = json.dumps({"body": f"load post {next(counter)}"}).encode()
            return http(
                "POST",
                f"{base}/api/posts/",
                body=body,
                headers={**api, "Content-Type": "application/json"},
            )

        requests = [
            lambda: http("GET", f"{base}/"),
            lambda: http("GET", f"{base}/public/", headers=page),
            # The signed-in ranked home feed (its daily limit lives in the cache).
            lambda: http("GET", f"{base}/", headers=page),
            lambda: http("GET", f"{base}/api/timelines/public/"),
            post,
            lambda: http("GET", f"{base}/feed/new-count/", headers=page),
            lambda: http("GET", f"{base}/charter/"),
        ]
        log = LoadLog()
        try:
            with load_loop(requests, log, threads=3):
                time.sleep(2)
                log.phase = "outage"
                private_redis.stop()
                time.sleep(3)
                log.phase = "restarting"
                private_redis.start()
                time.sleep(1)
                log.phase = "recovered"
                time.sleep(2)
            # Rate limits count in Redis again once it is back.
            keys = redis.Redis(port=PORT).keys("fault:*rl:post:*")
        finally:
            process.terminate()
            process.join(timeout=10)

    for phase_name in log.phases:  # read by faults/run.py
        print(f"FAULT redis: {phase_name}: {dict(log.statuses(phase_name))}")
    for phase in ("before", "outage", "recovered"):
        statuses = log.statuses(phase)
        assert statuses, f"no requests completed during {phase}"
        assert set(statuses) <= {200, 201}, (phase, statuses)
    outage = log.phases["outage"]
    # The polling fallback answers while the socket layer is gone.
    assert any(b'"count"' in o.body for o in outage)
    # Posts written during the outage (rate limit failed open) are stored.
    assert sum(o.status == 201 for o in outage) >= 1
    created = [
        json.loads(o.body)["id"]
        for ph in log.phases.values()
        for o in ph
        if o.status == 201
    ]
    assert Post.objects.filter(id__in=created).count() == len(created)
    assert keys, "rate-limit counters are back in Redis after recovery"

    from django.core.management import call_command

    call_command("verify_ledger")
