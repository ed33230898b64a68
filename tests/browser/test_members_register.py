"""双报到 on a resident's phone at 360 px: the alley page → 我要报到 → the number and its code → the form → 待确认."""

from __future__ import annotations

from typing import Any

import pytest

from core.sms import MemoryBackend
from members.models import Registration
from tests.factories import PartyOrganizationFactory
from tests.issues.public.helpers import Place

from .conftest import axe_violations, describe, shot

pytestmark = pytest.mark.browser

NUMBER = "13600002222"


def fits_and_passes_axe(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} scrolls sideways ({width}px)"
    violations = axe_violations(page)
    assert not violations, describe(violations)


def test_a_member_registers_from_the_alley_page(live_server: Any, phone: Any, place: Place) -> None:
    organization = PartyOrganizationFactory(name="鲤城区税务局机关党支部")
    alley = place.world.alley_x

    phone.goto(f"{live_server.url}/alley/{alley.code}/")
    phone.get_by_role("link", name="我要报到").click()
    phone.wait_for_url("**/phone/?next=**")
    phone.get_by_label("手机号码").fill(NUMBER)
    phone.get_by_role("button", name="获取验证码").click()
    phone.wait_for_url("**/phone/code/**")
    [sms] = MemoryBackend.outbox
    phone.get_by_label("短信验证码").fill(sms.params["code"])
    phone.get_by_role("button", name="验证", exact=True).click()
    phone.wait_for_url(f"**/members/register/{alley.code}/")
    fits_and_passes_axe(phone)
    shot(phone, "members/01-register")

    phone.get_by_label("姓名", exact=True).fill("赵党员")
    phone.get_by_label("单位党组织", exact=True).select_option(label=organization.name)
    phone.get_by_label("特长（可不填）", exact=True).fill("电工")
    phone.get_by_role("button", name="提交报到").click()  # without consent: explained, nothing saved
    assert "请阅读并同意个人信息的使用说明" in phone.locator("main").inner_text()
    assert not Registration.objects.exists()
    phone.locator("#id_consent").check()
    phone.get_by_role("button", name="提交报到").click()
    phone.wait_for_url("**/members/status/")
    assert "待确认" in phone.locator("main").inner_text()
    fits_and_passes_axe(phone)
    shot(phone, "members/02-status")
    registration = Registration.objects.get()
    assert (registration.phone, registration.community_id) == (NUMBER, alley.parent_id)
