"""Template helpers: post bodies, accessible form fields, the unread badge."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django import template
from django.forms import BoundField
from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.timesince import timesince

from feed import selectors
from feed.text import render_post_body

register = template.Library()


@register.filter
def post_body(body: str) -> SafeString:
    """A post body escaped, with links and @mentions made clickable."""
    return render_post_body(body)


@register.simple_tag
def field_widget(field: BoundField) -> SafeString:
    """Render a widget tied to its help text and errors with aria-describedby,
    marked aria-invalid when it has errors, so screen readers announce why."""
    described = []
    if field.help_text:
        described.append(f"{field.auto_id}_help")
    if field.errors:
        described.append(f"{field.auto_id}_error")
    attrs: dict[str, Any] = {}
    if described:
        attrs["aria-describedby"] = " ".join(described)
    if field.errors:
        attrs["aria-invalid"] = "true"
    return field.as_widget(attrs=attrs)


@register.simple_tag(takes_context=True)
def unread_notifications(context: template.Context) -> int:
    """Unread notifications of the signed-in viewer (0 when signed out)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return selectors.notifications_unread_count(user=user)


@register.filter
def ago(moment: datetime) -> str:
    """A post's age in calm words: "just now", "5 minutes ago", "2 days ago"."""
    if timezone.now() - moment < timedelta(minutes=1):
        return "just now"
    return f"{timesince(moment, depth=1)} ago"
