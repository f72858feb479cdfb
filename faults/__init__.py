"""Fault injection helpers: a private redis-server, a cuttable TCP proxy in
front of PostgreSQL, a forked Daphne with overridden settings, and a load loop.

They never touch the shared services: the Redis here is a separate
redis-server on its own port, and PostgreSQL is only ever "cut" by closing a
proxy this process owns.
"""
