"""Writes that staff an organization, made by its administrators: inviting people, setting
their role and team, deactivating someone with a handover of their open work, reactivating
them, and creating and renaming teams. The members pages and the API call these same services;
each write is audited.

Rules every write keeps:

- only an administrator of the organization may make them (`PermissionDenied` otherwise);
- a person or team of another organization is never found (`NotFound`), whatever its id;
- the organization always keeps an active administrator: the last one cannot be demoted or
  deactivated (the admin rows are locked first, so two admins demoting each other at once
  cannot both succeed);
- a team's manager is an active member with the manager role, and a manager who still manages
  a team keeps that role until the team has another manager.

Deactivating someone hands their open work to a successor in the same transaction. The apps
that own that work register their handover in `LODESTAR_MEMBER_HANDOVER_STEPS` (the deals app
its open deals and the accounts, the automation app the open tasks), so this app names none of
them. Each step is called as `step(organization_id=…, from_user_id=…, to_user_id=…, now=…)` and
answers what it moved, e.g. `{"deals": 3}`.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.core.validators import validate_email
from django.db import transaction
from django.dispatch import receiver
from django.template import loader
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from lodestar.errors import FieldError, NotFound, PermissionDenied, ValidationFailed
from lodestar.org.models import ApiToken, Membership, Role, Team, User
from lodestar.org.selectors import Actor, actor_of
from lodestar.org.services import audit_record
from lodestar.org.tasks import send_invitation_mail
from lodestar.org.tokens import invitation_token_generator

__all__ = [
    "KEEP",
    "Handover",
    "MemberHandoverStep",
    "invitation_send",
    "member_deactivate",
    "member_handover_steps",
    "member_invitation_resend",
    "member_invite",
    "member_reactivate",
    "member_update",
    "team_create",
    "team_update",
]


class _Keep(enum.Enum):
    KEEP = "keep"


# Passed for a value an update leaves as it is (None already means "no team", "no manager").
KEEP = _Keep.KEEP

# The roles that own deals and tasks: a successor must be able to work what they take over.
_WORKING_ROLES = (Role.REP, Role.MANAGER, Role.ADMIN)


class MemberHandoverStep(Protocol):
    def __call__(
        self, *, organization_id: int, from_user_id: int, to_user_id: int, now: dt.datetime
    ) -> Mapping[str, int]: ...


@functools.cache
def member_handover_steps() -> tuple[MemberHandoverStep, ...]:
    """The steps of `LODESTAR_MEMBER_HANDOVER_STEPS`, imported on first use."""
    return tuple(import_string(path) for path in settings.LODESTAR_MEMBER_HANDOVER_STEPS)


@receiver(setting_changed)
def _forget_steps(*, setting: str, **kwargs: Any) -> None:
    if setting == "LODESTAR_MEMBER_HANDOVER_STEPS":
        member_handover_steps.cache_clear()


# --- checks shared by the writes -----------------------------------------------------------------


def _require_admin(user: User) -> Actor:
    actor = actor_of(user=user)
    if actor is None or not actor.is_admin:
        raise PermissionDenied(_("Only administrators manage members and teams."))
    return actor


def _member(actor: Actor, user_id: int, *, lock: bool = False) -> Membership:
    members = Membership.objects.select_related("user", "team")
    if lock:
        members = members.select_for_update(of=("self", "user"))
    member = members.filter(organization_id=actor.organization_id, user_id=user_id).first()
    if member is None:
        raise NotFound(_("No member %(id)s in your organization.") % {"id": user_id})
    return member


def _team(actor: Actor, team_id: int) -> Team:
    team = Team.objects.filter(organization_id=actor.organization_id, pk=team_id).first()
    if team is None:
        raise NotFound(_("No team %(id)s in your organization.") % {"id": team_id})
    return team


def _role(value: str) -> Role:
    if value not in Role.values:
        raise ValidationFailed.on(
            "role",
            _("Choose one of the roles: %(roles)s.") % {"roles": ", ".join(Role.values)},
        )
    return Role(value)


def _other_active_admins(actor: Actor, *, besides: int) -> int:
    """How many other active admins the organization has; their rows stay locked until the
    transaction ends, so a concurrent demotion waits and then counts again."""
    admins = list(
        Membership.objects.select_for_update()
        .filter(organization_id=actor.organization_id, role=Role.ADMIN, user__is_active=True)
        .exclude(user_id=besides)
        .values_list("pk", flat=True)
    )
    return len(admins)


def _managed_team_names(member: Membership) -> list[str]:
    return list(
        Team.objects.filter(organization_id=member.organization_id, manager_id=member.user_id)
        .order_by("name")
        .values_list("name", flat=True)
    )


# --- invitations ---------------------------------------------------------------------------------


def _link_days() -> int:
    """How long an invitation link holds, in whole days (rounded up)."""
    timeout: int = settings.LODESTAR_INVITATION_TIMEOUT
    return max(math.ceil(timeout / 86400), 1)


def invitation_send(*, invited: User, inviter: User, site: str) -> None:
    """Mail `invited` a link to choose their password, queued for the worker once the
    transaction commits.

    The link opens the page that sets the password (`web:invitation-accept`): it works once,
    for `LODESTAR_INVITATION_TIMEOUT`, and only until the password is set. `site` is the
    address the link starts with (`https://crm.example.com`), as the request that invites saw
    it. The mail is written now, in the inviting admin's language.
    """
    link = site.rstrip("/") + reverse(
        "web:invitation-accept",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(invited.pk)),
            "token": invitation_token_generator.make_token(invited),
        },
    )
    context = {
        "user": invited,
        "inviter": inviter,
        "link": link,
        "link_days": _link_days(),
        "organization": invited.membership.organization,
    }
    subject = "".join(loader.render_to_string("org/invitation_subject.txt", context).splitlines())
    body = loader.render_to_string("org/invitation_email.txt", context)
    to = invited.email
    transaction.on_commit(lambda: send_invitation_mail(subject, body, None, to))


def _check_new_person(*, display_name: str, email: str, username: str) -> None:
    problems: list[FieldError] = []
    if not display_name:
        problems.append(FieldError("display_name", _("Give the person's name.")))
    elif len(display_name) > 100:
        problems.append(FieldError("display_name", _("The name is longer than 100 characters.")))
    try:
        validate_email(email)
    except ValidationError:
        problems.append(
            FieldError("email", _("“%(email)s” is not an e-mail address.") % {"email": email})
        )
    else:
        if User.objects.filter(email__iexact=email).exists():
            problems.append(
                FieldError(
                    "email",
                    _("Someone already has the e-mail address “%(email)s”.") % {"email": email},
                )
            )
    try:
        User._meta.get_field("username").run_validators(username)
    except ValidationError as exc:
        problems += [FieldError("username", message) for message in exc.messages]
    else:
        if User.objects.filter(username__iexact=username).exists():
            problems.append(
                FieldError(
                    "username",
                    _("The user name “%(username)s” is taken; choose another.")
                    % {"username": username},
                )
            )
    if problems:
        raise ValidationFailed(details=problems)


@transaction.atomic
def member_invite(
    *,
    user: User,
    display_name: str,
    email: str,
    role: str,
    team_id: int | None,
    site: str,
    username: str = "",
) -> Membership:
    """Create an active account in the admin's organization and mail the person a link to
    choose their password. Nobody, the admin included, ever sees or sets that password.

    The user name is the e-mail address unless one is given. Every problem with the input is
    reported at once, one line per field.
    """
    actor = _require_admin(user)
    display_name = display_name.strip()
    email = email.strip()
    username = (username.strip() or email).lower()
    new_role = _role(role)
    team = _team(actor, team_id) if team_id is not None else None
    _check_new_person(display_name=display_name, email=email, username=username)
    invited = User(username=username, email=email, display_name=display_name, is_active=True)
    invited.set_unusable_password()
    invited.save()
    member = Membership.objects.create(
        organization_id=actor.organization_id, user=invited, role=new_role, team=team
    )
    audit_record(
        organization_id=actor.organization_id,
        actor=user,
        action="member.invite",
        object_type="user",
        object_id=invited.pk,
        data={"email": email, "role": new_role.value, "team_id": team_id},
    )
    invitation_send(invited=invited, inviter=user, site=site)
    return member


@transaction.atomic
def member_invitation_resend(*, user: User, member_user_id: int, site: str) -> Membership:
    """Mail the set-password link again to an active member who has never signed in (the
    first link expired, or the mail went astray)."""
    actor = _require_admin(user)
    member = _member(actor, member_user_id)
    if not member.user.is_active:
        raise ValidationFailed.on(
            "user", _("%(name)s is deactivated; reactivate them first.") % {"name": member.user}
        )
    if member.user.last_login is not None:
        raise ValidationFailed.on(
            "user",
            _("%(name)s has signed in before; they can ask for a new password on the sign-in page.")
            % {"name": member.user},
        )
    audit_record(
        organization_id=actor.organization_id,
        actor=user,
        action="member.invite_again",
        object_type="user",
        object_id=member.user_id,
        data={"email": member.user.email},
    )
    invitation_send(invited=member.user, inviter=user, site=site)
    return member


# --- role and team -------------------------------------------------------------------------------


@transaction.atomic
def member_update(
    *,
    user: User,
    member_user_id: int,
    role: str | _Keep = KEEP,
    team_id: int | _Keep | None = KEEP,
) -> Membership:
    """Set a member's role and team (None: no team; `KEEP`: as it is)."""
    actor = _require_admin(user)
    member = _member(actor, member_user_id, lock=True)
    new_role = Role(member.role) if isinstance(role, _Keep) else _role(role)
    if isinstance(team_id, _Keep):
        team_id = member.team_id
    team = _team(actor, team_id) if team_id is not None else None
    old_role = Role(member.role)
    demoted = old_role == Role.ADMIN and new_role != Role.ADMIN and member.user.is_active
    if demoted and _other_active_admins(actor, besides=member.user_id) == 0:
        raise ValidationFailed.on(
            "role",
            _(
                "%(name)s is the organization's last active administrator; make someone "
                "else an administrator first."
            )
            % {"name": member.user},
        )
    if old_role == Role.MANAGER and new_role != Role.MANAGER:
        managed = _managed_team_names(member)
        if managed:
            raise ValidationFailed.on(
                "role",
                _(
                    "%(name)s manages %(teams)s; give those teams another manager on the "
                    "teams page first."
                )
                % {"name": member.user, "teams": ", ".join(managed)},
            )
    before = {"role": old_role.value, "team_id": member.team_id}
    member.role = new_role
    member.team = team
    member.save(update_fields=["role", "team"])
    after = {"role": new_role.value, "team_id": team_id}
    if before != after:
        audit_record(
            organization_id=actor.organization_id,
            actor=user,
            action="member.update",
            object_type="user",
            object_id=member.user_id,
            data={"before": before, "after": after},
        )
    return member


# --- deactivation and reactivation --------------------------------------------------------------


@dataclass(frozen=True)
class Handover:
    """What a deactivation moved to the successor: counts by kind (deals, accounts, tasks,
    teams), as the handover steps reported them."""

    member: Membership
    successor: Membership
    moved: dict[str, int]


@transaction.atomic
def member_deactivate(
    *, user: User, member_user_id: int, successor_id: int, now: dt.datetime | None = None
) -> Handover:
    """Deactivate a member and give their open deals, their accounts, their open tasks and the
    teams they manage to `successor_id`, all in one transaction: either everything moves and
    the account is closed, or nothing changes.

    The successor is another active member of the organization who works deals (a rep, a
    manager or an administrator). Teams pass to a successor who is a manager; otherwise they
    are left without a manager. The person's API tokens are revoked; their sign-in stops at
    their next request.
    """
    actor = _require_admin(user)
    now = now or timezone.now()
    member = _member(actor, member_user_id, lock=True)
    if member.user_id == actor.user_id:
        raise ValidationFailed.on(
            "user", _("You cannot deactivate yourself; ask another administrator.")
        )
    if not member.user.is_active:
        raise ValidationFailed.on(
            "user", _("%(name)s is already deactivated.") % {"name": member.user}
        )
    successor = _member(actor, successor_id)
    if successor.user_id == member.user_id:
        raise ValidationFailed.on(
            "successor",
            _("Choose someone else to take over the work of %(name)s.") % {"name": member.user},
        )
    if not successor.user.is_active:
        raise ValidationFailed.on(
            "successor",
            _("%(name)s is deactivated and cannot take over work.") % {"name": successor.user},
        )
    if successor.role not in _WORKING_ROLES:
        raise ValidationFailed.on(
            "successor",
            _(
                "%(name)s works in sales ops and cannot own deals; choose a rep, a manager or "
                "an administrator."
            )
            % {"name": successor.user},
        )
    if member.role == Role.ADMIN and _other_active_admins(actor, besides=member.user_id) == 0:
        raise ValidationFailed.on(
            "user",
            _("%(name)s is the organization's last active administrator and cannot be deactivated.")
            % {"name": member.user},
        )
    moved: dict[str, int] = {}
    for step in member_handover_steps():
        for kind, count in step(
            organization_id=actor.organization_id,
            from_user_id=member.user_id,
            to_user_id=successor.user_id,
            now=now,
        ).items():
            moved[kind] = moved.get(kind, 0) + count
    new_manager = successor.user_id if successor.role == Role.MANAGER else None
    moved["teams"] = Team.objects.filter(
        organization_id=actor.organization_id, manager_id=member.user_id
    ).update(manager_id=new_manager)
    member.user.is_active = False
    member.user.save(update_fields=["is_active"])
    revoked = ApiToken.objects.filter(user_id=member.user_id, revoked_at__isnull=True).update(
        revoked_at=now
    )
    audit_record(
        organization_id=actor.organization_id,
        actor=user,
        action="member.deactivate",
        object_type="user",
        object_id=member.user_id,
        data={"successor_id": successor.user_id, "moved": moved, "tokens_revoked": revoked},
        at=now,
    )
    return Handover(member=member, successor=successor, moved=moved)


@transaction.atomic
def member_reactivate(*, user: User, member_user_id: int) -> Membership:
    """Let a deactivated member sign in again with their old password (or a reset one). The
    work handed over stays with its new owners, and revoked API tokens stay revoked."""
    actor = _require_admin(user)
    member = _member(actor, member_user_id, lock=True)
    if member.user.is_active:
        raise ValidationFailed.on("user", _("%(name)s is already active.") % {"name": member.user})
    member.user.is_active = True
    member.user.save(update_fields=["is_active"])
    audit_record(
        organization_id=actor.organization_id,
        actor=user,
        action="member.reactivate",
        object_type="user",
        object_id=member.user_id,
    )
    return member


# --- teams ---------------------------------------------------------------------------------------


def _check_team_name(actor: Actor, name: str, *, besides: int | None = None) -> str:
    name = name.strip()
    if not name:
        raise ValidationFailed.on("name", _("Give the team a name."))
    if len(name) > 100:
        raise ValidationFailed.on("name", _("The name is longer than 100 characters."))
    taken = Team.objects.filter(organization_id=actor.organization_id, name=name)
    if besides is not None:
        taken = taken.exclude(pk=besides)
    if taken.exists():
        raise ValidationFailed.on(
            "name", _("A team named “%(name)s” already exists.") % {"name": name}
        )
    return name


def _check_manager(actor: Actor, manager_id: int | None) -> User | None:
    if manager_id is None:
        return None
    member = _member(actor, manager_id)
    if member.role != Role.MANAGER or not member.user.is_active:
        raise ValidationFailed.on(
            "manager",
            _(
                "%(name)s is not an active sales manager; give them the manager role first, "
                "or choose a manager."
            )
            % {"name": member.user},
        )
    return member.user


@transaction.atomic
def team_create(*, user: User, name: str, manager_id: int | None = None) -> Team:
    actor = _require_admin(user)
    checked = _check_team_name(actor, name)
    manager = _check_manager(actor, manager_id)
    team = Team.objects.create(organization_id=actor.organization_id, name=checked, manager=manager)
    audit_record(
        organization_id=actor.organization_id,
        actor=user,
        action="team.create",
        object_type="team",
        object_id=team.pk,
        data={"name": checked, "manager_id": manager_id},
    )
    return team


@transaction.atomic
def team_update(
    *,
    user: User,
    team_id: int,
    name: str | _Keep = KEEP,
    manager_id: int | _Keep | None = KEEP,
) -> Team:
    """Rename a team and set its manager (None: no manager; `KEEP`: as it is)."""
    actor = _require_admin(user)
    team = _team(actor, team_id)
    checked = _check_team_name(
        actor, team.name if isinstance(name, _Keep) else name, besides=team.pk
    )
    if isinstance(manager_id, _Keep):
        manager_id = team.manager_id
    manager = _check_manager(actor, manager_id)
    before = {"name": team.name, "manager_id": team.manager_id}
    team.name = checked
    team.manager = manager
    team.save(update_fields=["name", "manager"])
    after = {"name": checked, "manager_id": manager_id}
    if before != after:
        audit_record(
            organization_id=actor.organization_id,
            actor=user,
            action="team.update",
            object_type="team",
            object_id=team.pk,
            data={"before": before, "after": after},
        )
    return team
