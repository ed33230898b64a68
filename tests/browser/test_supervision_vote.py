"""The alley's supervision list on a 360-px phone without JavaScript: verify a phone, rate the commitments, see the confirmation."""

from __future__ import annotations

from typing import Any

import pytest

from core.sms import Sms
from participation.models import CommitmentSource, SupervisionBallot, SupervisionScore, Verdict
from tests.factories import CommitmentFactory
from tests.issues.public.helpers import Place

from .conftest import PHONE, axe_violations, describe, shot

pytestmark = pytest.mark.browser

NUMBER = "13812345678"


def no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"{page.url} scrolls sideways ({width}px)"


def test_verify_vote_and_confirm_at_360_without_javascript(
    live_server: Any, chromium: Any, place: Place, sms_outbox: list[Sms]
) -> None:
    alley = place.alley
    first = CommitmentFactory(
        alley=alley, text="每周巡巷不少于三次，巷内问题当天登记", source=CommitmentSource.CHIEF_PROMISE
    )
    second = CommitmentFactory(alley=alley, text="门前三包，垃圾不落地", source=CommitmentSource.CONVENTION)
    context = chromium.new_context(viewport=PHONE, locale="zh-CN", java_script_enabled=False)
    page = context.new_page()

    # The alley page: the list, and the link to this quarter's vote.
    page.goto(f"{live_server.url}/alley/{alley.code}/")
    section = page.locator("#supervision")
    assert "每周巡巷不少于三次" in section.inner_text()
    no_sideways_scroll(page)
    section.scroll_into_view_if_needed()
    shot(page, "supervision/01-alley-section")
    section.get_by_role("link", name="评议本季度").click()

    # Not verified yet: the phone pages, then back to the vote.
    page.wait_for_url("**/phone/?next=*")
    page.get_by_label("手机号码").fill(NUMBER)
    page.get_by_role("button", name="获取验证码").click()
    page.wait_for_url("**/phone/code/**")
    code = sms_outbox[-1].params["code"]
    page.get_by_label("短信验证码").fill(code)
    page.get_by_role("button", name="验证", exact=True).click()
    page.wait_for_url(f"**/alley/{alley.code}/supervise/")

    # One radio group per commitment, each a fieldset named by its legend.
    group = page.get_by_role("group", name="1. 每周巡巷不少于三次")
    group.get_by_role("radio", name="基本满意").check()
    page.get_by_role("button", name="提交评议").click()
    assert page.get_by_text("还有 1 项没有选").is_visible()
    assert page.get_by_role("radio", name="基本满意").first.is_checked()
    assert not SupervisionBallot.objects.exists()
    page.get_by_role("group", name="2. 门前三包").get_by_role("radio", name="满意", exact=True).check()
    page.get_by_label("意见建议（可选）").fill("晚上巷口再亮一点就好了")
    no_sideways_scroll(page)
    shot(page, "supervision/02-vote")
    page.get_by_role("button", name="提交评议").click()
    page.wait_for_url("**/supervise/done/")
    assert "感谢您参与" in page.content()
    no_sideways_scroll(page)
    shot(page, "supervision/03-done")
    ballot = SupervisionBallot.objects.get()
    assert NUMBER not in ballot.phone_digest and ballot.comment == "晚上巷口再亮一点就好了"
    assert dict(SupervisionScore.objects.values_list("commitment_id", "verdict")) == {
        first.pk: Verdict.BASIC,
        second.pk: Verdict.SATISFIED,
    }

    # Back to the vote: already rated this quarter.
    page.goto(f"{live_server.url}/alley/{alley.code}/supervise/")
    assert page.locator("#voted").is_visible()
    context.close()


def test_the_alley_section_and_the_vote_page_pass_axe_at_360(
    live_server: Any, phone: Any, place: Place, sms_outbox: list[Sms]
) -> None:
    CommitmentFactory(alley=place.alley, text="门前三包，垃圾不落地")
    phone.goto(f"{live_server.url}/alley/{place.alley.code}/")
    no_sideways_scroll(phone)
    violations = axe_violations(phone)
    assert not violations, describe(violations)
    phone.goto(f"{live_server.url}/alley/{place.alley.code}/supervise/")
    phone.get_by_label("手机号码").fill(NUMBER)
    phone.get_by_role("button", name="获取验证码").click()
    phone.wait_for_url("**/phone/code/**")
    phone.get_by_label("短信验证码").fill(sms_outbox[-1].params["code"])
    phone.get_by_role("button", name="验证", exact=True).click()
    phone.wait_for_url(f"**/alley/{place.alley.code}/supervise/")
    phone.get_by_role("button", name="提交评议").click()  # nothing chosen: the error summary
    phone.get_by_text("还有 1 项没有选").wait_for()
    no_sideways_scroll(phone)
    violations = axe_violations(phone)
    assert not violations, describe(violations)
