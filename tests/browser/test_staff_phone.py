"""Every staff page of each role on a 360 × 740 phone: nothing scrolls sideways, axe-core finds nothing (issue 16).

Chiefs work on phones. Each role (alley chief, community worker, street worker, department contact,
district organisation department) signs in and opens every staff page it has, with data on it:
cases in several states, a dispatched case with its orders, a consultation, an extension request,
a common issue, a joint meeting, a standing mechanism, a patrol log and inbox messages.
Screenshots go to test-artifacts/browser/staff-phone/<role>-<page>.png.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone

from alleys.choices import AreaLevel
from issues.choices import CaseState, OrderRole, PatrolKind
from issues.models import Case, DispatchOrder, Notification, PatrolLog
from issues.workflow import case_submit
from issues.workflow.consultations import case_consult
from issues.workflow.orders import common_issue_create, extension_request, order_receive
from members.choices import NeedKind, RegistrationState
from members.services import claim_record, claim_take, need_post
from tests.factories import (
    AgendaItemFactory,
    JointMeetingFactory,
    PartyOrganizationFactory,
    RegistrationFactory,
    StandingMechanismFactory,
    World,
    build_buildings,
    make_case,
)
from tests.issues.public.helpers import Place
from tests.issues.staff.helpers import dispatched_case, png

from .conftest import AXE, PHONE, axe_violations, describe, logged_in_context, shot

pytestmark = pytest.mark.browser


@dataclass
class Desk:
    """What the staff pages show in this test: one of each kind of thing."""

    submitted: Case
    working: Case
    verifying: Case
    dispatched: Case
    district: Case
    lead_order: DispatchOrder
    consultation_id: int
    common_issue_id: int
    meeting_id: int
    mechanism_id: int
    patrol_id: int
    # 双报到: a pending registration, a need with a recorded claim.
    registration_id: int = 0
    need_id: int = 0
    claim_id: int = 0


def build_desk(world: World) -> Desk:
    now = timezone.now()
    submitted = case_submit(
        category=world.cat_a,
        alley=world.alley_x,
        description="巷口路灯不亮，晚上很黑，老人出门不方便。",
        reporter_name="王五",
        reporter_phone="13812345678",
        address_detail="金鱼巷 12 号门口",
        photos=[png()],
    )
    working = make_case(world, state=CaseState.IN_PROGRESS, now=now)
    verifying = make_case(world, state=CaseState.AWAITING_VERIFICATION, now=now)
    dispatched = dispatched_case(world)
    lead_order = dispatched.orders.get(role=OrderRole.LEAD)
    order_receive(order=lead_order, actor=world.lead_contact)
    extension_request(
        order=lead_order,
        actor=world.lead_contact,
        reason="需要协调产权单位，材料审批较慢。",
        new_due=lead_order.complete_due + dt.timedelta(days=30),
    )
    district = make_case(world, category=world.cat_d, tier=AreaLevel.DISTRICT, now=now)
    [consultation] = case_consult(
        case=district,
        actor=world.district_officer,
        departments=[world.dept_lead],
        question="是否属于贵局职责？",
    )
    issue = common_issue_create(
        actor=world.district_officer, title="老城区占道经营反复出现", cases=[dispatched, district]
    )
    meeting = JointMeetingFactory(
        area=world.community_x, title="新华社区第四季度联席会议", date=timezone.localdate(now)
    )
    AgendaItemFactory(meeting=meeting, case=working)
    mechanism = StandingMechanismFactory(
        title="占道经营联合巡查机制",
        area=world.community_x,
        category_class=world.cat_c.category_class,
        owner_department=world.dept_lead,
    )
    patrol = PatrolLog.objects.create(
        chief=world.chief_x,
        alley=world.alley_x,
        kind=PatrolKind.PATROL,
        date=timezone.localdate(),
        checked=["下水道", "路灯"],
        notes="路灯一盏不亮，已登记。",
    )
    # A common-issue proposal for the street and the org department: one type from two communities.
    for alley in (world.alley_x, world.alley_x, world.alley_y):
        make_case(world, alley=alley, category=world.cat_b, now=now)
    for name in ("chief_x", "community_worker_x", "street_worker", "lead_contact", "district_officer"):
        Notification.objects.create(
            recipient=world.actor(name),
            case=submitted,
            kind="note",
            title=f"新案件 {submitted.tracking_code}：路灯不亮",
            body="请在受理期限内受理。",
        )
    registration, need, claim = members_desk(world)
    return Desk(
        registration_id=registration,
        need_id=need,
        claim_id=claim,
        submitted=submitted,
        working=working,
        verifying=verifying,
        dispatched=dispatched,
        district=district,
        lead_order=lead_order,
        consultation_id=consultation.pk,
        common_issue_id=issue.pk,
        meeting_id=meeting.pk,
        mechanism_id=mechanism.pk,
        patrol_id=patrol.pk,
    )


# The named world's alley_x (tests/factories.py build_world), whose supervision list chief_x and
# community_worker_x keep.
ALLEY_X = "350502001001001"


def members_desk(world: World) -> tuple[int, int, int]:
    """The community's 双报到 pages with data: a pending registration, a need, a recorded claim."""
    now = timezone.now()
    org = PartyOrganizationFactory(name="鲤城区城管局机关党支部", department=world.dept_lead)
    member = RegistrationFactory(
        full_name="王建国", phone="13905950001", organization=org, community=world.community_x, skills="电工"
    )
    pending = RegistrationFactory(
        full_name="李秀英", organization=org, community=world.community_x, state=RegistrationState.PENDING
    )
    need = need_post(
        user=world.community_worker_x,
        community=world.community_x,
        kind=NeedKind.WISH,
        title="为独居老人更换楼道灯泡",
        description="请认领后与社区联系。",
        places=2,
        now=now,
    )
    claim = claim_take(need=need, registration=member, user=world.community_worker_x, now=now)
    claim_record(
        claim=claim,
        user=world.community_worker_x,
        hours="1.5",
        note="换了三个灯泡",
        served_on=timezone.localdate(now),
        now=now,
    )
    return pending.pk, need.pk, claim.pk


def pages_of(role: str, desk: Desk) -> dict[str, str]:
    """Every staff page a role has, by a short name for the screenshots."""
    common = {"home": "/staff/", "cases": "/staff/cases/", "inbox": "/staff/inbox/"}
    order = f"/staff/orders/{desk.lead_order.pk}/"
    if role == "chief":
        return {
            **common,
            "case-new": "/staff/cases/new/",
            "case-submitted": f"/staff/cases/{desk.submitted.pk}/",
            "case-working": f"/staff/cases/{desk.working.pk}/",
            "patrols": "/staff/patrols/",
            "patrol-new": "/staff/patrols/new/",
            "patrol": f"/staff/patrols/{desk.patrol_id}/",
            "meetings": "/staff/meetings/",
            "expenses": "/staff/expenses/",
            "expense-new": "/staff/expenses/new/",
            "supervision": "/staff/supervision/",
            "supervision-alley": f"/staff/supervision/alley/{ALLEY_X}/",
        }
    if role == "community":
        return {
            **common,
            "expenses": "/staff/expenses/",
            "expense-report": "/staff/expenses/report/",
            "supervision": "/staff/supervision/",
            "supervision-alley": f"/staff/supervision/alley/{ALLEY_X}/",
            "case-new": "/staff/cases/new/",
            "case-verifying": f"/staff/cases/{desk.verifying.pk}/",
            "case-dispatched": f"/staff/cases/{desk.dispatched.pk}/",
            "orders": "/staff/orders/",
            "order": order,
            "patrols": "/staff/patrols/",
            "meetings": "/staff/meetings/",
            "meeting": f"/staff/meetings/{desk.meeting_id}/",
            "mechanisms": "/staff/mechanisms/",
            "mechanism": f"/staff/mechanisms/{desk.mechanism_id}/",
            "members": "/staff/members/",
            "member-new": "/staff/members/new/",
            "member": f"/staff/members/{desk.registration_id}/",
            "member-needs": "/staff/members/needs/",
            "member-need-new": "/staff/members/needs/new/",
            "member-need": f"/staff/members/needs/{desk.need_id}/",
            "member-claims": "/staff/members/claims/",
            "member-claim": f"/staff/members/claims/{desk.claim_id}/",
            "member-orgs": "/staff/members/organizations/",
            "notices": "/staff/notices/",
            "notice-new": "/staff/notices/new/",
            "topics": "/staff/topics/",
            "topic-new": "/staff/topics/new/",
            "topic-comments": "/staff/topics/comments/",
        }
    if role == "street":
        return {
            **common,
            "case-submitted": f"/staff/cases/{desk.submitted.pk}/",
            "case-dispatched": f"/staff/cases/{desk.dispatched.pk}/",
            "orders": "/staff/orders/",
            "order": order,
            "meetings": "/staff/meetings/",
            "mechanisms": "/staff/mechanisms/",
            "common-proposals": "/staff/common-issues/proposals/",
        }
    if role == "dept":
        return {
            **common,
            "orders": "/staff/orders/",
            "order": order,
            "case-dispatched": f"/staff/cases/{desk.dispatched.pk}/",
            "consultations": "/staff/consultations/",
            "consultation": f"/staff/consultations/{desk.consultation_id}/",
            "mechanisms": "/staff/mechanisms/",
            "mechanism": f"/staff/mechanisms/{desk.mechanism_id}/",
        }
    if role == "building":  # the building's case page is added by the test (it needs the buildings)
        return {**common, "case-new": "/staff/cases/new/"}
    assert role == "orgdept"
    return {
        **common,
        "case-district": f"/staff/cases/{desk.district.pk}/",
        "case-dispatched": f"/staff/cases/{desk.dispatched.pk}/",
        "dispatch": f"/staff/dispatch/{desk.district.pk}/",
        "orders": "/staff/orders/",
        "order": order,
        "consultations": "/staff/consultations/",
        "common-issues": "/staff/common-issues/",
        "common-proposals": "/staff/common-issues/proposals/",
        "common-issue": f"/staff/common-issues/{desk.common_issue_id}/",
        "meetings": "/staff/meetings/",
        "mechanisms": "/staff/mechanisms/",
        "mechanism": f"/staff/mechanisms/{desk.mechanism_id}/",
        "members": "/staff/members/",
        "member": f"/staff/members/{desk.registration_id}/",
        "member-orgs": "/staff/members/organizations/",
    }


ROLES = {
    "chief": "chief_x",
    "community": "community_worker_x",
    "street": "street_worker",
    "dept": "lead_contact",
    "orgdept": "district_officer",
    "building": "head_one",  # 楼栋长 of alley_x's 1号楼 (tests.factories.build_buildings)
}

# Controls a finger must hit on a phone: at least 44 CSS pixels tall (links inside running text exempt).
TARGETS = ".btn, .mainnav a, details.action > summary, form.stack input[type=text], form.stack select, form.stack textarea"


@pytest.mark.parametrize("role", list(ROLES))
def test_every_staff_page_fits_a_phone(live_server: Any, chromium: Any, place: Place, role: str) -> None:
    world = place.world
    desk = build_desk(world)
    paths = pages_of(role, desk)
    if role == "building":
        b = build_buildings(world)
        case = case_submit(
            category=world.cat_a, alley=world.alley_x, building=b.one, description="1号楼楼道灯不亮。"
        )
        paths["case-building"] = f"/staff/cases/{case.pk}/"
    context = logged_in_context(
        chromium, world.actor(ROLES[role]), live_server, viewport=PHONE, has_touch=True, is_mobile=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    problems: dict[str, list[str]] = {}
    for name, path in paths.items():
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, (
            f"{role} {path}: {response and response.status}"
        )
        found = []
        # A mobile browser zooms out to fit a page wider than the screen, and window.innerWidth grows
        # with it: hold the page to the phone's own width as well.
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        if width[0] > min(width[1], PHONE["width"]):
            wide = page.evaluate(
                """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > 360.5)
                .slice(0, 5).map(e => e.tagName + '.' + e.className)"""
            )
            found.append(f"scrolls sideways: {width[0]} > {width[1]} ({wide})")
        small = page.evaluate(
            """(sel) => [...document.querySelectorAll(sel)]
            .filter(e => e.offsetParent !== null && e.getBoundingClientRect().height < 44)
            .map(e => e.tagName + ' ' + (e.textContent || e.name || '').trim().slice(0, 20))""",
            TARGETS,
        )
        if small:
            found.append(f"targets under 44 px: {small[:5]}")
        if AXE.exists() and (violations := axe_violations(page)):
            found.append(describe(violations))
        shot(page, f"staff-phone/{role}-{name}")
        if found:
            problems[path] = found
    context.close()
    assert not errors, errors
    assert not problems, "\n".join(f"{role} {path}: {p}" for path, p in problems.items())
    if not AXE.exists():
        pytest.skip(f"axe-core is not installed (npm ci): {AXE}; widths and targets were checked")
