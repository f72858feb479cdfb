"""The charter pages and downloads, rendered through the real URL map."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import jsonschema
import pytest
from django.test import Client

from accountability.models import LedgerEntry
from charter.models import Amendment, CharterVersion, Vote
from charter.services import (
    amendment_close_vote,
    amendment_open_deliberation,
    amendment_open_voting,
    amendment_propose,
    vote_cast,
)


def _client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def adopted_v2(board: list[Any], reweighted: dict[str, Any]) -> CharterVersion:
    alice, bob, carol = board
    amendment = amendment_propose(
        proposer=alice,
        title="Lift bridging content",
        rationale="Less hostility.",
        policy=reweighted,
    )
    amendment_open_deliberation(actor=alice, amendment=amendment)
    amendment_open_voting(actor=alice, amendment=amendment)
    for member in board:
        vote_cast(voter=member, amendment=amendment, choice="yes")
    amendment_close_vote(actor=carol, amendment=amendment)
    return CharterVersion.objects.get(number=2)


def test_charter_page_shows_every_rule_beside_its_article(
    client: Client, active_charter: Any
) -> None:
    response = client.get("/charter/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Article 2. Bridging divides" in html
    assert 'id="article-2"' in html
    section = html.split('id="article-2"')[1].split('id="article-3"')[0]
    assert "people who usually disagree both found this helpful (weight +1)" in section
    assert "At least 25% of each feed page" in section
    assert html.count('data-testid="rule"') == 17
    assert active_charter.policy_sha256 in html


def test_policy_json_is_the_hashed_bytes(client: Client, active_charter: Any) -> None:
    response = client.get("/charter/policy.json")
    assert response.status_code == 200
    assert hashlib.sha256(response.content).hexdigest() == active_charter.policy_sha256
    assert response["X-Policy-SHA256"] == active_charter.policy_sha256
    adopted = LedgerEntry.objects.get(kind="policy.activated", subject="charter:v1")
    assert (
        adopted.payload["policy_sha256"] == hashlib.sha256(response.content).hexdigest()
    )


def test_published_schema_accepts_v1_and_is_draft_2020_12(
    client: Client, active_charter: Any
) -> None:
    schema = client.get("/charter/policy.schema.json").json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(active_charter.policy)
    broken = dict(active_charter.policy, feed={"page_size": 30})
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(broken)


def test_markdown_download_matches_the_ledger_text_hash(
    client: Client, active_charter: Any
) -> None:
    response = client.get("/charter/versions/1.md")
    assert response.status_code == 200
    assert response.content.startswith(b"# The Charter of Charter Social")
    entry = LedgerEntry.objects.get(
        kind="charter.version_adopted", subject="charter:v1"
    )
    assert hashlib.sha256(response.content).hexdigest() == entry.payload["text_sha256"]
    data = client.get("/charter/versions/1.json").json()
    assert data["version"] == 1 and len(data["articles"]) == 10
    assert data["text_sha256"] == entry.payload["text_sha256"]


def test_versions_and_diff_pages(client: Client, adopted_v2: CharterVersion) -> None:
    html = client.get("/charter/versions/").content.decode()
    assert "v1" in html and "v2" in html and "Lift bridging content" in html
    diff = client.get("/charter/diff/?a=1&b=2")
    assert diff.status_code == 200
    body = diff.content.decode()
    assert "weight +1)" in body and "weight +1.5)" in body
    assert "No article changes." in body
    picker = client.get("/charter/diff/")
    assert picker.status_code == 200 and 'name="a"' in picker.content.decode()
    assert client.get("/charter/diff/?a=1&b=x").status_code == 400
    assert client.get("/charter/diff/?a=1&b=9").status_code == 404
    assert client.get("/charter/").content.decode().count("Version 2, in force") == 1


def test_each_version_page_shows_its_own_rules(
    client: Client, adopted_v2: CharterVersion
) -> None:
    # The article rows are memoised by content: same articles, other rules.
    def rows(number: int) -> str:
        html = client.get(f"/charter/versions/{number}/").content.decode()
        return html.split('<section class="article-row"', 1)[1].split("<footer")[0]

    first, second, again = rows(1), rows(2), rows(1)
    for html, weight in ((first, "weight +1)"), (second, "weight +1.5)")):
        section = html.split('id="article-2"')[1].split('id="article-3"')[0]
        assert weight in section
        assert html.count('data-testid="rule"') == 17
    assert again == first != second


def test_board_page_lists_sitting_members(client: Client, board: list[Any]) -> None:
    html = client.get("/charter/board/").content.decode()
    for member in board:
        assert f"@{member.username}" in html


def test_non_member_gets_403_on_propose_vote_and_close_pages(
    board: list[Any], make_user: Any, reweighted: dict[str, Any]
) -> None:
    citizen = _client_for(make_user("citizen"))
    assert citizen.get("/charter/amendments/new/").status_code == 403
    response = citizen.post(
        "/charter/amendments/new/",
        {"title": "t", "rationale": "r", "text": "# x", "policy": "{}"},
    )
    assert response.status_code == 403
    amendment = amendment_propose(
        proposer=board[0], title="t", rationale="r", policy=reweighted
    )
    amendment_open_deliberation(actor=board[0], amendment=amendment)
    amendment_open_voting(actor=board[0], amendment=amendment)
    url = f"/charter/amendments/{amendment.pk}"
    assert citizen.post(f"{url}/vote/", {"choice": "yes"}).status_code == 403
    assert citizen.post(f"{url}/close/").status_code == 403
    assert Client().post(f"{url}/vote/", {"choice": "yes"}).status_code == 403
    assert not Vote.objects.exists()
    # Comments are open to every signed-in citizen.
    assert citizen.post(f"{url}/comment/", {"body": "Good idea."}).status_code == 302
    assert "Good idea." in citizen.get(f"{url}/").content.decode()


def test_propose_form_shows_field_level_policy_error_and_writes_nothing(
    board: list[Any], active_charter: Any
) -> None:
    member = _client_for(board[0])
    form = member.get("/charter/amendments/new/")
    assert form.status_code == 200
    text = form.context["form"].initial["text"]
    policy = json.loads(form.context["form"].initial["policy"])
    policy["objectives"][1]["weight"] = 9
    response = member.post(
        "/charter/amendments/new/",
        {
            "title": "Too much",
            "rationale": "Test.",
            "text": text,
            "policy": json.dumps(policy),
        },
    )
    assert response.status_code == 400
    assert "objectives[1].weight: must be between -5 and 5" in response.content.decode()
    assert not Amendment.objects.exists()
    broken = member.post(
        "/charter/amendments/new/",
        {"title": "Broken", "rationale": "Test.", "text": text, "policy": "{not json"},
    )
    assert "The policy is not valid JSON" in broken.content.decode()


def test_board_member_walks_the_lifecycle_through_the_pages(
    board: list[Any], active_charter: Any
) -> None:
    alice, bob, carol = (_client_for(m) for m in board)
    form = alice.get("/charter/amendments/new/").context["form"]
    policy = json.loads(form.initial["policy"])
    policy["objectives"][0]["weight"] = 2.0
    response = alice.post(
        "/charter/amendments/new/",
        {
            "title": "Double bridging",
            "rationale": "More bridging.",
            "text": form.initial["text"],
            "policy": json.dumps(policy),
        },
    )
    assert response.status_code == 302
    amendment = Amendment.objects.get()
    url = f"/charter/amendments/{amendment.pk}"
    assert 'id="impact-preview"' in alice.get(f"{url}/").content.decode()
    alice.post(f"{url}/deliberation/")
    alice.post(f"{url}/voting/", {"days": "3"})
    for client in (alice, bob, carol):
        assert client.post(f"{url}/vote/", {"choice": "yes"}).status_code == 302
    alice.post(f"{url}/close/")
    amendment.refresh_from_db()
    assert amendment.status == "adopted"
    page = alice.get("/charter/").content.decode()
    assert "Version 2, in force" in page and "weight +2)" in page


def test_unknown_version_and_amendment_are_404(
    client: Client, active_charter: Any
) -> None:
    assert client.get("/charter/versions/7/").status_code == 404
    assert client.get("/charter/versions/7.md").status_code == 404
    assert client.get("/charter/amendments/999/").status_code == 404


def test_amendment_page_queries_do_not_grow_with_comments_and_votes(
    board: list[Any],
    make_user: Any,
    reweighted: dict[str, Any],
    django_assert_num_queries: Any,
) -> None:
    from charter.services import amendment_comment

    amendment = amendment_propose(
        proposer=board[0], title="t", rationale="r", policy=reweighted
    )
    amendment_open_deliberation(actor=board[0], amendment=amendment)
    amendment_comment(author=board[1], amendment=amendment, body="first")
    amendment_open_voting(actor=board[0], amendment=amendment)
    vote_cast(voter=board[0], amendment=amendment, choice="yes")
    viewer = _client_for(board[2])
    url = f"/charter/amendments/{amendment.pk}/"
    viewer.get(url)  # warm the session
    # Includes the impact preview's cache lookup (policy and model versions).
    with django_assert_num_queries(11) as first:
        assert viewer.get(url).status_code == 200
    for i in range(5):
        amendment_comment(author=make_user(), amendment=amendment, body=f"more {i}")
    vote_cast(voter=board[1], amendment=amendment, choice="no")
    vote_cast(voter=board[2], amendment=amendment, choice="yes")
    with django_assert_num_queries(len(first.captured_queries)):
        assert viewer.get(url).status_code == 200


def test_charter_page_query_count_is_fixed(
    client: Client, active_charter: Any, django_assert_num_queries: Any
) -> None:
    with django_assert_num_queries(3):
        assert client.get("/charter/").status_code == 200


def test_anonymous_visitor_is_sent_to_sign_in_and_cannot_post(
    client: Client, board: list[Any]
) -> None:
    response = client.get("/charter/amendments/new/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/charter/amendments/new/")
    assert client.post("/charter/amendments/new/", {"title": "t"}).status_code == 403
