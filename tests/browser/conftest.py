"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright's sync API, against live_server.

Every test module here is marked ``browser`` (pytestmark) and skips with a clear reason when Chromium or the
playwright package is missing (tests/conftest.py). Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import build_world
from tests.issues.public.helpers import Place, build_place

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "browser"
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
PHONE = {"width": 360, "height": 740}


@pytest.fixture
def chromium(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A browser for one test, started after (and stopped before) the live server and its database.

    Playwright's sync API keeps an asyncio loop running in this thread, and Django refuses ORM
    calls from a thread with a running loop; the test body's own ORM calls are safe, so the
    check is lifted for exactly as long as the browser runs.
    """
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def phone(chromium: Any) -> Iterator[Any]:
    """A 360×740 phone in Simplified Chinese, with clipboard access for the copy button."""
    context = chromium.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def place(transactional_db: None) -> Place:
    return build_place(build_world())


def shot(page: Any, name: str) -> Path:
    """A full-page screenshot under test-artifacts/browser/ (``name`` may hold a subfolder: "maanshan/01-form")."""
    path = ARTIFACTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def logged_in_context(browser: Any, user: Any, live_server: Any, **options: Any) -> Any:
    """A browser context (Simplified Chinese) signed in as ``user`` by its session cookie, not the login form."""
    client = Client()
    client.force_login(user)
    context = browser.new_context(locale="zh-CN", **options)
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    return context


def inject_axe(page: Any, path: Path = AXE) -> None:
    """Load axe-core into the page through DevTools, not a <script> tag: the site's
    Content-Security-Policy (script-src 'self', no inline script) rightly blocks an injected tag."""
    page.evaluate(f"() => {{ {path.read_text()}\n }}")
    assert page.evaluate("typeof axe") == "object", "axe-core did not load"


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's violations on the page as loaded (WCAG 2.x A/AA and best practices)."""
    inject_axe(page)
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    assert result["passes"], "axe ran no rule at all: the check would be vacuous"
    return list(result["violations"])


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        targets = ", ".join(str(n["target"]) for n in v["nodes"][:5])
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} — {targets}")
    return "\n".join(lines)
