"""Models of the accountability app."""

from django.db import models  # noqa: F401
