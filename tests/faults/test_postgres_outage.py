"""PostgreSQL unreachable mid-load: requests get a clear 503 (not a 500 trace)
and recover when it is back; every write that was acknowledged survives.

The shared PostgreSQL is never stopped: the Daphne under load reaches it
through a loopback TCP proxy that the test cuts (every connection reset, new
ones refused, as during a restart) and restores.
"""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest
from django.conf import settings

from faults.infra import LoadLog, TcpProxy, forked_daphne, http, load_loop
from tests.conftest import _use_test_database

pytestmark = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="needs PostgreSQL (DATABASE_URL)",
)


def test_postgres_outage_mid_load_is_a_503_and_loses_no_acknowledged_write(
    citizen: dict[str, Any],
) -> None:
    from django.core.management import call_command

    from feed.models import Post

    db = settings.DATABASES["default"]
    proxy = TcpProxy(db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432))
    proxy.start()

    def through_proxy() -> None:
        from django.conf import settings as child

        _use_test_database()
        child.DATABASES["default"]["HOST"] = "127.0.0.1"
        child.DATABASES["default"]["PORT"] = str(proxy.port)
        child.RATE_LIMITS = {"post": (100_000, 60)}

    process = forked_daphne(through_proxy)
    base = f"http://127.0.0.1:{process.port.value}"
    api = {"Authorization": f"Token {citizen['token']}", "Accept": "application/json"}
    counter = itertools.count()

    def post() -> Any:
        body = json.dumps({"body": f"acknowledged {next(counter)}"}).encode()
        return http(
            "POST",
            f"{base}/api/posts/",
            body=body,
            headers={**api, "Content-Type": "application/json"},
        )

    requests = [
        post,
        lambda: http("GET", f"{base}/api/timelines/public/", headers=api),
        lambda: http("GET", f"{base}/public/"),
    ]
    log = LoadLog()
    try:
        with load_loop(requests, log, threads=3):
            time.sleep(2)
            log.phase = "outage"
            proxy.cut()
            time.sleep(3)
            log.phase = "restored"
            proxy.restore()
            time.sleep(1)  # connections are re-established
            log.phase = "recovered"
            time.sleep(2)
    finally:
        process.terminate()
        process.join(timeout=10)
        proxy.close()

    for phase_name in log.phases:  # read by faults/run.py
        print(f"FAULT postgres: {phase_name}: {dict(log.statuses(phase_name))}")
    before, outage = log.statuses("before"), log.statuses("outage")
    recovered = log.statuses("recovered")
    assert set(before) <= {200, 201}, before
    # During the outage: a readable 503 with Retry-After, never a 500.
    assert 503 in outage, outage
    assert set(outage) <= {200, 201, 503}, outage
    unavailable = [o for o in log.phases["outage"] if o.status == 503]
    assert all("Retry-After" in o.headers for o in unavailable)
    api_503 = [o for o in unavailable if o.body.startswith(b"{")]
    assert api_503 and all(b"retry" in o.body.lower() for o in api_503)
    assert recovered and set(recovered) <= {200, 201}, recovered
    # Every 201 the clients saw is a post in the database.
    acknowledged = [
        json.loads(o.body)["id"]
        for phase in log.phases.values()
        for o in phase
        if o.status == 201
    ]
    assert acknowledged
    assert Post.objects.filter(id__in=acknowledged).count() == len(acknowledged)
    call_command("verify_ledger")
