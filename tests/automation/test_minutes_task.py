"""The "upload the minutes (≥300 字)" task closes once the uploaded minutes are known to be long
enough: their text is read by the worker after the upload's event, so the closing waits for it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from lodestar.automation.models import Task, TaskStatus
from lodestar.crm.attachments import attachment_upload
from lodestar.events.services import events_append
from lodestar.org.selectors import actor_of
from lodestar.playbooks.services import playbook_publish_source
from tests.conftest import Cast, seed_playbook_source
from tests.factories import OpportunityFactory
from tests.web.conftest import htmx

pytestmark = pytest.mark.django_db

MINUTES_TRIGGER = """triggers:
  - id: upload_minutes
    on: meeting.held
    task:
      title: {zh: 上传会议纪要(≥300 字), en: Upload the meeting minutes}
      due: 24h
      closes_on: [minutes.uploaded]
"""


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def deal(cast: Cast) -> Any:
    source = seed_playbook_source().replace("triggers:\n", MINUTES_TRIGGER, 1)
    playbook_publish_source(user=cast.ops, source=source, source_name="minutes.yaml")
    return OpportunityFactory(owner=cast.owner, stage_key="demo")


def _log(cast: Cast, deal: Any, type_: str, at: dt.datetime, **payload: Any) -> None:
    report = events_append(
        actor=actor_of(user=cast.owner),  # type: ignore[arg-type]
        user=cast.owner,
        items=[
            {
                "type": type_,
                "source": "lodestar",
                "external_id": f"{type_}:{at.isoformat()}",
                "occurred_at": at,
                "opportunity_id": deal.pk,
                "payload": payload,
            }
        ],
        now=at,
    )
    assert report.items[0].status != "rejected", report.items[0]


def _upload_minutes(cast: Cast, deal: Any, chars: int, at: dt.datetime) -> None:
    """As the deal page does: the file stored and its event logged in one transaction; the text
    is read once that commits."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        attachment = attachment_upload(
            user=cast.owner,
            opportunity=deal,
            kind="meeting_minutes",
            uploaded_file=SimpleUploadedFile(
                "minutes.txt", ("纪" * chars).encode(), content_type="text/plain"
            ),
            now=at,
        )
        _log(cast, deal, "minutes.uploaded", attachment.uploaded_at, attachment_id=attachment.pk)


def _minutes_task(deal: Any) -> Task:
    return Task.objects.get(opportunity=deal, trigger_key="upload_minutes")


def test_minutes_of_480_characters_close_the_task_once_their_text_is_read(
    cast: Cast, deal: Any
) -> None:
    now = timezone.now()
    _log(cast, deal, "meeting.held", now - dt.timedelta(hours=2))
    assert _minutes_task(deal).status == TaskStatus.OPEN

    _upload_minutes(cast, deal, 480, now - dt.timedelta(hours=1))

    task = _minutes_task(deal)
    assert task.status == TaskStatus.DONE
    assert task.completed_at is not None
    assert abs(task.completed_at - (now - dt.timedelta(hours=1))) < dt.timedelta(seconds=1)
    assert task.completed_by == cast.owner


def test_minutes_shorter_than_the_playbooks_minimum_leave_the_task_open(
    cast: Cast, deal: Any
) -> None:
    now = timezone.now()
    _log(cast, deal, "meeting.held", now - dt.timedelta(hours=2))

    _upload_minutes(cast, deal, 120, now - dt.timedelta(hours=1))

    assert _minutes_task(deal).status == TaskStatus.OPEN


def test_a_minutes_event_from_another_system_closes_the_task_as_it_comes(
    cast: Cast, deal: Any
) -> None:
    now = timezone.now()
    _log(cast, deal, "meeting.held", now - dt.timedelta(hours=2))

    _log(cast, deal, "minutes.uploaded", now - dt.timedelta(hours=1))

    assert _minutes_task(deal).status == TaskStatus.DONE


def test_minutes_uploaded_on_the_deal_page_close_the_task(cast: Cast, deal: Any) -> None:
    now = timezone.now()
    _log(cast, deal, "meeting.held", now - dt.timedelta(hours=2))
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(cast.owner)
    minutes = SimpleUploadedFile("纪要.txt", ("纪" * 480).encode(), content_type="text/plain")

    response = htmx(
        client, reverse("web:upload", args=[deal.pk]), {"kind": "meeting_minutes", "file": minutes}
    )

    assert response.status_code == 200, response.content.decode()
    assert _minutes_task(deal).status == TaskStatus.DONE
