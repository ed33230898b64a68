"""The "already reported?" step on a 360-px phone without JavaScript: the check above the form, then the step on submit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from issues.choices import CaseState
from issues.models import Case
from tests.factories import make_case
from tests.issues.public.helpers import Place

from .conftest import PHONE, axe_violations, describe, shot

pytestmark = pytest.mark.browser

OTHERS_WORDS = "路灯一闪一闪的，晚上看不清"
OTHERS_PHONE = "13711112222"


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} scrolls sideways ({width}px)"


def someone_elses(place: Place) -> Case:
    return make_case(
        place.world,
        category=place.lamp,
        state=CaseState.IN_PROGRESS,
        now=timezone.now() - dt.timedelta(days=2),
        description=OTHERS_WORDS,
        reporter_phone=OTHERS_PHONE,
    )


def test_the_check_and_the_step_work_without_javascript(
    live_server: Any, chromium: Any, place: Place
) -> None:
    other = someone_elses(place)
    context = chromium.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server.url + place.form_url)

    # The check: pick the type above the form, before typing or choosing a photo.
    page.get_by_label("先选问题类型，看看最近是否已有人反映（可跳过）").select_option(label="路灯不亮")
    page.get_by_role("button", name="查看").click()
    found = page.locator("#duplicates")
    found.get_by_text("办理中").wait_for()
    text = found.inner_text()
    assert "关注这一件" in text
    assert other.tracking_code not in page.content() and OTHERS_WORDS not in page.content()
    assert page.get_by_role("radio", name="路灯不亮").is_checked()
    shot(page, "already-reported/01-check")

    # "Follow this one instead" opens the alley's public board at that case.
    page.get_by_role("link", name="关注这一件").click()
    page.wait_for_url(f"**/board/?area={place.alley.code}#case-{other.pk}")
    assert page.locator(f"#case-{other.pk}").is_visible()
    page.go_back()

    # Not the same problem: 仍然提交 files it at once (the type was checked).
    page.get_by_label("2. 问题描述").fill("巷尾那根路灯整晚不亮。")
    page.get_by_role("button", name="仍然提交").click()
    page.wait_for_url("**/report/done/**")
    code = page.locator(".code").inner_text().strip()
    assert Case.objects.get(tracking_code=code).category == place.lamp

    # Without the check: the first submit shows the candidates, everything typed kept.
    page.goto(live_server.url + place.form_url)
    page.get_by_role("radio", name="路灯不亮").check()
    page.get_by_label("2. 问题描述").fill("3号楼门口路灯坏了。")
    page.get_by_role("button", name="提交", exact=True).click()
    page.locator("#duplicates").get_by_text("关注这一件").first.wait_for()
    assert page.get_by_label("2. 问题描述").input_value() == "3号楼门口路灯坏了。"
    assert Case.objects.count() == 2
    no_sideways_scroll(page)
    shot(page, "already-reported/02-step")
    page.get_by_role("button", name="仍然提交").click()
    page.wait_for_url("**/report/done/**")
    assert Case.objects.count() == 3
    context.close()


def test_the_check_passes_axe_at_360(live_server: Any, phone: Any, place: Place) -> None:
    someone_elses(place)
    phone.goto(f"{live_server.url}{place.form_url}?category={place.lamp.pk}")
    no_sideways_scroll(phone)
    violations = axe_violations(phone)
    assert not violations, describe(violations)
