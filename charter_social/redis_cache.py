"""One Redis connection pool per process for Django's cache.

Django keeps cache backends per async context, so under ASGI every request
gets a fresh RedisCache whose client builds a fresh redis-py ConnectionPool:
the request's first cache call (the ranked feed's served-today set, a rate
limit) then opened and handshook a new TCP connection. Profiled under
`make load` that was ~10 % of a Daphne process's samples. Sharing one pool
per (URL, options) keeps the connections open across requests; redis-py's
pool is thread-safe and resets itself in a forked child (it checks the pid).
"""

from __future__ import annotations

from threading import Lock
from typing import Any

from redis import ConnectionPool

_pools: dict[tuple[str, str], ConnectionPool] = {}
_lock = Lock()


class SharedConnectionPool(ConnectionPool):
    """`CACHES[...]["OPTIONS"]["pool_class"]`: `from_url` returns the process's
    pool for that URL and those options, creating it once."""

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> ConnectionPool:  # type: ignore[override]
        # Requests run in threads of their own under ASGI, each holding a
        # connection only for one command; per-request pools were unbounded.
        kwargs.setdefault("max_connections", 1000)
        key = (url, repr(sorted(kwargs.items(), key=lambda item: item[0])))
        with _lock:
            pool = _pools.get(key)
            if pool is None:
                pool = _pools[key] = ConnectionPool.from_url(url, **kwargs)
            return pool
