"""The invitation link: its own token, its own lifetime, a page for a first password."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.test import Client, TestCase, override_settings
from django.utils import translation

from lodestar.org.members import member_invite
from lodestar.org.models import Role, User
from lodestar.org.tokens import InvitationTokenGenerator, invitation_token_generator
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

SITE = "http://testserver"


def _invite(cast: Cast) -> tuple[User, str]:
    with translation.override("en"), TestCase.captureOnCommitCallbacks(execute=True):
        member = member_invite(
            user=cast.admin,
            display_name="赵新人",
            email="zhao@example.com",
            role=Role.REP,
            team_id=cast.team.pk,
            site=SITE,
        )
    [message] = mail.outbox
    link = re.search(r"http://testserver(/invitation/\S+/\S+/)", message.body)
    assert link is not None, message.body
    return member.user, link.group(1)


class _Later(InvitationTokenGenerator):
    """The generator as it will judge a token `days` from now."""

    def __init__(self, days: float) -> None:
        super().__init__()
        self.days = days

    def _now(self) -> dt.datetime:
        return super()._now() + dt.timedelta(days=self.days)


def test_the_invitation_mail_says_the_link_holds_for_seven_days(cast: Cast) -> None:
    _invite(cast)
    assert "for 7 days" in mail.outbox[0].body


@override_settings(PASSWORD_RESET_TIMEOUT=3600)
def test_an_invitation_link_still_works_days_after_a_reset_link_would_have_expired(
    cast: Cast,
) -> None:
    invited, _ = _invite(cast)
    token = invitation_token_generator.make_token(invited)
    assert _Later(days=6.9).check_token(invited, token)
    assert not _Later(days=7.1).check_token(invited, token)


@override_settings(LODESTAR_INVITATION_TIMEOUT=2 * 86400)
def test_the_invitation_lifetime_follows_its_setting(cast: Cast) -> None:
    invited, _ = _invite(cast)
    token = invitation_token_generator.make_token(invited)
    assert _Later(days=1.9).check_token(invited, token)
    assert not _Later(days=2.1).check_token(invited, token)


def test_an_invitation_token_is_no_password_reset_token(cast: Cast) -> None:
    invited, _ = _invite(cast)
    token = invitation_token_generator.make_token(invited)
    assert not default_token_generator.check_token(invited, token)
    assert not invitation_token_generator.check_token(
        invited, default_token_generator.make_token(invited)
    )


@pytest.mark.parametrize("token", ["", "nonsense", "zz-zz", "-"])
def test_a_malformed_invitation_token_is_refused(cast: Cast, token: str) -> None:
    invited, _ = _invite(cast)
    assert not invitation_token_generator.check_token(invited, token)


def test_the_invited_person_chooses_a_password_and_the_link_then_stops_working(
    cast: Cast,
) -> None:
    invited, path = _invite(cast)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    form = client.get(path, follow=True)
    assert form.status_code == 200
    assert "Choose your password" in form.content.decode()
    response = client.post(
        form.redirect_chain[-1][0],
        {"new_password1": "Lodestar-2026-first", "new_password2": "Lodestar-2026-first"},
    )
    assert response.status_code == 302
    invited.refresh_from_db()
    assert invited.check_password("Lodestar-2026-first")
    again = Client(HTTP_ACCEPT_LANGUAGE="en").get(path, follow=True)
    assert "This invitation link has expired or was already used" in again.content.decode()
