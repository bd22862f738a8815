"""Public endpoints of the integrations app (mounted at the site root by lodestar.urls)."""

from __future__ import annotations

from django.urls import re_path

from lodestar.integrations.calendar.views import calendar_feed

app_name = "integrations"

urlpatterns = [
    # Tokens are `secrets.token_urlsafe(32)`: 43 URL-safe characters.
    re_path(
        r"^calendar/(?P<token>[A-Za-z0-9_-]{20,100})\.ics$",
        calendar_feed,
        name="calendar-feed",
    ),
]
