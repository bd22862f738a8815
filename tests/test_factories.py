"""Every model of the project has a factory that saves valid rows within one organization.

A new model without a factory fails here: tests build data through `tests.factories`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from factory.django import DjangoModelFactory

from lodestar.org.models import Organization, User
from tests import factories

LODESTAR_MODELS = sorted(
    (m for m in apps.get_models() if m._meta.app_config.name.startswith("lodestar.")),
    key=lambda m: m._meta.label,
)
FACTORIES: dict[type[models.Model], type[DjangoModelFactory[Any]]] = {
    value._meta.model: value
    for value in vars(factories).values()
    if isinstance(value, type)
    and issubclass(value, DjangoModelFactory)
    and value._meta.model is not None
}


def organization_of(row: Any) -> int:
    if isinstance(row, Organization):
        return int(row.pk)
    if isinstance(row, User):
        return row.membership.organization_id
    if hasattr(row, "organization_id"):
        return int(row.organization_id)
    return organization_of(row.user)  # a user's own row: an API token, a calendar feed


def organizations_of(row: models.Model) -> set[int]:
    """The organization of `row` and of every row it points to."""
    related = [
        getattr(row, field.name)
        for field in row._meta.concrete_fields
        if field.is_relation and getattr(row, field.attname) is not None
    ]
    return {organization_of(row)} | {organization_of(other) for other in related}


@pytest.mark.parametrize("model", LODESTAR_MODELS, ids=lambda m: m._meta.label)
def test_each_model_has_a_factory_that_saves_valid_rows_in_one_organization(
    model: type[models.Model], db: None, settings: Any, tmp_path: Path
) -> None:
    settings.MEDIA_ROOT = tmp_path  # the attachment factory writes its file
    factory = FACTORIES.get(model)
    assert factory is not None, f"tests/factories.py has no factory for {model._meta.label}"

    rows: list[models.Model] = [factory.create(), factory.create()]  # unique fields differ

    for row in rows:
        row.full_clean()
        assert model._default_manager.filter(pk=row.pk).exists()
        assert len(organizations_of(row)) == 1, f"{row} spans organizations"
