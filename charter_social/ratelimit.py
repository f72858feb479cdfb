"""Rate limits and sign-in lockout, counted in the shared cache.

Limits are applied at the edge (page views through `rate_limited`, API views
through `CacheRateThrottle`), never inside services, so a management command or
a test calling a service is never throttled.

Counting: a fixed window per (scope, identity). `cache.add` opens the window
and `cache.incr` counts atomically, on Redis and on the local-memory cache, so
several Daphne processes sharing one Redis share one count. On Redis one
script does both in a single round trip (Django's add + incr took three: SET
NX, EXISTS, INCRBY), on the same key, so a count read with `cache.get` is the
same number either way.

Failing safe when the cache is unreachable (Redis stopped or partitioned):

- sign-up, posting, rating and following ALLOW the request and log a warning:
  refusing every write because a counter is missing would turn a cache outage
  into a site outage, and the database constraints still hold;
- sign-in (and its lockout) falls back to a per-process counter, so password
  guessing stays limited (per process: N processes admit at most N times the
  limit) while Redis is away.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rate:
    """At most `limit` hits per `window` seconds."""

    limit: int
    window: int


# Scope -> rate. settings.RATE_LIMITS may override any of them (e.g. a load
# test on one address); the defaults are what production runs with.
DEFAULT_RATES: dict[str, Rate] = {
    "sign_in": Rate(10, 60),  # attempts per address+username
    "signup": Rate(30, 3600),  # accounts per address
    "post": Rate(30, 60),  # posts and replies per account
    "rate": Rate(120, 60),  # ratings and likes per account
    "follow": Rate(60, 60),  # follows per account
    "sign_petition": Rate(5, 60),  # petition signatures per account
    # Lockout: failed sign-ins counted over a longer window.
    "lockout_user": Rate(10, 15 * 60),  # failures per username, any address
    "lockout_address": Rate(50, 15 * 60),  # failures per address, any username
}

# Scopes that must stay protected while the cache is down.
FAIL_CLOSED_SCOPES = frozenset({"sign_in", "lockout_user", "lockout_address"})


def rate_for(scope: str) -> Rate:
    """The configured rate of `scope` (settings.RATE_LIMITS first)."""
    overrides: dict[str, tuple[int, int]] = getattr(settings, "RATE_LIMITS", {})
    if scope in overrides:
        limit, window = overrides[scope]
        return Rate(int(limit), int(window))
    return DEFAULT_RATES[scope]


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    retry_after: int  # seconds until the window ends (0 when allowed)


class _LocalCounter:
    """Per-process fixed-window counters, used only while the cache is down."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, tuple[float, int]] = {}

    def incr(self, key: str, window: int, amount: int) -> int:
        now = time.monotonic()
        with self._lock:
            if len(self._counts) > 50_000:  # bound memory during a long outage
                self._counts = {k: v for k, v in self._counts.items() if v[0] > now}
            expires, count = self._counts.get(key, (now + window, 0))
            if expires <= now:
                expires, count = now + window, 0
            count += amount
            self._counts[key] = (expires, count)
            return count

    def clear(self) -> None:
        with self._lock:
            self._counts.clear()


local_counter = _LocalCounter()


def _key(scope: str, ident: str, window: int) -> tuple[str, int]:
    now = time.time()
    slot = int(now // window)
    # Hash the identity: usernames and addresses never appear in cache keys
    # (memcached-safe, and nothing personal to read out of a Redis dump).
    digest = hashlib.sha256(ident.encode()).hexdigest()[:32]
    retry_after = max(1, math.ceil((slot + 1) * window - now))
    return f"rl:{scope}:{digest}:{slot}", retry_after


# Count and open the window atomically: the expiry is set whenever the key has
# none, so a key can never outlive its window (a counter without an expiry
# would lock its account out for good).
_REDIS_HIT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('TTL', KEYS[1]) < 0 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return count
"""


def _incr_in_window(key: str, amount: int, timeout: int) -> int:
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        full_key = backend.make_and_validate_key(key)
        client = backend._cache.get_client(full_key, write=True)
        return int(client.eval(_REDIS_HIT, 1, full_key, amount, timeout))
    # add() opens the window (no-op when already open); incr() is atomic.
    cache.add(key, 0, timeout=timeout)
    try:
        return int(cache.incr(key, amount))
    except ValueError:  # the key expired between add() and incr()
        cache.add(key, amount, timeout=timeout)
        return amount


def _count(scope: str, ident: str, *, amount: int) -> tuple[int, int]:
    """Add `amount` to the window's counter; (new count, seconds left)."""
    rate = rate_for(scope)
    key, retry_after = _key(scope, ident, rate.window)
    try:
        if amount == 0:
            value = cache.get(key, 0)
            return int(value), retry_after
        return _incr_in_window(key, amount, rate.window + 1), retry_after
    except Exception as exc:  # the cache backend is down or unreachable
        if scope in FAIL_CLOSED_SCOPES:
            logger.warning(
                "rate limit %s: cache unavailable (%s); per-process fallback",
                scope,
                exc,
            )
            return local_counter.incr(key, rate.window, amount), retry_after
        logger.warning("rate limit %s: cache unavailable (%s); allowing", scope, exc)
        return 0, 0


def hit(scope: str, ident: str) -> Decision:
    """Count one attempt of `ident` in `scope`; allowed while within the rate."""
    count, retry_after = _count(scope, ident, amount=1)
    allowed = count <= rate_for(scope).limit
    return Decision(allowed, count, 0 if allowed else retry_after)


def peek(scope: str, ident: str) -> Decision:
    """Whether `ident` is over the rate of `scope`, without counting an attempt."""
    count, retry_after = _count(scope, ident, amount=0)
    allowed = count < rate_for(scope).limit
    return Decision(allowed, count, 0 if allowed else retry_after)


def client_address(request: HttpRequest | Request) -> str:
    """The socket address. Never X-Forwarded-For, which a client forges freely;
    behind a proxy, limits keyed on the address become limits per proxy."""
    return str(request.META.get("REMOTE_ADDR", ""))


def _user_ident(request: HttpRequest | Request) -> str:
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"addr:{client_address(request)}"


# Sign-in lockout ---------------------------------------------------------------------

LOCKOUT_MESSAGE = (
    "Too many failed sign-in attempts for this account or from your address. "
    "Wait {minutes} minute(s) and try again, or reset your password."
)


def _username_ident(username: str) -> str:
    return username.strip().lower()[:150]


def login_lockout_check(*, username: str, address: str) -> int | None:
    """Seconds until sign-in may be tried again, or None when not locked out.

    Counts failures of the username (from any address: distributed guessing)
    and of the address (any username: password spraying). Unknown usernames are
    counted exactly like real ones, so a lockout reveals nothing about which
    accounts exist.
    """
    for scope, ident in (
        ("lockout_user", _username_ident(username)),
        ("lockout_address", address),
    ):
        decision = peek(scope, ident)
        if not decision.allowed:
            return decision.retry_after
    return None


def login_failed(*, username: str, address: str) -> None:
    """Record one failed sign-in (wrong password or unknown account)."""
    hit("lockout_user", _username_ident(username))
    hit("lockout_address", address)


def lockout_message(retry_after: int) -> str:
    return LOCKOUT_MESSAGE.format(minutes=max(1, math.ceil(retry_after / 60)))


# Page views --------------------------------------------------------------------------

TOO_MANY = "You are doing that too often. Wait {seconds} seconds and try again."


def too_many_response(
    request: HttpRequest, retry_after: int, message: str
) -> HttpResponse:
    """A 429 page (or htmx fragment) with a Retry-After header."""
    if getattr(request, "htmx", False):
        response = render(
            request, "frontend/_notice.html", {"message": message}, status=429
        )
    else:
        response = render(
            request,
            "frontend/error.html",
            {"title": "Slow down", "messages_list": [message]},
            status=429,
        )
    response["Retry-After"] = str(retry_after)
    return response


def rate_limited(
    scope: str,
    *,
    ident: Callable[[HttpRequest], str] = _user_ident,
    methods: frozenset[str] = frozenset({"POST"}),
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Decorate a page view: over the rate of `scope`, answer 429 + Retry-After."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in methods:
                decision = hit(scope, ident(request))
                if not decision.allowed:
                    return too_many_response(
                        request,
                        decision.retry_after,
                        TOO_MANY.format(seconds=decision.retry_after),
                    )
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


# API views ---------------------------------------------------------------------------


class CacheRateThrottle(BaseThrottle):
    """A DRF throttle on the same counters as the pages (same scope, same rate).

    Subclasses set `scope`, optionally `methods` and `ident()`.
    """

    scope: str = ""
    methods: frozenset[str] = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def __init__(self) -> None:
        self._retry_after: int | None = None

    def ident(self, request: Request) -> str:
        return _user_ident(request)

    def allow_request(self, request: Request, view: Any) -> bool:
        if request.method not in self.methods:
            return True
        decision = hit(self.scope, self.ident(request))
        self._retry_after = decision.retry_after or None
        return decision.allowed

    def wait(self) -> float | None:
        return self._retry_after


class PostThrottle(CacheRateThrottle):
    scope = "post"
    methods = frozenset({"POST"})


class RatingThrottle(CacheRateThrottle):
    scope = "rate"
    methods = frozenset({"POST", "PUT"})


class FollowThrottle(CacheRateThrottle):
    scope = "follow"
    methods = frozenset({"POST", "PUT"})
