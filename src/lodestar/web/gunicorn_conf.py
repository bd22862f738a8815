"""What gunicorn reads when `lodestar run` (and the page benchmark) start it.

A full garbage collection walks every object the worker holds — Django, the apps, compiled
templates and playbooks — and stalls the request in hand and all those queued behind it (seen at
50,000 deals on a busy 2-core machine: 50–450 ms per worker). Once a worker has served its first
requests, what it has loaded by then lives as long as the worker: `gc.freeze` moves it out of
the collector's sight, so later collections walk only what requests create.
"""

from __future__ import annotations

import gc
from typing import Any

# Requests a worker serves before freezing what it holds: enough to have loaded the pages.
FREEZE_AFTER = 50


def post_request(worker: Any, _req: Any, _environ: Any, _resp: Any) -> None:
    served = getattr(worker, "lodestar_served", 0) + 1
    worker.lodestar_served = served
    if served == FREEZE_AFTER:
        # No collection first: it would itself stall requests for as long as the collections
        # this avoids. What is garbage at this moment stays, once, with the frozen objects.
        gc.freeze()
