"""A new organization and its first administrator, as the installation's operator makes them
(`lodestar org create`): the step before anything can be imported or published into it."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email, validate_slug
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from lodestar.errors import FieldError, ValidationFailed
from lodestar.org.models import Membership, Organization, Role, User, validate_time_zone
from lodestar.org.services import audit_record

__all__ = ["Founded", "organization_create"]


@dataclass(frozen=True)
class Founded:
    organization: Organization
    admin: User


def _problems_of(field: str, check: object, value: str) -> list[FieldError]:
    try:
        check(value)  # type: ignore[operator]
    except ValidationError as exc:
        return [FieldError(field=field, message=message) for message in exc.messages]
    return []


def _check(
    *, name: str, slug: str, time_zone: str, admin_username: str, admin_email: str
) -> list[FieldError]:
    problems: list[FieldError] = []
    if not name:
        problems.append(FieldError("name", _("Give the organization a name.")))
    elif len(name) > 200:
        problems.append(FieldError("name", _("The name is longer than 200 characters.")))
    slug_problems = _problems_of("slug", validate_slug, slug) if slug else []
    if not slug:
        slug_problems = [FieldError("slug", _("Give the organization a short name for URLs."))]
    elif len(slug) > 64:
        slug_problems.append(FieldError("slug", _("The short name is longer than 64 characters.")))
    elif not slug_problems and Organization.objects.filter(slug=slug).exists():
        slug_problems.append(
            FieldError(
                "slug",
                _("An organization is called “%(slug)s” already; choose another short name.")
                % {"slug": slug},
            )
        )
    problems += slug_problems
    problems += _problems_of("time_zone", validate_time_zone, time_zone)
    problems += _problems_of("admin_email", validate_email, admin_email)
    if User.objects.filter(username__iexact=admin_username).exists():
        problems.append(
            FieldError(
                "admin_username",
                _("The user name “%(username)s” is taken; choose another.")
                % {"username": admin_username},
            )
        )
    return problems


def organization_create(
    *,
    name: str,
    slug: str,
    admin_email: str,
    admin_name: str = "",
    admin_username: str = "",
    password: str | None = None,
    time_zone: str = "Asia/Shanghai",
) -> Founded:
    """Create an organization and its first administrator in one step; every problem with the
    input is reported at once, and nothing is created unless all is well.

    The administrator signs in with `password` when one is given (checked by the password
    rules); without one their password is unusable until they choose it through an invitation
    link (`lodestar.org.tokens`). Their user name defaults to the e-mail address.
    """
    name, slug, admin_email = name.strip(), slug.strip(), admin_email.strip()
    admin_username = admin_username.strip() or admin_email
    problems = _check(
        name=name,
        slug=slug,
        time_zone=time_zone,
        admin_username=admin_username,
        admin_email=admin_email,
    )
    admin = User(
        username=admin_username,
        email=admin_email,
        display_name=admin_name.strip() or admin_email.split("@")[0],
        is_active=True,
    )
    if password is not None:
        problems += _problems_of("password", lambda text: validate_password(text, admin), password)
    if problems:
        raise ValidationFailed(details=problems)
    with transaction.atomic():
        organization = Organization.objects.create(name=name, slug=slug, time_zone=time_zone)
        if password is None:
            admin.set_unusable_password()
        else:
            admin.set_password(password)
        admin.save()
        Membership.objects.create(organization=organization, user=admin, role=Role.ADMIN)
        audit_record(
            organization_id=organization.pk,
            actor=None,
            action="organization.create",
            object_type="organization",
            object_id=organization.pk,
            data={"admin_id": admin.pk},
        )
    return Founded(organization, admin)
