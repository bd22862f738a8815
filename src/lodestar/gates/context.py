"""Build the engine's plain `DealContext` for a deal from the database."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from lodestar.core.playbook.model import Playbook
from lodestar.core.rules import (
    AccountData,
    AttachmentData,
    ContactData,
    DealContext,
    DealData,
    EventData,
    FieldValue,
    field_values_from_json,
)
from lodestar.crm.models import Attachment, Contact, Opportunity, TextStatus
from lodestar.events.models import Event

__all__ = ["MEETING_EVENT_TYPES", "deal_context"]

# Events whose payload lists the customer's attendees (`attendee_contact_ids`).
MEETING_EVENT_TYPES = ("meeting.held", "demo.held")
# The engine looks back over at most this many of a deal's latest events.
EVENT_WINDOW = 2000


def _custom_fields(playbook: Playbook | None, stored: dict[str, Any]) -> dict[str, FieldValue]:
    # Values that no longer fit their field (the playbook changed) count as not set.
    return field_values_from_json(playbook, stored)[0] if playbook is not None else {}


def deal_context(
    *, opportunity: Opportunity, now: dt.datetime, playbook: Playbook | None
) -> DealContext:
    """Everything the gates of `opportunity` may look at, as of `now`, its explanations worded
    in the organization's time zone (4 queries, and one for the organization unless loaded)."""
    account = opportunity.account
    events = list(
        Event.objects.filter(opportunity=opportunity, occurred_at__lte=now)
        .order_by("-occurred_at", "-id")
        .values_list("id", "type", "occurred_at", "payload")[:EVENT_WINDOW]
    )
    attended: defaultdict[int, set[str]] = defaultdict(set)
    for event_id, event_type, _at, payload in events:
        if event_type in MEETING_EVENT_TYPES:
            for contact_id in payload.get("attendee_contact_ids") or ():
                attended[contact_id].update((event_type, f"event:{event_id}"))
    contacts = tuple(
        ContactData(
            name=contact.name,
            title=contact.title,
            role=contact.decision_role.key if contact.decision_role else None,
            is_decision_maker=contact.is_decision_maker,
            attended=frozenset(attended.get(contact.pk, ())),
        )
        for contact in Contact.objects.filter(account_id=opportunity.account_id).select_related(
            "decision_role"
        )
    )
    attachments = tuple(
        AttachmentData(
            kind=attachment.kind,
            content_type=attachment.content_type,
            uploaded_at=attachment.uploaded_at,
            text_length=attachment.text_length,
            name=attachment.original_name,
            text_pending=attachment.text_status == TextStatus.PENDING,
        )
        for attachment in Attachment.objects.filter(
            opportunity=opportunity, uploaded_at__lte=now
        ).only("kind", "content_type", "uploaded_at", "text_length", "original_name", "text_status")
    )
    return DealContext(
        deal=DealData(
            stage=opportunity.stage_key,
            amount=opportunity.amount,
            currency=opportunity.currency,
            expected_close_date=opportunity.expected_close_date,
            status=opportunity.status,
            fields=_custom_fields(playbook, opportunity.custom_fields),
            stage_entered_at=opportunity.stage_entered_at,
            id=str(opportunity.pk),
        ),
        now=now,
        account=AccountData(
            industry=account.industry,
            tier=account.tier,
            repurchase_rate=float(account.repurchase_rate),
        ),
        contacts=contacts,
        attachments=attachments,
        events=tuple(
            EventData(type=event_type, occurred_at=at, payload=payload)
            for _id, event_type, at, payload in reversed(events)
        ),
        zone=opportunity.organization.tz,
    )
