from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from lodestar.errors import ValidationFailed
from lodestar.org.models import ApiToken, AuditEntry
from lodestar.org.services import api_token_authenticate, api_token_create, api_token_revoke
from tests.conftest import Cast


def test_it_stores_only_the_digest_of_a_new_token(cast: Cast) -> None:
    token, secret = api_token_create(user=cast.owner, name="crm sync")
    assert secret.startswith(ApiToken.PREFIX)
    assert token.digest == ApiToken.digest_of(secret)
    assert secret not in (token.digest, token.hint)
    assert secret.startswith(token.hint)


def test_it_audits_token_creation(cast: Cast) -> None:
    token, _ = api_token_create(user=cast.owner, name="crm sync")
    entry = AuditEntry.objects.get(action="api_token.create")
    assert entry.object_id == str(token.pk)
    assert entry.organization == cast.org


def test_it_refuses_a_blank_token_name(cast: Cast) -> None:
    with pytest.raises(ValidationFailed) as exc:
        api_token_create(user=cast.owner, name="  ")
    assert exc.value.details[0].field == "name"


def test_it_authenticates_a_token_to_its_user(cast: Cast) -> None:
    _, secret = api_token_create(user=cast.owner, name="t")
    assert api_token_authenticate(raw=secret) == cast.owner


def test_it_refuses_a_revoked_token(cast: Cast) -> None:
    token, secret = api_token_create(user=cast.owner, name="t")
    api_token_revoke(token=token)
    assert api_token_authenticate(raw=secret) is None


def test_it_refuses_an_unknown_token(cast: Cast) -> None:
    assert api_token_authenticate(raw=ApiToken.new_secret()) is None


def test_it_refuses_the_token_of_an_inactive_user(cast: Cast) -> None:
    _, secret = api_token_create(user=cast.owner, name="t")
    cast.owner.is_active = False
    cast.owner.save()
    assert api_token_authenticate(raw=secret) is None


def test_it_keeps_the_first_revocation_time(cast: Cast) -> None:
    token, _ = api_token_create(user=cast.owner, name="t")
    first = api_token_revoke(token=token).revoked_at
    assert api_token_revoke(token=token).revoked_at == first


def test_it_touches_last_used_at_at_most_once_a_minute(cast: Cast) -> None:
    token, secret = api_token_create(user=cast.owner, name="t")
    start = timezone.now()
    api_token_authenticate(raw=secret, now=start)
    api_token_authenticate(raw=secret, now=start + dt.timedelta(seconds=30))
    token.refresh_from_db()
    assert token.last_used_at == start
    later = start + dt.timedelta(seconds=61)
    api_token_authenticate(raw=secret, now=later)
    token.refresh_from_db()
    assert token.last_used_at == later
