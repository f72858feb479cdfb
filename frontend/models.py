"""Models of the frontend app."""

from django.db import models  # noqa: F401
