"""Huey task: a thin wrapper handing ids to the run (`lodestar.imports.services.run_claimed`).

Tasks take ids, never model instances: the batch row is the truth, re-read when the task runs.
`import_start` claims the batch (status `checking` / `importing`) before queueing this on
commit, so a second start is refused while it waits or runs.
"""

from __future__ import annotations

from huey.contrib.djhuey import db_task

__all__ = ["recompute_after_import", "run_import"]


@db_task()
def run_import(batch_id: int, user_id: int, dry_run: bool) -> str:
    from lodestar.imports.services import run_claimed

    batch = run_claimed(batch_id=batch_id, user_id=user_id, dry_run=dry_run)
    return batch.status if batch is not None else "gone"


@db_task()
def recompute_after_import(organization_id: int) -> int:
    """Once an import (or its undo) has committed: the organization's insights recomputed in
    full, the activity summary recounted from the log. The history came in without the live
    steps; this is where health, risk and the scorecard read it, as the hourly sweep would."""
    from lodestar.insights.refresh import insights_recompute

    return insights_recompute(organization_id=organization_id, rebuild=True).deals
