"""Fixtures for the ledger tests: filling the log and downloading it like an auditor."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from django.http import StreamingHttpResponse
from django.test import Client

from accountability.models import LedgerEntry
from accountability.services import ledger_append


@pytest.fixture
def fill_ledger(db: Any) -> Callable[[int], list[LedgerEntry]]:
    """Append n entries of assorted kinds; returns them in index order."""
    kinds = [
        "charter.version_adopted",
        "policy.activated",
        "petition.opened",
        "ranking.override",
    ]

    def _fill(n: int) -> list[LedgerEntry]:
        return [
            ledger_append(
                kind=kinds[i % len(kinds)],
                actor="system" if i % 2 else f"user:{i}",
                subject=f"charter.version:{i}",
                payload={"n": i, "sha256": f"{i:064x}", "note": "café ✓"},
                article=str(1 + i % 5) if i % 3 else None,
            )
            for i in range(n)
        ]

    return _fill


@dataclass
class Download:
    directory: Path
    log: Path
    checkpoint: Path
    key: Path

    def write(self, name: str, data: bytes | str) -> Path:
        path = self.directory / name
        path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
        return path


def fetch(client: Client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    if response.streaming:
        streamed = cast(StreamingHttpResponse, response)
        return b"".join(cast(Iterable[bytes], streamed.streaming_content))
    return response.content


@pytest.fixture
def download(tmp_path: Path, client: Client) -> Callable[[], Download]:
    """Download log, checkpoint and key from the public endpoints into tmp_path."""

    def _download() -> Download:
        log = tmp_path / "log.jsonl"
        log.write_bytes(fetch(client, "/transparency/log.jsonl"))
        checkpoint = tmp_path / "checkpoint"
        checkpoint.write_bytes(fetch(client, "/transparency/checkpoint"))
        key = tmp_path / "key"
        key.write_bytes(fetch(client, "/transparency/key"))
        return Download(tmp_path, log, checkpoint, key)

    return _download


# Fixtures of the casework tests (decisions, appeals, petitions, moderation).
from tests.accountability.casework import (  # noqa: E402, F401
    author,
    board_member,
    demoted,
    fresh_cache,
    make_record,
    moderator,
)
