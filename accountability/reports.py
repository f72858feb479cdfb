"""Transparency reports: daily aggregates of what feeds served and how the board did.

Exposure figures come from `feed_served_record`, which the ranked feed calls
for every page it serves. It stores sums per day and item counts per author
per day — never who viewed what — so the report and the research export can
be published whole. Everything else (demotions, appeals, petitions,
amendments) is counted from the records themselves.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from django.db import connection
from django.db.models import Count, F, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from charter_social.pg import int_array

from .casework_models import (
    Appeal,
    DecisionRecord,
    FeedExposureAuthorDay,
    FeedExposureDay,
    Petition,
)

DEFAULT_DAYS = 30
MAX_DAYS = 366


def _upsert_sql(table: str, keys: list[str], sums: list[str], rows: int) -> str:
    cols = keys + sums
    one = "(" + ", ".join(["%s"] * len(cols)) + ")"
    updates = ", ".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in sums)
    return (
        f"INSERT INTO {table} ({', '.join(cols)}) VALUES "
        + ", ".join([one] * rows)
        + f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
    )


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if np.isfinite(value) else None


def feed_served_statements(
    *, items: list[Mapping[str, Any]], now: datetime | None = None
) -> list[tuple[str, list[Any]]]:
    """The upserts that add one served feed page to today's exposure sums, as
    (sql, params): none for an empty page, else one per table.

    `items` are dicts with `author_id` and, when known, `incivility` (0..1),
    `cross_cutting` (truthy when from outside the viewer's circle) and
    `bridging`. Concurrent pages add up exactly (INSERT ... ON CONFLICT DO
    UPDATE). Nothing about the viewer is stored: the aggregates must hold no
    personal data.
    """
    if not items:
        return []
    day = (now or timezone.now()).date()
    inc = [v for v in (_number(i.get("incivility")) for i in items) if v is not None]
    bri = [v for v in (_number(i.get("bridging")) for i in items) if v is not None]
    cross = [i["cross_cutting"] for i in items if i.get("cross_cutting") is not None]
    per_author: dict[int, int] = defaultdict(int)
    for item in items:
        if item.get("author_id") is not None:
            per_author[int(item["author_id"])] += 1
    day_table = connection.ops.quote_name(FeedExposureDay._meta.db_table)
    author_table = connection.ops.quote_name(FeedExposureAuthorDay._meta.db_table)
    sums = [
        "pages",
        "items",
        "incivility_sum",
        "incivility_n",
        "cross_cutting_n",
        "cross_cutting_yes",
        "bridging_sum",
        "bridging_n",
    ]
    statements: list[tuple[str, list[Any]]] = [
        (
            _upsert_sql(day_table, ["day"], sums, 1),
            [
                day,
                1,
                len(items),
                float(sum(inc)),
                len(inc),
                len(cross),
                sum(1 for c in cross if c),
                float(sum(bri)),
                len(bri),
            ],
        )
    ]
    if per_author and connection.vendor == "postgresql":
        # Two arrays, not a row of parameters per author: the text stays the
        # same for every page, so the client-side binding parses it once per
        # process (a VALUES list of 30 rows was re-parsed on every page).
        authors = sorted(per_author)
        statements.append(
            (
                f"INSERT INTO {author_table} (day, author_id, items) "
                "SELECT %s::date, a, n "
                "FROM unnest(%s::bigint[], %s::integer[]) AS u(a, n) "
                f"ON CONFLICT (day, author_id) DO UPDATE "
                f"SET items = {author_table}.items + EXCLUDED.items",
                [day, int_array(authors), int_array(per_author[a] for a in authors)],
            )
        )
    elif per_author:
        params: list[Any] = []
        for author_id, count in sorted(per_author.items()):
            params += [day, author_id, count]
        statements.append(
            (
                _upsert_sql(
                    author_table, ["day", "author_id"], ["items"], len(per_author)
                ),
                params,
            )
        )
    return statements


def feed_served_record(
    *, viewer_id: int, items: list[Mapping[str, Any]], now: datetime | None = None
) -> None:
    """Add one served feed page to today's exposure sums (two upserts, any size).

    `viewer_id` is accepted for the caller's convenience and deliberately not
    stored (see `feed_served_statements`).
    """
    del viewer_id
    with connection.cursor() as cursor:
        for sql, params in feed_served_statements(items=items, now=now):
            cursor.execute(sql, params)


def gini(counts: Iterable[float]) -> float | None:
    """Gini coefficient of items per author: 0 all equal, towards 1 one author."""
    values = np.sort(np.asarray(list(counts), dtype=float))
    if values.size == 0 or values.sum() == 0:
        return None
    n = values.size
    ranks = np.arange(1, n + 1)
    return float((2 * (ranks * values).sum()) / (n * values.sum()) - (n + 1) / n)


def report_range(
    *, days: object = None, today: date | None = None
) -> tuple[date, date]:
    """(first, last) day of a `days`-day report ending today; bad input → default."""
    try:
        count = int(str(days)) if days not in (None, "") else DEFAULT_DAYS
    except ValueError:
        count = DEFAULT_DAYS
    count = min(max(count, 1), MAX_DAYS)
    last = today or timezone.now().date()
    return last - timedelta(days=count - 1), last


def _by_day(qs: Any, field: str, first: date, last: date) -> dict[date, int]:
    rows = (
        qs.filter(**{f"{field}__date__gte": first, f"{field}__date__lte": last})
        .annotate(d=TruncDate(field))
        .values("d")
        .annotate(n=Count("id"))
    )
    return {row["d"]: row["n"] for row in rows}


def report_daily(*, first: date, last: date) -> list[dict[str, Any]]:
    """One row per day, `first` to `last`: exposure, demotions, casework, amendments.

    Exposure figures are None on days without served-feed data ("no data
    yet" rather than a misleading zero).
    """
    from charter.models import CharterVersion

    exposure = {
        row.day: row
        for row in FeedExposureDay.objects.filter(day__gte=first, day__lte=last)
    }
    authors: dict[date, list[int]] = defaultdict(list)
    for day, items in FeedExposureAuthorDay.objects.filter(
        day__gte=first, day__lte=last
    ).values_list("day", "items"):
        authors[day].append(items)
    demotions: dict[date, dict[str, int]] = defaultdict(dict)
    for row in (
        DecisionRecord.objects.filter(
            application_date__date__gte=first, application_date__date__lte=last
        )
        .annotate(d=TruncDate("application_date"))
        .values("d", "ground_article")
        .annotate(n=Count("id"))
    ):
        demotions[row["d"]][row["ground_article"]] = row["n"]
    appeals_filed = _by_day(Appeal.objects.all(), "filed_at", first, last)
    appeals_on_time = _by_day(
        Appeal.objects.filter(answered_at__lte=F("deadline_at")),
        "answered_at",
        first,
        last,
    )
    appeals_late = _by_day(
        Appeal.objects.filter(answered_at__gt=F("deadline_at")),
        "answered_at",
        first,
        last,
    )
    petitions_filed = _by_day(Petition.objects.all(), "created_at", first, last)
    petitions_on_time = _by_day(
        Petition.objects.filter(
            Q(deadline_at__isnull=True) | Q(answered_at__lte=F("deadline_at")),
            answered_at__isnull=False,
        ),
        "answered_at",
        first,
        last,
    )
    # A breach counts on the day its deadline passed, observed or answered late.
    petitions_overdue = _by_day(
        Petition.objects.filter(
            Q(overdue_logged_at__isnull=False) | Q(answered_at__gt=F("deadline_at"))
        ),
        "deadline_at",
        first,
        last,
    )
    amendments = _by_day(
        CharterVersion.objects.filter(amendment__isnull=False),
        "adopted_at",
        first,
        last,
    )
    rows: list[dict[str, Any]] = []
    day = first
    while day <= last:
        ex = exposure.get(day)
        rows.append(
            {
                "day": day.isoformat(),
                "pages_served": ex.pages if ex else 0,
                "items_served": ex.items if ex else 0,
                "incivility_exposure": (
                    ex.incivility_sum / ex.incivility_n
                    if ex and ex.incivility_n
                    else None
                ),
                "cross_cutting_share": (
                    ex.cross_cutting_yes / ex.cross_cutting_n
                    if ex and ex.cross_cutting_n
                    else None
                ),
                "bridging_mean": (
                    ex.bridging_sum / ex.bridging_n if ex and ex.bridging_n else None
                ),
                "author_gini": gini(authors[day]) if day in authors else None,
                "demotions": sum(demotions[day].values()) if day in demotions else 0,
                "demotions_by_article": dict(sorted(demotions.get(day, {}).items())),
                "appeals_filed": appeals_filed.get(day, 0),
                "appeals_answered_on_time": appeals_on_time.get(day, 0),
                "appeals_answered_late": appeals_late.get(day, 0),
                "petitions_filed": petitions_filed.get(day, 0),
                "petitions_answered_on_time": petitions_on_time.get(day, 0),
                "petitions_overdue": petitions_overdue.get(day, 0),
                "amendments_adopted": amendments.get(day, 0),
            }
        )
        day += timedelta(days=1)
    return rows


def report_totals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Sums of the count columns and the item-weighted means of exposure figures."""
    counts = [
        "pages_served",
        "items_served",
        "demotions",
        "appeals_filed",
        "appeals_answered_on_time",
        "appeals_answered_late",
        "petitions_filed",
        "petitions_answered_on_time",
        "petitions_overdue",
        "amendments_adopted",
    ]
    totals: dict[str, Any] = {key: sum(r[key] for r in rows) for key in counts}
    by_article: dict[str, int] = defaultdict(int)
    for r in rows:
        for article, n in r["demotions_by_article"].items():
            by_article[article] += n
    totals["demotions_by_article"] = dict(sorted(by_article.items()))
    totals["has_exposure_data"] = any(r["items_served"] for r in rows)
    return totals


CSV_COLUMNS = [
    "day",
    "pages_served",
    "items_served",
    "incivility_exposure",
    "cross_cutting_share",
    "bridging_mean",
    "author_gini",
    "demotions",
    "demotions_by_article",
    "appeals_filed",
    "appeals_answered_on_time",
    "appeals_answered_late",
    "petitions_filed",
    "petitions_answered_on_time",
    "petitions_overdue",
    "amendments_adopted",
]


def report_csv(rows: list[dict[str, Any]]) -> str:
    """The daily rows as CSV; demotions by article as 'article:count' pairs."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        flat = dict(row)
        flat["demotions_by_article"] = ";".join(
            f"{a}:{n}" for a, n in row["demotions_by_article"].items()
        )
        for key in ("incivility_exposure", "cross_cutting_share", "bridging_mean"):
            flat[key] = "" if row[key] is None else f"{row[key]:.4f}"
        flat["author_gini"] = (
            "" if row["author_gini"] is None else f"{row['author_gini']:.4f}"
        )
        writer.writerow(flat)
    return out.getvalue()


def research_export(*, first: date, last: date) -> dict[str, Any]:
    """De-identified research export: daily aggregates only, with definitions.

    Holds no user, post or author identifiers and no per-author counts —
    only the Gini coefficient they produce.
    """
    rows = report_daily(first=first, last=last)
    return {
        "dataset": "charter-social-transparency-aggregates/1",
        "generated_at": timezone.now().isoformat(),
        "first_day": first.isoformat(),
        "last_day": last.isoformat(),
        "definitions": {
            "incivility_exposure": "mean incivility score (0..1) of items served "
            "in ranked feeds that day",
            "cross_cutting_share": "share of served items from outside the "
            "viewer's opinion group",
            "bridging_mean": "mean bridging score of served items",
            "author_gini": "Gini coefficient of items served per author",
            "demotions": "decision records (ranker and moderation) applied that day",
            "petitions_overdue": "petitions whose answer deadline fell that day and "
            "was missed",
        },
        "personal_data": "none: no identifiers of users, posts or authors",
        "days": rows,
    }


CHART_METRICS: dict[str, str] = {
    "incivility_exposure": "Incivility exposure (mean score of served items)",
    "cross_cutting_share": "Cross-cutting share of served items",
    "bridging_mean": "Bridging score, mean of served items",
    "author_gini": "Author concentration (Gini)",
    "demotions": "Demotions per day",
    "petitions_overdue": "Petitions answered late or not at all",
}


def chart_svg(*, rows: list[dict[str, Any]], metric: str) -> str:
    """One metric over the report's days as an SVG (matplotlib, rendered server-side).

    Raises KeyError for an unknown metric. Days without data are gaps.
    """
    from matplotlib.figure import Figure

    title = CHART_METRICS[metric]
    days = np.array([r["day"] for r in rows], dtype="datetime64[D]")
    values = [np.nan if r[metric] is None else float(r[metric]) for r in rows]
    fig = Figure(figsize=(7.0, 2.6))
    ax = fig.add_subplot()
    if metric in {"demotions", "petitions_overdue"}:
        ax.bar(days, values, color="#5b6ee1")
    else:
        ax.plot(days, values, marker="o", markersize=3, color="#5b6ee1")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    if len(days):
        # Pin the axis to the report's period: with one day of data matplotlib
        # would otherwise pad the axis out to several years.
        one_day = np.timedelta64(1, "D")
        ax.set_xlim(days[0] - one_day, days[-1] + one_day)
    if all(np.isnan(v) for v in values):
        ax.text(
            0.5, 0.5, "no data yet", transform=ax.transAxes, ha="center", va="center"
        )
    fig.autofmt_xdate()
    fig.tight_layout()
    buffer = io.StringIO()
    # No date in the metadata, so equal data gives an equal file (cacheable).
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()
