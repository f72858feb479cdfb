"""Backups restore: pg_dump the database, restore it into a new one, and the
ledger there verifies (and a checkpoint signed before the backup is a prefix
of the restored log). The procedure docs/operations.md describes, run for real.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlunsplit

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    or shutil.which("pg_dump") is None,
    reason="needs PostgreSQL and pg_dump/pg_restore",
)


def _url(name: str) -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    netloc = (
        f"{user}{password}@{db.get('HOST') or '127.0.0.1'}:{db.get('PORT') or 5432}"
    )
    return urlunsplit(("postgres", netloc, f"/{name}", "", ""))


def test_pg_dump_restores_into_a_new_database_whose_ledger_verifies(
    transactional_db: Any, make_user: Any, tmp_path: Path
) -> None:
    from django.db import connection

    from accountability.selectors import checkpoint_latest
    from charter.services import board_membership_grant, charter_genesis

    charter_genesis()
    board_membership_grant(user=make_user("member"))
    checkpoint = tmp_path / "checkpoint"
    checkpoint.write_text(checkpoint_latest().note, encoding="utf-8")

    source = connection.settings_dict["NAME"]
    target = f"{source}_restored"
    dump = tmp_path / "charter.dump"
    env = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    subprocess.run(
        ["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", _url(source)],
        check=True,
        env=env,
        timeout=120,
    )
    admin = _url("postgres")
    subprocess.run(
        ["dropdb", "--if-exists", "--maintenance-db", admin, target],
        check=True,
        env=env,
    )
    subprocess.run(["createdb", "--maintenance-db", admin, target], check=True, env=env)
    try:
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                f"--dbname={_url(target)}",
                str(dump),
            ],
            check=True,
            env=env,
            timeout=120,
        )
        verify_env = {
            k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"
        }
        verify_env.update(
            DATABASE_URL=_url(target),
            # Test settings: the same ledger key file as this test run.
            DJANGO_SETTINGS_MODULE="charter_social.settings_test",
        )
        result = subprocess.run(
            [
                sys.executable,
                "manage.py",
                "verify_ledger",
                "--previous",
                str(checkpoint),
            ],
            cwd=ROOT,
            env=verify_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        assert "OK ledger verified" in result.stdout, result.stdout
    finally:
        subprocess.run(
            ["dropdb", "--if-exists", "--maintenance-db", admin, target],
            env=env,
            check=False,
        )
