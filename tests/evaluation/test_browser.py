"""The dashboard and the wall screen in real headless Chromium (Debian's), against live_server.

Screenshots go to test-artifacts/evaluation/ for a person to look at; the test itself checks
what a user would notice: the charts drew (a canvas with pixels), Chinese labels, the
"as of" time, the table view behind the toggle, and no console errors.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from evaluation.rollups import refresh_rollups
from issues.choices import (
    CaseSource,
    CaseState,
    FeedbackSolved,
    OrderRole,
    OrderState,
    PatrolKind,
    Satisfaction,
)
from issues.models import Feedback, PatrolLog
from tests.browser.conftest import inject_axe, logged_in_context
from tests.factories import DispatchOrderFactory, build_world, case_at, escalated

pytestmark = [pytest.mark.browser]

ARTIFACTS = Path(settings.BASE_DIR) / "test-artifacts" / "evaluation"
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu"]


@pytest.fixture
def chromium(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A browser started after the live server; Django's async-safety check is lifted while it runs."""
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def a_year_of_cases(world: Any, *, now: dt.datetime, n: int = 400) -> None:
    """Cases over the last twelve months, most solved low in the chain, some late, some dispatched."""
    rng = random.Random(5)
    alleys = [world.alley_x, world.alley_y, world.other_alley]
    categories = [world.cat_a, world.cat_a, world.cat_b, world.cat_c, world.cat_d]
    for i in range(n):
        created = now - dt.timedelta(days=rng.randint(0, 360), hours=rng.randint(0, 8))
        age = (now - created).days
        roll = rng.random()
        if age < 5 and roll < 0.6:
            state = rng.choice([CaseState.SUBMITTED, CaseState.IN_PROGRESS, CaseState.ACCEPTED])
        else:
            state = (
                CaseState.CLOSED
                if roll < 0.85
                else CaseState.AWAITING_FEEDBACK
                if roll < 0.93
                else CaseState.IN_PROGRESS
            )
        resolved = state in (CaseState.CLOSED, CaseState.AWAITING_FEEDBACK)
        late = rng.random() < 0.12
        tier = rng.choices(["alley", "community", "street", "district"], weights=[60, 25, 10, 5])[0]
        case = case_at(
            world,
            created=created,
            alley=rng.choice(alleys),
            category=rng.choice(categories),
            source=rng.choice([CaseSource.RESIDENT_FORM] * 3 + [CaseSource.PATROL, CaseSource.VISIT]),
            state=state,
            accepted_at=None
            if state == CaseState.SUBMITTED
            else created + dt.timedelta(hours=1 if not late else 9),
            accept_due=created + dt.timedelta(hours=4),
            resolve_due=created + dt.timedelta(days=3 if age > 3 else 7),
            resolved_at=created + dt.timedelta(days=rng.choice([0.2, 1, 2, 5 if late else 2]))
            if resolved
            else None,
            resolved_tier=tier if resolved else "",
            supervised=state == CaseState.IN_PROGRESS and rng.random() < 0.3,
            reopen_count=1 if rng.random() < 0.05 else 0,
        )
        if resolved and rng.random() < 0.75:
            Feedback.objects.create(
                case=case,
                round=1,
                solved=rng.choices(list(FeedbackSolved.values), weights=[85, 10, 5])[0],
                satisfaction=rng.choices(list(Satisfaction.values), weights=[70, 22, 8])[0],
            )
        if late and state == CaseState.IN_PROGRESS:
            escalated(case, when=created + dt.timedelta(hours=5))
        if tier == "district" and i % 2 == 0:
            dept = rng.choice([world.dept_lead, world.dept_coop, world.dept_far])
            came = created + dt.timedelta(days=rng.choice([1, 2, 8]))
            DispatchOrderFactory(
                case=case,
                department=dept,
                role=rng.choice([OrderRole.LEAD, OrderRole.COOPERATING]),
                dispatcher_area=world.district,
                dispatched_at=created,
                report_due=created + dt.timedelta(days=5),
                reported_at=came,
                attended_at=came,  # the community confirmed the visit
                complete_due=created + dt.timedelta(days=60),
                completed_at=created + dt.timedelta(days=20) if resolved else None,
                state=OrderState.COMPLETED if resolved else OrderState.REPORTED,
            )
    for day in range(0, 60):
        date = (now - dt.timedelta(days=day)).date()
        if rng.random() < 0.7:
            PatrolLog.objects.get_or_create(
                chief=world.chief_x, alley=world.alley_x, kind=PatrolKind.PATROL, date=date
            )
        if rng.random() < 0.4:
            PatrolLog.objects.get_or_create(
                chief=world.chief_y, alley=world.alley_y, kind=PatrolKind.PATROL, date=date
            )


def canvas_has_pixels(page: Any, selector: str) -> bool:
    return bool(
        page.evaluate(
            """(sel) => { const c = document.querySelector(sel + ' canvas'); if (!c) return false;
               const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
               for (let i = 3; i < d.length; i += 4) { if (d[i] !== 0) return true; } return false; }""",
            selector,
        )
    )


def shot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.mark.django_db(transaction=True)
def test_dashboard_and_wall_screen(live_server: Any, chromium: Any, settings: Any) -> None:
    # A handful of orders per department: lists by thresholds the small sample reaches (red at 75,
    # black at 65), so the screenshots show both highlights.
    settings.JXT_RED_LIST_MIN_SCORE, settings.JXT_BLACK_LIST_MAX_SCORE = 75.0, 65.0
    # And scores from three answers up: the departments' samples are small (the minimum sample is
    # tested in tests/evaluation/test_small_numbers.py).
    settings.JXT_RATE_MIN_SAMPLE = 3
    world = build_world()
    now = timezone.now()
    a_year_of_cases(world, now=now)
    refresh_rollups(now=now, full=True)

    context = logged_in_context(
        chromium, world.district_officer, live_server, viewport={"width": 1366, "height": 900}
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    page.goto(f"{live_server.url}/dashboard/?area={world.district.code}&period={now:%Y}")
    page.wait_for_function("document.querySelectorAll('[data-chart] canvas').length >= 4")
    page.wait_for_timeout(600)  # ECharts animates its first frame in
    assert "鲤城区" in page.inner_text("h1")
    assert "数据更新于" in page.inner_text(".asof")
    for chart in ("#chart-monthly", "#chart-weekly", "#chart-funnel", "#chart-classes"):
        assert canvas_has_pixels(page, chart), chart
    overview = shot(page, "dashboard-overview")
    # The table view of the same data, behind the toggle (and always readable by screen readers).
    figure = page.locator("figure[data-viz]").first
    figure.get_by_role("button", name="表格").click()
    assert figure.locator("table").is_visible()
    assert not figure.locator(".viz-chart").is_visible()
    shot(page, "dashboard-overview-table-view")

    page.goto(f"{live_server.url}/dashboard/drill/?area={world.district.code}&period={now:%Y}")
    page.wait_for_function("document.querySelectorAll('[data-chart] canvas').length >= 1")
    page.wait_for_timeout(600)
    assert page.get_by_role("link", name="开元街道").first.is_visible()
    shot(page, "dashboard-drill")

    page.goto(f"{live_server.url}/dashboard/departments/?area={world.district.code}&period={now:%Y}")
    page.wait_for_timeout(600)
    assert page.locator("tr.hl-red, tr.hl-black").count() >= 1
    shot(page, "dashboard-departments")

    page.goto(f"{live_server.url}/dashboard/chiefs/?area={world.district.code}&period={now:%Y-%m}")
    shot(page, "dashboard-chiefs")
    page.goto(f"{live_server.url}/dashboard/held/?area={world.district.code}")
    shot(page, "dashboard-overdue")
    context.close()

    wall_context = logged_in_context(
        chromium, world.district_officer, live_server, viewport={"width": 1920, "height": 1080}
    )
    wall = wall_context.new_page()
    wall.on("pageerror", lambda e: errors.append(str(e)))
    wall.goto(f"{live_server.url}/dashboard/wall/?area={world.district.code}&period={now:%Y}")
    wall.wait_for_function("document.querySelectorAll('[data-chart] canvas').length >= 2")
    wall.wait_for_timeout(800)
    assert canvas_has_pixels(wall, "#chart-monthly") and canvas_has_pixels(wall, "#chart-funnel")
    background = wall.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(13, 17, 23)"  # dark
    assert wall.locator("body").get_attribute("data-refresh") == "60"  # static/evaluation/wall.js
    wall_png = wall.screenshot(path=str(ARTIFACTS / "wall.png"))
    wall_context.close()

    assert not errors, errors
    assert overview.stat().st_size > 20_000 and len(wall_png) > 20_000


@pytest.mark.django_db(transaction=True)
def test_dashboard_accessibility(live_server: Any, chromium: Any) -> None:
    """axe-core finds no serious or critical problem on the overview (if axe is installed)."""
    axe = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
    if not axe.exists():
        pytest.skip("axe-core is not installed (npm install axe-core)")
    world = build_world()
    now = timezone.now()
    a_year_of_cases(world, now=now, n=120)
    refresh_rollups(now=now, full=True)
    context = logged_in_context(
        chromium, world.district_officer, live_server, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    for path in ("/dashboard/", "/dashboard/drill/", "/dashboard/departments/"):
        page.goto(f"{live_server.url}{path}?area={world.district.code}")
        page.wait_for_timeout(300)
        inject_axe(page, axe)
        result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
        serious = [v for v in result["violations"] if v["impact"] in ("serious", "critical")]
        assert not serious, (
            path,
            [(v["id"], v["help"], [n["target"] for n in v["nodes"][:3]]) for v in serious],
        )
    context.close()


@pytest.mark.django_db(transaction=True)
def test_evaluation_survey_and_assessment_pages(live_server: Any, chromium: Any) -> None:
    """The community evaluates an order, opens a survey a resident answers on a phone, the street drafts."""
    from evaluation import services

    from .test_services import dispatched_case, evaluate

    world = build_world()
    case, _lead, coop = dispatched_case(world)
    evaluate(coop, world.community_worker_x, overall_score=72)

    community = logged_in_context(
        chromium, world.community_worker_x, live_server, viewport={"width": 1280, "height": 900}
    )
    page = community.new_page()
    page.goto(f"{live_server.url}/dashboard/evaluations/")
    assert "鲤城区城管局" in page.inner_text("main")
    page.get_by_role("link", name="评价").first.click()
    page.get_by_label("优秀").first.check()
    page.locator("input[name=work_quality][value='4']").check()
    page.locator("input[name=cooperation][value='5']").check()
    page.get_by_label("综合评分（0–100）").fill("91")
    page.get_by_label("初步评价意见").fill("报到及时，方案可行，整改彻底。")
    shot(page, "evaluation-form")
    page.get_by_role("button", name="提交评价").click()
    assert "评价已提交" in page.inner_text("main")
    shot(page, "evaluations")

    survey = services.survey_open(case=case, actor=world.community_worker_x, invites=6)
    page.goto(f"{live_server.url}/dashboard/surveys/{survey.pk}/")
    page.wait_for_selector("img.qr")
    shot(page, "survey-detail")
    community.close()

    phone = chromium.new_context(
        viewport={"width": 360, "height": 740}, locale="zh-CN", is_mobile=True, has_touch=True
    )
    resident = phone.new_page()
    code = survey.invites.first().code
    resident.goto(f"{live_server.url}/survey/{survey.token}/?code={code}")
    resident.get_by_label("居民").check()
    resident.get_by_label("已解决").check()
    resident.get_by_label("基本满意").check()
    shot(resident, "survey-public-phone")
    resident.get_by_role("button", name="提交").click()
    assert "已有 1 人参与" in resident.inner_text("main")
    shot(resident, "survey-public-done")
    phone.close()

    a = services.assessment_compute(
        street=world.street, year=coop.completed_at.year, actor=world.street_worker
    )
    line = a.lines.get(department=world.dept_coop)
    services.assessment_adjust(line=line, actor=world.street_worker, score=80, reason="配合部门承担主要工作")
    street = logged_in_context(
        chromium, world.street_worker, live_server, viewport={"width": 1280, "height": 900}
    )
    page = street.new_page()
    page.goto(f"{live_server.url}/dashboard/assessments/{a.pk}/")
    assert "配合部门承担主要工作" in page.inner_text("main")
    shot(page, "assessment-draft")
    street.close()
