"""The dashboard and the wall screen at 1920 and 1280 wide and on a 360-px phone (issue 16).

At every width: nothing scrolls sideways, every big figure fits its card (the wall's rate row ran
off a 1280-px screen), the who-is-late table is there, axe-core finds no violation. Screenshots go
to test-artifacts/browser/dashboard/ for a person to look at.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from evaluation.rollups import refresh_rollups
from issues.choices import CaseState
from tests.browser.conftest import axe_violations, describe, logged_in_context, shot
from tests.evaluation.test_browser import a_year_of_cases
from tests.factories import World, build_world, case_at

pytestmark = [pytest.mark.browser]

WIDTHS = {"1920": (1920, 1080), "1280": (1280, 800), "360": (360, 740)}
PAGES = {"overview": "/dashboard/", "wall": "/dashboard/wall/"}


@pytest.fixture
def city(transactional_db: None) -> World:
    world = build_world()
    now = timezone.now()
    a_year_of_cases(world, now=now, n=300)
    # Late work for 谁在超期: waiting for acceptance at the alley, and for the community's verification.
    for days in (3, 6):
        case_at(
            world,
            created=now - dt.timedelta(days=days + 1),
            alley=world.alley_x,
            accept_due=now - dt.timedelta(days=days),
        )
    case_at(
        world,
        created=now - dt.timedelta(days=9),
        alley=world.alley_y,
        state=CaseState.AWAITING_VERIFICATION,
        resolved_at=now - dt.timedelta(days=6),
        verify_due=now - dt.timedelta(days=4),
    )
    refresh_rollups(now=now, full=True)
    return world


OVERFLOW = """() => {
  const doc = document.documentElement;
  const wide = [...document.querySelectorAll('.big-value, .stat-value, .big-label, .big-sub')]
    .filter((el) => el.scrollWidth > el.clientWidth + 1)
    .map((el) => el.closest('[data-rate], [data-card], .big, .stat')?.textContent.trim().slice(0, 40));
  return {page: doc.scrollWidth, viewport: doc.clientWidth, wide};
}"""


@pytest.mark.parametrize("width", list(WIDTHS))
def test_dashboard_and_wall_fit_and_pass_axe(
    chromium: Any, live_server: Any, city: World, width: str
) -> None:
    w, h = WIDTHS[width]
    phone = w < 400
    context = logged_in_context(
        chromium,
        city.district_officer,
        live_server,
        viewport={"width": w, "height": h},
        is_mobile=phone,
        has_touch=phone,
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    try:
        for name, path in PAGES.items():
            page.goto(f"{live_server.url}{path}?area={city.district.code}")
            page.wait_for_selector("[data-chart] canvas")
            assert "近30天" in page.content()
            assert page.locator("text=谁在超期").first.is_visible()
            if name == "wall":
                # Five figures of the rate row, each in its card, whatever the width.
                assert page.locator(".wall-cards [data-rate]").count() == 6
            fit = page.evaluate(OVERFLOW)
            shot(page, f"dashboard/{name}-{width}")
            assert fit["page"] <= fit["viewport"], f"{name} at {width}: {fit['page']} px wide"
            assert not fit["wide"], f"{name} at {width}: figures wider than their card: {fit['wide']}"
            violations = axe_violations(page)
            assert not violations, f"{name} at {width}:\n{describe(violations)}"
        assert not errors, errors
    finally:
        context.close()


RANKINGS = ["/dashboard/drill/", "/dashboard/departments/", "/dashboard/categories/", "/dashboard/chiefs/"]
SIDEWAYS = """() => [...document.querySelectorAll('.table-wrap')]
  .filter((el) => el.scrollWidth > el.clientWidth + 1).map((el) => el.getAttribute('aria-label'))"""


def test_rankings_on_a_phone_are_cards_with_every_figure_on_screen(
    chromium: Any, live_server: Any, city: World
) -> None:
    """A ranked table on a phone is one card per unit: no figure hides right of a sideways scroll."""
    context = logged_in_context(
        chromium,
        city.district_officer,
        live_server,
        viewport={"width": 360, "height": 740},
        is_mobile=True,
        has_touch=True,
    )
    page = context.new_page()
    try:
        for path in RANKINGS:
            page.goto(f"{live_server.url}{path}?area={city.district.code}")
            assert page.evaluate(SIDEWAYS) == [], path
            assert page.evaluate("document.documentElement.scrollWidth") <= 360, path
            shot(page, f"dashboard/ranking-{path.strip('/').split('/')[-1]}-360")
        # The drill's first unit: its name heads the card and its score is on screen, under its label.
        page.goto(f"{live_server.url}/dashboard/drill/?area={city.district.code}")
        card = page.locator("table.ranked tbody tr").first
        score = card.locator('td[data-label="综合得分"]')
        score.scroll_into_view_if_needed()
        box = score.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
        name = card.locator("th[scope=row]").bounding_box()
        assert name is not None and name["y"] < box["y"]
        assert "综合得分" in page.evaluate(
            "el => getComputedStyle(el, '::before').content", score.element_handle()
        )
    finally:
        context.close()
