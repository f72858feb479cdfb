"""Pages and API of decisions, appeals, petitions and moderation: status codes."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from accountability.casework_models import Petition, PetitionSignature
from accountability.clock import clock_advance, clock_reset
from accountability.models import LedgerEntry
from accountability.petitions import SIGN_BURST_LIMIT, petition_file, petition_sign
from feed.services import post_create, report_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _api(user: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_decision_page_is_public_and_offers_the_author_an_appeal(
    demoted: Any, author: Any, client: Client
) -> None:
    _, record = demoted
    public = client.get(f"/transparency/decisions/{record.public_id}/")
    assert public.status_code == 200
    assert b'data-replay="reproduced"' in public.content
    assert b"File appeal" not in public.content
    mine = _client(author).get(f"/transparency/decisions/{record.public_id}/")
    assert b"File appeal" in mine.content
    assert client.get("/transparency/decisions/DR-none/").status_code == 404


def test_appeal_form_files_and_redirects_then_refuses_a_second(
    demoted: Any, author: Any
) -> None:
    _, record = demoted
    client = _client(author)
    url = f"/transparency/decisions/{record.public_id}/appeal"
    response = client.post(url, {"statement": "It is satire."})
    assert response.status_code == 302
    again = client.post(url, {"statement": "again"})
    assert again.status_code == 400
    assert b"already appealed" in again.content
    page = client.get(response["Location"])
    assert b"It is satire." in page.content


def test_api_appeal_by_someone_else_is_403(demoted: Any, make_user: Any) -> None:
    _, record = demoted
    response = _api(make_user()).post(
        f"/api/transparency/decisions/{record.public_id}/appeals/",
        {"statement": "x"},
        format="json",
    )
    assert response.status_code == 403
    assert "petition" in response.json()["detail"]


def test_petition_api_bad_input_is_4xx_and_nothing_counts_twice(
    demoted: Any, make_user: Any
) -> None:
    _, record = demoted
    citizen = _api(make_user())
    missing = citizen.post(
        "/api/petitions/",
        {
            "target": "decision",
            "decision": "DR-0",
            "title": "A proper title",
            "text": "t",
        },
        format="json",
    )
    assert missing.status_code == 400
    assert "decision" in missing.json()["errors"]
    too_long = citizen.post(
        "/api/petitions/",
        {"target": "article", "article": "1", "title": "x" * 200, "text": "t"},
        format="json",
    )
    assert too_long.status_code == 400 and "title" in too_long.json()["errors"]
    created = citizen.post(
        "/api/petitions/",
        {
            "target": "decision",
            "decision": record.public_id,
            "title": "Restore the satire",
            "text": "t",
        },
        format="json",
    )
    assert created.status_code == 201
    pid = created.json()["id"]
    signer = _api(make_user())
    assert signer.post(f"/api/petitions/{pid}/signatures/").status_code == 201
    twice = signer.post(f"/api/petitions/{pid}/signatures/")
    assert twice.status_code == 400
    assert "already signed" in twice.json()["detail"]
    assert signer.post("/api/petitions/99999/signatures/").status_code == 404
    assert Petition.objects.get(pk=pid).signature_count == 2
    assert APIClient().post(f"/api/petitions/{pid}/signatures/").status_code in (
        401,
        403,
    )


def test_signature_burst_gets_429_with_a_message(
    active_charter: Any, make_user: Any
) -> None:
    ids = [
        petition_file(
            author=make_user(),
            target="article",
            article="1",
            title=f"Petition number {i}",
            text="t",
        ).pk
        for i in range(SIGN_BURST_LIMIT + 1)
    ]
    signer = make_user()
    api = _api(signer)
    codes = [api.post(f"/api/petitions/{pid}/signatures/").status_code for pid in ids]
    assert codes == [201] * SIGN_BURST_LIMIT + [429]
    last = api.post(f"/api/petitions/{ids[-1]}/signatures/")
    assert "wait" in last.json()["detail"]
    assert PetitionSignature.objects.filter(signer=signer).count() == SIGN_BURST_LIMIT
    page = _client(signer).post(f"/transparency/petitions/{ids[-1]}/sign")
    assert page.status_code == 429
    # Fixed windows: the wait is what is left of the current minute.
    assert 1 <= int(page["Retry-After"]) <= 60


def test_overdue_shows_on_list_detail_queue_and_api(
    demoted: Any, make_user: Any, client: Client
) -> None:
    _, record = demoted
    petition = petition_file(
        author=make_user(),
        target="decision",
        decision_id=record.public_id,
        title="Restore the satire",
        text="t",
    )
    # Two signatures and no days to answer: the deadline passes at once.
    Petition.objects.filter(pk=petition.pk).update(threshold=2, response_days=0)
    petition_sign(signer=make_user(), petition_id=petition.pk)
    listing = client.get("/transparency/petitions/")
    assert listing.status_code == 200
    assert b"data-overdue" in listing.content
    assert b'data-breach-count="1"' in listing.content
    detail = client.get(f"/transparency/petitions/{petition.pk}/")
    assert b"data-overdue" in detail.content
    assert b"missed" in detail.content
    queue = client.get("/transparency/board/queue/")
    assert b"data-overdue" in queue.content
    api = client.get("/api/petitions/?status=overdue").json()
    assert api["breaches"] == 1 and api["results"][0]["overdue"] is True
    assert LedgerEntry.objects.filter(kind="petition.overdue").count() == 1
    assert client.get("/api/petitions/?status=bogus").status_code == 400


def test_board_member_answers_from_the_petition_page(
    demoted: Any, make_user: Any, board_member: Any
) -> None:
    _, record = demoted
    petition = petition_file(
        author=make_user(),
        target="decision",
        decision_id=record.public_id,
        title="Restore the satire",
        text="t",
    )
    url = f"/transparency/petitions/{petition.pk}/answer"
    citizen = _client(make_user()).post(url, {"outcome": "upheld", "reasons": "r"})
    assert citizen.status_code == 403
    board = _client(board_member)
    bad = board.post(url, {"outcome": "amendment", "reasons": "r", "amendment": "77"})
    assert bad.status_code == 400 and b"no amendment" in bad.content
    ok = board.post(url, {"outcome": "overturned", "reasons": "satire"})
    assert ok.status_code == 302
    page = board.get(f"/transparency/petitions/{petition.pk}/")
    assert b"Ranking restored" in page.content


def test_moderation_queue_is_for_moderators_and_the_log_hides_reporters(
    active_charter: Any, author: Any, make_user: Any, moderator: Any, client: Client
) -> None:
    post = post_create(author=author, body="You absolute clown.")
    reporter = make_user("secretreporter")
    report = report_create(reporter=reporter, post_id=post.pk, reason="incivility")
    assert _client(author).get("/transparency/moderation/").status_code == 403
    mod = _client(moderator)
    assert b"You absolute clown." in mod.get("/transparency/moderation/").content
    url = f"/transparency/moderation/reports/{report.pk}/decide"
    missing_article = mod.post(url, {"outcome": "demote", "reasons": "insult"})
    assert missing_article.status_code == 400
    assert (
        mod.post(
            url, {"outcome": "demote", "article": "1", "reasons": "insult"}
        ).status_code
        == 302
    )
    log = client.get("/transparency/moderation/log/")
    assert b"@moderator" in log.content and b"insult" in log.content
    assert b"secretreporter" not in log.content


def test_my_decisions_lists_the_authors_records(demoted: Any, author: Any) -> None:
    _, record = demoted
    page = _client(author).get("/transparency/decisions/mine/")
    assert page.status_code == 200
    assert record.public_id.encode() in page.content


def test_post_decisions_include_renders_the_appeal_link_for_the_author(
    demoted: Any, author: Any, make_user: Any, django_assert_num_queries: Any
) -> None:
    from django.template.loader import render_to_string

    from accountability.appeals import decision_records_for_posts

    post, record = demoted
    with django_assert_num_queries(2):
        decisions = decision_records_for_posts(post_ids=[post.pk])[post.pk]
        html = render_to_string(
            "accountability/_post_decisions.html",
            {"post_decisions": decisions, "user": author},
        )
    assert "data-appeal-link" in html and "Article 1" in html
    other = render_to_string(
        "accountability/_post_decisions.html",
        {"post_decisions": decisions, "user": make_user()},
    )
    assert "data-appeal-link" not in other and record.public_id[:9] in other


def test_petitions_expire_command_logs_once(
    active_charter: Any, make_user: Any
) -> None:
    petition_file(
        author=make_user(),
        target="article",
        article="1",
        title="Old petition here",
        text="t",
    )
    out = StringIO()
    clock_advance(timedelta(days=91))
    try:
        call_command("petitions_expire", stdout=out)
        call_command("petitions_expire", stdout=out)
    finally:
        clock_reset()
    assert out.getvalue().splitlines() == [
        "1 petition(s) changed state",
        "0 petition(s) changed state",
    ]


def test_a_json_body_that_is_not_an_object_is_a_400(
    active_charter: Any, make_user: Any
) -> None:
    response = _api(make_user()).post("/api/petitions/", [1, 2], format="json")
    assert response.status_code == 400
    assert "JSON object" in response.json()["detail"]
