"""What the processing steps read of an appended event.

Kept apart from the log's services so the apps that own processing steps (automation,
insights) import the record without importing the events app's services, and this module
imports none of them: the only other app it names is `org`, for the actor's type.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lodestar.org.models import User

__all__ = ["RecordedEvent"]


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """One appended event as the processing steps see it.

    Ingestion appends a thousand rows at a time with one statement and hands the steps these
    light records rather than building a model instance per row.
    """

    pk: int
    organization_id: int
    type: str
    occurred_at: dt.datetime
    opportunity_id: int | None
    # The deal's team when the event was recorded: it picks the playbook the event meets.
    team_id: int | None
    with_customer: bool
    actor: User | None
