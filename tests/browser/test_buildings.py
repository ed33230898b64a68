"""The residents' form of an alley with buildings (楼栋) on a 360-px phone without JavaScript.

Screenshots: test-artifacts/browser/buildings/*.png.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse

from issues.models import Case
from tests.factories import build_buildings
from tests.issues.public.helpers import Place

from .conftest import AXE, PHONE, axe_violations, describe, shot

pytestmark = pytest.mark.browser


def test_the_building_choice_on_a_phone_without_javascript(
    live_server: Any, chromium: Any, place: Place
) -> None:
    b = build_buildings(place.world)
    context = chromium.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    # The building's own QR code: its alley's form with the building chosen.
    page.goto(live_server.url + reverse("alley-short", kwargs={"code": b.two.code}))
    select = page.locator("#id_building")
    assert select.is_visible()
    assert select.input_value() == b.two.code
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    select.scroll_into_view_if_needed()
    shot(page, "buildings/01-form-with-building")
    page.get_by_role("radio", name="路灯不亮").check()
    page.get_by_label("2. 问题描述").fill("1号楼楼道灯坏了，晚上看不见。")
    page.get_by_label("所在楼栋").select_option(label="1号楼")
    page.get_by_role("button", name="提交", exact=True).click()
    page.wait_for_url("**/report/done/**")
    shot(page, "buildings/02-done")
    assert Case.objects.get().building == b.one
    context.close()
    if AXE.exists():
        context = chromium.new_context(viewport=PHONE, locale="zh-CN")
        page = context.new_page()
        page.goto(live_server.url + reverse("alley-short", kwargs={"code": place.alley.code}))
        violations = axe_violations(page)
        context.close()
        assert not violations, describe(violations)
