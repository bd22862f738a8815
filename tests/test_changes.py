"""What a committed transaction tells the kept copies: narrow when every written table was
described by its write path, broad otherwise (`lodestar.changes`)."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.utils import timezone

from lodestar import changes
from lodestar.automation.models import Task
from lodestar.db import bulk_insert_new
from tests.conftest import Cast

pytestmark = pytest.mark.usefixtures("transactional_db")


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[changes.Change]:
    seen: list[changes.Change] = []
    monkeypatch.setattr(changes, "_listeners", [seen.append])
    return seen


def _task(cast: Cast, deal: object) -> Task:
    now = timezone.now()
    return Task(
        organization=cast.org,
        opportunity=deal,
        assignee=cast.teammate,
        title="回访",
        created_at=now,
        due_at=now,
    )


@pytest.fixture
def deal(cast: Cast) -> object:
    from tests.factories import OpportunityFactory

    return OpportunityFactory(owner=cast.owner, team=cast.team)


def test_it_names_the_owner_team_and_assignee_of_a_described_write(
    cast: Cast, deal: object, published: list[changes.Change]
) -> None:
    with transaction.atomic():
        task = _task(cast, deal)
        task.save()
        changes.changed(tables=[Task], deals=[task.opportunity_id], people=[task.assignee_id])
    assert len(published) == 1
    assert not published[0].everything
    assert published[0].scopes == {
        changes.owner_scope(cast.owner.pk),
        changes.team_scope(cast.org.pk, cast.team.pk),
        changes.deals_scope(cast.org.pk),
        changes.person_scope(cast.teammate.pk),
    }


def test_it_publishes_a_write_nobody_described_as_everything(
    cast: Cast, deal: object, published: list[changes.Change]
) -> None:
    with transaction.atomic():
        Task.objects.bulk_create([_task(cast, deal)])
    assert [change.everything for change in published] == [True]


def test_it_covers_a_released_savepoint_described_around_it(
    cast: Cast, deal: object, published: list[changes.Change]
) -> None:
    with transaction.atomic():
        assert bulk_insert_new([_task(cast, deal)])  # inserts inside a savepoint of its own
        changes.changed(tables=[Task], deals=[deal.pk])  # type: ignore[attr-defined]
    assert published
    assert not any(change.everything for change in published)


def test_it_does_not_cover_writes_around_a_description_that_rolled_back(
    cast: Cast, deal: object, published: list[changes.Change]
) -> None:
    with transaction.atomic():
        Task.objects.bulk_create([_task(cast, deal)])
        try:
            with transaction.atomic():
                changes.changed(tables=[Task], deals=[deal.pk])  # type: ignore[attr-defined]
                raise RuntimeError("the described part fails")
        except RuntimeError:
            pass
    assert any(change.everything for change in published)


def test_it_publishes_nothing_for_a_transaction_that_rolled_back(
    cast: Cast, deal: object, published: list[changes.Change]
) -> None:
    with transaction.atomic():
        Task.objects.bulk_create([_task(cast, deal)])
        transaction.set_rollback(True)
    assert published == []


def test_it_publishes_everything_when_the_scopes_cannot_be_read(
    cast: Cast, deal: object, published: list[changes.Change], monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(deal_ids: set[int]) -> set[str]:
        raise ConnectionError("the database went away after the commit")

    monkeypatch.setattr(changes, "_deal_scopes", unreachable)
    with transaction.atomic():
        Task.objects.bulk_create([_task(cast, deal)])
        changes.changed(tables=[Task], deals=[deal.pk])  # type: ignore[attr-defined]
    assert [change.everything for change in published if change.deals] == [True]
