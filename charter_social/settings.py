"""Settings for Charter Social, read from the environment in this one place.

Without DATABASE_URL the project runs on a SQLite file under var/; without
REDIS_URL it uses an in-memory channel layer and a local-memory cache. Setting
either switches that part to the real service (PostgreSQL via psycopg 3,
Redis via channels_redis and Django's Redis cache).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CHARTER_VAR_DIR", BASE_DIR / "var"))


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


def _env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if not raw:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept in var/.

    The generated key never enters the repository; production sets SECRET_KEY.
    """
    from_env = os.environ.get("SECRET_KEY")
    if from_env:
        return from_env
    if _env_bool("REQUIRE_SECRET_KEY", False):
        raise ImproperlyConfigured("SECRET_KEY must be set in the environment.")
    key_file = VAR_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


DEBUG = _env_bool("DEBUG", False)
SECRET_KEY = _secret_key()
ALLOWED_HOSTS = _env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = _env_list("CSRF_TRUSTED_ORIGINS", [])

# HTTPS hardening is on whenever DEBUG is off unless explicitly disabled (a
# deployment behind a TLS-terminating proxy keeps it on and sets
# SECURE_PROXY_SSL_HEADER through HTTPS_PROXY_HEADER=1).
HTTPS = _env_bool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if _env_bool("HTTPS_PROXY_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "channels",
    "accountability",
    "feed",
    "charter",
    "ranking",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "charter_social.middleware.SecurityHeadersMiddleware",
    "charter_social.middleware.DatabaseUnavailableMiddleware",
    "charter_social.middleware.IdOutOfRangeMiddleware",
]

ROOT_URLCONF = "charter_social.urls"
ASGI_APPLICATION = "charter_social.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Under ASGI each request may run on a different thread, so persistent
# per-thread connections (CONN_MAX_AGE > 0) would leak; CONN_MAX_AGE stays 0.
# On PostgreSQL a psycopg connection pool (Django 5.1+) takes the place of
# reconnecting: "closing" a connection at the end of a request hands it back to
# the pool, saving a fresh connection (TCP + auth + backend start, ~11 ms p50
# under load) per request. DATABASE_POOL_MAX_SIZE=0 turns the pool off;
# DATABASE_POOL_MIN_SIZE connections are kept open while idle.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
DATABASE_POOL_MAX_SIZE = int(os.environ.get("DATABASE_POOL_MAX_SIZE", "10"))
DATABASE_POOL_MIN_SIZE = int(os.environ.get("DATABASE_POOL_MIN_SIZE", "2"))
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    if (
        DATABASES["default"]["ENGINE"].endswith("postgresql")
        and DATABASE_POOL_MAX_SIZE > 0
    ):
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(DATABASE_POOL_MIN_SIZE, DATABASE_POOL_MAX_SIZE),
            "max_size": DATABASE_POOL_MAX_SIZE,
            # Wait at most this long for a free connection, then fail the
            # request (an error page) rather than queue forever.
            "timeout": float(os.environ.get("DATABASE_POOL_TIMEOUT", "10")),
        }
else:
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "db.sqlite3"),
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py's pool refuses (MaxConnectionsError -> a failed
                # websocket handshake) past max_connections instead of waiting;
                # its default of 100 is below a burst of reconnecting sockets.
                # redis-py 8's default socket_timeout (5 s) equals channels_redis'
                # blocking-pop timeout (5 s), so an idle or busy socket's pop
                # could time out and close it (1011); reads wait longer here.
                "hosts": [
                    {
                        "address": REDIS_URL,
                        "max_connections": int(
                            os.environ.get("REDIS_MAX_CONNECTIONS", "1000")
                        ),
                        "socket_timeout": 30,
                        "socket_connect_timeout": 5,
                    }
                ],
                "prefix": os.environ.get("CHANNEL_PREFIX", "charter"),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_PREFIX", "charter"),
            "TIMEOUT": 300,
            # One pool per process, not one per request (see the module).
            "OPTIONS": {
                "pool_class": "charter_social.redis_cache.SharedConnectionPool"
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_USER_MODEL = "feed.User"
_VALIDATORS = "django.contrib.auth.password_validation"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": f"{_VALIDATORS}.UserAttributeSimilarityValidator"},
    {"NAME": f"{_VALIDATORS}.MinimumLengthValidator"},
    {"NAME": f"{_VALIDATORS}.CommonPasswordValidator"},
    {"NAME": f"{_VALIDATORS}.NumericPasswordValidator"},
]
LOGIN_URL = "frontend:login"
LOGIN_REDIRECT_URL = "frontend:home"
LOGOUT_REDIRECT_URL = "frontend:home"

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
        # DRF's token rules with the lookup query built once per process.
        "charter_social.authentication.TokenAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticatedOrReadOnly",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "charter_social.api_errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Charter Social API",
    "DESCRIPTION": (
        "Public API of Charter Social: posts, reactions, follows, timelines, "
        "the charter, and the transparency log."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "RatingEnum": "feed.serializers.RATING_CHOICES",
    },
}

# Ledger signing key (Ed25519, PEM or raw base64 seed); generated on first use
# under var/ when unset so it never lives in the repository.
LEDGER_SIGNING_KEY = os.environ.get("LEDGER_SIGNING_KEY", "")
LEDGER_KEY_FILE = Path(
    os.environ.get("LEDGER_KEY_FILE", VAR_DIR / "ledger_ed25519.pem")
)
LEDGER_ORIGIN = os.environ.get("LEDGER_ORIGIN", "charter.social/transparency-log")

# Background work runs in a Channels worker when Redis carries the messages,
# in-process otherwise (the in-memory layer does not cross processes).
RUN_BACKGROUND_INLINE = not REDIS_URL or _env_bool("RUN_BACKGROUND_INLINE", False)

# Web processes load the active ranking models in a background thread at start
# (charter_social.asgi), so the first ranked pages do not wait for them.
WARM_MODELS_AT_START = _env_bool("WARM_MODELS_AT_START", True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"daphne": {"level": "WARNING"}},
}
