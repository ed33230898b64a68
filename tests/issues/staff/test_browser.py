"""The staff site in real headless Chromium (Debian's), against live_server.

A chief logs in through the admin login, finds a new case on the to-do list, accepts it
with the form on the case page, and sees the result; a department reports on an order, saying
who will come to the community and when, and the community confirms that they came.
axe-core checks the main pages, and screenshots go to test-artifacts/staff-browser/ for a
person to look at.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from issues.choices import CaseState
from issues.models import Case
from issues.workflow import case_submit
from tests.browser.conftest import inject_axe
from tests.factories import World, build_world

from .helpers import dispatched_case, png

pytestmark = [pytest.mark.browser]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "staff-browser"
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]
PASSWORD = "browser-test-pass-1"


@pytest.fixture
def live_world(transactional_db: None) -> World:
    world = build_world()
    for name in ("chief_x", "lead_contact", "community_worker_x"):
        user = world.actor(name)
        user.set_password(PASSWORD)
        user.save()
    return world


@pytest.fixture
def browser(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A browser started after the live server; Django's async-safety check is lifted while it runs."""
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def open_as(browser: Any, live_server: Any, username: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    # The browser asks for /favicon.ico by itself; any other failed request is a broken page.
    page.on(
        "response",
        lambda r: (
            errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico")
            else None
        ),
    )
    page.errors = errors
    page.goto(f"{live_server.url}/staff/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("[type=submit]")
    page.wait_for_url(f"{live_server.url}/staff/")
    return page


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def open_action(page: Any, action_id: str) -> Any:
    """Open one action of an order page's panel (a <details>) and return it."""
    action = page.locator(f"#{action_id}")
    if not action.evaluate("node => node.open"):
        action.locator("summary").click()
    return action


def serious_axe_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations, or [] when axe-core is not installed."""
    if not AXE.exists():
        return []
    inject_axe(page, AXE)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']}: {v['help']} — {[n['target'] for n in v['nodes'][:3]]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_chief_accepts_a_case_from_the_to_do_list(live_world: World, live_server: Any, browser: Any) -> None:
    case = case_submit(
        category=live_world.cat_a,
        alley=live_world.alley_x,
        description="巷口路灯不亮，晚上很黑",
        reporter_name="王五",
        reporter_phone="13812345678",
        photos=[png()],
    )
    page = open_as(browser, live_server, "chief_x")
    assert page.locator("#awaiting_acceptance").get_by_text(case.tracking_code).is_visible()
    assert serious_axe_violations(page) == []
    shot(page, "chief-home")
    page.get_by_role("link", name=case.tracking_code).first.click()
    page.wait_for_url(f"{live_server.url}/staff/cases/{case.pk}/")
    assert page.get_by_text("13812345678").is_visible()  # the chief handles the case
    photo = page.locator("#photos img").first
    # The photo is loading="lazy", which the load event does not wait for: let it arrive
    # (a broken image is complete too, with naturalWidth 0, so the assertion still bites).
    photo.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete", arg=photo.element_handle())
    assert photo.evaluate("img => img.complete && img.naturalWidth > 0")
    assert serious_axe_violations(page) == []
    shot(page, "chief-case")
    page.locator("#t-accept summary").click()  # the action panel's compact button opens its form
    page.locator("#t-accept textarea").fill("马上去看")
    page.locator("#t-accept button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/staff/cases/{case.pk}/")
    assert page.get_by_text("已受理。").is_visible()
    assert Case.objects.get(pk=case.pk).state == CaseState.ACCEPTED
    page.goto(f"{live_server.url}/staff/cases/")
    assert page.get_by_text("139****").first.is_visible() or page.get_by_text("138****5678").is_visible()
    assert "13812345678" not in page.content()
    assert serious_axe_violations(page) == []
    shot(page, "chief-case-list")
    assert page.errors == []


def test_department_reports_in_person_and_the_community_confirms(
    live_world: World, live_server: Any, browser: Any
) -> None:
    """报到 in person: the department says who will come and when; the community confirms they came."""
    case = dispatched_case(live_world)
    order = case.orders.get(role="lead")
    page = open_as(browser, live_server, "lead_contact")
    page.goto(f"{live_server.url}/staff/orders/{order.pk}/")
    form = open_action(page, "a-report")
    form.get_by_label("分管负责人").fill("李局长")
    form.get_by_label(re.compile("^联系人")).fill("陈科员")
    form.get_by_label("联系电话").fill("0595-22223333")
    form.get_by_label("工作方案").fill("三日内清理，一周内复查")
    soon = timezone.localtime() + dt.timedelta(minutes=2)
    form.get_by_label("约定到社区报到的时间").fill(soon.strftime("%Y-%m-%dT%H:%M"))
    form.get_by_label("到社区报到的人员").fill("李局长\n陈科员")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/staff/orders/{order.pk}/")
    assert page.get_by_text("已报到。").is_visible()
    assert (
        page.locator("#report-outcome").get_by_text("待报到").is_visible()
    )  # not until the community says so
    assert serious_axe_violations(page) == []
    shot(page, "order-reported")

    page = open_as(browser, live_server, "community_worker_x")
    assert page.locator("#community_visits").get_by_text("李局长、陈科员").is_visible()
    page.locator("#community_visits").get_by_role("link", name="确认是否到场").click()
    confirm = open_action(page, "a-attendance-confirm")
    # They came a little early: the community records the time they actually came.
    confirm.get_by_label("实际到场时间").fill(timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    confirm.get_by_label("说明").fill("李局长带队到现场查看")
    confirm.locator("button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/staff/orders/{order.pk}/")
    assert page.get_by_text("已确认到场报到。").is_visible()
    assert page.locator("#report-outcome").get_by_text("按时到场报到").is_visible()
    assert page.locator("#attendances").get_by_text("已到场").is_visible()
    assert serious_axe_violations(page) == []
    shot(page, "order-attendance-confirmed")

    page.goto(f"{live_server.url}/staff/cases/{case.pk}/")
    line = page.locator("ol.timeline li", has_text="社区确认到场报到")
    assert line.get_by_text(
        "新华社区（community_worker_x）"
    ).is_visible()  # the unit, and for staff the person
    assert line.get_by_text("李局长、陈科员").is_visible()
    assert line.get_by_text("李局长带队到现场查看").is_visible()
    assert serious_axe_violations(page) == []
    line.scroll_into_view_if_needed()
    shot(page, "case-timeline-attendance")
    assert page.errors == []
