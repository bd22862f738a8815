"""The automation app puts each user's open tasks in their calendar feed."""

from __future__ import annotations

from lodestar.automation.calendar import task_events
from lodestar.integrations.calendar import sources


def test_the_app_registers_its_task_source_when_ready() -> None:
    assert sources._SOURCES.count(task_events) == 1
