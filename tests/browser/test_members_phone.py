"""双报到 on a 360 × 740 phone: the member's own pages (claim a need, record the service) and the
dashboard's 双报到 table for the organisation department; nothing scrolls sideways, axe-core finds
nothing. Screenshots in test-artifacts/browser/members/."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from members.choices import ClaimState, NeedKind
from members.models import Claim
from members.services import need_post
from tests.factories import PartyOrganizationFactory, RegistrationFactory, UserFactory, World, build_world

from .conftest import PHONE, axe_violations, describe, logged_in_context, shot

pytestmark = pytest.mark.browser

WIDTH = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


@pytest.fixture
def world(transactional_db: None) -> World:
    return build_world()


def check(page: Any, name: str) -> None:
    width = page.evaluate(WIDTH)
    shot(page, f"members/{name}")
    assert width[0] <= width[1], f"{name}: {width[0]} px wide"
    violations = axe_violations(page)
    assert not violations, f"{name}:\n{describe(violations)}"


def test_member_claims_and_records_on_a_phone(chromium: Any, live_server: Any, world: World) -> None:
    login = UserFactory(username="dangyuan", is_staff=False)
    org = PartyOrganizationFactory(name="鲤城区城管局机关党支部", department=world.dept_lead)
    RegistrationFactory(
        user=login, full_name="王建国", phone="13905950001", organization=org, community=world.community_x
    )
    need = need_post(
        user=world.community_worker_x,
        community=world.community_x,
        kind=NeedKind.WISH,
        title="为独居老人更换楼道灯泡",
        places=1,
        now=timezone.now(),
    )
    context = logged_in_context(chromium, login, live_server, viewport=PHONE, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/staff/members/needs/")
        check(page, "member-needs")
        page.click("text=为独居老人更换楼道灯泡")
        page.wait_for_url(f"**/staff/members/needs/{need.pk}/")  # not measured mid-navigation
        check(page, "member-need")
        page.click("button:has-text('我来认领')")
        page.wait_for_url("**/staff/members/claims/*/")
        page.wait_for_selector("text=记录服务")
        check(page, "member-claim")
        page.fill("input[name=hours]", "1.5")
        page.fill("textarea[name=note]", "换了三个灯泡，检查了线路")
        page.click("button:has-text('提交服务记录')")
        page.wait_for_selector("text=服务已记录")
        shot(page, "members/member-claim-submitted")
        check(page, "member-claim-recorded")
        claim = Claim.objects.get(need=need)
        assert claim.state == ClaimState.RECORDED and str(claim.hours) == "1.5"
        page.goto(f"{live_server.url}/staff/members/")
        check(page, "member-list")
        assert "13905950001" in page.content()
    finally:
        context.close()


def test_dashboard_table_on_a_phone(chromium: Any, live_server: Any, world: World) -> None:
    RegistrationFactory(community=world.community_x)
    context = logged_in_context(
        chromium, world.district_officer, live_server, viewport=PHONE, has_touch=True, is_mobile=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}/dashboard/members/?area={world.street.code}")
        assert "在职党员双报到" in page.content()
        check(page, "dashboard-members")
    finally:
        context.close()
