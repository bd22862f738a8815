"""The Django admin keeps the organization's last active administrator, as the team page does."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from lodestar.org.admin import MembershipForm, UserForm
from lodestar.org.models import Membership, Role, User
from tests.conftest import Cast
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _signed_in(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def _membership_form(member: Membership, role: str) -> MembershipForm:
    return MembershipForm(
        data={"user": member.user_id, "organization": member.organization_id, "role": role},
        instance=member,
    )


def test_the_last_admin_cannot_be_demoted_in_the_admin(cast: Cast) -> None:
    member = cast.admin.membership
    with translation.override("en"):
        form = _membership_form(member, Role.REP)
        assert not form.is_valid()
        assert "last active administrator" in form.errors["role"][0]


def test_an_admin_can_be_demoted_while_another_stays(cast: Cast) -> None:
    UserFactory(organization=cast.org, role=Role.ADMIN, username="second-admin")
    member = cast.admin.membership
    form = _membership_form(member, Role.REP)
    assert form.is_valid(), form.errors


def test_a_deactivated_second_admin_does_not_count(cast: Cast) -> None:
    UserFactory(organization=cast.org, role=Role.ADMIN, username="gone-admin", is_active=False)
    assert not _membership_form(cast.admin.membership, Role.MANAGER).is_valid()


def test_the_last_admin_cannot_be_switched_off_in_the_admin(cast: Cast) -> None:
    data = {
        "username": cast.admin.username,
        "date_joined_0": "2026-01-01",
        "date_joined_1": "08:00:00",
        "is_active": "",
    }
    with translation.override("en"):
        form = UserForm(data=data, instance=cast.admin)
        assert not form.is_valid()
        assert "cannot be deactivated" in form.errors["is_active"][0]


def test_the_admin_site_refuses_to_save_the_last_admins_demotion(cast: Cast) -> None:
    member = cast.admin.membership
    response = _signed_in(cast.admin).post(
        reverse("admin:org_membership_change", args=[member.pk]),
        {"user": cast.admin.pk, "role": Role.REP, "team": ""},
    )
    assert response.status_code == 200
    assert "last active administrator" in response.content.decode()
    member.refresh_from_db()
    assert member.role == Role.ADMIN


@pytest.mark.parametrize("model", ["user", "membership"])
def test_the_admin_site_offers_no_delete_of_the_last_admin(cast: Cast, model: str) -> None:
    row = cast.admin if model == "user" else cast.admin.membership
    client = _signed_in(cast.admin)
    assert client.get(reverse(f"admin:org_{model}_delete", args=[row.pk])).status_code == 403
    assert User.objects.filter(pk=cast.admin.pk).exists()


def test_the_admin_site_still_deletes_a_rep(cast: Cast) -> None:
    client = _signed_in(cast.admin)
    response = client.get(reverse("admin:org_user_delete", args=[cast.teammate.pk]))
    assert response.status_code == 200
