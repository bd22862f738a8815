"""The import pages' refusals and small steps, without a browser: who may open them, files and
mappings refused where they were sent, the progress fragment, cancel and the undo page."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from lodestar.imports import services
from lodestar.imports.models import ImportBatch
from lodestar.org.models import User
from tests.conftest import Cast

ACCOUNTS = "客户名称,行业\n华东机械,制造业\n南方医疗,医疗\n"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = str(tmp_path)


def _client(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _batch(cast: Cast) -> ImportBatch:
    return services.import_upload(
        user=cast.ops, kind="accounts", file=ACCOUNTS.encode(), filename="a.csv"
    )


def _upload(client: Client, text: str, name: str = "a.csv") -> Any:
    data = SimpleUploadedFile(name, text.encode(), content_type="text/csv")
    return client.post("/imports/", {"kind": "accounts", "file": data})


def test_reps_and_managers_get_403_and_other_organizations_404(cast: Cast) -> None:
    batch = _batch(cast)

    for user in (cast.owner, cast.manager):
        assert _client(user).get("/imports/").status_code == 403
        assert _client(user).get(f"/imports/{batch.pk}/").status_code == 403
    assert _client(cast.outsider).get(f"/imports/{batch.pk}/").status_code == 404
    assert _client(cast.admin).get(f"/imports/{batch.pk}/").status_code == 200


def test_an_upload_goes_to_its_mapping_page(cast: Cast) -> None:
    response = _upload(_client(cast.ops), ACCOUNTS)

    batch = ImportBatch.objects.get(organization=cast.org)
    assert response.status_code == 302
    assert response["Location"] == f"/imports/{batch.pk}/"


def test_a_file_over_the_limit_is_refused_on_the_page_before_it_is_read(
    cast: Cast, settings: Any
) -> None:
    settings.LODESTAR_IMPORT_MAX_BYTES = 20

    response = _upload(_client(cast.ops), ACCOUNTS)

    assert response.status_code == 422
    assert "an import file may be at most" in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_an_empty_file_is_refused_with_the_reason(cast: Cast) -> None:
    response = _upload(_client(cast.ops), "", name="empty.csv")

    assert response.status_code == 422
    assert 'class="outcome error"' in response.content.decode()
    assert not ImportBatch.objects.exists()


def test_a_refused_mapping_is_shown_as_sent_and_nothing_changes(cast: Cast) -> None:
    batch = _batch(cast)
    before = batch.mapping

    response = _client(cast.ops).post(
        f"/imports/{batch.pk}/mapping/",
        {"target-0": "ignore", "target-1": "industry", "key_column": "", "then": "run"},
    )

    assert response.status_code == 422
    html = response.content.decode()
    assert "The mapping cannot be used." in html
    assert '<option value="ignore" selected>' in html  # the name column, as it was sent
    batch.refresh_from_db()
    assert batch.mapping == before
    assert batch.status == "uploaded"


def test_the_progress_fragment_reloads_the_page_once_the_run_has_ended(cast: Cast) -> None:
    batch = services.import_run_now(user=cast.ops, batch=_batch(cast), dry_run=False)
    client = _client(cast.ops)

    polled = client.get(f"/imports/{batch.pk}/progress/?from=running")
    shown = client.get(f"/imports/{batch.pk}/progress/")

    assert polled["HX-Refresh"] == "true"
    assert "HX-Refresh" not in shown
    assert 'max="2" value="2"' in shown.content.decode()


def test_a_batch_not_run_yet_can_be_cancelled(cast: Cast) -> None:
    batch = _batch(cast)

    response = _client(cast.ops).post(f"/imports/{batch.pk}/cancel/")

    assert response.status_code == 302
    batch.refresh_from_db()
    assert batch.status == "cancelled"


def test_the_undo_page_of_a_dry_run_offers_no_undo(cast: Cast) -> None:
    batch = services.import_run_now(user=cast.ops, batch=_batch(cast), dry_run=True)

    response = _client(cast.ops).get(f"/imports/{batch.pk}/undo/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Only a finished import can be undone" in html
    assert 'id="undo-form"' not in html


def test_the_dry_run_counts_each_kind_of_problem(cast: Cast) -> None:
    rows = "".join(f"客户{n},gold\n" for n in range(12))
    batch = services.import_upload(
        user=cast.ops, kind="accounts", file=f"客户名称,客户等级\n{rows}".encode(), filename="a.csv"
    )
    services.import_run_now(user=cast.ops, batch=batch, dry_run=True)

    html = _client(cast.ops).get(f"/imports/{batch.pk}/").content.decode()

    assert 'data-column="客户等级" data-count="12"' in html
    assert "first on row 2" in html


def _keyed_run(cast: Cast, text: str) -> ImportBatch:
    batch = services.import_upload(
        user=cast.ops, kind="accounts", file=text.encode(), filename="a.csv"
    )
    mapping = {**batch.mapping, "key_column": "客户名称"}
    batch = services.import_set_mapping(user=cast.ops, batch=batch, mapping=mapping)
    return services.import_run_now(user=cast.ops, batch=batch, dry_run=False)


def test_undo_refused_for_rows_a_later_import_changed_says_which(cast: Cast) -> None:
    first = _keyed_run(cast, ACCOUNTS)
    later = _keyed_run(cast, ACCOUNTS.replace(",医疗\n", ",医疗器械\n"))
    assert later.counts["updated"] == 1

    response = _client(cast.ops).post(f"/imports/{first.pk}/undo/")

    assert response.status_code == 409
    html = response.content.decode()
    assert 'class="outcome error"' in html
    assert "南方医疗" in html.split('class="outcome error"', 1)[1]
    first.refresh_from_db()
    assert first.status == "done"
