"""The casework clock: deadlines are judged against `clock_now()`.

Services and selectors also take `now=`; this settable offset exists for
end-to-end tests, whose server process cannot be handed a `now`. A test
advances the clock before the server is forked and resets it afterwards.
Nothing in production sets it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.utils import timezone

_offset = timedelta(0)


def clock_now() -> datetime:
    """The current time as casework sees it (real time unless a test moved it)."""
    return timezone.now() + _offset


def clock_advance(delta: timedelta) -> None:
    """Move the casework clock forward by `delta` (tests only)."""
    global _offset
    _offset += delta


def clock_reset() -> None:
    """Back to real time."""
    global _offset
    _offset = timedelta(0)
