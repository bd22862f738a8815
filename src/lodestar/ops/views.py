"""`/healthz` for load balancers: can this web process serve requests?

Only the database is asked: a stopped worker or queue is no reason to take every web process out
of rotation (`/api/v1/health` reports those).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from lodestar.ops.health import database_check


@never_cache
@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    if database_check().ok:
        return HttpResponse("ok\n", content_type="text/plain")
    return HttpResponse("unavailable\n", status=503, content_type="text/plain")
