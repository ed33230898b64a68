"""The Content-Security-Policy breaks nothing in real Chromium (issue 14).

Every page is loaded with a listener for ``securitypolicyviolation`` installed before the
page's own scripts, and the console watched: a blocked script, style or image is a failure.
Along the way the things the policy could break are used: the residents' form (photo
preview, category choice, submit), the staff pages' select that submits itself, the
dashboards' ECharts (drawn, and a tooltip shown), the admin and Swagger UI.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from evaluation.rollups import refresh_rollups
from issues.models import Case
from tests.factories import make_case
from tests.issues.public.helpers import Place

from .conftest import shot
from .test_resident_journey import photo_file

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WATCH = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__cspViolations.push(`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


class Watch:
    """A browser context whose pages record CSP violations and console errors."""

    def __init__(self, chromium: Any, live_server: Any, user: Any = None) -> None:
        self.context = chromium.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        self.context.add_init_script(WATCH)
        if user is not None:
            client = Client()
            client.force_login(user)
            cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
            self.context.add_cookies(
                [{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}]
            )
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.errors: list[str] = []
        self.page.on(
            "console",
            lambda m: self.errors.append(f"{self.page.url}: {m.text}") if m.type == "error" else None,
        )
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.violations: list[str] = []
        self.base = live_server.url

    def goto(self, path: str, status: int = 200) -> Any:
        self.collect()
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == status, (path, response and response.status)
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        return self.page

    def collect(self) -> None:
        from playwright.sync_api import Error as PlaywrightError

        # A page that is navigating away has no window to ask; its events were read before.
        with contextlib.suppress(PlaywrightError):
            self.violations += [
                f"{self.page.url}: {v}" for v in self.page.evaluate("window.__cspViolations || []")
            ]

    def close(self) -> list[str]:
        self.collect()
        self.context.close()
        return self.violations + [e for e in self.errors if "Content Security Policy" in e or "Refused" in e]


def test_the_residents_form_works_under_the_policy(live_server: Any, chromium: Any, place: Place) -> None:
    watch = Watch(chromium, live_server)
    page = watch.goto(place.form_url)
    page.get_by_label("路灯不亮").check()
    page.get_by_label("2. 问题描述").fill("巷口第二根路灯不亮三天了，晚上很黑。")
    page.locator("#id_photos").set_input_files([photo_file()])
    page.locator("#photo-previews img").first.wait_for()  # public.js ran: the preview drew
    page.get_by_label("手机号码").fill("139 1234 5678")
    page.locator("#id_consent").check()
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url("**/report/done/**")
    code = page.locator(".code").inner_text().strip()
    assert Case.objects.filter(tracking_code=code).exists()
    watch.goto(f"/track/{code}/")
    watch.goto("/board/")
    watch.goto("/no-such-page/", status=404)  # the 404 page
    problems = watch.close()
    assert not problems, problems


def test_staff_pages_dashboards_admin_and_api_docs_under_the_policy(
    live_server: Any, chromium: Any, place: Place
) -> None:
    world = place.world
    case = make_case(world, alley=world.alley_x)
    now = timezone.now()
    refresh_rollups(now=now, full=True)

    chief = Watch(chromium, live_server, world.chief_x)
    for path in ("/staff/", "/staff/cases/", f"/staff/cases/{case.pk}/", "/staff/patrols/", "/staff/inbox/"):
        chief.goto(path)
    problems = chief.close()

    officer = Watch(chromium, live_server, world.district_officer)
    page = officer.goto(f"/dashboard/?area={world.district.code}&period={now:%Y}")
    page.wait_for_function("document.querySelectorAll('[data-chart] canvas').length >= 1")
    page.wait_for_timeout(600)
    chart = page.locator("[data-chart] canvas").first
    box = chart.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(400)
    shot(page, "csp-dashboard")

    # The period <select> submits itself through staff.js (it was an inline onchange).
    period = page.locator("#period-select")
    other = period.locator("option:not([selected])").first.get_attribute("value")
    with page.expect_navigation():
        period.select_option(other)
    assert f"period={other}" in page.url
    for path in (
        "/dashboard/drill/",
        "/dashboard/departments/",
        "/dashboard/held/",
        "/dashboard/assessments/",
    ):
        officer.goto(f"{path}?area={world.district.code}")
    officer.goto(f"/dashboard/wall/?area={world.district.code}").wait_for_function(
        "document.querySelectorAll('[data-chart] canvas').length >= 1"
    )
    problems += officer.close()

    superuser = world.city_officer
    superuser.is_staff = superuser.is_superuser = True
    superuser.save()
    admin = Watch(chromium, live_server, superuser)
    admin.goto("/admin/")
    admin.goto("/admin/issues/case/")
    admin.goto(f"/admin/issues/case/{case.pk}/change/")
    docs = admin.goto("/api/docs/")
    docs.locator(".swagger-ui .information-container").wait_for()  # Swagger UI started from its own file
    shot(docs, "csp-api-docs")
    problems += admin.close()
    assert not problems, problems
