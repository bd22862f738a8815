"""`lodestar webhook list / add / test`: an organization's outbound webhooks from the shell.

Each command acts as a member (`--as`, an admin or ops member), through the same services as the
pages and the API, so the same checks, audit lines and refusals apply.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Annotated

import typer

from lodestar.cli.common import console, fail, setup_django

if TYPE_CHECKING:
    from lodestar.org.models import User

app = typer.Typer(
    help="Outbound webhooks: list them, subscribe a URL, send a test.", no_args_is_help=True
)

# How long `test` waits for the worker's log line when the worker sent the test first.
WAIT_SECONDS = 15.0

AsUser = Annotated[
    str, typer.Option("--as", help="The user name of an admin or ops member acting.")
]


def _member(username: str) -> User:
    from lodestar.org.models import User
    from lodestar.org.selectors import membership_of

    user = User.objects.filter(username=username).first()
    if user is None or membership_of(user=user) is None:
        fail(f"no member named '{username}'; give the user name of an admin or ops member")
    return user


def _refused(exc: Exception) -> str:
    from lodestar.errors import ApplicationError

    if not isinstance(exc, ApplicationError):
        return str(exc)
    details = "; ".join(f"{d.field}: {d.message}" for d in exc.details)
    return f"{exc.message}" + (f" ({details})" if details else "")


@app.command("list")
def webhook_list(as_user: AsUser) -> None:
    """The organization's webhooks: id, state, URL, event types, failures in a row."""
    setup_django()
    from lodestar.errors import ApplicationError
    from lodestar.integrations import outbound_selectors

    user = _member(as_user)
    try:
        hooks = list(outbound_selectors.webhook_list(user=user))
    except ApplicationError as exc:
        fail(_refused(exc))
    if not hooks:
        console.print("no webhooks yet; add one with `lodestar webhook add URL --event TYPE`")
    for hook in hooks:
        state = "on" if hook.enabled else f"off ({hook.disabled_reason})"
        console.print(
            f"#{hook.pk} {state} {hook.url} [{', '.join(hook.event_types)}] "
            f"failures in a row: {hook.consecutive_failures}",
            markup=False,
        )


@app.command("add")
def webhook_add(
    url: Annotated[str, typer.Argument(help="The receiver's https:// URL.")],
    as_user: AsUser,
    event: Annotated[
        list[str],
        typer.Option(
            "--event",
            help="An event type (repeat for several): deal.stage_changed, deal.gate_refused, "
            "task.created, task.overdue, alert.raised, alert.resolved.",
        ),
    ],
    description: Annotated[str, typer.Option("--description", help="What it is for.")] = "",
) -> None:
    """Subscribe URL to the event types; prints the signing secret, this once."""
    setup_django()
    from lodestar.errors import ApplicationError
    from lodestar.integrations.outbound import webhook_create

    user = _member(as_user)
    try:
        hook, secret = webhook_create(
            user=user, url=url, event_types=event, description=description
        )
    except ApplicationError as exc:
        fail(_refused(exc))
    console.print(f"webhook #{hook.pk} subscribed to {', '.join(hook.event_types)}", markup=False)
    console.print("signing secret (shown this once; keep it in the receiving system):")
    console.print(secret, markup=False)


@app.command("test")
def webhook_test(
    webhook_id: Annotated[int, typer.Argument(help="The webhook's id (`lodestar webhook list`).")],
    as_user: AsUser,
) -> None:
    """Send a test delivery now and print what the receiver answered."""
    setup_django()
    from django.db import transaction

    from lodestar.errors import ApplicationError
    from lodestar.integrations import delivery, outbound_selectors
    from lodestar.integrations.models import WebhookAttempt
    from lodestar.integrations.outbound import webhook_send_test

    user = _member(as_user)
    try:
        with transaction.atomic():
            hook = outbound_selectors.access_webhook(user=user, webhook_id=webhook_id)
            sent = webhook_send_test(user=user, subscription=hook)
    except ApplicationError as exc:
        fail(_refused(exc))
    # Sent here and now; if the worker took it first, its log line is waited for.
    outcome = delivery.deliver(sent.pk)
    deadline = time.monotonic() + WAIT_SECONDS
    attempt = None
    while attempt is None and time.monotonic() < deadline:
        attempt = WebhookAttempt.objects.filter(delivery_id=sent.pk).order_by("-pk").first()
        if attempt is None:
            time.sleep(0.2)
    if attempt is None:
        fail(f"the test was not sent yet ({outcome}); see the webhook's log")
    status = attempt.status_code if attempt.status_code is not None else "no reply"
    line = f"{attempt.outcome}: HTTP {status} in {attempt.duration_ms} ms"
    console.print(line + (f" — {attempt.error}" if attempt.error else ""), markup=False)
    if attempt.outcome != "delivered":
        raise typer.Exit(code=1)
