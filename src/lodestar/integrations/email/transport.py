"""E-mail through Django's mail API (SMTP in production, whatever EMAIL_BACKEND says elsewhere).

The Message-ID is derived from the notification, so if a crash makes the worker send one twice,
mail clients show it once.
"""

from __future__ import annotations

import smtplib
from typing import ClassVar

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from lodestar.integrations.formatting import plain_text
from lodestar.integrations.transport import (
    Destination,
    Message,
    PermanentError,
    RetryableError,
    Transport,
)

__all__ = ["EmailTransport"]

TIMEOUT_SECONDS = 15


def _message_id(message: Message) -> str:
    sender = str(settings.DEFAULT_FROM_EMAIL)
    domain = sender.rpartition("@")[2].strip(">") or "lodestar.invalid"
    return f"<{message.idempotency_key}@{domain}>"


class EmailTransport(Transport):
    kind: ClassVar[str] = "email"

    def build(self, message: Message, destination: Destination) -> EmailMessage:
        return EmailMessage(
            subject=message.title.replace("\n", " "),
            body=plain_text(message),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[destination.email_address],
            headers={"Message-ID": _message_id(message)},
        )

    def send(self, message: Message, destination: Destination) -> None:
        if not destination.email_address:
            raise PermanentError("no e-mail address for this recipient")
        email = self.build(message, destination)
        try:
            connection = get_connection(fail_silently=False, timeout=TIMEOUT_SECONDS)
            email.connection = connection
            email.send(fail_silently=False)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _text in exc.recipients.values()]
            if all(400 <= code < 500 for code in codes):
                raise RetryableError(f"recipient deferred: {exc.recipients}") from exc
            raise PermanentError(f"recipient refused: {exc.recipients}") from exc
        except smtplib.SMTPResponseException as exc:
            # 4xx replies are the server's "try again later"; 5xx are final.
            error = f"SMTP {exc.smtp_code}: {exc.smtp_error!r}"
            if 400 <= exc.smtp_code < 500:
                raise RetryableError(error) from exc
            raise PermanentError(error) from exc
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError) as exc:
            raise RetryableError(f"SMTP connection: {exc}") from exc
        except smtplib.SMTPException as exc:
            raise PermanentError(f"SMTP: {exc}") from exc
        except (TimeoutError, ConnectionError, OSError) as exc:
            raise RetryableError(f"SMTP connection: {exc!r}") from exc
