"""Admin cannot write charter history; the genesis command is idempotent."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO
from typing import Any

from django.contrib.admin.sites import site
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from accountability.models import LedgerEntry
from charter.models import Amendment, BoardMembership, CharterVersion
from charter.selectors import board_member_is
from charter.services import board_membership_grant


def test_charter_genesis_command_is_idempotent(db: Any) -> None:
    out = StringIO()
    call_command("charter_genesis", stdout=out)
    call_command("charter_genesis", stdout=out)
    assert out.getvalue().count("Charter v1 in force") == 2
    assert CharterVersion.objects.count() == 1
    assert LedgerEntry.objects.filter(subject="charter:v1").count() == 2


def test_admin_cannot_add_change_or_delete_versions_or_amendments(
    active_charter: Any, make_user: Any, rf: Any
) -> None:
    admin_user = make_user("root", is_staff=True, is_superuser=True)
    request = rf.get("/")
    request.user = admin_user
    for model in (CharterVersion, Amendment):
        model_admin = site._registry[model]
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request, None)
        assert not model_admin.has_delete_permission(request, None)
    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/admin/charter/charterversion/{active_charter.pk}/change/")
    assert page.status_code == 200  # viewable
    assert b'name="policy"' not in page.content  # but nothing to edit
    response = client.post(
        f"/admin/charter/charterversion/{active_charter.pk}/change/", {"summary": "x"}
    )
    assert response.status_code == 403
    assert CharterVersion.objects.get().summary != "x"


def test_admin_grants_a_board_term_and_refuses_overlaps(
    active_charter: Any, make_user: Any
) -> None:
    admin_user = make_user("root", is_staff=True, is_superuser=True)
    member = make_user("member")
    client = Client()
    client.force_login(admin_user)
    start = timezone.now() - timedelta(days=1)
    form = {
        "user": member.pk,
        "role": "citizen seat",
        "starts_at_0": start.strftime("%Y-%m-%d"),
        "starts_at_1": start.strftime("%H:%M:%S"),
        "ends_at_0": "",
        "ends_at_1": "",
    }
    response = client.post("/admin/charter/boardmembership/add/", form)
    assert response.status_code == 302
    assert BoardMembership.objects.filter(user=member, role="citizen seat").count() == 1
    again = client.post("/admin/charter/boardmembership/add/", form)
    assert again.status_code == 200
    assert b"already has a board term" in again.content
    assert BoardMembership.objects.count() == 1


def test_board_terms_are_logged_and_admin_can_end_but_not_rewrite_them(
    active_charter: Any, make_user: Any
) -> None:
    admin_user = make_user("root", is_staff=True, is_superuser=True)
    member = make_user("member")
    term = board_membership_grant(
        user=member,
        starts_at=timezone.now() - timedelta(days=10),
        granted_by=admin_user,
    )
    granted = LedgerEntry.objects.get(kind="board.term")
    assert granted.actor == f"user:{admin_user.pk}"
    assert granted.payload["change"] == "granted" and granted.payload["ends_at"] is None

    client = Client()
    client.force_login(admin_user)
    url = f"/admin/charter/boardmembership/{term.pk}/change/"
    page = client.get(url)
    assert b'name="starts_at_0"' not in page.content  # the start is history
    end = timezone.now() - timedelta(minutes=1)
    response = client.post(
        url,
        {
            "role": "resigned",
            "ends_at_0": end.strftime("%Y-%m-%d"),
            "ends_at_1": end.strftime("%H:%M:%S"),
            "user": make_user("intruder").pk,  # ignored: read-only on change
        },
    )
    assert response.status_code == 302
    term.refresh_from_db()
    assert term.user_id == member.pk and term.role == "resigned"
    assert term.ends_at is not None
    updated = LedgerEntry.objects.filter(kind="board.term").order_by("-index").first()
    assert updated is not None and updated.payload["change"] == "updated"
    assert not board_member_is(user=member)
