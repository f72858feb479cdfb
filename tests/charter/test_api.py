"""The charter REST API: the same data as the pages, and the board's actions."""

from __future__ import annotations

import copy
from typing import Any

from rest_framework.test import APIClient

from accountability.models import LedgerEntry
from charter.models import Amendment, Vote


def _api(user: Any | None = None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def test_active_charter_is_its_serialised_version_in_one_query(
    active_charter: Any, django_assert_num_queries: Any
) -> None:
    from charter.selectors import charter_version_get
    from charter.serializers import CharterVersionSerializer

    client = _api()
    first = client.get("/api/charter/").json()
    # Rendered once per process: later requests only ask which version is in
    # force (its number, adoption time and policy hash).
    with django_assert_num_queries(1):
        again = client.get("/api/charter/")
    assert again.status_code == 200
    version = charter_version_get(number=active_charter.number)
    expected = CharterVersionSerializer(version).data
    assert first == again.json() == _api().get("/api/charter/versions/1/").json()
    assert first["text_sha256"] == expected["text_sha256"]
    assert first["articles"] == [dict(a) for a in expected["articles"]]


def test_active_charter_policy_and_schema(active_charter: Any) -> None:
    client = _api()
    data = client.get("/api/charter/").json()
    assert data["number"] == 1 and len(data["articles"]) == 10
    article_2 = next(a for a in data["articles"] if a["number"] == "2")
    assert any("people who usually disagree" in rule for rule in article_2["rules"])
    policy = client.get("/api/charter/policy/").json()
    assert (
        policy["version"] == 1
        and policy["policy_sha256"] == active_charter.policy_sha256
    )
    assert policy["policy"]["feed"] == {
        "page_size": 30,
        "daily_limit": 300,
        "caught_up_marker": True,
    }
    assert client.get("/api/charter/policy/schema/").json()["title"]
    assert [v["number"] for v in client.get("/api/charter/versions/").json()] == [1]
    assert (
        client.get("/api/charter/versions/1/").json()["policy"] == active_charter.policy
    )
    assert client.get("/api/charter/versions/5/").status_code == 404


def test_lifecycle_through_the_api(
    board: list[Any], reweighted: dict[str, Any]
) -> None:
    alice, bob, carol = (_api(m) for m in board)
    created = alice.post(
        "/api/charter/amendments/",
        {
            "title": "Lift bridging",
            "rationale": "Less hostility.",
            "policy": reweighted,
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    amendment_id = created.json()["id"]
    base = f"/api/charter/amendments/{amendment_id}"
    assert alice.post(f"{base}/deliberation/").json()["status"] == "deliberation"
    comment = _api(board[2]).post(f"{base}/comments/", {"body": "Yes."}, format="json")
    assert comment.status_code == 201
    assert alice.post(f"{base}/voting/", {}, format="json").json()["status"] == "voting"
    for client in (alice, bob, carol):
        assert (
            client.post(f"{base}/vote/", {"choice": "yes"}, format="json").status_code
            == 200
        )
    assert (
        bob.post(f"{base}/vote/", {"choice": "no"}, format="json").json()["choice"]
        == "no"
    )
    closed = carol.post(f"{base}/close/").json()
    assert closed["status"] == "adopted" and closed["adopted_version"] == 2
    assert (closed["yes_count"], closed["no_count"]) == (2, 1)
    diff = _api().get("/api/charter/diff/?a=1&b=2").json()
    assert diff["rules_added"] and not [
        a for a in diff["articles"] if a["status"] != "unchanged"
    ]
    assert _api().get("/api/charter/").json()["number"] == 2


def test_invalid_policy_is_400_with_the_json_path(
    board: list[Any], reweighted: dict[str, Any]
) -> None:
    bad = copy.deepcopy(reweighted)
    bad["objectives"].append(
        {"signal": "predicted_engagement", "weight": 0.5, "article": "4"}
    )
    bad["constraints"][0]["article"] = "42"
    before = LedgerEntry.objects.count()
    response = _api(board[0]).post(
        "/api/charter/amendments/",
        {"title": "Sneak engagement in", "rationale": "Growth.", "policy": bad},
        format="json",
    )
    assert response.status_code == 400
    messages = response.json()["errors"]["policy"]
    assert any(
        m.startswith("objectives[6].weight: 'predicted_engagement' is a forbidden")
        for m in messages
    )
    assert any(
        m.startswith("constraints[0].article: cites article 42") for m in messages
    )
    assert not Amendment.objects.exists()
    assert LedgerEntry.objects.count() == before


def test_non_member_gets_403_and_anonymous_cannot_write(
    board: list[Any], make_user: Any, reweighted: dict[str, Any]
) -> None:
    citizen = _api(make_user("citizen"))
    response = citizen.post(
        "/api/charter/amendments/",
        {"title": "t", "rationale": "r", "policy": reweighted},
        format="json",
    )
    assert response.status_code == 403
    assert "board" in response.json()["detail"]
    amendment_id = (
        _api(board[0])
        .post(
            "/api/charter/amendments/",
            {"title": "t", "rationale": "r", "policy": reweighted},
            format="json",
        )
        .json()["id"]
    )
    base = f"/api/charter/amendments/{amendment_id}"
    _api(board[0]).post(f"{base}/deliberation/")
    _api(board[0]).post(f"{base}/voting/", {}, format="json")
    assert (
        citizen.post(f"{base}/vote/", {"choice": "yes"}, format="json").status_code
        == 403
    )
    assert citizen.post(f"{base}/close/").status_code == 403
    assert _api().post(
        f"{base}/vote/", {"choice": "yes"}, format="json"
    ).status_code in {401, 403}
    assert not Vote.objects.exists()
    assert (
        _api(board[0])
        .post(f"{base}/vote/", {"choice": "maybe"}, format="json")
        .status_code
        == 400
    )


def test_wrong_stage_is_a_400_saying_what_to_do(
    board: list[Any], reweighted: dict[str, Any]
) -> None:
    alice = _api(board[0])
    amendment_id = alice.post(
        "/api/charter/amendments/",
        {"title": "t", "rationale": "r", "policy": reweighted},
        format="json",
    ).json()["id"]
    response = alice.post(
        f"/api/charter/amendments/{amendment_id}/vote/",
        {"choice": "yes"},
        format="json",
    )
    assert response.status_code == 400
    assert "only while the amendment is voting" in response.json()["detail"]


def test_board_api_lists_terms(board: list[Any]) -> None:
    terms = _api().get("/api/charter/board/").json()
    assert {t["username"] for t in terms} == {m.username for m in board}
    assert all(t["sitting"] for t in terms)
