"""One language at a time: every page each role can reach, in Chinese and in English.

A demo organization (the demo generator, loaded as `lodestar demo` loads it: scored, swept, with
alerts and notifications) is walked as its rep, manager, ops and admin, once with a Chinese
browser and once with an English one. The pages are every route of `lodestar.web.urls` that
answers a GET with a page (its parameters filled with objects the role may see), and every page
those pages link to: a page added to urls.py is swept without touching this test.

On each page the visible text (with every <details> opened, so the forms folded into the page
count too), the page title, placeholders, labels for screen readers and tooltips are read:

- in Chinese, a Latin word fails unless it is a product or format name (`ALLOWED_WORDS`) or
  part of the organization's data (account, deal, people's names … `data_names`);
- in English, any Chinese character fails unless it is part of the organization's data.

Every offender of every page is reported in one failure: the page and the text around it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.browser.conftest import DESKTOP, ONE_DATABASE_ENOUGH, PASSWORD, log_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    ONE_DATABASE_ENOUGH,
]

NOW = dt.datetime(2026, 12, 4, 10, 0, tzinfo=dt.UTC)
SLUG = "sweep"

# Names that stay as they are in a Chinese page: the product, formats, protocols, platforms
# and the sales words Chinese teams write in Latin letters.
ALLOWED_WORDS = frozenset(
    word.lower()
    for word in [
        "Lodestar",
        "API",
        "REST",
        "OpenAPI",
        "JSON",
        "CSV",
        "PDF",
        "JPG",
        "JPEG",
        "PNG",
        "GIF",
        "WEBP",
        "HEIC",
        "CSV",
        "XLSX",
        "XLS",
        "DOCX",
        "DOC",
        "PPT",
        "PPTX",
        "TXT",
        "ZIP",
        "Excel",
        "Word",
        "PowerPoint",
        "WeCom",
        "DingTalk",
        "Feishu",
        "Outlook",
        "iCalendar",
        "ics",
        "URL",
        "HTTP",
        "HTTPS",
        "SMTP",
        "ID",
        "CRM",
        # The encodings and the exports the import page names.
        "UTF",
        "GBK",
        "Salesforce",
        "Maven",
        "ERP",
        "MES",
        "SaaS",
        "POC",
        "KPI",
        "SKU",
        "CNY",
        "OCR",
        "YAML",
        "QR",
        "iOS",
        "Android",
        "PC",
        "OA",
        "MB",
        "KB",
        "GB",
        "LDAP",
        "SHA",
        "SSO",
        # The package of public holidays operators are asked to upgrade.
        "holidays",
        # The language switcher names each language in itself.
        "English",
    ]
)
# Text that is not language: e-mail addresses, links, file names with extensions, ISO dates.
_NOT_WORDS = re.compile(
    r"[\w.+-]+@[\w-]+(\.[\w-]+)+"  # e-mail addresses
    r"|https?://\S+"  # links
    r"|/[\w./-]+"  # paths
    r"|\b[\w-]+\.(?:pdf|jpe?g|png|txt|csv|xlsx?|docx?|ics|yaml)\b",
    re.IGNORECASE,
)
# What the operators' pages show as it is stored: keys with dots, underscores or digits, JSON
# field names, Python's booleans and None, masked secrets (a password's salt: "eb*****").
_KEYS = re.compile(
    r"\w*\*{3,}|[A-Za-z][\w-]*[._:][\w.:-]*\w?|\b\w*\d\w*\b|\"\w+\"|\b(?:True|False|None|true|false|null)\b"
)
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]")
_CHINESE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
# Django's admin names its search icon in English in its own template (alt="Search").
DJANGO_ADMIN_WORDS = frozenset({"search"})
_PHRASES = re.compile(r"[。，,：:；;！!？?、\n（）()《》“”…]")
# The language switcher names each language in itself.
AUTONYMS = ("简体中文", "English")

# Routes never walked: they leave the site's pages (signing out, switching language, files).
SKIPPED_ROUTES = frozenset(
    {
        "web:logout",
        "web:password-reset",
        "web:password-reset-sent",
        "web:password-reset-confirm",
        "web:password-reset-complete",
        "web:invitation-accept",
        "web:login",
        "web:attachment",
        "web:attachment-download",
        "web:knowledge-file",
        "web:calendar-feed",
        "web:export",
    }
)
# The operators' pages walked: the index, each app's and each table's list and one row's form.
_ADMIN_PAGE = re.compile(r"^admin:(index|app_list|\w+_changelist|\w+_change)$")
# The error pages: a path that leads nowhere (404) and one a rep may not open (403).
ERROR_PROBES = ("/no-such-page/", "/team/")
# Pages of one route looked at per role and language (a deal page is a deal page).
PER_ROUTE = 2
# Routes whose slug picks a different page, each worth a look (the dashboard's drill-downs).
SLUG_ROUTES = frozenset({"web:drilldown", "web:dashboard-part"})

READ_TEXT = """() => {
  for (const d of document.querySelectorAll('details')) d.open = true;
  const parts = [document.title, document.body.innerText];
  for (const el of document.querySelectorAll('[placeholder],[aria-label],[title],[alt]')) {
    for (const name of ['placeholder', 'aria-label', 'title', 'alt']) {
      const value = el.getAttribute(name);
      if (value) parts.push(value);
    }
  }
  return parts.join('\\n');
}"""
LINKS = """() => Array.from(document.querySelectorAll('a[href]'), a => a.href)"""


class Names:
    """Words to take out of a page before judging it: Chinese ones wherever they stand, Latin
    ones as whole words only (a name "Ma" leaves "manager" alone)."""

    def __init__(self, names: Iterable[str]) -> None:
        names = sorted({n.lower() for n in names if n.strip()}, key=len, reverse=True)
        self.chinese = [n for n in names if _CHINESE.search(n)]
        latin = [re.escape(n) for n in names if not _CHINESE.search(n)]
        self.latin = (
            re.compile(r"(?<![a-z0-9_-])(?:" + "|".join(latin) + r")(?![a-z0-9_-])")
            if latin
            else None
        )

    def remove(self, text: str) -> str:
        for name in self.chinese:
            if name in text:
                text = text.replace(name, " ")
        return self.latin.sub(" ", text) if self.latin is not None else text


@dataclass
class Sweep:
    base: str
    locale: str
    data: Names
    operator_data: Names
    offenders: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)


@pytest.fixture
def demo_org(settings: Any, tmp_path: Any) -> Any:
    settings.MEDIA_ROOT = str(tmp_path / "media")
    from lodestar.demo import load_demo_organization

    return load_demo_organization(
        slug=SLUG, reps=3, deals=40, months=2, events_per_deal=10, now=NOW, password=PASSWORD
    )


def data_names(organization_id: int) -> list[str]:
    """The organization's own words: names of people, accounts, deals, products, what people
    typed (meeting topics, notes, exemption reasons, task titles of their own), file names, the
    departments its playbooks name. Longest first, so a longer name is taken out whole."""
    from lodestar.automation.models import Task
    from lodestar.crm.models import (
        Account,
        Attachment,
        Contact,
        DailyReport,
        KnowledgeEntry,
        Opportunity,
        Product,
    )
    from lodestar.events.models import Event
    from lodestar.insights.models import Exemption
    from lodestar.org.models import AuditEntry, Organization, Team, User
    from lodestar.playbooks.models import PlaybookVersion

    org = {"organization_id": organization_id}
    found: set[str] = set()

    def add(values: Iterable[Any]) -> None:
        for value in values:
            found.update(_strings(value))

    add(Organization.objects.filter(pk=organization_id).values_list("name", flat=True))
    add(Team.objects.filter(**org).values_list("name", flat=True))
    for fields in User.objects.filter(membership__organization_id=organization_id).values_list(
        "display_name", "username", "email", "first_name", "last_name"
    ):
        add(fields)
    for model, names in (
        (Account, ("name", "industry", "region", "external_ref")),
        (Contact, ("name", "title", "phone", "email")),
        (Product, ("name", "model_number", "category", "aliases")),
        (Opportunity, ("name", "external_ref")),
        (Attachment, ("original_name",)),
        (KnowledgeEntry, ("title", "body")),
        (DailyReport, ("body", "plans", "blockers")),
        (Exemption, ("reason",)),
        (PlaybookVersion, ("name", "note", "source_name")),
    ):
        present = [n for n in names if any(f.name == n for f in model._meta.get_fields())]
        for fields in model.objects.filter(**org).values_list(*present):
            add(fields)
    # Free text of custom fields (choices are keys worded by the playbook: not data).
    for custom in Opportunity.objects.filter(**org).values_list("custom_fields", flat=True):
        add(v for v in (custom or {}).values() if isinstance(v, str) and _CHINESE.search(v))
    add(Event.objects.filter(**org).values_list("payload", flat=True))
    # What people typed, as the audit log keeps it (its keys and codes are not data).
    for entry in AuditEntry.objects.filter(**org).values_list("data", flat=True):
        add(v for v in _strings(entry) if _CHINESE.search(v))
    # Titles people typed (no trigger made them) and the departments tasks wait on.
    add(Task.objects.filter(**org, trigger_key="").values_list("title", flat=True))
    add(Task.objects.filter(**org).values_list("department", flat=True))
    add(_playbook_departments(organization_id))
    return sorted(found, key=len, reverse=True)


def stored_keys(organization_id: int) -> list[str]:
    """What the operators' pages show as it is stored: event types and sources, file types,
    knowledge keys, the decision roles' keys and English names, the time zone."""
    from lodestar.crm.models import Attachment, DecisionRole, KnowledgeEntry
    from lodestar.events.models import Event
    from lodestar.org.models import AuditEntry, Organization

    org = {"organization_id": organization_id}
    keys: set[str] = set()
    for model, names in (
        (Event, ("type", "source")),
        (Attachment, ("content_type", "kind", "file")),
        (AuditEntry, ("action", "object_type")),
        (KnowledgeEntry, ("key",)),
        (DecisionRole, ("key", "name_en")),
    ):
        present = [n for n in names if any(f.name == n for f in model._meta.get_fields())]
        for fields in model.objects.filter(**org).values_list(*present).distinct():
            keys.update(str(f) for f in fields if f)
    keys.update(Organization.objects.filter(pk=organization_id).values_list("time_zone", flat=True))
    return sorted(keys)


def _playbook_departments(organization_id: int) -> list[str]:
    from lodestar.playbooks.models import PlaybookVersion
    from lodestar.playbooks.selectors import compiled_for_version

    names = []
    for version in PlaybookVersion.objects.filter(organization_id=organization_id):
        playbook = compiled_for_version(version).playbook
        names += [t.task.department or "" for t in playbook.triggers]
    return names


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
        # Multi-line text shows line by line; a title shows without its book-title marks.
        yield from (line.strip() for line in value.splitlines())
        yield value.strip('《》“”"')
        # A long text shows cut short (an excerpt): its phrases are data too.
        yield from (p.strip() for p in _PHRASES.split(value) if len(p.strip()) > 1)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def offences(text: str, language: str, data: Names, *, operators: bool = False) -> list[str]:
    """The words of `text` that are not in `language`, each with the text around it.

    The operators' pages (`operators`) also show the keys things are stored under (event
    types, alert kinds, JSON fields, the admin's yes/no icons): those are not words."""
    # Pages may show a name in capitals (a style): compared without case.
    cleaned = data.remove(text.lower())
    for name in AUTONYMS:
        cleaned = cleaned.replace(name.lower(), " ")
    cleaned = _NOT_WORDS.sub(" ", cleaned)
    if operators:
        cleaned = _KEYS.sub(" ", cleaned)
    found = []
    if language == "zh-hans":
        allowed = ALLOWED_WORDS | (DJANGO_ADMIN_WORDS if operators else frozenset())
        for match in _LATIN_WORD.finditer(cleaned):
            if match.group() not in allowed:
                found.append(_around(cleaned, match))
    else:
        found = [_around(cleaned, match) for match in _CHINESE.finditer(cleaned)]
    return found


def _around(text: str, match: re.Match[str]) -> str:
    start, end = max(match.start() - 30, 0), min(match.end() + 30, len(text))
    context = " ".join(text[start:end].split())
    return f"“{match.group()}” in “…{context}…”"


# --- which pages ---------------------------------------------------------------------------------


def _web_routes() -> list[tuple[str, str]]:
    """(name, route) of every page of `lodestar.web.urls`, as urls.py declares them."""
    out: list[tuple[str, str]] = []

    def walk(patterns: Iterable[Any], prefix: str, namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                ns = entry.namespace or namespace
                walk(entry.url_patterns, prefix + str(entry.pattern), ns)
            elif isinstance(entry, URLPattern) and entry.name:
                out.append(
                    (
                        f"{namespace}:{entry.name}" if namespace else entry.name,
                        prefix + str(entry.pattern),
                    )
                )

    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace == "web":
            walk(entry.url_patterns, str(entry.pattern), "web")
    return out


_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def _samples(organization_id: int, username: str) -> dict[str, list[str]]:
    """Values for the routes' parameters: objects of the organization the user is likely to
    see (their own deals first). A page the role may not open is skipped, not reported."""
    from lodestar.crm.models import Contact, KnowledgeEntry, Opportunity
    from lodestar.org.models import Team, User

    user = User.objects.get(username=username)
    deals = list(
        Opportunity.objects.filter(organization_id=organization_id, owner=user)
        .order_by("id")
        .values_list("pk", flat=True)[:2]
    ) or list(
        Opportunity.objects.filter(organization_id=organization_id).values_list("pk", flat=True)[:2]
    )
    reps = list(
        User.objects.filter(
            membership__organization_id=organization_id, membership__role="rep"
        ).values_list("pk", flat=True)[:1]
    )
    deal_rows = Opportunity.objects.filter(pk__in=deals)
    return {
        "deal_id": [str(pk) for pk in deals],
        "opportunity_id": [str(pk) for pk in deals],
        "account_id": [str(pk) for pk in deal_rows.values_list("account_id", flat=True)[:1]],
        "contact_id": [
            str(pk)
            for pk in Contact.objects.filter(
                account_id__in=deal_rows.values_list("account_id", flat=True)
            ).values_list("pk", flat=True)[:1]
        ],
        "entry_id": [
            str(pk)
            for pk in KnowledgeEntry.objects.filter(organization_id=organization_id).values_list(
                "pk", flat=True
            )[:1]
        ],
        "rep_id": [str(pk) for pk in reps],
        "user_id": [str(pk) for pk in reps],
        "team_id": [
            str(pk)
            for pk in Team.objects.filter(organization_id=organization_id).values_list(
                "pk", flat=True
            )[:1]
        ],
    }


def _fill(route: str, samples: dict[str, list[str]]) -> str | None:
    names = [m.group(2) for m in _PARAM.finditer(route)]
    path = route
    for name in names:
        values = samples.get(name)
        if not values:
            return None  # found through the links of other pages, if any
        path = re.sub(rf"<(?:\w+:)?{name}>", values[0], path, count=1)
    return "/" + path.lstrip("/")


def _route_of(path: str) -> tuple[str, str] | None:
    """(route name, the part that makes it another page) of a path of this site."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    name = f"{match.namespace}:{match.url_name}" if match.namespace else (match.url_name or "")
    if not (name.startswith("web:") or _ADMIN_PAGE.match(name)):
        return None
    variant = "/".join(str(v) for v in match.kwargs.values()) if name in SLUG_ROUTES else ""
    return name, variant


def _answer(page: Any, url: str) -> tuple[int, str]:
    """The status and content type of a GET of `url` with the page's cookies, asked without
    opening it (a 405 or an empty error body would be a browser error page)."""
    response = page.request.get(url, max_redirects=5)
    return response.status, response.headers.get("content-type", "")


def _open(page: Any, url: str, status: int, locale: str) -> None:
    if status == 200:
        page.goto(url)
    else:  # the error page itself: the browser would log the status as a console error
        answer = page.request.get(url, headers={"Accept-Language": locale})
        page.set_content(answer.text())
    # A page still loading after half a minute is read as it stands.
    with contextlib.suppress(PlaywrightTimeout):
        page.wait_for_load_state("networkidle", timeout=30_000)


def sweep_role(page: Any, sweep: Sweep, username: str, language: str, start: list[str]) -> None:
    """Visit the pages of `start` and the pages they link to, and note what is not in
    `language`."""
    log_in(page, sweep.base, username)
    seen_paths: set[str] = set()
    per_route: dict[tuple[str, str], int] = {}
    queue = list(start)
    while queue:
        path = queue.pop(0)
        route = ("error", path) if path in ERROR_PROBES else _route_of(urlsplit(path).path)
        if path in seen_paths or route is None or route[0] in SKIPPED_ROUTES:
            continue
        seen_paths.add(path)
        if per_route.get(route, 0) >= PER_ROUTE:
            continue
        status, content_type = _answer(page, sweep.base + path)
        if status >= 500:
            sweep.offenders.append(f"[{language}] {username} {path}: answered {status}")
            continue
        shown = status == 200 or (status in (403, 404) and path in ERROR_PROBES)
        if not shown or "text/html" not in content_type:
            continue  # a page this role may not open, or one that takes only a POST
        _open(page, sweep.base + path, status, sweep.locale)
        per_route[route] = per_route.get(route, 0) + 1
        sweep.visited.append(f"[{language}] {username} {path}")
        text = page.evaluate(READ_TEXT)
        operators = route[0].startswith("admin:")
        names = sweep.operator_data if operators else sweep.data
        for offence in offences(text, language, names, operators=operators):
            sweep.offenders.append(f"[{language}] {username} {path}: {offence}")
        for link in page.evaluate(LINKS):
            parts = urlsplit(link)
            if sweep.base.endswith(parts.netloc) and parts.path not in seen_paths:
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))


@pytest.mark.parametrize(("language", "locale"), [("zh-hans", "zh-CN"), ("en", "en-US")])
def test_every_page_speaks_one_language(
    demo_org: Any, live_server: Any, open_page: Any, language: str, locale: str
) -> None:
    organization_id = demo_org.organization_id
    names = data_names(organization_id)
    sweep = Sweep(
        base=live_server.url,
        locale=locale,
        data=Names(names),
        operator_data=Names(names + stored_keys(organization_id)),
    )
    routes = _web_routes()
    for role in ("rep", "manager", "ops", "admin"):
        username = f"{SLUG}-{role}"
        samples = _samples(organization_id, username)
        start = ["/today/", "/board/", "/dashboard/", "/inbox/", "/playbooks/", "/admin/"]
        start += ERROR_PROBES
        start += [p for name, route in routes if (p := _fill(route, samples)) is not None]
        page = open_page(DESKTOP, locale=locale)
        sweep_role(page, sweep, username, language, start)
    assert sweep.visited, "no page was visited"
    assert not sweep.offenders, (
        f"{len(sweep.offenders)} words not in {language} on {len(sweep.visited)} pages:\n"
        + "\n".join(sweep.offenders)
    )
