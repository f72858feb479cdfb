"""A realistic mix of what citizens do, for locust (run by bench/load.py).

Each simulated citizen signs in with an API token seeded by bench/load.py
(LOAD_ACCOUNTS names the JSON file of {username, token} rows and post/petition
ids). To add an endpoint, add one line to ENDPOINTS: weight, method, path
template, the name it is reported under, an optional body, and the statuses
that count as success.

LOAD_HOSTS (comma-separated base URLs) spreads the users round-robin over
several Daphne processes, to show scale-out without a separate balancer.

Citizens are FastHttpUsers (geventhttpclient): locust shares the two cores
with the server it measures, and the requests-based HttpUser spent several
times more CPU per request, which the server then did not get.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

with open(os.environ["LOAD_ACCOUNTS"]) as handle:
    SEED: dict[str, Any] = json.load(handle)
HOSTS = [h for h in os.environ.get("LOAD_HOSTS", "").split(",") if h]
_accounts = itertools.cycle(SEED["accounts"])
_hosts = itertools.cycle(HOSTS or [None])


def _post_id() -> int:
    return random.choice(SEED["post_ids"])


def _post_id_by_other(me: dict[str, Any]) -> int:
    """A random recent post `me` did not write: rating one's own post is a 400
    by design, not a failure of the server."""
    authors: dict[str, str] = SEED.get("post_authors", {})
    while True:
        post_id = _post_id()
        if authors.get(str(post_id)) != me["username"]:
            return post_id


@dataclass(frozen=True)
class Endpoint:
    weight: int
    method: str
    path: Callable[[dict[str, Any]], str]
    name: str
    body: Callable[[dict[str, Any]], dict[str, Any] | None] = lambda me: None
    ok: frozenset[int] = field(default_factory=lambda: frozenset({200, 201}))
    html: bool = False  # a page: sent with the session cookie, not the token
    # At most one call per this many seconds per citizen, to stay within the
    # account's rate limit as a person would (0: no pacing).
    min_interval: float = 0.0


ENDPOINTS: list[Endpoint] = [
    Endpoint(10, "GET", lambda me: "/api/feed/", "read ranked feed (API)"),
    Endpoint(3, "GET", lambda me: "/", "read home page (HTML)", html=True),
    Endpoint(6, "GET", lambda me: f"/api/posts/{_post_id()}/thread/", "read thread"),
    Endpoint(
        1,
        "POST",
        lambda me: "/api/posts/",
        "post",
        lambda me: {"body": f"Load test post {random.randint(0, 10**9)}"},
        frozenset({201}),
    ),
    Endpoint(
        3,
        "PUT",
        lambda me: f"/api/posts/{_post_id_by_other(me)}/rating/",
        "rate",
        lambda me: {"value": random.choice(["helpful", "unhelpful"])},
    ),
    Endpoint(
        1,
        "POST",
        lambda me: f"/api/users/{random.choice(SEED['usernames'])}/follow/",
        "follow",
        # 400: already following (or oneself); the write path still ran.
        ok=frozenset({201, 400}),
    ),
    Endpoint(2, "GET", lambda me: "/api/charter/", "open charter (API)"),
    Endpoint(1, "GET", lambda me: "/charter/", "open charter (HTML)", html=True),
    Endpoint(
        1,
        "POST",
        lambda me: f"/api/petitions/{random.choice(SEED['petition_ids'])}/signatures/",
        "sign petition",
        # 400: signed already (one signature per account, a DB constraint).
        ok=frozenset({201, 400}),
        # The burst limit allows 5 signature attempts a minute per account;
        # a citizen signing faster gets the 429 it is designed to send.
        min_interval=12.0,
    ),
]


class Citizen(FastHttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        self.me: dict[str, Any] = next(_accounts)
        host = next(_hosts)
        if host:
            self.client.base_url = host
        self.token = {"Authorization": f"Token {self.me['token']}"}
        self.session = {"Cookie": f"sessionid={self.me['session']}"}

        self.last_call: dict[str, float] = {}

    def _choose(self) -> Endpoint:
        """An endpoint by the mix's weights, among those the citizen's pace
        allows now."""
        now = time.monotonic()
        allowed = [
            e
            for e in ENDPOINTS
            if now - self.last_call.get(e.name, -1e9) >= e.min_interval
        ]
        endpoint = random.choices(allowed, weights=[e.weight for e in allowed])[0]
        self.last_call[endpoint.name] = now
        return endpoint

    @task
    def act(self) -> None:
        endpoint = self._choose()
        body = endpoint.body(self.me)
        with self.client.request(
            endpoint.method,
            endpoint.path(self.me),
            json=body,
            headers=self.session if endpoint.html else self.token,
            name=endpoint.name,
            catch_response=True,
        ) as response:
            if response.status_code in endpoint.ok:
                response.success()
            else:
                response.failure(f"{response.status_code}: {response.text[:200]}")
