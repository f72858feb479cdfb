"""Public transparency pages, downloads and the REST API: 200s, 400s, schema."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accountability import selectors
from accountability.links import article_url, ledger_filter_url, subject_url
from accountability.verify import (
    checkpoint_open,
    verifier_key_parse,
    verify_consistency,
    verify_inclusion,
)

from .conftest import fetch

pytestmark = pytest.mark.django_db


def unb64(value: str) -> bytes:
    return base64.b64decode(value)


def test_index_lists_entries_with_links_and_the_verify_steps(
    client: Client, fill_ledger: Callable[[int], Any]
) -> None:
    fill_ledger(3)
    page = client.get("/transparency/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Verify it yourself" in html
    assert "python verify.py --log log.jsonl --checkpoint checkpoint --key key" in html
    assert 'href="/transparency/verify.py"' in html
    assert "charter.version:2" in html and "charter.version_adopted" in html
    # Each entry links to what it concerns and to its own page.
    assert f'href="{subject_url("charter.version:1")}"' in html
    assert 'href="/transparency/entries/0"' in html
    assert selectors.checkpoint_latest().note.splitlines()[2] in html


def test_subjects_without_a_page_link_to_the_filtered_ledger() -> None:
    assert (
        subject_url("model:bridging:v2")
        == "/transparency/?subject=model%3Abridging%3Av2"
    )
    assert subject_url("amendment:x") == ledger_filter_url(subject="amendment:x")
    assert article_url("4").endswith("#article-4") or article_url(
        "4"
    ) == ledger_filter_url(article="4")


def test_index_filters_and_paginates(
    client: Client, fill_ledger: Callable[[int], Any]
) -> None:
    fill_ledger(60)
    html = client.get("/transparency/", {"kind": "petition.opened"}).content.decode()
    assert html.count('class="ledger-entry"') == 15
    html = client.get(
        "/transparency/", {"subject": "charter.version:7"}
    ).content.decode()
    assert html.count('class="ledger-entry"') == 1
    html = client.get("/transparency/", {"q": "nothing-matches-this"}).content.decode()
    assert "No entries match." in html
    first = client.get("/transparency/").content.decode()
    assert first.count('class="ledger-entry"') == 50 and "page=2" in first
    assert 'id="entry-59"' in first and 'id="entry-10"' in first
    assert 'id="entry-9"' not in first
    second = client.get("/transparency/", {"page": "2"}).content.decode()
    assert second.count('class="ledger-entry"') == 10
    assert 'id="entry-9"' in second and 'id="entry-0"' in second
    assert client.get("/transparency/", {"page": "zzz"}).status_code == 200


def test_index_query_count_does_not_grow_with_the_page(
    client: Client,
    fill_ledger: Callable[[int], Any],
    django_assert_max_num_queries: Any,
) -> None:
    fill_ledger(60)
    with django_assert_max_num_queries(4):
        client.get("/transparency/")


def test_entry_page_shows_the_hashed_bytes_and_its_proof(
    client: Client, fill_ledger: Callable[[int], Any]
) -> None:
    entries = fill_ledger(5)
    html = client.get("/transparency/entries/3").content.decode()
    assert bytes(entries[3].leaf_hash).hex() in html
    assert "index=3&amp;size=5" in html
    assert client.get("/transparency/entries/5").status_code == 404


def test_log_download_streams_exactly_the_hashed_bytes(
    client: Client, fill_ledger: Callable[[int], Any]
) -> None:
    entries = fill_ledger(6)
    response = client.get("/transparency/log.jsonl")
    assert response.streaming
    assert response["Content-Type"].startswith("application/jsonl")
    body = fetch(client, "/transparency/log.jsonl")
    assert body == b"".join(e.body.encode() + b"\n" for e in entries)
    part = fetch(client, "/transparency/log.jsonl?start=2&end=4").splitlines()
    assert [json.loads(line)["index"] for line in part] == [2, 3]
    beyond = fetch(client, "/transparency/log.jsonl?start=4&end=100").splitlines()
    assert [json.loads(line)["index"] for line in beyond] == [4, 5]


def test_checkpoint_and_key_verify_together(
    client: Client, fill_ledger: Callable[[int], Any]
) -> None:
    fill_ledger(4)
    key = verifier_key_parse(fetch(client, "/transparency/key").decode())
    checkpoint = checkpoint_open(
        fetch(client, "/transparency/checkpoint").decode(), key
    )
    assert (checkpoint.size, checkpoint.root) == (4, selectors.tree_root(size=4))
    older = checkpoint_open(
        fetch(client, "/transparency/checkpoint?size=2").decode(), key
    )
    assert (older.size, older.root) == (2, selectors.tree_root(size=2))


def test_proof_endpoints_serve_verifiable_proofs(
    client: Client, fill_ledger: Callable[[int], Any]
) -> None:
    fill_ledger(11)
    proof = client.get("/transparency/proof/inclusion", {"index": 6, "size": 9}).json()
    verify_inclusion(
        index=6,
        size=9,
        leaf=unb64(proof["leaf_hash"]),
        proof=[unb64(h) for h in proof["hashes"]],
        root=unb64(proof["root"]),
    )
    latest = client.get("/transparency/proof/inclusion", {"index": 0}).json()
    assert latest["size"] == 11
    consistency = client.get(
        "/transparency/proof/consistency", {"first": 3, "second": 11}
    ).json()
    verify_consistency(
        first=3,
        second=11,
        first_root=unb64(consistency["first_root"]),
        second_root=unb64(consistency["second_root"]),
        proof=[unb64(h) for h in consistency["hashes"]],
    )


@pytest.mark.parametrize(
    ("url", "params", "message"),
    [
        ("/transparency/proof/inclusion", {}, "Give index"),
        ("/transparency/proof/inclusion", {"index": "-1"}, "0 or more"),
        ("/transparency/proof/inclusion", {"index": "abc"}, "whole number"),
        ("/transparency/proof/inclusion", {"index": "1.5"}, "whole number"),
        ("/transparency/proof/inclusion", {"index": "²"}, "whole number"),
        (
            "/transparency/proof/inclusion",
            {"index": "5", "size": "5"},
            "between 0 and 4",
        ),
        (
            "/transparency/proof/inclusion",
            {"index": "0", "size": "6"},
            "only 5 entries",
        ),
        ("/transparency/proof/inclusion", {"index": "0", "size": "0"}, "at least 1"),
        ("/transparency/proof/inclusion", {"index": "9" * 30}, "whole number"),
        ("/transparency/proof/inclusion", {"index": str(2**60)}, "beyond the end"),
        ("/transparency/proof/consistency", {}, "Give first"),
        (
            "/transparency/proof/consistency",
            {"first": "4", "second": "2"},
            "must not be larger",
        ),
        (
            "/transparency/proof/consistency",
            {"first": "-2", "second": "2"},
            "0 or more",
        ),
        (
            "/transparency/proof/consistency",
            {"first": "1", "second": "6"},
            "only 5 entries",
        ),
        ("/transparency/log.jsonl", {"start": "x"}, "whole number"),
        ("/transparency/log.jsonl", {"start": "4", "end": "2"}, "must not be after"),
        ("/transparency/checkpoint", {"size": "6"}, "only 5 entries"),
        ("/transparency/checkpoint", {"size": "-1"}, "0 or more"),
    ],
)
def test_malformed_requests_get_400_with_a_message(
    client: Client,
    fill_ledger: Callable[[int], Any],
    url: str,
    params: dict[str, str],
    message: str,
) -> None:
    fill_ledger(5)
    for prefix in ("", "/api"):
        response = client.get(prefix + url, params)
        assert response.status_code == 400, (prefix + url, params)
        assert message in response.json()["detail"]


def test_api_mirrors_the_public_endpoints(fill_ledger: Callable[[int], Any]) -> None:
    entries = fill_ledger(7)
    api = APIClient()
    listing = api.get("/api/transparency/entries", {"kind": "policy.activated"}).json()
    assert listing["count"] == 2
    assert [e["index"] for e in listing["results"]] == [5, 1]
    one = api.get("/api/transparency/entries/5").json()
    assert one["leaf_hash"] == base64.b64encode(bytes(entries[5].leaf_hash)).decode()
    everything = api.get(
        "/api/transparency/entries", {"page": 2, "page_size": 3}
    ).json()
    assert everything["count"] == 7
    assert [e["index"] for e in everything["results"]] == [3, 2, 1]
    missing = api.get("/api/transparency/entries/70")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "The log has no entry 70."
    checkpoint = api.get("/api/transparency/checkpoint").json()
    key = api.get("/api/transparency/key").json()
    opened = checkpoint_open(
        checkpoint["note"], verifier_key_parse(key["verifier_key"])
    )
    assert opened.size == checkpoint["size"] == 7
    assert key["algorithm"] == "Ed25519" and len(unb64(key["public_key"])) == 32
    log = fetch(api, "/api/transparency/log.jsonl?start=6")
    assert log == entries[6].body.encode() + b"\n"
    proof = api.get("/api/transparency/proof/inclusion", {"index": 2}).json()
    assert proof["root"] == checkpoint["root"]
    consistency = api.get("/api/transparency/proof/consistency", {"first": 2}).json()
    assert consistency["second_root"] == checkpoint["root"]


def test_openapi_schema_documents_the_transparency_api(client: Client) -> None:
    schema = client.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    for path in (
        "/api/transparency/entries",
        "/api/transparency/entries/{index}",
        "/api/transparency/log.jsonl",
        "/api/transparency/checkpoint",
        "/api/transparency/key",
        "/api/transparency/proof/inclusion",
        "/api/transparency/proof/consistency",
    ):
        assert path in paths, path
    inclusion = paths["/api/transparency/proof/inclusion"]["get"]
    assert {p["name"] for p in inclusion["parameters"]} >= {"index", "size"}
    assert "400" in inclusion["responses"]


def test_empty_log_pages_work(client: Client) -> None:
    assert client.get("/transparency/").status_code == 200
    assert fetch(client, "/transparency/log.jsonl") == b""
    assert fetch(client, "/transparency/checkpoint").split(b"\n")[1] == b"0"
    assert (
        client.get("/transparency/proof/consistency", {"first": 0}).status_code == 200
    )
    assert client.get("/transparency/proof/inclusion", {"index": 0}).status_code == 400
