# ruff: noqa: F811  (pytest fixtures imported from test_feed are parameters here)
"""The ranking API: feed with reasons, preferences, feedback, registry, models."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from feed import selectors as feed_selectors
from ranking.models import FeedPreference, ItemFeedback
from ranking.registry import SIGNALS
from tests.ranking.world import World


@pytest.fixture
def client_for(world: World) -> APIClient:
    client = APIClient()
    client.force_authenticate(world.viewer)
    return client


@pytest.mark.django_db
def test_feed_needs_sign_in(api_client: APIClient) -> None:
    response = api_client.get("/api/feed/")
    assert response.status_code == 401


@pytest.mark.django_db
def test_ranked_feed_has_reasons_versions_and_pages(
    world: World,
    client_for: APIClient,
) -> None:
    first = client_for.get("/api/feed/").json()
    assert first["mode"] == "ranked"
    assert first["policy_version"] == 1
    assert first["model_versions"] == {"consensus": 1}
    assert len(first["results"]) == 30 and first["caught_up"] is False
    item = next(
        r for r in first["results"] if r["post"]["id"] == world.posts["bridge"].id
    )
    reasons = item["explanation"]["reasons"]
    assert {
        "signal": "bridging",
        "text": "people who usually disagree both found this helpful",
        "article": "2",
        "kind": "signal",
    } in reasons
    assert item["explanation"]["policy_version"] == 1
    second = client_for.get("/api/feed/", {"cursor": first["next"]}).json()
    assert second["caught_up"] is True and second["next"] is None
    ids = [r["post"]["id"] for r in first["results"] + second["results"]]
    assert len(ids) == len(set(ids)) == 51


@pytest.mark.django_db
def test_feed_explanations_are_what_the_schema_serializer_writes(
    world: World, client_for: APIClient, django_assert_max_num_queries: Any
) -> None:
    from ranking import feed as ranked
    from ranking.api import ExplanationSerializer

    page = ranked.feed_for(viewer=world.viewer)
    served = client_for.get("/api/feed/").json()["results"]
    assert served
    for item in served:
        ex = page.explanations[item["post"]["id"]]
        assert item["explanation"] == ExplanationSerializer(ex).data
    # The page's queries do not grow with its items (no per-item lookups).
    with django_assert_max_num_queries(13):
        client_for.get("/api/feed/", {"cursor": page.next_cursor})


@pytest.mark.django_db
def test_bad_cursor_and_mode_are_400(client_for: APIClient) -> None:
    response = client_for.get("/api/feed/", {"cursor": "garbage"})
    assert response.status_code == 400
    assert "first page" in response.json()["detail"]
    response = client_for.get("/api/feed/", {"mode": "engagement"})
    assert response.status_code == 400
    assert "ranked" in response.json()["detail"]


@pytest.mark.django_db
def test_chronological_mode_matches_the_timeline(
    world: World, client_for: APIClient
) -> None:
    body = client_for.get("/api/feed/", {"mode": "chronological"}).json()
    expected = [p.id for p in feed_selectors.timeline_home(viewer=world.viewer).items]
    assert [r["post"]["id"] for r in body["results"]] == expected
    assert all(r["explanation"] is None for r in body["results"])


@pytest.mark.django_db
def test_preferences_get_put_and_refusals(world: World, client_for: APIClient) -> None:
    assert client_for.get("/api/feed/preferences/").json() == {
        "mode": "ranked",
        "multipliers": {},
    }
    ok = client_for.put(
        "/api/feed/preferences/",
        {"mode": "tuned", "multipliers": {"bridging": 2.0, "recency": 0.5}},
        format="json",
    )
    assert ok.status_code == 200
    assert ok.json()["multipliers"] == {"bridging": 2.0, "recency": 0.5}
    assert client_for.get("/api/feed/").json()["mode"] == "tuned"
    for bad in (
        {"multipliers": {"bridging": 5}},
        {"multipliers": {"incivility": 1}},
        {"multipliers": {"bridging": "lots"}},
        {"multipliers": [1, 2]},
        {"mode": "engagement"},
        {"colour": "blue"},
        {},
    ):
        response = client_for.put("/api/feed/preferences/", bad, format="json")
        assert response.status_code == 400, bad
        assert response.json()["detail"]
    pref = FeedPreference.objects.get(user=world.viewer)
    assert pref.mode == "tuned" and pref.multipliers == {
        "bridging": 2.0,
        "recency": 0.5,
    }


@pytest.mark.django_db
def test_feedback_put_and_delete(world: World, client_for: APIClient) -> None:
    post_id = world.posts["f2_0"].id
    url = f"/api/posts/{post_id}/feedback/"
    assert client_for.put(url, {"more": False}, format="json").json() == {
        "post_id": post_id,
        "more": False,
    }
    assert client_for.put(url, {"more": True}, format="json").status_code == 200
    assert ItemFeedback.objects.get(user=world.viewer, post_id=post_id).more is True
    assert client_for.put(url, {"more": "perhaps"}, format="json").status_code == 400
    assert (
        client_for.put(
            "/api/posts/999999/feedback/", {"more": True}, format="json"
        ).status_code
        == 404
    )
    assert client_for.delete(url).status_code == 204
    assert not ItemFeedback.objects.filter(user=world.viewer).exists()


@pytest.mark.django_db
def test_signals_and_models_are_public(world: World, api_client: APIClient) -> None:
    signals = api_client.get("/api/ranking/signals/").json()
    assert sorted(s["name"] for s in signals) == sorted(SIGNALS)
    models = api_client.get("/api/ranking/models/").json()
    assert [m["name"] for m in models] == ["consensus"]
    assert len(models[0]["blob_sha256"]) == 64 and models[0]["version"] == 1


@pytest.mark.django_db
def test_ranked_home_page_queries_do_not_grow_with_its_items(world: World) -> None:
    """Authors and replied-to posts are read with the page's posts; showing
    more items (replies among them) must not read anything per item."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from feed.services import post_create

    browser = Client()
    browser.force_login(world.viewer)

    def queries() -> int:
        browser.get("/")  # ranks and keeps the session
        with CaptureQueriesContext(connection) as ctx:
            response = browser.get("/")
        assert response.status_code == 200
        return len(ctx)

    # Session, user, feed context, session check, posts with their authors and
    # replied-to posts, exposure (2), reactions, feedback, unread badge.
    assert queries() == 10
    for n in range(3):
        post_create(
            author=world.friends[n],
            body=f"A reply {n}",
            parent_id=world.posts[f"f{n}_1"].id,
        )
    assert queries() == 10
