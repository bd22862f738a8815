"""Setting a new password by e-mail: Django's password-reset views with our rules around them.

- The request page answers the same, as fast, whether or not an account has the address (nobody
  learns who has an account here): the mail is queued for the worker (`tasks`), never sent in
  the request; it goes only to active accounts with a usable password.
- Each address may ask `PASSWORD_RESET_RATE_PER_HOUR` times an hour (`SignInThrottleMiddleware`)
  and each e-mail address receives at most `PASSWORD_RESET_EMAIL_RATE_PER_HOUR` mails an hour;
  requests beyond that are answered as usual and send nothing, so nobody can flood a mailbox.
- The link holds for `PASSWORD_RESET_TIMEOUT` seconds and only until the password changes or
  the user signs in (Django's token covers both).
- A new password ends a sign-in lock of the account and is written to the audit trail.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpResponse
from django.template import loader
from django.urls import reverse_lazy

from lodestar.org.models import User
from lodestar.org.services import audit_record_about_user
from lodestar.org.tokens import invitation_token_generator
from lodestar.throttling import Rate, hit
from lodestar.web.signin import sign_in_failures_forget
from lodestar.web.tasks import send_password_reset_mail

__all__ = [
    "InvitationAccept",
    "PasswordResetConfirm",
    "PasswordResetRequest",
    "PasswordResetRequestForm",
    "PasswordResetSent",
    "password_reset_complete",
]

logger = logging.getLogger(__name__)


class PasswordResetRequestForm(PasswordResetForm):
    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        # Rendered here, in the request's language; only the sending waits for the worker.
        subject = "".join(loader.render_to_string(subject_template_name, context).splitlines())
        body = loader.render_to_string(email_template_name, context)
        send_password_reset_mail(subject, body, from_email, to_email)

    def get_users(self, email: str) -> Iterable[Any]:
        rate = Rate(settings.PASSWORD_RESET_EMAIL_RATE_PER_HOUR, 3600)
        if hit(scope="password-reset:email", caller=email.strip().casefold(), rate=rate):
            logger.warning(
                "Password reset mails to one address beyond the hourly limit; none sent."
            )
            return iter(())
        return super().get_users(email)


def password_reset_complete(*, user: User) -> None:
    """`user` has set a new password through a reset link: end any sign-in lock of the
    account, and write it to the organization's audit trail."""
    sign_in_failures_forget(username=user.get_username())
    audit_record_about_user(
        user=user, actor=user, action="user.password_reset", object_type="user", object_id=user.pk
    )


def _link_hours() -> int:
    """How long a reset link holds, in whole hours (rounded up), as the mail and page say."""
    timeout: int = settings.PASSWORD_RESET_TIMEOUT
    return max(math.ceil(timeout / 3600), 1)


class PasswordResetRequest(auth_views.PasswordResetView):
    form_class = PasswordResetRequestForm
    template_name = "web/password_reset_form.html"
    email_template_name = "web/password_reset_email.txt"
    subject_template_name = "web/password_reset_subject.txt"
    success_url = reverse_lazy("web:password-reset-sent")

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        # Read when the mail goes out, as the setting may change while the process runs.
        self.extra_email_context = {"reset_hours": _link_hours()}
        return super().form_valid(form)


class PasswordResetSent(auth_views.PasswordResetDoneView):
    template_name = "web/password_reset_sent.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "reset_hours": _link_hours()}


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    template_name = "web/password_reset_confirm.html"
    success_url = reverse_lazy("web:password-reset-complete")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        password_reset_complete(user=form.user)
        return response


class InvitationAccept(PasswordResetConfirm):
    """The invited person chooses their first password: the reset page with the invitation's
    own token (its own salt and lifetime) and words for a first password."""

    token_generator = invitation_token_generator
    extra_context = {"invitation": True}
