"""Parsing of the transparency endpoints' query parameters (pages and API alike)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from django.core.exceptions import ValidationError

# Sizes and indices beyond this are nonsense for any real log and would only
# make the database compare huge numbers; refuse them with a message.
MAX_INTEGER = 2**48
INTEGER_RE = re.compile(r"-?[0-9]{1,20}")


def int_param(
    query: Mapping[str, str], name: str, *, default: int | None = None
) -> int:
    """A non-negative integer query parameter; ValidationError says what to change."""
    raw = query.get(name)
    if raw is None or raw == "":
        if default is None:
            raise ValidationError(
                {name: f"Give {name} as a whole number, e.g. ?{name}=0."}
            )
        return default
    text = raw.strip()
    if not INTEGER_RE.fullmatch(text):
        raise ValidationError({name: f"{name} must be a whole number, not {raw!r}."})
    value = int(text)
    if value < 0:
        raise ValidationError({name: f"{name} must be 0 or more, not {value}."})
    if value > MAX_INTEGER:
        raise ValidationError({name: f"{name} is far beyond the end of the log."})
    return value


def log_range(query: Mapping[str, str], size: int) -> tuple[int, int]:
    """The [start, end) of a log download; end defaults to the current size."""
    start = int_param(query, "start", default=0)
    end = int_param(query, "end", default=size)
    if start > end:
        raise ValidationError(
            {"start": f"start ({start}) must not be after end ({end})."}
        )
    return start, min(end, size)
