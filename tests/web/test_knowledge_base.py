"""The knowledge base's pages: everyone reads the index and the entries with their files; only
sales ops and administrators write them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from lodestar.crm.models import KnowledgeEntry, KnowledgeKind
from lodestar.insights.knowledge import knowledge_entry_create, knowledge_file_add
from lodestar.insights.models import KnowledgeFile, KnowledgeStage
from lodestar.org.models import AuditEntry
from tests.conftest import Cast
from tests.crm.test_attachments import pdf_of, text_page

ClientAs = Callable[[Any], Client]


@pytest.fixture
def handbook(cast: Cast, published: Any) -> KnowledgeEntry:
    return knowledge_entry_create(
        user=cast.ops,
        title="高频异议应答手册",
        kind=KnowledgeKind.HANDBOOK,
        body="价格异议:先确认预算范围,再给阶梯返点测算。",
        key="objection_handling",
        stage_keys=["quote"],
    )


@pytest.fixture
def case(cast: Cast, published: Any) -> KnowledgeEntry:
    return knowledge_entry_create(
        user=cast.ops, title="宁波注塑厂改造案例", kind=KnowledgeKind.CASE, stage_keys=["demo"]
    )


def _pdf(name: str = "手册.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_of(text_page("Handbook")), "application/pdf")


def test_it_lists_the_entries_by_kind_with_their_stages_for_everyone(
    cast: Cast, client_as: ClientAs, handbook: KnowledgeEntry, case: KnowledgeEntry
) -> None:
    page = client_as(cast.owner).get(reverse("web:knowledge-index")).content.decode()
    assert "高频异议应答手册" in page
    assert "宁波注塑厂改造案例" in page
    assert "<h2" in page
    assert ">Handbook</h2>" in page
    assert ">Case study</h2>" in page
    assert ">Quote done<" in page  # the stage's name, not its key
    assert "New entry" not in page  # a rep reads only


@pytest.mark.parametrize(
    ("query", "shown", "hidden"),
    [
        ({"q": "返点"}, "高频异议应答手册", "宁波注塑厂改造案例"),
        ({"kind": "case"}, "宁波注塑厂改造案例", "高频异议应答手册"),
        ({"stage": "quote"}, "高频异议应答手册", "宁波注塑厂改造案例"),
    ],
)
def test_it_searches_and_filters_by_kind_and_stage(
    cast: Cast,
    client_as: ClientAs,
    handbook: KnowledgeEntry,
    case: KnowledgeEntry,
    query: dict[str, str],
    shown: str,
    hidden: str,
) -> None:
    page = client_as(cast.owner).get(reverse("web:knowledge-index"), query).content.decode()
    assert shown in page
    assert hidden not in page
    assert "Clear filters" in page


def test_it_shows_an_entry_with_its_files_to_anyone_in_the_organization_only(
    cast: Cast, client_as: ClientAs, handbook: KnowledgeEntry
) -> None:
    stored = knowledge_file_add(user=cast.ops, entry=handbook, uploaded_file=_pdf())
    page = client_as(cast.teammate).get(reverse("web:knowledge", args=[handbook.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "阶梯返点测算" in body
    assert "手册.pdf" in body
    assert "Edit" not in body
    opened = client_as(cast.teammate).get(
        reverse("web:knowledge-file", args=[handbook.pk, stored.pk])
    )
    assert opened.status_code == 200
    assert opened["Content-Type"] == "application/pdf"
    assert opened["X-Content-Type-Options"] == "nosniff"
    assert opened["Content-Disposition"].startswith("inline;")
    saved = client_as(cast.teammate).get(
        reverse("web:knowledge-file", args=[handbook.pk, stored.pk]), {"download": "1"}
    )
    assert saved["Content-Disposition"].startswith("attachment;")
    outsider = client_as(cast.outsider)
    assert outsider.get(reverse("web:knowledge", args=[handbook.pk])).status_code == 404
    assert (
        outsider.get(reverse("web:knowledge-file", args=[handbook.pk, stored.pk])).status_code
        == 404
    )


@pytest.mark.parametrize("who", ["owner", "manager"])
def test_a_rep_or_a_manager_cannot_create_edit_or_delete_entries(
    cast: Cast, client_as: ClientAs, handbook: KnowledgeEntry, who: str
) -> None:
    client = client_as(getattr(cast, who))
    assert client.get(reverse("web:knowledge-new")).status_code == 403
    created = client.post(reverse("web:knowledge-new"), {"title": "私自手册", "kind": "handbook"})
    assert created.status_code == 403
    assert not KnowledgeEntry.objects.filter(title="私自手册").exists()
    assert client.get(reverse("web:knowledge-edit", args=[handbook.pk])).status_code == 403
    assert client.post(reverse("web:knowledge-delete", args=[handbook.pk])).status_code == 403
    upload = client.post(reverse("web:knowledge-files", args=[handbook.pk]), {"file": _pdf()})
    assert upload.status_code == 403
    assert KnowledgeEntry.objects.filter(pk=handbook.pk).exists()
    assert not KnowledgeFile.objects.exists()


@pytest.mark.parametrize("who", ["ops", "admin"])
def test_ops_and_admins_create_an_entry_with_stages_and_it_is_audited(
    cast: Cast, client_as: ClientAs, published: Any, who: str
) -> None:
    client = client_as(getattr(cast, who))
    form = client.get(reverse("web:knowledge-new")).content.decode()
    assert 'value="quote"' in form  # the published playbook's stages to pick
    response = client.post(
        reverse("web:knowledge-new"),
        {
            "title": "Pricing playbook",
            "kind": "handbook",
            "stage_keys": ["demo", "quote"],
            "body": "Start from the budget.",
        },
    )
    entry = KnowledgeEntry.objects.get(title="Pricing playbook")
    assert response.status_code == 302
    assert response["Location"] == reverse("web:knowledge", args=[entry.pk])
    assert entry.key == "pricing-playbook"
    assert set(KnowledgeStage.objects.filter(entry=entry).values_list("stage_key", flat=True)) == {
        "demo",
        "quote",
    }
    assert AuditEntry.objects.filter(action="knowledge.created", object_id=str(entry.pk)).exists()


def test_a_taken_key_is_refused_next_to_the_field_and_nothing_is_stored(
    cast: Cast, client_as: ClientAs, handbook: KnowledgeEntry
) -> None:
    response = client_as(cast.ops).post(
        reverse("web:knowledge-new"),
        {"title": "另一本手册", "kind": "handbook", "key": "objection_handling"},
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "Another entry already has the key “objection_handling”" in body
    assert 'id="id_key-error"' in body or "id_key" in body
    assert not KnowledgeEntry.objects.filter(title="另一本手册").exists()


def test_ops_edit_an_entry_and_its_stages(
    cast: Cast, client_as: ClientAs, handbook: KnowledgeEntry
) -> None:
    client = client_as(cast.ops)
    form = client.get(reverse("web:knowledge-edit", args=[handbook.pk])).content.decode()
    assert "高频异议应答手册" in form
    response = client.post(
        reverse("web:knowledge-edit", args=[handbook.pk]),
        {
            "title": "异议应答手册(第二版)",
            "kind": "handbook",
            "key": "objection_handling",
            "stage_keys": ["tech_confirmed"],
            "body": "新版",
        },
    )
    assert response.status_code == 302
    handbook.refresh_from_db()
    assert handbook.title == "异议应答手册(第二版)"
    assert list(handbook.stages.values_list("stage_key", flat=True)) == ["tech_confirmed"]  # type: ignore[attr-defined]


def test_ops_attach_a_pdf_and_a_file_of_another_type_is_refused(
    cast: Cast, client_as: ClientAs, handbook: KnowledgeEntry
) -> None:
    client = client_as(cast.ops)
    url = reverse("web:knowledge-files", args=[handbook.pk])
    ok = client.post(url, {"file": _pdf()}, follow=True)
    assert "Attached 手册.pdf." in ok.content.decode()
    stored = KnowledgeFile.objects.get(entry=handbook)
    assert stored.content_type == "application/pdf"
    exe = SimpleUploadedFile("tool.pdf", b"MZ\x90\x00\x03" + bytes(range(256)) * 4)
    refused = client.post(url, {"file": exe}, follow=True)
    assert "This file type is not supported" in refused.content.decode()
    assert KnowledgeFile.objects.filter(entry=handbook).count() == 1
    removed = client.post(
        reverse("web:knowledge-file-delete", args=[handbook.pk, stored.pk]), follow=True
    )
    assert "Removed 手册.pdf." in removed.content.decode()
    assert not KnowledgeFile.objects.exists()


def test_ops_delete_an_entry_with_its_files(
    cast: Cast, client_as: ClientAs, handbook: KnowledgeEntry
) -> None:
    from django.test import TestCase

    stored = knowledge_file_add(user=cast.ops, entry=handbook, uploaded_file=_pdf())
    storage, name = stored.file.storage, stored.file.name
    assert storage.exists(name)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client_as(cast.ops).post(reverse("web:knowledge-delete", args=[handbook.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("web:knowledge-index")
    assert not KnowledgeEntry.objects.filter(pk=handbook.pk).exists()
    assert not storage.exists(name)
    assert AuditEntry.objects.filter(action="knowledge.deleted").exists()
