# ruff: noqa: F811  (pytest fixtures imported from test_feed are parameters here)
"""Feed choices on the home page (no JS) and the preference/feedback services."""

from __future__ import annotations

import pytest
from django.test import Client

from feed.models import Follow
from ranking.models import FeedPreference, ItemFeedback
from ranking.preferences import (
    feed_preference_get,
    feed_preference_set,
    item_feedback_clear,
    item_feedback_set,
    multipliers_clamp,
)
from tests.ranking.world import World


@pytest.fixture
def browser(world: World) -> Client:
    client = Client()
    client.force_login(world.viewer)
    return client


@pytest.mark.django_db
def test_default_is_ranked_and_unsaved(world: World) -> None:
    pref = feed_preference_get(user=world.viewer)
    assert pref.mode == "ranked" and pref.multipliers == {}
    assert not FeedPreference.objects.exists()


@pytest.mark.django_db
def test_set_keeps_omitted_fields(world: World) -> None:
    feed_preference_set(user=world.viewer, mode="tuned", multipliers={"bridging": 1.5})
    feed_preference_set(user=world.viewer, mode="chronological")
    pref = FeedPreference.objects.get(user=world.viewer)
    assert pref.mode == "chronological" and pref.multipliers == {"bridging": 1.5}


def test_clamp_drops_untunable_signals() -> None:
    policy = {"user_controls": [{"signal": "bridging", "min": 0.5, "max": 2.0}]}
    assert multipliers_clamp({"bridging": 9, "incivility": 3}, policy) == {
        "bridging": 2.0
    }


@pytest.mark.django_db
def test_feedback_is_unique_per_user_and_post(world: World) -> None:
    post_id = world.posts["f1_1"].id
    item_feedback_set(user=world.viewer, post_id=post_id, more=True)
    item_feedback_set(user=world.viewer, post_id=post_id, more=False)
    assert ItemFeedback.objects.filter(user=world.viewer).count() == 1
    assert ItemFeedback.objects.get(user=world.viewer).more is False
    assert item_feedback_clear(user=world.viewer, post_id=post_id) is True
    assert item_feedback_clear(user=world.viewer, post_id=post_id) is False


@pytest.mark.django_db
def test_home_page_shows_controls_and_explanations(
    world: World, browser: Client
) -> None:
    html = browser.get("/").content.decode()
    assert 'id="feed-mode-form"' in html
    assert 'id="mode-ranked" checked' in html
    assert "<summary>Why am I seeing this?</summary>" in html
    assert "People who usually disagree both found this helpful" in html
    assert "Article 2" in html
    assert "Ranked under charter policy version 1" in html
    assert "Show less like this" in html


@pytest.mark.django_db
def test_switching_mode_without_javascript(world: World, browser: Client) -> None:
    response = browser.post(
        "/ranking/feed/preferences/", {"mode": "chronological", "next": "/"}
    )
    assert response.status_code == 302 and response["Location"] == "/"
    html = browser.get("/").content.decode()
    assert 'id="mode-chronological" checked' in html
    assert "Why am I seeing this?" not in html
    assert "No profiling" in html


@pytest.mark.django_db
def test_tuned_sliders_and_a_bad_value(world: World, browser: Client) -> None:
    browser.post(
        "/ranking/feed/preferences/",
        {"mode": "tuned", "m_bridging": "2.0", "m_recency": "0.5"},
    )
    pref = FeedPreference.objects.get(user=world.viewer)
    assert pref.mode == "tuned"
    assert pref.multipliers["bridging"] == 2.0
    response = browser.post(
        "/ranking/feed/preferences/", {"mode": "tuned", "m_bridging": "7"}, follow=True
    )
    assert "from 0.5 to 2" in response.content.decode()
    assert FeedPreference.objects.get(user=world.viewer).multipliers["bridging"] == 2.0


@pytest.mark.django_db
def test_feedback_form_sets_and_clears(world: World, browser: Client) -> None:
    post_id = world.posts["f3_2"].id
    browser.post(f"/ranking/posts/{post_id}/feedback/", {"more": "0"})
    assert ItemFeedback.objects.get(user=world.viewer, post_id=post_id).more is False
    browser.post(f"/ranking/posts/{post_id}/feedback/", {"more": "clear"})
    assert not ItemFeedback.objects.exists()
    response = browser.post(f"/ranking/posts/{post_id}/feedback/", {"more": "x"})
    assert response.status_code == 302
    assert Follow.objects.filter(follower=world.viewer).count() == 8


@pytest.mark.django_db
def test_controls_need_sign_in(world: World) -> None:
    response = Client().post("/ranking/feed/preferences/", {"mode": "ranked"})
    assert response.status_code == 302 and "/login" in response["Location"]


@pytest.mark.django_db
def test_load_more_pages_the_ranked_feed_and_a_broken_link_is_400(
    world: World, browser: Client
) -> None:
    import re

    html = browser.get("/").content.decode()
    match = re.search(r'href="\?cursor=([^"]+)"', html)
    assert match, "the first ranked page links to the next"
    first_ids = set(re.findall(r'data-post-id="(\d+)"', html))
    partial = browser.get(f"/?cursor={match.group(1)}&partial=1").content.decode()
    assert "<html" not in partial
    more_ids = set(re.findall(r'data-post-id="(\d+)"', partial))
    assert len(more_ids) == 21 and not first_ids & more_ids
    assert browser.get("/?cursor=forged").status_code == 400
