"""The admin in Chinese: every column an organization's admin sees has a Chinese header.

The walk reuses the scoping test's world (a row of every registered model), so a model or
column added tomorrow is checked the same way.
"""

from __future__ import annotations

import re

from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.utils import translation

from lodestar.org.admin_site import OrganizationScoped
from lodestar.org.models import Role
from tests.org.test_admin_scoping import REGISTERED, World, url, world  # noqa: F401 (fixture)

# A column header: a sortable column's link or a plain column's text.
HEADER = re.compile(r'<div class="text">(?:<a [^>]*>|<span>)(.*?)(?:</a>|</span>)</div>')
# A list filter's title ("以 角色").
FILTER_TITLE = re.compile(r"<h3>\s*(.*?)\s*</h3>", re.S)
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Names kept as they are in Chinese too.
KEPT = {"API", "ID", "SLA", "URL", "ERP", "PDF", "Token", "CSV", "SHA", "Webhook", "YAML"}


TAG = re.compile(r"<[^>]*>")


def untranslated(texts: list[str]) -> list[str]:
    words = [TAG.sub("", text).strip() for text in texts]
    return [text for text in words if any(w not in KEPT for w in LATIN_WORD.findall(text))]


def test_every_changelist_column_and_filter_reads_in_chinese(world: World) -> None:  # noqa: F811
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(world.b.people[Role.ADMIN])
    found = {}
    for model in REGISTERED:
        if not isinstance(admin.site._registry[model], OrganizationScoped):
            continue
        page = client.get(url(model, "changelist")).content.decode()
        headers = HEADER.findall(page) + FILTER_TITLE.findall(page)
        assert headers, model._meta.label  # the walk saw the table
        if english := untranslated(headers):
            found[model._meta.label] = english
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())


def test_every_model_and_field_label_of_ours_is_in_the_catalogue() -> None:
    labels = []
    for model in apps.get_models():
        if not model.__module__.startswith("lodestar."):
            continue
        labels += [model._meta.verbose_name, model._meta.verbose_name_plural]
        labels += [
            field.verbose_name
            for field in model._meta.get_fields()
            if field.concrete and not field.auto_created
        ]
    with translation.override("zh-hans"):
        assert untranslated([str(label) for label in labels]) == []
