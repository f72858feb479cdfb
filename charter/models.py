"""Models of the charter app."""

from django.db import models  # noqa: F401
