"""`/api/v1/health`: the database, the task queue and the worker, for monitors (no sign-in)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from django.views.decorators.cache import never_cache
from ninja import Router, Status
from ninja.decorators import decorate_view

from lodestar.ops.health import SystemHealth, system_health
from lodestar.ops.schemas import HealthOut

router = Router(tags=["health"])


@router.get(
    "/health",
    auth=None,
    response={200: HealthOut, 503: HealthOut},
    summary="System health",
    description=(
        "200 when the database answers, the worker queue's storage answers and a worker beat "
        "recently; 503 otherwise, with the failing parts in `failing`. Open to anyone: it names "
        "no hosts, users or organizations."
    ),
)
@decorate_view(never_cache)
def health(request: HttpRequest) -> Status[SystemHealth]:
    report = system_health(now=timezone.now())
    return Status(200 if report.ok else 503, report)
