"""Playwright for Python driving Debian's Chromium (/usr/bin/chromium); no downloaded browser.

Screenshots of every page the tests visit go to tests/artifacts/screenshots/ (gitignored).
Every page a test opens is watched: a Content-Security-Policy violation, a console error or an
uncaught JavaScript error fails the test.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("LODESTAR_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parent.parent / "artifacts" / "screenshots"
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "pw-for-tests"  # tests.factories.UserFactory
# The sweeps over every page of every role (words, accessibility, width) check what the pages
# render, which no database changes; they run in the SQLite suite only, so `make test`'s two
# suites side by side stay within their time. The pages' queries run on PostgreSQL in the other
# browser tests and the view tests.
ONE_DATABASE_ENOUGH = pytest.mark.skipif(
    os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="a sweep of rendered pages: run in the SQLite suite",
)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright import sync_api
    except ImportError as missing:  # a dev dependency: its absence is a broken setup, not a skip
        pytest.fail(
            f"Playwright is not installed ({missing}); install the dev dependencies: "
            "pip install -e '.[dev]'",
            pytrace=False,
        )
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # between browser steps are still plain synchronous calls.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


# Playwright's own script, added to every document before the page's scripts; the browser
# reports a violation to the page as this event (and blocks what violated the policy).
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
                + ` at ${e.sourceFile}:${e.lineNumber}`);
});
"""
# Refusals the pages answer on purpose (409 gate blocked, 422 invalid input) are logged by the
# browser as failed loads; they are shown to the user, not errors. Nor is the site icon a
# browser asks for by itself.
EXPECTED_REFUSAL = re.compile(r"^Failed to load resource: .* status of (409|422) ")


@pytest.fixture
def open_page(chromium: Any) -> Iterator[Any]:
    """`open_page(viewport)`: a fresh browser context (its own cookies) with one page, whose
    console errors, policy violations and uncaught errors fail the test when it ends."""
    contexts = []
    problems: list[str] = []

    def on_console(page: Any, message: Any) -> None:
        if message.type != "error" or EXPECTED_REFUSAL.match(message.text):
            return
        if not message.location.get("url", "").endswith("/favicon.ico"):
            problems.append(f"{page.url}: {message.text}")

    def make(viewport: dict[str, int], locale: str = "en-US") -> Any:
        context = chromium.new_context(viewport=viewport, locale=locale)
        context.set_default_timeout(15_000)
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: on_console(page, message))
        page.on("pageerror", lambda error: problems.append(f"{page.url}: {error}"))
        return page

    yield make
    for context in contexts:
        context.close()
    assert not problems, "\n".join(problems)


def log_in(page: Any, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """The dashboard keeps figures a few minutes per user; ids repeat between tests (the live
    server runs in this process, so it shares this cache)."""
    from django.core.cache import cache

    cache.clear()


# axe-core (tests/browser/vendor/axe.min.js, MPL-2.0, its licence beside it), evaluated in the
# page through the browser's debugging protocol: the page's Content-Security-Policy forbids
# inline scripts, and this way the policy the users get is the one tested.
AXE_SOURCE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
AXE_BLOCKING = ("serious", "critical")
_AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ")),
  }));
}"""


def axe_violations(page: Any, impacts: tuple[str, ...] = AXE_BLOCKING) -> list[dict[str, Any]]:
    """The accessibility rules axe-core finds broken on the page, of the given impacts."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(f"() => {{ {AXE_SOURCE.read_text(encoding='utf-8')}\n }}")
    found: list[dict[str, Any]] = page.evaluate(_AXE_RUN)
    return [v for v in found if v["impact"] in impacts]


def assert_accessible(page: Any) -> None:
    """Fail on any serious or critical axe-core violation, naming the rule and the elements."""
    found = axe_violations(page)
    assert not found, f"{page.url}:\n" + "\n".join(
        f"  {v['impact']} {v['id']} ({v['help']}): {', '.join(v['nodes'])}" for v in found
    )
