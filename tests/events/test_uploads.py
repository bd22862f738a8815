"""An upload of minutes logs `minutes.uploaded` the same way from the deal page and the API,
so either closes the task to upload them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from lodestar.automation.models import Task, TaskStatus
from lodestar.crm.models import Attachment
from lodestar.events.models import Event
from lodestar.playbooks.services import playbook_publish_source
from tests.conftest import ApiClient, Cast, seed_playbook_source
from tests.factories import OpportunityFactory

ApiAs = Callable[[Any], ApiClient]
MINUTES = ("会议纪要:客户确认预算范围,王总和李厂长参加演示,要求下周提供试用账号。" * 12).encode()
UPLOAD_MINUTES_TRIGGER = """\
  - id: upload_minutes
    on: meeting.held
    task:
      title: {zh: 上传会议纪要(≥300 字), en: Upload the meeting minutes}
      due: 24h
      closes_on: [minutes.uploaded]
forecast:
"""


@pytest.fixture
def deal(cast: Cast) -> Any:
    source = seed_playbook_source().replace("forecast:\n", UPLOAD_MINUTES_TRIGGER, 1)
    playbook_publish_source(user=cast.ops, source=source, source_name="seed.yaml")
    return OpportunityFactory(owner=cast.owner, stage_key="demo")


def upload_on_page(cast: Cast, deal: Any, kind: str, api_as: ApiAs) -> Any:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(cast.owner)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            reverse("web:upload", args=[deal.pk]),
            {"kind": kind, "file": SimpleUploadedFile("纪要.txt", MINUTES)},
            HTTP_HX_REQUEST="true",
        )


def upload_through_api(cast: Cast, deal: Any, kind: str, api_as: ApiAs) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=True):
        return api_as(cast.owner).client.post(
            f"/api/v1/opportunities/{deal.pk}/attachments",
            {"kind": kind, "file": SimpleUploadedFile("纪要.txt", MINUTES)},
        )


FRONTS = [pytest.param(upload_on_page, id="page"), pytest.param(upload_through_api, id="api")]


@pytest.mark.parametrize("upload", FRONTS)
def test_a_minutes_upload_logs_its_event_and_closes_the_task_to_upload_them(
    cast: Cast, deal: Any, api_as: ApiAs, upload: Any
) -> None:
    held_at = timezone.now() - dt.timedelta(hours=2)
    api_as(cast.owner).post(
        "/events",
        {
            "type": "meeting.held",
            "source": "crm",
            "external_id": "m1",
            "occurred_at": held_at.isoformat(),
            "opportunity_id": deal.pk,
        },
    )
    task = Task.objects.get(opportunity=deal, trigger_key="upload_minutes")

    response = upload(cast, deal, "meeting_minutes", api_as)

    assert response.status_code in (200, 201), response.content.decode()
    attachment = Attachment.objects.get(opportunity=deal)
    logged = Event.objects.get(opportunity=deal, type="minutes.uploaded")
    assert (logged.source, logged.external_id) == ("lodestar", f"attachment:{attachment.pk}")
    assert (logged.payload, logged.actor) == ({"attachment_id": attachment.pk}, cast.owner)
    assert logged.occurred_at == attachment.uploaded_at
    task.refresh_from_db()
    assert (task.status, task.completed_by) == (TaskStatus.DONE, cast.owner)


@pytest.mark.parametrize("upload", FRONTS)
def test_an_upload_of_another_kind_logs_no_minutes(
    cast: Cast, deal: Any, api_as: ApiAs, upload: Any
) -> None:
    response = upload(cast, deal, "signed_quote", api_as)

    assert response.status_code in (200, 201), response.content.decode()
    assert Attachment.objects.filter(opportunity=deal).exists()
    assert not Event.objects.filter(type="minutes.uploaded").exists()
