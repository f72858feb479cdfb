"""Test settings: the production settings with HTTPS redirects off.

The database and channel layer still come from DATABASE_URL / REDIS_URL, so CI
exercises PostgreSQL and Redis while a bare `pytest` runs on SQLite.
"""

import os

from .settings import *  # noqa: F403
from .settings import DATABASES, VAR_DIR

SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]

# A file-backed SQLite test database lets a forked Daphne (browser tests) see
# the rows a test writes.
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test_db.sqlite3")}

LEDGER_KEY_FILE = VAR_DIR / "test_ledger_ed25519.pem"
# Tests load models where they use them; a start-up thread would query the
# database outside any test.
WARM_MODELS_AT_START = False
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
