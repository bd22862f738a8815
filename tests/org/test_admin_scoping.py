"""The admin is scoped: an organization's admin reaches their own organization's rows only.

Two organizations get one row of every registered model. Org B's people then try every admin
page — lists, searches, change, history and delete pages, the password page, autocomplete,
bulk actions — against org A's rows. The models come from `admin.site._registry`, so a model
registered tomorrow is checked the same way (and the test asks for a row of it to be built).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone

from lodestar.crm.models import (
    Attachment,
    DailyReport,
    KnowledgeEntry,
    KnowledgeKind,
    StageTransition,
)
from lodestar.events.models import Event
from lodestar.insights.models import (
    CommunicationScore,
    DealActivity,
    Exemption,
    HandbookPush,
    HealthSnapshot,
    KnowledgeFile,
    KnowledgeStage,
)
from lodestar.integrations.models import CalendarFeed, Channel, ChannelConfig, Notification
from lodestar.org.admin_site import OrganizationScoped
from lodestar.org.models import ApiToken, Holiday, Membership, Organization, Role, Team, User
from lodestar.org.services import api_token_create, audit_record
from tests.factories import (
    AccountFactory,
    AlertFactory,
    ContactFactory,
    DecisionRoleFactory,
    ImportBatchFactory,
    ImportedRecordFactory,
    ImportProblemFactory,
    OpportunityFactory,
    ProductFactory,
    SavedMappingFactory,
    TaskFactory,
    UserFactory,
    WeeklyReportFactory,
    WeeklyReportScheduleFactory,
)

A_MARK = "ALPHAMARK"
ROLES = [Role.REP, Role.MANAGER, Role.OPS, Role.ADMIN]
REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


@dataclass(frozen=True)
class Tenant:
    org: Organization
    people: dict[str, User]


def build_tenant(slug: str, mark: str) -> Tenant:
    """One organization with a row of every model the admin shows, each text carrying `mark`."""
    now = timezone.now()
    org = Organization.objects.create(name=f"{mark} 公司", slug=slug)
    Holiday.objects.create(organization=org, date=dt.date(2026, 10, 1), name=f"{mark} 国庆")
    team = Team.objects.create(organization=org, name=f"{mark} 一组")
    people = {
        role: UserFactory(
            organization=org,
            role=role,
            team=team if role in (Role.REP, Role.MANAGER) else None,
            username=f"{slug}-{role}",
            display_name=f"{mark} {role}",
        )
        for role in ROLES
    }
    rep = people[Role.REP]
    team.manager = people[Role.MANAGER]
    team.save()
    api_token_create(user=rep, name=f"{mark} erp")
    audit_record(
        organization_id=org.pk, actor=rep, action="deal.advance", object_type=mark, object_id=1
    )
    role = DecisionRoleFactory(organization=org, name_zh=f"{mark} 决策人")
    account = AccountFactory(organization=org, owner=rep, name=f"{mark} 客户")
    contact = ContactFactory(account=account, name=f"{mark} 联系人", decision_role=role)
    product = ProductFactory(organization=org, name=f"{mark} 产品")
    handbook = KnowledgeEntry.objects.create(
        organization=org,
        key="objection_handling",
        title=f"{mark} 手册",
        kind=KnowledgeKind.HANDBOOK,
        product=product,
    )
    KnowledgeStage.objects.create(organization=org, entry=handbook, stage_key=f"{mark}-stage")
    KnowledgeFile.objects.create(
        organization=org,
        entry=handbook,
        file=f"tests/{slug}-handbook.pdf",
        original_name=f"{mark} 手册.pdf",
        content_type="application/pdf",
        size=10,
        sha256=mark.lower().ljust(64, "2"),
        uploaded_by=people[Role.OPS],
        uploaded_at=now,
    )
    deal = OpportunityFactory(owner=rep, account=account, name=f"{mark} 商机")
    StageTransition.objects.create(
        organization=org,
        opportunity=deal,
        from_stage="lead",
        to_stage=f"{mark}-stage",
        direction="forward",
        occurred_at=now,
        actor=rep,
    )
    Attachment.objects.create(
        organization=org,
        opportunity=deal,
        account=account,
        file=f"tests/{slug}.pdf",
        original_name=f"{mark}.pdf",
        content_type="application/pdf",
        size=10,
        sha256=mark.lower().ljust(64, "0"),
        uploaded_by=rep,
        uploaded_at=now,
    )
    DailyReport.objects.create(
        organization=org, author=rep, date=now.date(), body=f"{mark} 日报", submitted_at=now
    )
    event = Event.objects.create(
        organization=org,
        type="call",
        source="web",
        external_id=f"{mark}-call",
        occurred_at=now,
        recorded_at=now,
        actor=rep,
        opportunity=deal,
        account=account,
        contact=contact,
        with_customer=True,
    )
    TaskFactory(opportunity=deal, title=f"{mark} 任务", created_at=now)
    AlertFactory(
        opportunity=deal,
        subject_user=rep,
        recipient=people[Role.MANAGER],
        dedupe_key=f"{mark}-silence",
        message_zh=f"{mark} 沉默",
        message_en=f"{mark} silent",
        raised_at=now,
    )
    Exemption.objects.create(
        organization=org,
        opportunity=deal,
        declared_by=rep,
        reason_code="other",
        reason=f"{mark} 出差",
        starts_at=now,
        ends_at=now + dt.timedelta(days=3),
        recheck_at=now + dt.timedelta(days=1),
        created_at=now,
    )
    HealthSnapshot.objects.create(
        organization=org, rep=rep, date=now.date(), computed_at=now, score=70.0, threshold=60.0
    )
    score = CommunicationScore.objects.create(
        organization=org,
        event=event,
        opportunity=deal,
        rep=rep,
        occurred_at=now,
        score=40.0,
        final=True,
        computed_at=now,
    )
    HandbookPush.objects.create(
        organization=org,
        rep=rep,
        fired_by=score,
        handbook=handbook,
        handbook_key=f"{mark}-handbook",
        pushed_at=now,
    )
    DealActivity.objects.create(organization=org, opportunity=deal, events=1, customer_events=1)
    config = ChannelConfig.objects.create(
        organization=org,
        team=team,
        kind=Channel.DINGTALK,
        name=f"{mark} 机器人",
        webhook_url="https://oapi.dingtalk.com/robot/send?access_token=x",
    )
    Notification.objects.create(
        organization=org,
        recipient=rep,
        channel=Channel.DINGTALK,
        config=config,
        title=f"{mark} 通知",
        cause_key=f"{mark}-cause",
        dedupe_key=f"{mark}-dedupe",
        status="dead",
        next_attempt_at=now,
        created_at=now,
        last_error=f"{mark} timeout",
    )
    CalendarFeed.objects.create(user=rep, digest=mark.lower().ljust(64, "1"), created_at=now)
    batch = ImportBatchFactory(created_by=people[Role.OPS], original_name=f"{mark}.csv")
    ImportProblemFactory(batch=batch, message_en=f"{mark} empty")
    ImportedRecordFactory(created_by_batch=batch, key=f"{mark}-1", object_id=account.pk)
    SavedMappingFactory(updated_by=people[Role.OPS], signature=mark.lower().ljust(64, "3"))
    WeeklyReportScheduleFactory(organization=org, updated_by=people[Role.ADMIN])
    WeeklyReportFactory(team=team, generated_by=people[Role.MANAGER])
    return Tenant(org=org, people=people)


def rows_of_every_model() -> dict[type[models.Model], set[Any]]:
    return {model: set(model._base_manager.values_list("pk", flat=True)) for model in REGISTERED}


@dataclass(frozen=True)
class World:
    a: Tenant
    b: Tenant
    a_rows: dict[type[models.Model], set[Any]]
    b_rows: dict[type[models.Model], set[Any]]
    operator: User


@pytest.fixture
def world(db: None) -> World:
    operator = User.objects.create_superuser(username="root", password="pw-for-tests")
    before_b = rows_of_every_model()
    b = build_tenant("beta", "BETAMARK")
    before_a = rows_of_every_model()
    a = build_tenant("alpha", A_MARK)
    after = rows_of_every_model()
    return World(
        a=a,
        b=b,
        a_rows={model: after[model] - before_a[model] for model in REGISTERED},
        b_rows={model: before_a[model] - before_b[model] for model in REGISTERED},
        operator=operator,
    )


def signed_in(user: User) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def url(model: type[models.Model], view: str, *args: Any) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def org_a_ids(world: World, model: type[models.Model]) -> list[Any]:
    return sorted(world.a_rows.get(model, set()))


def shown_ids(response: Any) -> set[Any]:
    return set(response.context["cl"].queryset.values_list("pk", flat=True))


def model_id(model: type[models.Model]) -> str:
    return model._meta.label


def is_scoped(model: type[models.Model]) -> bool:
    return isinstance(admin.site._registry[model], OrganizationScoped)


def test_it_builds_a_row_of_every_registered_model_for_both_organizations(world: World) -> None:
    # Admins of other apps (Django's groups, sign-in records) are the operator's alone.
    for model in filter(is_scoped, REGISTERED):
        assert world.a_rows[model], f"build_tenant makes no {model._meta.label}: add one"
        assert world.b_rows[model], f"build_tenant makes no {model._meta.label}: add one"


@pytest.mark.parametrize("model", REGISTERED, ids=model_id)
def test_it_scopes_every_registered_admin_or_refuses_organization_admins(
    world: World, model: type[models.Model]
) -> None:
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/admin/")
    request.user = world.b.people[Role.ADMIN]
    if not isinstance(model_admin, OrganizationScoped):
        assert not model_admin.has_module_permission(request)
        assert not model_admin.has_view_permission(request)
    for inline in model_admin.get_inline_instances(request, obj=model_admin.model()):
        assert isinstance(inline, OrganizationScoped), type(inline).__name__


@pytest.mark.parametrize("role", [Role.REP, Role.MANAGER, Role.OPS])
def test_it_keeps_every_other_role_out_of_the_admin(world: World, role: str) -> None:
    client = signed_in(world.b.people[role])
    for page in [reverse("admin:index"), *(url(model, "changelist") for model in REGISTERED)]:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith(reverse("admin:login")), page


@pytest.mark.parametrize("role", [Role.REP, Role.MANAGER, Role.OPS])
def test_it_refuses_every_other_role_at_the_admin_sign_in(world: World, role: str) -> None:
    person = world.b.people[role]
    response = Client().post(
        reverse("admin:login"), {"username": person.username, "password": "pw-for-tests"}
    )
    assert response.status_code == 200
    assert not response.wsgi_request.user.is_authenticated


def test_it_signs_an_organization_admin_in_to_the_admin(world: World) -> None:
    person = world.b.people[Role.ADMIN]
    client = Client()
    response = client.post(
        reverse("admin:login"),
        {"username": person.username, "password": "pw-for-tests", "next": "/admin/"},
    )
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200


def test_it_signs_the_operator_in_to_the_admin(world: World) -> None:
    client = Client()
    response = client.post(
        reverse("admin:login"),
        {"username": world.operator.username, "password": "pw-for-tests", "next": "/admin/"},
    )
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize("model", REGISTERED, ids=model_id)
def test_it_lists_exactly_the_admins_own_organization(
    world: World, model: type[models.Model]
) -> None:
    response = signed_in(world.b.people[Role.ADMIN]).get(url(model, "changelist"))
    if not is_scoped(model):
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert shown_ids(response) == world.b_rows[model]
    assert A_MARK.encode() not in response.content  # filters, columns, counts


@pytest.mark.parametrize("model", REGISTERED, ids=model_id)
def test_it_finds_nothing_of_another_organization_by_search(
    world: World, model: type[models.Model]
) -> None:
    response = signed_in(world.b.people[Role.ADMIN]).get(url(model, "changelist"), {"q": A_MARK})
    if response.status_code == 403:
        return
    assert response.status_code == 200
    # Only the rows shown are checked: the search box echoes the term itself.
    assert shown_ids(response) <= world.b_rows[model]


@pytest.mark.parametrize("view", ["change", "history", "delete"])
@pytest.mark.parametrize("model", REGISTERED, ids=model_id)
def test_it_opens_no_page_of_another_organizations_row(
    world: World, model: type[models.Model], view: str
) -> None:
    client = signed_in(world.b.people[Role.ADMIN])
    for pk in org_a_ids(world, model):
        response = client.get(url(model, view, pk))
        assert response.status_code in (302, 403, 404), (view, pk)
        assert A_MARK.encode() not in response.content
        if response.status_code == 302:
            assert response["Location"] == reverse("admin:index")


def test_it_opens_the_pages_of_the_admins_own_rows(world: World) -> None:
    client = signed_in(world.b.people[Role.ADMIN])
    for model in REGISTERED:
        for pk in sorted(world.b_rows[model]):
            for view in ("change", "history"):
                assert client.get(url(model, view, pk)).status_code == 200, (model, view)


def test_it_changes_no_password_of_another_organizations_user(world: World) -> None:
    client = signed_in(world.b.people[Role.ADMIN])
    victim = world.a.people[Role.ADMIN]
    page = reverse("admin:auth_user_password_change", args=[victim.pk])
    assert client.get(page).status_code == 404
    client.post(page, {"password1": "Another-pw-1234", "password2": "Another-pw-1234"})
    victim.refresh_from_db()
    assert victim.check_password("pw-for-tests")


@pytest.mark.parametrize("model", REGISTERED, ids=model_id)
def test_it_acts_on_no_row_of_another_organization(world: World, model: type[models.Model]) -> None:
    admin_user = world.b.people[Role.ADMIN]
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    actions = admin.site._registry[model].get_actions(request)
    targets = org_a_ids(world, model)
    before = list(model._base_manager.filter(pk__in=targets).order_by("pk").values())
    client = signed_in(admin_user)
    for name in actions:
        chosen = {"action": name, "_selected_action": targets, "index": 0}
        confirmation = client.post(url(model, "changelist"), chosen)
        assert A_MARK.encode() not in confirmation.content, name
        client.post(url(model, "changelist"), {**chosen, "post": "yes"})
    after = list(model._base_manager.filter(pk__in=targets).order_by("pk").values())
    assert after == before


def relations_to_registered_models(model: type[models.Model]) -> list[Any]:
    return [
        field
        for field in model._meta.concrete_fields
        if field.is_relation and field.related_model in admin.site._registry
    ]


@pytest.mark.parametrize("model", REGISTERED, ids=model_id)
def test_it_completes_no_row_of_another_organization(
    world: World, model: type[models.Model]
) -> None:
    client = signed_in(world.b.people[Role.ADMIN])
    for field in relations_to_registered_models(model):
        response = client.get(
            reverse("admin:autocomplete"),
            {
                "app_label": model._meta.app_label,
                "model_name": model._meta.model_name,
                "field_name": field.name,
                "term": "",
            },
        )
        assert A_MARK.encode() not in response.content, field.name
        if response.status_code == 200:
            ids = {str(item["id"]) for item in response.json()["results"]}
            assert not ids & {str(pk) for pk in world.a_rows[field.related_model]}, field.name


def test_it_redirects_to_no_page_of_another_organizations_row(world: World) -> None:
    client = signed_in(world.b.people[Role.ADMIN])
    kind = ContentType.objects.get_for_model(Organization)
    missing = client.get(reverse("admin:view_on_site", args=[kind.pk, 10**9]))
    elsewhere = client.get(reverse("admin:view_on_site", args=[kind.pk, world.a.org.pk]))
    assert missing.status_code == elsewhere.status_code == 404
    assert missing.content == elsewhere.content


def test_it_mints_no_token_for_a_user_of_another_organization(world: World) -> None:
    victim = world.a.people[Role.ADMIN]
    response = signed_in(world.b.people[Role.ADMIN]).post(
        url(ApiToken, "add"), {"user": victim.pk, "name": "stolen"}
    )
    assert response.status_code == 200  # the form again, with its error
    assert response.context["adminform"].form.errors["user"]
    assert not ApiToken.objects.filter(name="stolen").exists()
    assert victim.username.encode() not in response.content
    assert A_MARK.encode() not in response.content


def test_it_mints_a_token_for_a_user_of_the_admins_own_organization(world: World) -> None:
    own = world.b.people[Role.REP]
    client = signed_in(world.b.people[Role.ADMIN])
    client.post(url(ApiToken, "add"), {"user": own.pk, "name": "erp"})
    assert ApiToken.objects.filter(user=own, name="erp").count() == 1


def test_it_never_shows_the_operator_to_an_organization_admin(world: World) -> None:
    # Even an operator who also holds a membership stays out of the organization's admin.
    Membership.objects.create(organization=world.b.org, user=world.operator, role=Role.ADMIN)
    client = signed_in(world.b.people[Role.ADMIN])
    assert world.operator.pk not in shown_ids(client.get(url(User, "changelist")))
    assert client.get(url(User, "change", world.operator.pk)).status_code == 302
    response = client.post(url(ApiToken, "add"), {"user": world.operator.pk, "name": "root"})
    assert response.context["adminform"].form.errors["user"]


def test_it_writes_new_rows_into_the_admins_own_organization(world: World) -> None:
    client = signed_in(world.b.people[Role.ADMIN])
    client.post(
        url(Holiday, "add"),
        {"organization": world.a.org.pk, "date": "2026-05-01", "name": "劳动节"},
    )
    assert Holiday.objects.get(name="劳动节").organization == world.b.org


def test_it_reports_a_duplicate_within_the_organization_as_a_form_error(world: World) -> None:
    response = signed_in(world.b.people[Role.ADMIN]).post(
        url(Holiday, "add"), {"date": "2026-10-01", "name": "again"}
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Holiday.objects.filter(name="again").exists()


def test_it_places_a_user_made_by_an_organization_admin_in_that_organization(
    world: World,
) -> None:
    signed_in(world.b.people[Role.ADMIN]).post(
        url(User, "add"),
        {
            "username": "newcomer",
            "password1": "Newcomer-pw-2026",
            "password2": "Newcomer-pw-2026",
            "usable_password": "true",
        },
    )
    newcomer = User.objects.get(username="newcomer")
    assert newcomer.membership.organization == world.b.org
    assert newcomer.membership.role == Role.REP
    assert not newcomer.is_superuser


def test_it_lets_an_organization_admin_neither_add_nor_delete_an_organization(
    world: World,
) -> None:
    client = signed_in(world.b.people[Role.ADMIN])
    assert client.get(url(Organization, "add")).status_code == 403
    assert client.get(url(Organization, "delete", world.b.org.pk)).status_code == 403
    assert client.get(url(Organization, "change", world.b.org.pk)).status_code == 200


def test_it_offers_an_organization_admin_no_operator_or_staff_switches(world: World) -> None:
    own = world.b.people[Role.REP]
    page = signed_in(world.b.people[Role.ADMIN]).get(url(User, "change", own.pk))
    form = page.context["adminform"].form
    assert not {"is_superuser", "is_staff", "groups", "user_permissions"} & set(form.fields)


@pytest.mark.parametrize("model", REGISTERED, ids=model_id)
def test_it_shows_the_operator_every_organization(world: World, model: type[models.Model]) -> None:
    response = signed_in(world.operator).get(url(model, "changelist"))
    assert response.status_code == 200
    assert shown_ids(response) >= world.a_rows[model] | world.b_rows[model]
