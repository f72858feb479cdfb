"""Transparency reports: exposure sums, daily aggregates, charts and downloads."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accountability.casework_models import FeedExposureAuthorDay, FeedExposureDay
from accountability.reports import (
    feed_served_record,
    gini,
    report_daily,
    report_range,
    research_export,
)

pytestmark = pytest.mark.django_db


def _page(*authors: int, incivility: float = 0.2, cross: bool = False) -> list[dict]:
    return [
        {
            "post_id": 100 + i,
            "author_id": a,
            "incivility": incivility,
            "cross_cutting": cross,
            "bridging": 0.5,
        }
        for i, a in enumerate(authors)
    ]


def test_served_pages_add_up_without_storing_the_viewer(
    django_assert_num_queries: Any,
) -> None:
    with django_assert_num_queries(2):
        feed_served_record(viewer_id=7, items=_page(1, 1, 2, incivility=0.4))
    feed_served_record(viewer_id=8, items=_page(2, 3, incivility=0.1, cross=True))
    day = FeedExposureDay.objects.get()
    assert (day.pages, day.items) == (2, 5)
    assert day.incivility_sum == pytest.approx(1.4)
    assert (day.cross_cutting_yes, day.cross_cutting_n) == (2, 5)
    counts = dict(FeedExposureAuthorDay.objects.values_list("author_id", "items"))
    assert counts == {1: 2, 2: 2, 3: 1}
    field_names = {f.name for f in FeedExposureDay._meta.fields}
    assert not any("viewer" in name or "user" in name for name in field_names)


def test_empty_page_and_non_numeric_values_are_ignored() -> None:
    feed_served_record(viewer_id=1, items=[])
    assert not FeedExposureDay.objects.exists()
    feed_served_record(
        viewer_id=1, items=[{"author_id": 1, "incivility": "high", "bridging": None}]
    )
    day = FeedExposureDay.objects.get()
    assert (day.items, day.incivility_n, day.bridging_n) == (1, 0, 0)


def test_gini() -> None:
    assert gini([5, 5, 5]) == pytest.approx(0.0)
    assert gini([0, 0, 10]) == pytest.approx(2 / 3)
    assert gini([]) is None


def test_daily_rows_count_demotions_appeals_and_no_exposure_is_none(
    demoted: Any, author: Any
) -> None:
    from accountability.appeals import appeal_file

    _, record = demoted
    appeal_file(appellant=author, public_id=record.public_id, statement="x")
    first, last = report_range(days=3)
    rows = report_daily(first=first, last=last)
    assert len(rows) == 3
    today = rows[-1]
    assert today["day"] == timezone.now().date().isoformat()
    assert today["demotions"] == 1
    assert today["demotions_by_article"] == {"1": 1}
    assert today["appeals_filed"] == 1
    assert today["incivility_exposure"] is None
    feed_served_record(viewer_id=1, items=_page(1, 2, incivility=0.3))
    today = report_daily(first=last, last=last)[0]
    assert today["incivility_exposure"] == pytest.approx(0.3)
    assert today["author_gini"] == pytest.approx(0.0)


def test_report_range_clamps_bad_input() -> None:
    first, last = report_range(days="nonsense")
    assert (last - first).days == 29
    first, last = report_range(days="100000")
    assert (last - first).days == 365


def test_pages_downloads_and_charts(active_charter: Any, client: Client) -> None:
    page = client.get("/transparency/reports/")
    assert page.status_code == 200
    assert b"data-no-exposure" in page.content
    feed_served_record(viewer_id=1, items=_page(1, 2))
    assert b"data-no-exposure" not in client.get("/transparency/reports/").content
    rows = list(
        csv.DictReader(
            io.StringIO(
                client.get("/transparency/reports/daily.csv?days=2").content.decode()
            )
        )
    )
    assert len(rows) == 2 and rows[-1]["items_served"] == "2"
    assert (
        client.get("/transparency/reports/daily.json").json()["totals"]["items_served"]
        == 2
    )
    svg = client.get("/transparency/reports/chart/incivility_exposure.svg")
    assert svg["Content-Type"] == "image/svg+xml"
    assert svg.content.lstrip().startswith(b"<?xml")
    assert client.get("/transparency/reports/chart/nope.svg").status_code == 404
    assert client.get("/api/transparency/reports/daily/?days=1").status_code == 200


def test_research_export_is_aggregates_only(demoted: Any, make_user: Any) -> None:
    _, record = demoted
    viewer = make_user("zq-viewer-name")
    feed_served_record(viewer_id=viewer.pk, items=_page(record.post.author_id, 999))
    first, last = report_range(days=1)
    dumped = json.dumps(research_export(first=first, last=last))
    assert record.public_id not in dumped
    assert viewer.username not in dumped
    assert '"author_id"' not in dumped and '"post_id"' not in dumped
    assert json.loads(dumped)["days"][0]["items_served"] == 2
