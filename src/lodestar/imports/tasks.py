"""Huey task: a thin wrapper handing ids to the run (`lodestar.imports.services.run_claimed`).

Tasks take ids, never model instances: the batch row is the truth, re-read when the task runs.
`import_start` claims the batch (status `checking` / `importing`) before queueing this on
commit, so a second start is refused while it waits or runs.
"""

from __future__ import annotations

from huey.contrib.djhuey import db_task

__all__ = ["run_import"]


@db_task()
def run_import(batch_id: int, user_id: int, dry_run: bool) -> str:
    from lodestar.imports.services import run_claimed

    batch = run_claimed(batch_id=batch_id, user_id=user_id, dry_run=dry_run)
    return batch.status if batch is not None else "gone"
