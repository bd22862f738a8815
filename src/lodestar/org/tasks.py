"""Huey tasks of the organization app: sending an invitation mail.

The invitation is rendered in the request (in the inviting admin's language) and only its
sending waits for the worker, as the password-reset mail does (`lodestar.web.tasks`): a slow or
unreachable mail server neither holds a web process nor rolls back the new account.
"""

from __future__ import annotations

import logging

from django.core.mail import EmailMessage
from huey.contrib.djhuey import task

__all__ = ["send_invitation_mail"]

logger = logging.getLogger(__name__)


# Retried a few times: a mail server that is briefly away should not lose the invitation; an
# admin can send it again from the members page in any case.
@task(retries=3, retry_delay=60)
def send_invitation_mail(subject: str, body: str, from_email: str | None, to: str) -> None:
    EmailMessage(subject, body, from_email, [to]).send(fail_silently=False)
    logger.info("Invitation mail sent.")
