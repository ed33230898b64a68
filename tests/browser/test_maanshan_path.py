"""The whole Ma'anshan path (社区吹哨、部门报到) through the real pages, each step as the user who takes it.

A resident reports on the alley's phone form; the alley team accepts and whistles to the
community; the community whistles to the street; the street reviews and whistles naming the
department; the district organisation department dispatches; the department signs for the
order and reports (报到); the community confirms the visit; the department completes; the
community verifies; the resident rates on the tracking page; the community evaluates the
department (一哨一考核). Nothing here calls a service: every step is a form on a page.

Screenshots go to test-artifacts/browser/maanshan/ (docs/maanshan-path.md shows them).
Real time throughout: the report is confirmed minutes after the dispatch, well within the
five working days.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from evaluation.models import DepartmentEvaluation
from issues.choices import CaseState, OrderRole, OrderState
from issues.models import Case, DispatchOrder
from tests.browser.conftest import logged_in_context, shot
from tests.issues.public.helpers import Place

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 900}
MINUTE = "%Y-%m-%dT%H:%M"


def expect() -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect


def step(name: str, page: Any) -> None:
    shot(page, f"maanshan/{name}")


class Staff:
    """One signed-in browser context per staff user, opened on first use."""

    def __init__(self, browser: Any, live_server: Any) -> None:
        self.browser, self.live_server = browser, live_server
        self.pages: dict[str, Any] = {}
        self.errors: list[str] = []

    def page(self, user: Any) -> Any:
        if user.username not in self.pages:
            context = logged_in_context(self.browser, user, self.live_server, viewport=DESKTOP)
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on("pageerror", lambda e: self.errors.append(f"{user.username}: {e}"))
            page.on("console", lambda m: self.console(user, m))
            self.pages[user.username] = page
        return self.pages[user.username]

    def console(self, user: Any, message: Any) -> None:
        # Chromium asks every new profile for /favicon.ico, which the site does not serve.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            self.errors.append(f"{user.username}: {message.text} ({message.location.get('url')})")

    def close(self) -> None:
        for page in self.pages.values():
            page.context.close()


def open_action(page: Any, card: str) -> Any:
    """Open one action of a page's action panel (a <details> on the case page, a card elsewhere)."""
    action = page.locator(f"#{card}")
    if action.evaluate("node => node.tagName === 'DETAILS' && !node.open"):
        action.locator("summary").click()
    return action


def submit(page: Any, card: str, button: str, **fill: str) -> None:
    """Fill the labelled fields of one action and press its button; wait for the next page."""
    form = open_action(page, card).locator("form")
    for label, value in fill.items():
        form.get_by_label(label).fill(value)
    with page.expect_navigation():
        form.get_by_role("button", name=button, exact=True).click()


def headline_light(page: Any, state: str, light: str) -> None:
    """The case page's state and its status light."""
    badge = page.locator(".headline .light")
    expect()(badge).to_have_text(state)
    expect()(badge).to_have_class(f"light light-{light}")


def timeline_line(page: Any, kind: str, unit: str) -> None:
    """A line of the timeline naming what happened and the unit that did it."""
    line = page.locator("ol.timeline li").filter(has_text=kind).filter(has_text=unit)
    expect()(line.first).to_be_visible()


def fact(page: Any, term: str) -> str:
    """The text of a <dd> after the <dt> ``term`` in the page's facts."""
    return str(page.locator(f"dt:text-is('{term}') + dd").first.inner_text())


def local_minute(moment: dt.datetime | None = None) -> dt.datetime:
    return timezone.localtime(moment or timezone.now()).replace(second=0, microsecond=0)


def test_the_maanshan_path_through_the_pages(
    live_server: Any, chromium: Any, phone: Any, place: Place
) -> None:
    world = place.world
    staff = Staff(chromium, live_server)
    url = live_server.url

    # 1. The resident scans the QR code on the alley's board and reports on the phone form.
    phone.goto(url + place.form_url)
    expect()(phone.locator("h1")).to_contain_text("金鱼巷")
    phone.get_by_role("radio", name="其他问题").check()
    phone.get_by_label("选了“其他问题”，请在这里选具体类型").select_option(label="占道经营")
    phone.get_by_label("2. 问题描述").fill("巷口水果摊和三轮车长期占道，堵住消防通道，救护车进不来。")
    phone.get_by_label("您的称呼（可选）").fill("李阿姨")
    phone.get_by_label("手机号码").fill("139 1234 5678")
    phone.locator("#id_consent").check()
    phone.get_by_role("button", name="提交", exact=True).click()
    phone.wait_for_url("**/report/done/**")
    code = phone.locator(".code").inner_text().strip()
    step("01-resident-reports", phone)
    case = Case.objects.get(tracking_code=code)
    assert (case.state, case.tier, case.category) == (CaseState.SUBMITTED, "alley", world.cat_c)
    case_url = f"{url}/staff/cases/{case.pk}/"

    # 2. The alley team: the chief accepts, then whistles to the community (小事不出巷; this one is not small).
    chief = staff.page(world.chief_x)
    chief.goto(case_url)
    headline_light(chief, "已提交", "grey")
    assert "金鱼巷街巷服务团队" in fact(chief, "责任单位")
    submit(chief, "t-accept", "受理", 说明="已到现场查看，占道属实。")
    headline_light(chief, "已受理", "yellow")
    timeline_line(chief, "受理", "金鱼巷街巷服务团队")
    submit(chief, "t-whistle", "吹哨上报", 吹哨理由="占道经营需执法，巷里劝导无效，请社区协调。")
    headline_light(chief, "已提交", "grey")
    timeline_line(chief, "吹哨上报", "金鱼巷街巷服务团队")
    assert fact(chief, "当前层级") == "社区"
    step("02-chief-accepts-and-whistles", chief)

    # 3. The community worker whistles to the street (社区吹哨).
    community = staff.page(world.community_worker_x)
    community.goto(case_url)
    assert "新华社区" in fact(community, "责任单位")
    submit(community, "t-whistle", "吹哨上报", 吹哨理由="涉及城管执法，社区无执法权，报街道审核。")
    headline_light(community, "已提交", "grey")
    timeline_line(community, "吹哨上报", "新华社区")
    assert fact(community, "当前层级") == "街道"
    step("03-community-whistles", community)

    # 4. The street reviews (accepts) and whistles to the district naming the responsible department.
    street = staff.page(world.street_worker)
    street.goto(case_url)
    assert "开元街道" in fact(street, "责任单位")
    submit(street, "t-accept", "受理", 说明="已审核：属城管执法事项。")
    whistle = open_action(street, "t-whistle").locator("form")
    whistle.get_by_label("吹哨理由").fill("经审核，占道经营堵塞消防通道，需区城管局执法，提请派单。")
    whistle.get_by_label("建议责任部门").select_option(label="鲤城区城管局（鲤城区）")
    with street.expect_navigation():
        whistle.get_by_role("button", name="吹哨上报", exact=True).click()
    headline_light(street, "已提交", "grey")
    timeline_line(street, "吹哨上报", "开元街道")
    expect()(street.locator("#whistles-title + ul")).to_contain_text("建议责任部门：鲤城区城管局")
    assert fact(street, "当前层级") == "区"
    step("04-street-reviews-and-whistles", street)

    # 5. The district organisation department dispatches on the dispatch page (lead department).
    officer = staff.page(world.district_officer)
    officer.goto(case_url)
    open_action(officer, "t-dispatch").get_by_role("link", name="填写派单").click()
    officer.wait_for_url(f"**/staff/dispatch/{case.pk}/")
    expect()(officer.locator("h1")).to_contain_text(code)
    assert "鲤城区城管局" in officer.locator("#case-title + dl").inner_text()  # the street's suggestion
    form = officer.locator("form[aria-labelledby=dispatch-title]")
    form.get_by_label("牵头部门").select_option(label="鲤城区城管局（鲤城区）")
    form.get_by_label("派单要求").fill("请一周内到新华社区报到，制定清理和长效管理方案。")
    step("05a-district-dispatch-form", officer)
    with officer.expect_navigation():
        form.get_by_role("button", name="派单", exact=True).click()
    officer.wait_for_url(case_url)
    headline_light(officer, "已受理", "yellow")
    timeline_line(officer, "派单", "鲤城区委组织部")
    assert "牵头部门：鲤城区城管局" in fact(officer, "责任单位")
    step("05-district-dispatches", officer)
    order = DispatchOrder.objects.get(case=case)
    assert (order.role, order.department, order.state) == (
        OrderRole.LEAD,
        world.dept_lead,
        OrderState.DISPATCHED,
    )
    order_url = f"{url}/staff/orders/{order.pk}/"

    # 6. The department contact signs for the order and reports (报到): leader, contact, plan, visit.
    dept = staff.page(world.lead_contact)
    dept.goto(f"{url}/staff/orders/")
    dept.get_by_role("link", name=f"#{order.pk}").click()
    dept.wait_for_url(order_url)
    submit(dept, "a-receive", "签收")
    expect()(dept.locator(".headline strong")).to_have_text("已签收")
    report = open_action(dept, "a-report")
    assert report.get_by_label("分管负责人").input_value() == "王分管"  # the department's own, pre-filled
    report.get_by_label("联系人").fill("李联系")
    report.get_by_label("联系电话").fill("0595-22180002")
    report.get_by_label("工作方案").fill("一、三日内联合执法清理占道摊点；二、设置隔离桩；三、每周巡查一次。")
    visit_at = local_minute() + dt.timedelta(minutes=5)
    report.get_by_label("约定到社区报到的时间").fill(visit_at.strftime(MINUTE))
    report.get_by_label("到社区报到的人员").fill("王分管\n李联系")
    with dept.expect_navigation():
        report.get_by_role("button", name="报到", exact=True).click()
    expect()(dept.locator(".headline strong")).to_have_text("已报到")
    expect()(dept.locator("#report-outcome")).to_contain_text("待报到")
    assert "王分管" in fact(dept, "分管负责人") and "李联系" in fact(dept, "联系人")
    timeline_line(dept, "部门报到", "鲤城区城管局")
    step("06-department-reports", dept)

    # 7. The community confirms on the order page that the department came (报到 = showing up).
    community.goto(order_url)
    confirm = open_action(community, "a-attendance-confirm")
    expect()(confirm).to_contain_text("王分管、李联系")
    came = local_minute()
    confirm.get_by_label("实际到场时间").fill(came.strftime(MINUTE))
    confirm.get_by_label("说明").fill("王分管、李联系到社区现场对接。")
    with community.expect_navigation():
        confirm.get_by_role("button", name="确认到场报到", exact=True).click()
    expect()(community.locator("#report-outcome")).to_contain_text("按时到场报到")
    expect()(community.locator("#attendances")).to_contain_text("已到场")
    timeline_line(community, "社区确认到场报到", "新华社区")
    step("07-community-confirms-attendance", community)

    # 8. The department completes its order; the lead's completion resolves the case.
    dept.goto(order_url)
    submit(dept, "a-complete", "办结", 办结说明="已清理全部占道摊点，设置隔离桩 6 根，消防通道畅通。")
    expect()(dept.locator(".headline strong")).to_have_text("已办结")
    timeline_line(dept, "部门办结", "鲤城区城管局")
    step("08-department-completes", dept)

    # 9. The community verifies on site.
    community.goto(case_url)
    headline_light(community, "待核实", "green")
    verify = community.locator("#t-verify")
    expect()(verify.get_by_label("通过", exact=True)).to_be_checked()
    submit(community, "t-verify", "核实", 说明="现场核实，通道已畅通。")
    headline_light(community, "橘灯 · 已办结待评价", "orange")
    timeline_line(community, "核实通过", "新华社区")
    step("09-community-verifies", community)

    # 10. The resident rates on the tracking page (the last four digits of the phone).
    phone.goto(f"{url}/track/{code}/")
    expect()(phone.locator(".facts .light")).to_have_text("橘灯：处理完结，等待回访")
    phone.get_by_label("您留下的手机号码的后 4 位").fill("5678")
    phone.get_by_label("已解决").check()
    phone.get_by_label("满意", exact=True).check()
    phone.get_by_label("您的意见（可选）").fill("通道终于通了，谢谢！")
    phone.get_by_role("button", name="提交评价").click()
    phone.get_by_text("感谢您的评价！").wait_for()
    expect()(phone.locator(".facts .light")).to_have_text("已关闭")
    public_timeline = phone.locator("ol.timeline")
    for unit in ("金鱼巷街巷服务团队", "新华社区", "开元街道", "鲤城区委组织部", "鲤城区城管局"):
        expect()(public_timeline).to_contain_text(unit)
    step("10-resident-rates", phone)

    # 11. The community evaluates the department (一哨一考核), from its to-do list.
    community.goto(f"{url}/staff/")
    evaluations = community.locator("#evaluations")
    expect()(evaluations).to_contain_text("鲤城区城管局")
    evaluations.get_by_role("link", name="去评价").click()
    community.wait_for_url(f"**/dashboard/evaluations/order/{order.pk}/**")
    expect()(community.locator("h1")).to_contain_text("评价：鲤城区城管局")
    assert community.get_by_label("报到及时性").input_value() == "on_time"  # from the confirmed attendance
    for group in ("工作方案质量", "办理质量", "配合程度"):
        community.get_by_role("group", name=group).get_by_label("优秀").check()
    community.get_by_label("综合评分（0–100）").fill("95")
    community.get_by_label("初步评价意见").fill("按时到社区报到，方案具体，清理彻底。")
    step("11a-community-evaluation-form", community)
    with community.expect_navigation():
        community.get_by_role("button", name="提交评价").click()
    expect()(community.get_by_text("评价已提交：鲤城区城管局")).to_be_visible()
    step("11-community-evaluates", community)

    staff.close()
    assert not staff.errors, staff.errors

    case.refresh_from_db()
    order.refresh_from_db()
    assert case.state == CaseState.CLOSED
    assert order.state == OrderState.COMPLETED and order.attended_at is not None
    assert order.report_on_time is True
    evaluation = DepartmentEvaluation.objects.get(order=order)
    assert (evaluation.report_timeliness, evaluation.overall_score, evaluation.community) == (
        "on_time",
        95,
        world.community_x,
    )
