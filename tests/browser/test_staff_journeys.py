"""Staff journeys in real Chromium, each as its user takes it, at the size they use (issue 16).

The alley chief on a 360-px phone: logs in, opens the to-do page, opens a case, accepts, starts and
resolves it with a photo of the fix. The community worker at 1280: verifies a fix and records the
resident's answer from a return call. The department contact on a phone: signs for an order,
reports (报到) and completes it. The district officer at 1280: dispatches a case held at the district.

Pages are reached through stable things (links named by tracking codes, headings, the action
panel's buttons), not the to-do page's block layout. Every page is checked with axe-core and
kept as a screenshot in test-artifacts/browser/journeys/.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image

from alleys.choices import AreaLevel
from issues.choices import CaseState, OrderRole, OrderState
from issues.models import Case, DispatchOrder
from issues.workflow import case_submit
from tests.factories import make_case
from tests.issues.public.helpers import Place
from tests.issues.staff.helpers import dispatched_case, png

from .conftest import AXE, PHONE, axe_violations, describe, logged_in_context, shot

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "journey-pass-16"


def expect() -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


class Journey:
    """One user's browser tab: screenshots and axe-core at each step, script errors collected."""

    def __init__(self, page: Any, name: str) -> None:
        self.page, self.name = page, name
        self.errors: list[str] = []
        self.found: list[str] = []
        page.set_default_timeout(15_000)
        page.on("pageerror", lambda e: self.errors.append(str(e)))

    def step(self, label: str) -> None:
        """Keep a screenshot and hold the page to the checks every staff page must pass."""
        page = self.page
        width = page.evaluate("document.documentElement.scrollWidth")
        viewport = page.viewport_size["width"]
        if width > viewport:
            self.found.append(f"{label}: {width} px wide in a {viewport}-px window")
        if AXE.exists() and (violations := axe_violations(page)):
            self.found.append(f"{label}:\n{describe(violations)}")
        shot(page, f"journeys/{self.name}-{label}")

    def open_action(self, name: str, *, prefix: str = "t") -> Any:
        """Open one action of a page's panel (``t-`` on the case page, ``a-`` on an order's) and return its form."""
        action = self.page.locator(f"#{prefix}-{name}")
        if not action.evaluate("node => node.open"):
            action.locator("summary").click()
        return action.locator("form")

    def press(self, form: Any, button: str) -> None:
        with self.page.expect_navigation():
            form.get_by_role("button", name=button, exact=True).click()

    def done(self) -> None:
        self.page.context.close()
        assert not self.errors, self.errors
        assert not self.found, "\n".join(self.found)


def headline_state(page: Any, state: str) -> None:
    expect()(page.locator(".headline .light")).to_have_text(state)


def fix_photo(tmp: Path) -> Path:
    path = tmp / "fix.jpg"
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "teal").save(buffer, format="JPEG")
    path.write_bytes(buffer.getvalue())
    return path


def test_the_chief_on_a_phone_accepts_starts_and_resolves_with_a_photo(
    live_server: Any, chromium: Any, place: Place, tmp_path: Path
) -> None:
    world = place.world
    world.cat_a.fix_photo_required = True
    world.cat_a.save()
    chief = world.chief_x
    chief.set_password(PASSWORD)
    chief.save()
    case = case_submit(
        category=world.cat_a,
        alley=world.alley_x,
        description="巷口路灯不亮，晚上很黑。",
        reporter_name="王五",
        reporter_phone="13812345678",
        photos=[png()],
    )
    context = chromium.new_context(viewport=PHONE, locale="zh-CN", has_touch=True, is_mobile=True)
    journey = Journey(context.new_page(), "chief-phone")
    page = journey.page

    page.goto(f"{live_server.url}/staff/")  # the login page first
    page.get_by_label("用户名").fill("chief_x")
    page.get_by_label("密码").fill(PASSWORD)
    journey.step("01-login")
    with page.expect_navigation():
        page.locator("[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/staff/")
    expect()(page.get_by_role("heading", level=1)).to_contain_text("待办")
    journey.step("02-to-do")

    page.get_by_role("link", name=case.tracking_code).first.click()
    page.wait_for_url(f"**/staff/cases/{case.pk}/")
    headline_state(page, "已提交")
    expect()(page.locator("#reporter a[href='tel:13812345678']")).to_be_visible()
    # What the chief may do now, in one panel after the facts; 不予受理 and 合并 set apart.
    panel = page.locator("#actions")
    expect()(panel.locator("details.action > summary")).to_have_text(["受理", "吹哨上报", "不予受理", "合并"])
    expect()(panel.locator(".danger-zone summary")).to_have_text(["不予受理", "合并"])
    journey.step("03-case")

    form = journey.open_action("accept")
    form.get_by_label("说明").fill("马上去现场看。")
    journey.step("04-accept-form")
    journey.press(form, "受理")
    expect()(page.get_by_text("已受理。")).to_be_visible()
    headline_state(page, "已受理")

    journey.press(journey.open_action("start"), "开始办理")
    headline_state(page, "办理中")
    expect()(page.locator("ol.timeline")).to_contain_text("开始办理")
    journey.step("05-started")

    form = journey.open_action("resolve")
    expect()(form).to_contain_text("这类问题办结时须上传整改后的照片")
    photos = form.locator("input[type=file]")
    assert photos.get_attribute("required") is not None
    form.get_by_label("办理结果").fill("已更换灯泡，路灯恢复照明。")
    form.get_by_role("button", name="办结待核实", exact=True).click()  # no photo yet: the browser stops it
    assert photos.evaluate("input => input.validity.valueMissing")
    assert Case.objects.get(pk=case.pk).state == CaseState.IN_PROGRESS
    photos.set_input_files(str(fix_photo(tmp_path)))
    journey.step("06-resolve-form")
    journey.press(form, "办结待核实")
    headline_state(page, "待核实")
    expect()(page.locator("#photos figcaption", has_text="整改照片")).to_be_visible()
    expect()(page.locator("#actions")).to_contain_text("您现在没有可以对该案件执行的操作。")
    journey.step("07-resolved")
    journey.done()

    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_VERIFICATION
    assert case.photos.filter(kind="fix").count() == 1


def test_the_community_worker_verifies_a_fix_and_records_the_return_call(
    live_server: Any, chromium: Any, place: Place
) -> None:
    world = place.world
    case = make_case(world, state=CaseState.AWAITING_VERIFICATION, now=timezone.now())
    Case.objects.filter(pk=case.pk).update(verify_due=timezone.now() + dt.timedelta(days=2))
    context = logged_in_context(chromium, world.community_worker_x, live_server, viewport=DESKTOP)
    journey = Journey(context.new_page(), "community")
    page = journey.page

    page.goto(f"{live_server.url}/staff/")
    journey.step("01-to-do")
    page.get_by_role("link", name=case.tracking_code).first.click()
    page.wait_for_url(f"**/staff/cases/{case.pk}/")
    headline_state(page, "待核实")
    expect()(page.locator("#governing-deadline")).to_contain_text("核实期限")
    expect()(page.locator("#governing-deadline")).to_contain_text("新华社区")
    form = journey.open_action("verify")  # the one step to take: open already
    expect()(form.get_by_label("通过", exact=True)).to_be_checked()
    form.get_by_label("说明").fill("现场查看，路灯已亮。")
    journey.step("02-verify-form")
    journey.press(form, "核实")
    headline_state(page, "橘灯 · 已办结待评价")

    form = journey.open_action("feedback")
    form.get_by_label("已解决").check()
    form.get_by_label("满意", exact=True).check()
    form.get_by_label("群众意见").fill("电话回访：灯亮了，谢谢。")
    journey.step("03-return-call-form")
    journey.press(form, "评价")
    headline_state(page, "已关闭")
    expect()(page.locator("ol.timeline")).to_contain_text("核实通过")
    journey.step("04-closed")
    journey.done()
    assert Case.objects.get(pk=case.pk).state == CaseState.CLOSED


def test_the_department_contact_on_a_phone_receives_reports_and_completes(
    live_server: Any, chromium: Any, place: Place
) -> None:
    world = place.world
    case = dispatched_case(world)
    order = case.orders.get(role=OrderRole.LEAD)
    context = logged_in_context(
        chromium, world.lead_contact, live_server, viewport=PHONE, has_touch=True, is_mobile=True
    )
    journey = Journey(context.new_page(), "department-phone")
    page = journey.page

    page.goto(f"{live_server.url}/staff/orders/")
    expect()(page.get_by_role("heading", level=1)).to_be_visible()
    journey.step("01-orders")
    page.get_by_role("link", name=f"#{order.pk}").first.click()
    page.wait_for_url(f"**/staff/orders/{order.pk}/")
    journey.press(journey.open_action("receive", prefix="a"), "签收")
    expect()(page.locator(".headline strong")).to_have_text("已签收")
    journey.step("02-received")

    report = journey.open_action("report", prefix="a")
    report.get_by_label("分管负责人").fill("王分管")
    report.get_by_label("联系人", exact=False).first.fill("李联系")
    report.get_by_label("联系电话").fill("0595-22180002")
    report.get_by_label("工作方案").fill("三日内清理，一周内复查。")
    visit = timezone.localtime() + dt.timedelta(minutes=10)
    report.get_by_label("约定到社区报到的时间").fill(visit.strftime("%Y-%m-%dT%H:%M"))
    report.get_by_label("到社区报到的人员").fill("王分管\n李联系")
    journey.step("03-report-form")
    journey.press(report, "报到")
    expect()(page.locator(".headline strong")).to_have_text("已报到")

    complete = journey.open_action("complete", prefix="a")
    complete.get_by_label("办结说明").fill("已清理占道摊点，通道畅通。")
    journey.step("04-complete-form")
    journey.press(complete, "办结")
    expect()(page.locator(".headline strong")).to_have_text("已办结")
    journey.step("05-completed")
    journey.done()

    order.refresh_from_db()
    assert order.state == OrderState.COMPLETED
    assert Case.objects.get(pk=case.pk).state == CaseState.AWAITING_VERIFICATION


def test_the_officer_dispatches_a_case_held_at_the_district(
    live_server: Any, chromium: Any, place: Place
) -> None:
    world = place.world
    case = make_case(world, category=world.cat_d, tier=AreaLevel.DISTRICT, now=timezone.now())
    context = logged_in_context(chromium, world.district_officer, live_server, viewport=DESKTOP)
    journey = Journey(context.new_page(), "officer")
    page = journey.page

    page.goto(f"{live_server.url}/staff/")
    journey.step("01-to-do")
    page.get_by_role("link", name=case.tracking_code).first.click()
    page.wait_for_url(f"**/staff/cases/{case.pk}/")
    headline_state(page, "已提交")
    journey.step("02-case")
    action = page.locator("#t-dispatch")
    action.locator("summary").click()
    action.get_by_role("link", name="填写派单").click()
    page.wait_for_url(f"**/staff/dispatch/{case.pk}/")
    form = page.locator("form[aria-labelledby=dispatch-title]")
    form.get_by_label("牵头部门").select_option(label="鲤城区城管局（鲤城区）")
    form.get_by_label("派单要求").fill("请一周内到新华社区报到，制定整治方案。")
    journey.step("03-dispatch-form")
    journey.press(form, "派单")
    page.wait_for_url(f"**/staff/cases/{case.pk}/")
    headline_state(page, "已受理")
    expect()(page.locator("ol.timeline")).to_contain_text("派单")
    journey.step("04-dispatched")
    journey.done()

    order = DispatchOrder.objects.get(case=case)
    assert (order.department, order.role, order.state) == (
        world.dept_lead,
        OrderRole.LEAD,
        OrderState.DISPATCHED,
    )
