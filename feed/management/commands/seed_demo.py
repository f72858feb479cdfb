"""`manage.py seed_demo`: a small living society, so a newcomer's first page is alive.

The society itself is planned and written by ``feed.seeding.demo``; this
command guards against loading it twice, adds the admin account and charter
v1, and prints the demo logins.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from feed.models import User
from feed.seeding.demo import charter_genesis_run, demo_load, demo_plan
from feed.seeding.text import DEMO_PASSWORD

ADMIN_USERNAME = "admin"


class Command(BaseCommand):
    help = (
        "Load a small demo society: two opinion camps plus moderates, with posts, "
        "replies, follows, likes and ratings."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when any account already exists (used by `make run`).",
        )
        parser.add_argument(
            "--seed", type=int, default=7, help="Random seed (default 7)."
        )
        parser.add_argument(
            "--scale",
            type=float,
            default=1.0,
            help="Multiply the number of users, posts and replies (default 1.0).",
        )
        parser.add_argument(
            "--no-fit",
            action="store_true",
            help="Skip fitting and activating the ranking models afterwards.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        scale: float = options["scale"]
        if not 0.05 <= scale <= 20:
            raise CommandError("--scale must be between 0.05 and 20.")
        if options["if_empty"] and User.objects.exists():
            self.stdout.write("Accounts already exist; demo data not loaded.")
            return
        plan = demo_plan(seed=options["seed"], scale=scale, now=timezone.now())
        taken = list(
            User.objects.filter(
                username__in=[p.username for p in plan.personas]
            ).values_list("username", flat=True)[:5]
        )
        if taken:
            raise CommandError(
                f"Demo accounts already exist ({', '.join(taken)}); run on an empty "
                "database, or pass --if-empty to skip when accounts exist."
            )
        with transaction.atomic():
            summary = demo_load(plan)
            has_charter = charter_genesis_run()
            admin_note = self._admin_create()
        self.stdout.write(
            f"Demo data: {summary.users} users, {summary.posts} posts "
            f"({summary.replies} replies), {summary.follows} follows, "
            f"{summary.likes} likes, {summary.ratings} ratings, "
            f"{summary.reports} open reports"
            + ("; charter v1 adopted." if has_charter else ".")
        )
        logins = ", ".join(
            f"{name} / {DEMO_PASSWORD} ({role})" for name, role in summary.logins
        )
        self.stdout.write(self.style.SUCCESS(f"Demo logins: {logins}"))
        self.stdout.write(f"Every demo account uses the password {DEMO_PASSWORD}.")
        if has_charter and not options["no_fit"]:
            # So the first home page is ranked: fit, store and activate the
            # models (logged in the ledger) and write every post's signals.
            call_command("fit_models", stdout=self.stdout, stderr=self.stderr)
        if admin_note:
            self.stdout.write(admin_note)

    def _admin_create(self) -> str | None:
        if User.objects.filter(username=ADMIN_USERNAME).exists():
            return None
        from_env = os.environ.get("DEMO_ADMIN_PASSWORD", "")
        password = from_env or secrets.token_urlsafe(12)
        User.objects.create_superuser(
            ADMIN_USERNAME, f"{ADMIN_USERNAME}@demo.invalid", password
        )
        if from_env:
            return (
                f"Admin login: {ADMIN_USERNAME} / (password from DEMO_ADMIN_PASSWORD)"
            )
        return (
            f"Admin login: {ADMIN_USERNAME} / {password}"
            "   (shown once; not stored anywhere)"
        )
