"""Simplified Chinese formats: Django's, with amounts grouped by thousands ("¥1,280,000"), as
quotes, contracts and finance reports write them (Django's own leaves them ungrouped)."""

from django.conf.locale.zh_Hans.formats import *  # type: ignore[import-untyped]  # noqa: F403

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
