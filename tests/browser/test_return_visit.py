"""The return visit in Chromium (issue 15): a case past its feedback window, two failed attempts, closed unrated.

The resident's tracking page shows the orange light by its Jilin name (橘灯 "处理完结，等待回访")
while the answer or the visit is awaited; the community finds the case on its to-do list
(待回访), records two failed attempts with the form on the case page (no script, under the
site's Content-Security-Policy), and the second closes the case unrated. Screenshots go to
test-artifacts/browser/return-visit-*.png.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from issues.choices import CaseState, EventKind
from issues.models import Case, ReturnVisit
from issues.sweep import run_sweep
from tests.factories import make_case
from tests.issues.public.helpers import Place

from .conftest import AXE, PHONE, axe_violations, describe, shot
from .test_content_security_policy import Watch
from .test_resident_journey import no_sideways_scroll

pytestmark = pytest.mark.browser


def test_two_failed_return_visits_close_a_case_the_resident_saw_orange(
    live_server: Any, chromium: Any, place: Place
) -> None:
    world = place.world
    verified = timezone.now() - dt.timedelta(days=14)
    case = make_case(world, state=CaseState.AWAITING_FEEDBACK, now=verified, description="巷口路灯不亮三天了")
    track = f"{live_server.url}/track/{case.tracking_code}/"

    resident = chromium.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    phone = resident.new_page()
    phone.set_default_timeout(15_000)
    phone.goto(track)
    assert phone.locator(".facts .light").inner_text() == "橘灯：处理完结，等待回访"
    assert phone.locator(".step.is-current").inner_text().startswith("处理完结，等待回访")
    no_sideways_scroll(phone)  # the light's long name wraps on a phone
    shot(phone, "return-visit-01-track-awaiting-feedback")

    # The window has passed: the sweep asks the community for a return visit (it closes nothing).
    assert run_sweep(now=timezone.now()).return_visit_due == 1
    assert Case.objects.get(pk=case.pk).state == CaseState.AWAITING_RETURN_VISIT
    phone.reload()
    assert phone.locator(".facts .light").inner_text() == "橘灯：处理完结，等待回访"
    assert phone.get_by_text("社区会电话或上门回访您").is_visible()
    assert phone.get_by_role("button", name="提交评价").is_visible()  # the resident is still heard
    shot(phone, "return-visit-02-track-visit-due")

    staff = Watch(chromium, live_server, world.community_worker_x)
    page = staff.goto("/staff/")
    todo = page.locator("#awaiting_return_visit")
    assert todo.get_by_role("heading").inner_text().startswith("待回访")
    assert todo.get_by_text("橘灯 · 待回访").is_visible()
    shot(page, "return-visit-03-staff-to-do")
    todo.get_by_role("link", name=case.tracking_code).click()
    page.wait_for_url(f"**/staff/cases/{case.pk}/")

    def attempt(channel: str, note: str) -> None:
        form = page.locator("#t-return-visit")
        form.get_by_label(channel, exact=True).check()
        form.get_by_label("没有联系上").check()
        form.get_by_label("情况说明（如无人接听、关机、不在家）").fill(note)
        with page.expect_navigation():
            form.get_by_role("button", name="回访").click()

    assert page.locator("#t-return-visit").get_by_text("还需 2 次未联系上").is_visible()
    if AXE.exists():  # the staff site's pages are held to the same checks as the residents'
        assert not (found := axe_violations(page)), describe(found)
    shot(page, "return-visit-04-staff-form")
    attempt("电话", "无人接听")
    assert page.get_by_text("已回访。").is_visible()
    assert page.locator("#return-visits").get_by_text("无人接听").is_visible()
    assert page.locator("#t-return-visit").get_by_text("还需 1 次未联系上").is_visible()
    shot(page, "return-visit-05-staff-one-attempt")

    phone.reload()
    assert phone.locator(".facts .light").inner_text() == "橘灯：处理完结，等待回访"
    assert phone.get_by_text("社区已电话回访，未联系上反映人（第 1 次）。").is_visible()
    assert "无人接听" not in phone.content()  # the staff note is not public
    no_sideways_scroll(phone)
    shot(phone, "return-visit-06-track-after-one-attempt")

    attempt("上门", "家中无人")
    assert page.locator(".headline .light").inner_text() == "已关闭"
    assert page.get_by_text("2 次回访均未联系上反映人，案件关闭（未评价）。").is_visible()
    assert page.locator("#t-return-visit").count() == 0
    shot(page, "return-visit-07-staff-closed")

    phone.reload()
    assert phone.locator(".facts .light").inner_text() == "已关闭"
    assert phone.get_by_text("2 次回访均未联系上反映人，案件关闭（未评价）。").is_visible()
    assert phone.get_by_role("button", name="提交评价").count() == 0
    shot(phone, "return-visit-08-track-closed")
    resident.close()

    problems = staff.close()
    assert not problems, problems
    case = Case.objects.get(pk=case.pk)
    assert (case.state, case.feedbacks.count()) == (CaseState.CLOSED, 0)
    assert list(ReturnVisit.objects.filter(case=case).values_list("channel", "reached")) == [
        ("phone", False),
        ("in_person", False),
    ]
    assert case.events.filter(kind=EventKind.RETURN_VISIT).count() == 2
