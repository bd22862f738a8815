"""The private iCalendar feed: `GET /calendar/<token>.ics`.

No session: calendar apps (phone, DingTalk, Outlook) fetch the URL on their own. The token in
the path is the only credential, so an unknown or rotated token answers a bare 404, and the
same for a deactivated user, to leak nothing about which tokens ever existed.
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from lodestar.integrations.calendar.ics import render_calendar
from lodestar.integrations.calendar.sources import events_for
from lodestar.integrations.models import CalendarFeed

# Writing last_fetched_at on every poll would turn a read into a write every few minutes.
_TOUCH_INTERVAL = dt.timedelta(hours=1)


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    feed = (
        CalendarFeed.objects.select_related("user", "user__membership__organization")
        .filter(digest=CalendarFeed.digest_of(token), user__is_active=True)
        .first()
    )
    if feed is None:
        raise Http404
    now = timezone.now()
    if feed.last_fetched_at is None or now - feed.last_fetched_at > _TOUCH_INTERVAL:
        CalendarFeed.objects.filter(pk=feed.pk).update(last_fetched_at=now)
    name = _("Lodestar · %(user)s") % {"user": feed.user}
    body = render_calendar(events_for(feed.user, now), name=name, now=now)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="lodestar.ics"'
    response["Cache-Control"] = "private, max-age=300"
    # The URL is a secret: keep it out of referrers and search indexes.
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex"
    return response
