"""The embedded default and the real services are chosen by the environment alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]

PRINT_BACKENDS = (
    "import json, django; from django.conf import settings; "
    "print(json.dumps({'db': settings.DATABASES['default']['ENGINE'], "
    "'layer': settings.CHANNEL_LAYERS['default']['BACKEND'], "
    "'cache': settings.CACHES['default']['BACKEND']}))"
)


def _backends(extra_env: dict[str, str]) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}
    }
    env.update(extra_env)
    env["DJANGO_SETTINGS_MODULE"] = "charter_social.settings"
    out = subprocess.run(
        [sys.executable, "-c", PRINT_BACKENDS],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout)


def test_without_service_urls_the_embedded_default_is_used() -> None:
    backends = _backends({})
    assert backends["db"] == "django.db.backends.sqlite3"
    assert backends["layer"] == "channels.layers.InMemoryChannelLayer"
    assert backends["cache"].endswith("LocMemCache")


def test_service_urls_switch_to_postgres_and_redis() -> None:
    backends = _backends(
        {
            "DATABASE_URL": "postgres://u@db.example:5432/x",
            "REDIS_URL": "redis://r:6379/0",
        }
    )
    assert backends["db"] == "django.db.backends.postgresql"
    assert backends["layer"] == "channels_redis.core.RedisChannelLayer"
    assert backends["cache"] == "django.core.cache.backends.redis.RedisCache"


def test_deploy_check_is_clean_with_production_settings(tmp_path: Path) -> None:
    # The test run itself allows async-unsafe ORM calls (Playwright); production never.
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "charter_social.settings",
            "DEBUG": "0",
            "SECRET_KEY": "x" * 20
            + "production-secret-key-from-the-environment-0123456789",
            "ALLOWED_HOSTS": "charter.example",
            "CHARTER_VAR_DIR": str(tmp_path),
        }
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_healthz_reports_database_and_channel_layer() -> None:
    response = Client().get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    assert body["channel_layer"] == "ok"
    expected_vendor = "postgresql" if os.environ.get("DATABASE_URL") else "sqlite"
    assert body["database_vendor"] == expected_vendor
    expected_layer = (
        "RedisChannelLayer" if os.environ.get("REDIS_URL") else "InMemoryChannelLayer"
    )
    assert body["channel_layer_backend"] == expected_layer
