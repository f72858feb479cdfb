"""Fixtures shared by the ranking tests: the feed world and fresh caches."""

from tests.ranking.world import _fresh_cache, world  # noqa: F401
