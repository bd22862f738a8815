"""The one-time link an invited person opens to choose their password.

It is Django's password-reset token with a salt of its own, so an invitation link cannot be used
as a reset link (or the other way round), and a lifetime of its own: an invitation waits in a
mailbox for days (`LODESTAR_INVITATION_TIMEOUT`, default 7 days), a reset link for an hour
(`PASSWORD_RESET_TIMEOUT`). Like the reset token it stops working once the password is set or
the person signs in.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int

from lodestar.org.models import User

__all__ = ["InvitationTokenGenerator", "invitation_token_generator"]


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "lodestar.org.tokens.InvitationTokenGenerator"

    def check_token(self, user: User | None, token: str | None) -> bool:
        # Django's check measures the age against PASSWORD_RESET_TIMEOUT; this one against the
        # invitation's lifetime, read on use so a changed setting applies at once.
        if user is None or not token:
            return False
        try:
            stamp = base36_to_int(token.split("-", 1)[0])
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, stamp, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        age = self._num_seconds(self._now()) - stamp
        lifetime: int = settings.LODESTAR_INVITATION_TIMEOUT
        return age <= lifetime


invitation_token_generator = InvitationTokenGenerator()
