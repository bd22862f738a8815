"""Huey tasks of the pages: sending a password-reset mail.

The request only queues the mail, so asking for a reset takes as long whether or not an account
has the address (an SMTP round trip in the request would tell who has an account) and a slow
or unreachable mail server does not hold a web process.
"""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage
from huey.contrib.djhuey import task

__all__ = ["send_password_reset_mail"]

logger = logging.getLogger(__name__)


# Retried a few times: a mail server that is briefly away should not lose the link, which holds
# for PASSWORD_RESET_TIMEOUT anyway.
@task(retries=3, retry_delay=60)
def send_password_reset_mail(subject: str, body: str, from_email: str | None, to: str) -> None:
    EmailMessage(subject, body, from_email, [to]).send(fail_silently=False)
    logger.info("Password reset mail sent.")
