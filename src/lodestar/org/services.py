"""Writes for people and access: API tokens and the audit trail."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from lodestar.errors import FieldError, ValidationFailed
from lodestar.org.models import ApiToken, AuditEntry, User
from lodestar.org.selectors import membership_of

__all__ = [
    "TOKEN_TOUCH_INTERVAL",
    "api_token_authenticate",
    "api_token_create",
    "api_token_revoke",
    "audit_record",
    "audit_record_about_user",
    "operator_create",
]

# `last_used_at` is written at most this often per token, so busy clients cost no write per call.
TOKEN_TOUCH_INTERVAL = dt.timedelta(minutes=1)


def audit_record(
    *,
    organization_id: int,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: object,
    data: dict[str, Any] | None = None,
    at: dt.datetime | None = None,
) -> AuditEntry:
    """Append one line to the organization's audit trail."""
    return AuditEntry.objects.create(
        organization_id=organization_id,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        at=at or timezone.now(),
        data=data or {},
    )


def audit_record_about_user(
    *,
    user: User,
    actor: User | None,
    action: str,
    object_type: str,
    object_id: object,
    data: dict[str, Any] | None = None,
) -> AuditEntry | None:
    """Append one line to the audit trail of `user`'s organization; None for a user of no
    organization (the installation's operator), whose actions belong to no trail."""
    membership = membership_of(user=user)
    if membership is None:
        return None
    return audit_record(
        organization_id=membership.organization_id,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        data=data,
    )


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a personal token for `user`; returns the token and its raw secret.

    The secret is returned exactly once: only its SHA-256 digest is stored.
    """
    name = name.strip()
    if not name:
        raise ValidationFailed.on("name", _("Give the token a name."))
    if len(name) > getattr(ApiToken._meta.get_field("name"), "max_length", 100):
        raise ValidationFailed.on("name", _("The name is too long."))
    secret = ApiToken.new_secret()
    token = ApiToken.objects.create(
        user=user,
        name=name,
        digest=ApiToken.digest_of(secret),
        hint=secret[: len(ApiToken.PREFIX) + 4],
    )
    audit_record_about_user(
        user=user,
        actor=user,
        action="api_token.create",
        object_type="api_token",
        object_id=token.pk,
        data={"name": name},
    )
    return token, secret


@transaction.atomic
def api_token_revoke(*, token: ApiToken, actor: User | None = None) -> ApiToken:
    """Revoke `token` from now on; revoking twice keeps the first revocation time."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record_about_user(
            user=token.user,
            actor=actor,
            action="api_token.revoke",
            object_type="api_token",
            object_id=token.pk,
        )
    return token


def api_token_authenticate(*, raw: str, now: dt.datetime | None = None) -> User | None:
    """The active user behind a presented secret, or None for unknown or revoked tokens.

    Not a transaction: the `last_used_at` touch is a single conditional UPDATE, so concurrent
    requests with one token write it once per interval at most.
    """
    if not raw or not raw.startswith(ApiToken.PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user", "user__membership")
        .filter(digest=ApiToken.digest_of(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = now or timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= TOKEN_TOUCH_INTERVAL:
        ApiToken.objects.filter(pk=token.pk, last_used_at=token.last_used_at).update(
            last_used_at=now
        )
    return token.user


@transaction.atomic
def operator_create(*, username: str, email: str, password: str) -> User:
    """Create an operator: the installation's Django superuser, who sees every organization.

    This is the only way the application makes a superuser. An operator belongs to no
    organization (an organization's admins use the admin through their membership role).
    Every problem with the input is reported at once, one line per field.
    """
    username = username.strip()
    email = email.strip()
    problems: list[FieldError] = []
    username_field = User._meta.get_field("username")
    try:
        if not username:
            raise ValidationError(_("Give the operator a user name."))
        username_field.run_validators(username)
    except ValidationError as exc:
        problems += [FieldError(field="username", message=m) for m in exc.messages]
    else:
        if User.objects.filter(username__iexact=username).exists():
            problems.append(
                FieldError(
                    field="username",
                    message=_("The user name “%(username)s” is taken; choose another.")
                    % {"username": username},
                )
            )
    try:
        validate_email(email)
    except ValidationError as exc:
        problems += [FieldError(field="email", message=m) for m in exc.messages]
    try:
        validate_password(password, User(username=username, email=email))
    except ValidationError as exc:
        problems += [FieldError(field="password", message=m) for m in exc.messages]
    if problems:
        raise ValidationFailed(details=problems)
    return User.objects.create_superuser(username=username, email=email, password=password)
