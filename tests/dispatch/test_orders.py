"""dispatch/orders.py: receive, report (报到), progress, complete, reject (退单), extensions, common issues."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from alleys.choices import AreaLevel
from issues.choices import ACTIVE_ORDER_STATES, CaseState, EventKind, ExtensionState, OrderRole, OrderState
from issues.models import Case, CommonIssue, DispatchOrder, ExtensionRequest
from issues.workflow import (
    TransitionError,
    TransitionForbidden,
    TransitionInvalid,
    case_dispatch,
    case_merge,
    case_reject,
    case_verify,
    case_whistle,
)
from issues.workflow.attendance import attendance_confirm
from issues.workflow.orders import (
    common_issue_create,
    common_issue_dispatch,
    extension_community_decide,
    extension_org_decide,
    extension_request,
    order_complete,
    order_insist,
    order_progress,
    order_receive,
    order_redispatch,
    order_reject,
    order_report,
)
from tests.factories import ACTORS, MONDAY, World, make_case

pytestmark = pytest.mark.django_db
S = CaseState
OS = OrderState
EVERYONE = (*ACTORS, "admin", "anonymous")
LATER = MONDAY + dt.timedelta(days=1)


def dispatched(
    world: World, *, cooperating: bool = True, state: str = S.ACCEPTED
) -> tuple[Case, DispatchOrder]:
    """A district-tier case dispatched to the lead department (and the cooperating one)."""
    case = make_case(world, state=state, tier=AreaLevel.DISTRICT)
    case_dispatch(
        case=case,
        actor=world.district_officer,
        lead=world.dept_lead,
        cooperating=[world.dept_coop] if cooperating else [],
        instructions="一周内到社区报到",
        now=MONDAY,
    )
    return case, case.orders.get(role=OrderRole.LEAD)


def report(order: DispatchOrder, actor: Any, *, now: dt.datetime = LATER) -> DispatchOrder:
    return order_report(
        order=order,
        actor=actor,
        leader_name="王副局长",
        contact_name="李科长",
        contact_phone="0595-22000000",
        work_plan="三日内完成清理并设置警示",
        visit_at=now,
        visitors=["王副局长"],
        now=now,
    )


def state_of(obj: Any) -> str:
    obj.refresh_from_db()
    return str(obj.state)


# --- who may act on an order -----------------------------------------------------------------------

DEPARTMENT = {"lead_contact", "admin"}
DISPATCHING_ORG = {"district_officer", "admin"}
COMMUNITY = {"community_worker_x", "admin"}

OrderCall = Callable[[World, DispatchOrder, Any], Any]


def _ext(world: World, order: DispatchOrder, state: str) -> ExtensionRequest:
    return ExtensionRequest.objects.create(
        order=order,
        reason="需协调产权单位",
        requested_due=order.complete_due + dt.timedelta(days=30),
        previous_due=order.complete_due,
        state=state,
        requested_by=world.lead_contact,
    )


ORDER_TABLE: list[tuple[str, str, OrderCall, set[str]]] = [
    ("receive", OS.DISPATCHED, lambda w, o, a: order_receive(order=o, actor=a, now=LATER), DEPARTMENT),
    ("report", OS.RECEIVED, lambda w, o, a: report(o, a), DEPARTMENT),
    (
        "progress",
        OS.REPORTED,
        lambda w, o, a: order_progress(order=o, actor=a, note="已进场", now=LATER),
        DEPARTMENT,
    ),
    (
        "complete",
        OS.REPORTED,
        lambda w, o, a: order_complete(order=o, actor=a, note="已完成", now=LATER),
        DEPARTMENT,
    ),
    (
        "reject",
        OS.RECEIVED,
        lambda w, o, a: order_reject(order=o, actor=a, reason="非本部门职责", now=LATER),
        DEPARTMENT,
    ),
    (
        "redispatch",
        OS.REJECTED,
        lambda w, o, a: order_redispatch(order=o, actor=a, department=w.dept_coop, now=LATER),
        DISPATCHING_ORG,
    ),
    (
        "insist",
        OS.REJECTED,
        lambda w, o, a: order_insist(order=o, actor=a, note="职责明确", now=LATER),
        DISPATCHING_ORG,
    ),
    (
        "extension_request",
        OS.REPORTED,
        lambda w, o, a: extension_request(
            order=o, actor=a, reason="汛期施工受限", new_due=o.complete_due + dt.timedelta(days=30), now=LATER
        ),
        DEPARTMENT,
    ),
    (
        "extension_community",
        OS.REPORTED,
        lambda w, o, a: extension_community_decide(
            extension=_ext(w, o, ExtensionState.PENDING_COMMUNITY), actor=a, agree=True, now=LATER
        ),
        COMMUNITY,
    ),
    (
        "extension_org",
        OS.REPORTED,
        lambda w, o, a: extension_org_decide(
            extension=_ext(w, o, ExtensionState.PENDING_ORG), actor=a, approve=True, now=LATER
        ),
        DISPATCHING_ORG,
    ),
]


@pytest.mark.parametrize(
    ("name", "order_state", "call", "may"), ORDER_TABLE, ids=[row[0] for row in ORDER_TABLE]
)
def test_who_may_act_on_an_order(
    world: World, name: str, order_state: str, call: OrderCall, may: set[str]
) -> None:
    def fresh_order() -> DispatchOrder:
        _case, order = dispatched(world, cooperating=False)
        DispatchOrder.objects.filter(pk=order.pk).update(
            state=order_state, reported_at=LATER if order_state == OS.REPORTED else None
        )
        order.refresh_from_db()
        return order

    outcomes: dict[str, str] = {}
    order = fresh_order()
    for actor_name in EVERYONE:
        ExtensionRequest.objects.all().delete()
        try:
            call(world, order, world.actor(actor_name))
            outcomes[actor_name] = "may"
            order = fresh_order()
        except TransitionForbidden:
            outcomes[actor_name] = "forbidden"
            assert state_of(order) == order_state
    assert outcomes == {a: "may" if a in may else "forbidden" for a in EVERYONE}


# --- the order's life ---------------------------------------------------------------------------------


def test_dispatch_creates_lead_and_cooperating_orders_with_deadlines(world: World) -> None:
    case, lead = dispatched(world)
    coop = case.orders.get(role=OrderRole.COOPERATING)
    assert (lead.department, coop.department) == (world.dept_lead, world.dept_coop)
    assert lead.dispatcher_area == world.district
    assert lead.report_due == dt.datetime(2026, 3, 9, 17, tzinfo=MONDAY.tzinfo)  # 5 working days
    assert lead.complete_due == case.resolve_due
    assert (lead.state, lead.dispatched_by) == (OS.DISPATCHED, world.district_officer)


def test_report_within_the_deadline_starts_the_case_but_counts_only_once_attended(world: World) -> None:
    case, order = dispatched(world)
    order_receive(order=order, actor=world.lead_contact, now=LATER)
    report(order, world.lead_contact, now=LATER)
    order.refresh_from_db()
    case.refresh_from_db()
    assert (order.state, order.report_on_time, order.leader_name, order.contact_name) == (
        OS.REPORTED,
        None,  # filed in time; the community has not yet confirmed the visit
        "王副局长",
        "李科长",
    )
    event = case.events.get(kind=EventKind.ORDER_REPORTED)
    assert event.data["attendance_id"] and event.actor_label == "鲤城区城管局"
    assert case.state == S.IN_PROGRESS
    attendance_confirm(
        order=order, actor=world.community_worker_x, attended_at=LATER, present=["李科长"], now=LATER
    )
    order.refresh_from_db()
    assert order.report_on_time is True


def test_a_report_filed_after_the_deadline_is_late_once_attended(world: World) -> None:
    _case, order = dispatched(world)
    late = order.report_due + dt.timedelta(hours=1)
    report(order, world.lead_contact, now=late)
    order.refresh_from_db()
    assert order.report_outcome(late) == "missed"  # the deadline passed with no confirmed visit
    attendance_confirm(
        order=order, actor=world.community_worker_x, attended_at=late, present=["王副局长"], now=late
    )
    order.refresh_from_db()
    assert (order.report_on_time, order.report_outcome(late)) == (False, "late")


def test_a_report_needs_leader_contact_and_plan(world: World) -> None:
    _case, order = dispatched(world)
    with pytest.raises(TransitionInvalid) as exc:
        order_report(
            order=order,
            actor=world.lead_contact,
            leader_name="王",
            contact_name="李",
            contact_phone="1",
            work_plan=" ",
            visit_at=LATER,
            visitors=["王"],
        )
    assert exc.value.field == "work_plan"
    assert state_of(order) == OS.DISPATCHED


def test_completion_needs_a_report_first(world: World) -> None:
    _case, order = dispatched(world)
    order_receive(order=order, actor=world.lead_contact, now=LATER)
    with pytest.raises(TransitionError, match="请先报到"):
        order_complete(order=order, actor=world.lead_contact, note="完成", now=LATER)


def test_the_cooperating_department_does_not_move_the_case(world: World) -> None:
    case, _lead = dispatched(world)
    coop = case.orders.get(role=OrderRole.COOPERATING)
    report(coop, world.coop_contact)
    order_complete(order=coop, actor=world.coop_contact, note="配合完成", now=LATER)
    case.refresh_from_db()
    assert case.state == S.ACCEPTED
    assert state_of(coop) == OS.COMPLETED


def test_the_leads_completion_sends_the_case_to_verification(world: World) -> None:
    case, order = dispatched(world)
    report(order, world.lead_contact)
    order_complete(order=order, actor=world.lead_contact, note="已完成整治", now=LATER)
    case.refresh_from_db()
    assert (case.state, case.resolved_tier) == (S.AWAITING_VERIFICATION, AreaLevel.DISTRICT)
    assert case.events.get(kind=EventKind.RESOLVED).actor_label == "鲤城区城管局"
    assert case.events.get(kind=EventKind.ORDER_COMPLETED).data["on_time"] is True


def test_rejection_then_redispatch_moves_the_lead(world: World) -> None:
    case, order = dispatched(world, cooperating=False)
    order_reject(order=order, actor=world.lead_contact, reason="属住建部门职责", now=LATER)
    assert state_of(order) == OS.REJECTED
    with pytest.raises(TransitionInvalid):
        order_redispatch(order=order, actor=world.district_officer, department=world.dept_lead, now=LATER)
    later = LATER + dt.timedelta(days=1)
    new = order_redispatch(order=order, actor=world.district_officer, department=world.dept_coop, now=later)
    order.refresh_from_db()
    case.refresh_from_db()
    assert (order.state, order.replaced_by) == (OS.WITHDRAWN, new)
    assert (new.department, new.role, new.state, new.dispatched_at) == (
        world.dept_coop,
        OrderRole.LEAD,
        OS.DISPATCHED,
        later,
    )
    assert (case.lead_department, case.resolve_due) == (world.dept_coop, new.complete_due)
    assert case.events.filter(kind=EventKind.ORDER_REDISPATCHED).get().data["previous_order_id"] == order.pk
    # The new department reports and completes; the case goes on to verification.
    report(new, world.coop_contact, now=later)
    order_complete(order=new, actor=world.coop_contact, note="已完成", now=later)
    case.refresh_from_db()
    assert case.state == S.AWAITING_VERIFICATION


def test_insisting_returns_the_order_to_the_same_department(world: World) -> None:
    case, order = dispatched(world, cooperating=False)
    order_receive(order=order, actor=world.lead_contact, now=LATER)
    order_reject(order=order, actor=world.lead_contact, reason="非本部门职责", now=LATER)
    with pytest.raises(TransitionInvalid):
        order_insist(order=order, actor=world.district_officer, note="", now=LATER)
    order_insist(order=order, actor=world.district_officer, note="权责清单明确属城管", now=LATER)
    assert state_of(order) == OS.RECEIVED
    assert case.orders.count() == 1
    report(order, world.lead_contact)
    assert state_of(order) == OS.REPORTED


def test_an_extension_needs_the_community_then_the_org_department(world: World) -> None:
    case, order = dispatched(world)
    report(order, world.lead_contact)
    new_due = order.complete_due + dt.timedelta(days=30)
    with pytest.raises(TransitionInvalid):
        extension_request(
            order=order, actor=world.lead_contact, reason="x", new_due=order.complete_due, now=LATER
        )
    ext = extension_request(
        order=order, actor=world.lead_contact, reason="汛期无法施工", new_due=new_due, now=LATER
    )
    assert ext.state == ExtensionState.PENDING_COMMUNITY
    # The org department cannot approve before the community has agreed.
    with pytest.raises(TransitionError, match="不在组织部审批环节"):
        extension_org_decide(extension=ext, actor=world.district_officer, approve=True, now=LATER)
    extension_community_decide(extension=ext, actor=world.community_worker_x, agree=True, now=LATER)
    assert state_of(ext) == ExtensionState.PENDING_ORG
    order.refresh_from_db()
    assert order.complete_due != new_due  # nothing moves before approval
    extension_org_decide(extension=ext, actor=world.district_officer, approve=True, now=LATER)
    order.refresh_from_db()
    case.refresh_from_db()
    assert state_of(ext) == ExtensionState.APPROVED
    assert order.complete_due == new_due == case.resolve_due
    decided = case.events.filter(kind=EventKind.EXTENSION_DECIDED).values_list("note", flat=True)
    assert len(decided) == 2 and "批准延期" in decided[1]


def test_a_refusal_needs_a_reason_and_moves_nothing(world: World) -> None:
    _case, order = dispatched(world)
    report(order, world.lead_contact)
    due = order.complete_due
    ext = extension_request(
        order=order, actor=world.lead_contact, reason="x", new_due=due + dt.timedelta(days=9), now=LATER
    )
    with pytest.raises(TransitionInvalid):
        extension_community_decide(extension=ext, actor=world.community_worker_x, agree=False, now=LATER)
    extension_community_decide(
        extension=ext, actor=world.community_worker_x, agree=False, note="群众等不了", now=LATER
    )
    assert state_of(ext) == ExtensionState.REFUSED
    order.refresh_from_db()
    assert order.complete_due == due


def test_a_second_pending_extension_is_refused(world: World) -> None:
    _case, order = dispatched(world)
    report(order, world.lead_contact)
    due = order.complete_due + dt.timedelta(days=30)
    first = extension_request(order=order, actor=world.lead_contact, reason="一", new_due=due, now=LATER)
    with pytest.raises(TransitionError, match="已有待审批"):
        extension_request(order=order, actor=world.lead_contact, reason="二", new_due=due, now=LATER)
    extension_community_decide(extension=first, actor=world.community_worker_x, agree=True, now=LATER)
    with pytest.raises(TransitionError, match="已有待审批"):
        extension_request(order=order, actor=world.lead_contact, reason="三", new_due=due, now=LATER)
    extension_org_decide(
        extension=first, actor=world.district_officer, approve=False, note="不批准", now=LATER
    )
    # Once decided, the department may ask again.
    extension_request(order=order, actor=world.lead_contact, reason="四", new_due=due, now=LATER)
    assert ExtensionRequest.objects.filter(order=order).count() == 2


def test_a_failed_verification_reopens_the_lead_order(world: World) -> None:
    case, order = dispatched(world)
    report(order, world.lead_contact)
    order_complete(order=order, actor=world.lead_contact, note="已完成", now=LATER)
    case_verify(case=case, actor=world.community_worker_x, passed=False, note="仍有积水", now=LATER)
    order.refresh_from_db()
    case.refresh_from_db()
    assert (order.state, order.completed_at) == (OS.REPORTED, None)
    assert (case.state, case.escalation_due, case.resolve_due) == (S.IN_PROGRESS, None, order.complete_due)
    assert case.events.get(kind=EventKind.VERIFY_FAILED).data["order_id"] == order.pk
    # The department completes again; the case is back for verification.
    order_complete(order=order, actor=world.lead_contact, note="已彻底疏通", now=LATER)
    case.refresh_from_db()
    assert case.state == S.AWAITING_VERIFICATION


def test_redispatch_stays_within_the_dispatch_level(world: World) -> None:
    _case, order = dispatched(world, cooperating=False)
    order_reject(order=order, actor=world.lead_contact, reason="非本部门职责", now=LATER)
    with pytest.raises(TransitionInvalid, match="不属于本级"):
        order_redispatch(order=order, actor=world.district_officer, department=world.dept_far, now=LATER)
    assert state_of(order) == OS.REJECTED


@pytest.mark.parametrize("action", ["reject", "merge"])
def test_a_case_that_ends_leaves_no_department_working_on_it(world: World, action: str) -> None:
    """Rejecting or merging a dispatched case either is refused or withdraws its orders."""
    case, _order = dispatched(world)
    master = make_case(world, state=S.ACCEPTED, tier=AreaLevel.DISTRICT)
    try:
        if action == "reject":
            case_reject(case=case, actor=world.district_officer, reason="不属于受理范围", now=LATER)
        else:
            case_merge(case=case, actor=world.district_officer, into=master, now=LATER)
    except TransitionError:
        assert Case.objects.get(pk=case.pk).state == S.ACCEPTED
        return
    assert not case.orders.filter(state__in=ACTIVE_ORDER_STATES).exists()


# --- common issues ------------------------------------------------------------------------------------------


def two_communities_cases(world: World, state: str) -> list[Case]:
    return [
        make_case(world, alley=alley, state=state, tier=AreaLevel.DISTRICT)
        for alley in (world.alley_x, world.alley_y)
    ]


def whistled_up_to_the_district(world: World) -> list[Case]:
    """Cases from two communities, each whistled by the street to the district (awaiting acceptance)."""
    cases = [
        make_case(world, alley=alley, state=S.ACCEPTED, tier=AreaLevel.STREET)
        for alley in (world.alley_x, world.alley_y)
    ]
    for case in cases:
        case_whistle(
            case=case,
            actor=world.street_worker,
            reason="需区级统筹",
            departments=[world.dept_lead],
            now=MONDAY,
        )
        case.refresh_from_db()
        assert (case.tier, case.state) == (AreaLevel.DISTRICT, S.SUBMITTED)
    return cases


def test_only_an_org_department_groups_cases_in_its_territory(world: World) -> None:
    cases = two_communities_cases(world, S.ACCEPTED)
    with pytest.raises(TransitionForbidden):
        common_issue_create(actor=world.street_worker, title="老旧管网", cases=cases, now=MONDAY)
    far = make_case(world, alley=world.other_alley, state=S.ACCEPTED, tier=AreaLevel.DISTRICT)
    with pytest.raises(TransitionInvalid, match="不在本辖区"):
        common_issue_create(actor=world.district_officer, title="老旧管网", cases=[*cases, far], now=MONDAY)
    assert not CommonIssue.objects.exists()
    issue = common_issue_create(actor=world.district_officer, title="老旧管网", cases=cases, now=MONDAY)
    assert issue.coordinator_area == world.district
    assert all(c.events.filter(kind=EventKind.COMMON_ISSUE).exists() for c in cases)
    with pytest.raises(TransitionForbidden):
        common_issue_dispatch(issue=issue, actor=world.district_officer_far, lead=world.dept_lead, now=MONDAY)


def _run_common_issue(world: World, cases: list[Case]) -> list[DispatchOrder]:
    issue = common_issue_create(actor=world.district_officer, title="老旧管网改造", cases=cases, now=MONDAY)
    orders = common_issue_dispatch(
        issue=issue,
        actor=world.district_officer,
        lead=world.dept_lead,
        cooperating=[world.dept_coop],
        now=MONDAY,
    )
    lead = orders[0]
    assert (lead.case, lead.common_issue, lead.role) == (None, issue, OrderRole.LEAD)
    with pytest.raises(TransitionError, match="已有在办派单"):
        common_issue_dispatch(issue=issue, actor=world.district_officer, lead=world.dept_coop, now=MONDAY)
    for case in cases:
        case.refresh_from_db()
        assert (case.lead_department, case.resolve_due, case.escalation_due) == (
            world.dept_lead,
            lead.complete_due,
            None,
        )
        assert case.events.filter(kind=EventKind.DISPATCHED).exists()
    report(lead, world.lead_contact)
    order_complete(order=lead, actor=world.lead_contact, note="管网已改造", now=LATER)
    # One order's events appear on every case it serves.
    for case in cases:
        assert case.events.filter(kind=EventKind.ORDER_COMPLETED, data__order_id=lead.pk).exists()
    return orders


def test_one_common_issue_order_serves_every_accepted_case(world: World) -> None:
    cases = two_communities_cases(world, S.ACCEPTED)
    _run_common_issue(world, cases)
    assert {c.state for c in Case.objects.filter(pk__in=[c.pk for c in cases])} == {S.AWAITING_VERIFICATION}


def test_one_common_issue_order_serves_cases_whistled_to_the_district(world: World) -> None:
    cases = whistled_up_to_the_district(world)
    _run_common_issue(world, cases)
    assert {c.state for c in Case.objects.filter(pk__in=[c.pk for c in cases])} == {S.AWAITING_VERIFICATION}


def test_a_common_issue_is_dispatched_within_its_level_to_an_active_lead(world: World) -> None:
    cases = two_communities_cases(world, S.ACCEPTED)
    issue = common_issue_create(actor=world.district_officer, title="老旧管网", cases=cases, now=MONDAY)
    with pytest.raises(TransitionInvalid, match="不属于本级"):
        common_issue_dispatch(issue=issue, actor=world.district_officer, lead=world.dept_far, now=MONDAY)
    world.dept_coop.is_active = False
    world.dept_coop.save()
    with pytest.raises(TransitionInvalid, match="已停用"):
        common_issue_dispatch(issue=issue, actor=world.district_officer, lead=world.dept_coop, now=MONDAY)
    assert not issue.orders.exists()
