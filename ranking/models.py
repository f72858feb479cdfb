"""Models of the ranking app."""

from django.db import models  # noqa: F401
