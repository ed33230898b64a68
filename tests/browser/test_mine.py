"""我的反映 on a 360-px phone: /mine/ → the number → the code from the SMS → every case filed with it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from core.sms import MemoryBackend
from issues.choices import CaseState
from tests.factories import make_case
from tests.issues.public.helpers import Place

from .conftest import axe_violations, describe, shot

pytestmark = pytest.mark.browser

MINE = "13812345678"
OTHERS = "13711112222"


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} scrolls sideways ({width}px)"


def test_the_whole_flow_at_360_with_axe(live_server: Any, phone: Any, place: Place) -> None:
    now = timezone.now()
    mine = [
        make_case(
            place.world,
            category=place.lamp,
            state=CaseState.IN_PROGRESS,
            now=now - dt.timedelta(days=3),
            reporter_phone=MINE,
        ),
        make_case(
            place.world,
            category=place.lamp,
            state=CaseState.AWAITING_VERIFICATION,
            now=now - dt.timedelta(days=1),
            reporter_phone=MINE,
        ),
        make_case(place.world, category=place.lamp, now=now - dt.timedelta(hours=2), reporter_phone=MINE),
    ]
    others = make_case(place.world, category=place.lamp, now=now, reporter_phone=OTHERS)

    phone.goto(f"{live_server.url}/mine/")
    assert phone.get_by_role("link", name="我的反映").get_attribute("aria-current") == "page"
    no_sideways_scroll(phone)
    violations = axe_violations(phone)
    assert not violations, describe(violations)
    shot(phone, "mine/01-ask")

    phone.get_by_role("link", name="验证手机号").click()
    phone.wait_for_url("**/phone/?next=%2Fmine%2F")
    phone.get_by_label("手机号码").fill("138 1234 5678")
    phone.get_by_role("button", name="获取验证码").click()
    phone.wait_for_url("**/phone/code/**")
    [sms] = MemoryBackend.outbox
    assert sms.phone == MINE and sms.template == "phone_code"
    phone.get_by_label("短信验证码").fill(sms.params["code"])
    phone.get_by_role("button", name="验证", exact=True).click()
    phone.wait_for_url("**/mine/")

    cards = phone.locator(".case-card")
    assert cards.count() == 3
    links = [cards.nth(i).get_by_role("link").get_attribute("href") for i in range(3)]
    assert links == [f"/track/{c.tracking_code}/" for c in reversed(mine)]
    assert others.tracking_code not in phone.content()
    assert "138****5678" in phone.locator("main").inner_text()
    no_sideways_scroll(phone)
    violations = axe_violations(phone)
    assert not violations, describe(violations)
    shot(phone, "mine/02-list")

    # A card leads to the case's tracking page.
    cards.first.get_by_role("link").click()
    phone.wait_for_url(f"**/track/{mine[-1].tracking_code}/")
    phone.go_back()

    # 退出: the list is gone, the page asks for the number again.
    phone.get_by_role("button", name="退出（在别人的手机上用完请退出）").click()
    phone.wait_for_url("**/mine/")
    assert phone.get_by_role("link", name="验证手机号").is_visible()
    assert mine[0].tracking_code not in phone.content()
