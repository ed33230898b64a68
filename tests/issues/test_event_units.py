"""Every timeline event names the unit that acted, and (for staff) the person (issue 15, defect 3).

The public timeline shows ``actor_label`` (a unit, never a person); the staff pages add the
person from ``actor``. An order's events used to carry the department's name whoever acted:
the community's agreement to an extension, the organisation department's approval, its
redispatch and its insistence all read as the department's own doing. Case events named the
unit holding the case, not the one that acted (a community worker closing a district case
read as the district's organisation department).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from alleys.choices import AreaLevel
from issues.choices import (
    CaseState,
    EventKind,
    ExtensionState,
    FeedbackChannel,
    FeedbackSolved,
    OrderRole,
    OrderState,
    Satisfaction,
)
from issues.models import Case, CaseEvent, DispatchOrder, ExtensionRequest
from issues.workflow import (
    ORDER_TRANSITIONS,
    case_accept,
    case_dispatch,
    case_feedback,
    case_reject,
    case_return_visit,
    case_return_visit_due,
    case_submit,
    case_whistle,
)
from issues.workflow.attendance import attendance_confirm, attendance_missed
from issues.workflow.orders import (
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
from tests.factories import MONDAY, World, make_case

pytestmark = pytest.mark.django_db
S = CaseState
OS = OrderState
LATER = MONDAY + dt.timedelta(days=1)

LEAD = "鲤城区城管局"
ORG = "鲤城区委组织部"
COMMUNITY = "新华社区"
ALLEY_TEAM = "金鱼巷街巷服务团队"


def dispatched_order(world: World, state: str) -> DispatchOrder:
    """The lead order of a district case dispatched on MONDAY, put in ``state``."""
    case = make_case(world, state=S.ACCEPTED, tier=AreaLevel.DISTRICT)
    case_dispatch(case=case, actor=world.district_officer, lead=world.dept_lead, now=MONDAY)
    order = case.orders.get(role=OrderRole.LEAD)
    DispatchOrder.objects.filter(pk=order.pk).update(
        state=state,
        received_at=MONDAY if state != OS.DISPATCHED else None,
        reported_at=MONDAY if state == OS.REPORTED else None,
    )
    order.refresh_from_db()
    return order


def extension(world: World, order: DispatchOrder, state: str) -> ExtensionRequest:
    return ExtensionRequest.objects.create(
        order=order,
        reason="需协调产权单位",
        requested_due=order.complete_due + dt.timedelta(days=30),
        previous_due=order.complete_due,
        state=state,
        requested_by=world.lead_contact,
    )


def report(order: DispatchOrder, actor: Any) -> Any:
    return order_report(
        order=order,
        actor=actor,
        leader_name="王副局长",
        contact_name="李科长",
        contact_phone="0595-22000000",
        work_plan="三日内完成",
        visit_at=LATER,
        visitors=["李科长"],
        now=LATER,
    )


def visit_then(decide: Callable[[World, DispatchOrder], Any]) -> Callable[[World, DispatchOrder, Any], Any]:
    """The department announces its visit (报到), then the community decides on it."""

    def call(w: World, o: DispatchOrder, a: Any) -> Any:
        report(o, w.lead_contact)
        return decide(w, o)

    return call


@dataclass(frozen=True)
class Row:
    """One transition: the order's state before, the call, the event it writes, who acts, the unit named."""

    order_state: str
    call: Callable[[World, DispatchOrder, Any], Any]
    kind: str
    actor: str
    unit: str


ORDER_ROWS: dict[str, Row] = {
    "receive": Row(OS.DISPATCHED, lambda w, o, a: order_receive(order=o, actor=a, now=LATER),
                   EventKind.ORDER_RECEIVED, "lead_contact", LEAD),
    "report": Row(OS.RECEIVED, lambda w, o, a: report(o, a), EventKind.ORDER_REPORTED, "lead_contact", LEAD),
    "progress": Row(OS.REPORTED, lambda w, o, a: order_progress(order=o, actor=a, note="已进场", now=LATER),
                    EventKind.ORDER_PROGRESS, "lead_contact", LEAD),
    "complete": Row(OS.REPORTED, lambda w, o, a: order_complete(order=o, actor=a, note="已完成", now=LATER),
                    EventKind.ORDER_COMPLETED, "lead_contact", LEAD),
    "extension": Row(
        OS.REPORTED,
        lambda w, o, a: extension_request(
            order=o, actor=a, reason="汛期", new_due=o.complete_due + dt.timedelta(days=30), now=LATER
        ),
        EventKind.EXTENSION_REQUESTED, "lead_contact", LEAD,
    ),
    "reject": Row(OS.RECEIVED, lambda w, o, a: order_reject(order=o, actor=a, reason="非本部门职责", now=LATER),
                  EventKind.ORDER_REJECTED, "lead_contact", LEAD),
    "extension-community": Row(
        OS.REPORTED,
        lambda w, o, a: extension_community_decide(
            extension=extension(w, o, ExtensionState.PENDING_COMMUNITY), actor=a, agree=True, now=LATER
        ),
        EventKind.EXTENSION_DECIDED, "community_worker_x", COMMUNITY,
    ),
    "extension-org": Row(
        OS.REPORTED,
        lambda w, o, a: extension_org_decide(
            extension=extension(w, o, ExtensionState.PENDING_ORG), actor=a, approve=True, now=LATER
        ),
        EventKind.EXTENSION_DECIDED, "district_officer", ORG,
    ),
    "redispatch": Row(
        OS.REJECTED,
        lambda w, o, a: order_redispatch(order=o, actor=a, department=w.dept_coop, now=LATER),
        EventKind.ORDER_REDISPATCHED, "district_officer", ORG,
    ),
    "insist": Row(OS.REJECTED, lambda w, o, a: order_insist(order=o, actor=a, note="职责明确", now=LATER),
                  EventKind.ORDER_INSISTED, "district_officer", ORG),
    "attendance-confirm": Row(
        OS.RECEIVED,
        visit_then(lambda w, o: attendance_confirm(
            order=o, actor=w.community_worker_x, attended_at=LATER, present=["李科长"], now=LATER
        )),
        EventKind.ATTENDANCE_CONFIRMED, "community_worker_x", COMMUNITY,
    ),
    "attendance-missed": Row(
        OS.RECEIVED,
        visit_then(lambda w, o: attendance_missed(
            order=o, actor=w.community_worker_x, now=LATER + dt.timedelta(hours=2)
        )),
        EventKind.ATTENDANCE_MISSED, "community_worker_x", COMMUNITY,
    ),
    "withdraw": Row(
        OS.RECEIVED,
        lambda w, o, a: case_reject(case=o.case, actor=a, reason="不属于受理范围", now=LATER),
        EventKind.ORDER_WITHDRAWN, "district_officer", ORG,
    ),
}  # fmt: skip


def test_the_table_covers_every_order_transition_that_writes_an_event() -> None:
    # reopen writes the case's verify_failed / reopened event; extension-withdraw goes with withdraw.
    assert set(ORDER_ROWS) == set(ORDER_TRANSITIONS) - {"reopen", "extension-withdraw"}


@pytest.mark.parametrize("name", list(ORDER_ROWS))
def test_an_order_event_names_the_unit_and_the_person_that_acted(world: World, name: str) -> None:
    row = ORDER_ROWS[name]
    order = dispatched_order(world, row.order_state)
    case = order.case
    assert case is not None
    before = set(case.events.values_list("pk", flat=True))
    actor = world.actor(row.actor)

    row.call(world, order, actor)

    event = case.events.exclude(pk__in=before).get(kind=row.kind)
    assert (event.actor_label, event.actor) == (row.unit, actor)


# --- case events whose actor is not the unit holding the case ----------------------------------------


def _return_visits_close(w: World) -> Case:
    case = make_case(w, state=S.AWAITING_RETURN_VISIT, tier=AreaLevel.DISTRICT)
    for _attempt in range(2):
        case_return_visit(case=case, actor=w.community_worker_x, channel="phone", reached=False, now=LATER)
    return case


def _return_visit_reached(w: World) -> Case:
    case = make_case(w, state=S.AWAITING_RETURN_VISIT, tier=AreaLevel.DISTRICT)
    return case_return_visit(
        case=case,
        actor=w.community_worker_x,
        channel="in_person",
        reached=True,
        solved=FeedbackSolved.SOLVED,
        satisfaction=Satisfaction.SATISFIED,
        now=LATER,
    )


def _return_call(w: World) -> Case:
    case = make_case(w, state=S.AWAITING_FEEDBACK, tier=AreaLevel.DISTRICT)
    return case_feedback(
        case=case,
        solved=FeedbackSolved.SOLVED,
        satisfaction=Satisfaction.SATISFIED,
        channel=FeedbackChannel.RETURN_CALL,
        actor=w.community_worker_x,
        now=LATER,
    )


CASE_ROWS: dict[str, tuple[Callable[[World], Case], str, str, str]] = {
    # (what happens, the event, who acted, the unit the timeline must name)
    "the community's failed return visits close a district case": (
        _return_visits_close,
        EventKind.CLOSED,
        "community_worker_x",
        COMMUNITY,
    ),
    "the community visits the resident of a district case": (
        _return_visit_reached,
        EventKind.RETURN_VISIT,
        "community_worker_x",
        COMMUNITY,
    ),
    "a superuser records a return visit": (
        lambda w: case_return_visit(
            case=make_case(w, state=S.AWAITING_RETURN_VISIT),
            actor=w.admin,
            channel="phone",
            reached=False,
            now=LATER,
        ),
        EventKind.RETURN_VISIT,
        "admin",
        ALLEY_TEAM,
    ),
    "the community accepts for its alley's team": (
        lambda w: case_accept(case=make_case(w), actor=w.community_worker_x, now=LATER),
        EventKind.ACCEPTED,
        "community_worker_x",
        COMMUNITY,
    ),
    "the alley chief accepts": (
        lambda w: case_accept(case=make_case(w), actor=w.chief_x, now=LATER),
        EventKind.ACCEPTED,
        "chief_x",
        ALLEY_TEAM,
    ),
    "the community whistles for its alley's team": (
        lambda w: case_whistle(
            case=make_case(w, state=S.ACCEPTED), actor=w.community_worker_x, reason="需社区协调", now=LATER
        ),
        EventKind.WHISTLED,
        "community_worker_x",
        COMMUNITY,
    ),
    "a chief registers a street matter found on patrol": (
        lambda w: case_submit(
            category=w.cat_c, alley=w.alley_x, description="占道经营", actor=w.chief_x, now=LATER
        ),
        EventKind.SUBMITTED,
        "chief_x",
        ALLEY_TEAM,
    ),
    "the organisation department dispatches": (
        lambda w: case_dispatch(
            case=make_case(w, state=S.ACCEPTED, tier=AreaLevel.DISTRICT),
            actor=w.district_officer,
            lead=w.dept_lead,
            now=LATER,
        ),
        EventKind.DISPATCHED,
        "district_officer",
        ORG,
    ),
    "the community's return call closes a case": (
        _return_call,
        EventKind.CLOSED,
        "community_worker_x",
        f"{COMMUNITY}（电话回访）",
    ),
}


@pytest.mark.parametrize("what", list(CASE_ROWS))
def test_a_case_event_names_the_unit_and_the_person_that_acted(world: World, what: str) -> None:
    act, kind, actor_name, unit = CASE_ROWS[what]
    case = act(world)
    event = CaseEvent.objects.filter(case=case, kind=kind).latest("pk")
    assert (event.actor_label, event.actor) == (unit, world.actor(actor_name))


def test_the_system_and_residents_are_named_as_such(world: World) -> None:
    case = case_submit(category=world.cat_a, alley=world.alley_x, description="路灯不亮", now=MONDAY)
    submitted = case.events.get(kind=EventKind.SUBMITTED)
    assert (submitted.actor_label, submitted.actor) == ("群众", None)
    waiting = make_case(world, state=S.AWAITING_FEEDBACK, tier=AreaLevel.DISTRICT)
    case_return_visit_due(case=waiting, now=MONDAY + dt.timedelta(days=14))
    due = waiting.events.get(kind=EventKind.RETURN_VISIT_DUE)
    assert (due.actor_label, due.actor) == ("系统", None)
