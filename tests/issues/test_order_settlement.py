"""A case that ends settles its department orders (issue 15, defect 2).

Every path that ends a case — the resident's answer closes it, the community's return visit
closes it (the resident's answer reached by phone, or the last failed attempt closing it
unrated), the holder rejects it, the holder merges it — leaves no order of it still "dispatched", "received", "reported" or "rejected": each
order still open is withdrawn in the same transaction, with the reason on the order and an
event on the timeline naming its department. A withdrawn order is nobody's open work, the
sweep never flags it, and the department's rates leave it out.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable

import pytest
from django.apps import apps as current_apps

from alleys.choices import AreaLevel
from alleys.scoping import scope_for
from evaluation.rates import rates_for_orders
from issues.choices import (
    ACTIVE_ORDER_STATES,
    AttendanceState,
    CaseState,
    EventKind,
    ExtensionState,
    FeedbackSolved,
    OrderRole,
    OrderState,
    Satisfaction,
)
from issues.models import Case, CaseEvent, DispatchOrder, ExtensionRequest
from issues.selectors import extensions_for_community, my_department_orders
from issues.sweep import run_sweep
from issues.workflow import (
    case_dispatch,
    case_feedback,
    case_merge,
    case_reject,
    case_return_visit,
    case_return_visit_due,
    case_verify,
)
from issues.workflow.orders import (
    common_issue_create,
    common_issue_dispatch,
    extension_request,
    order_complete,
    order_receive,
    order_report,
)
from tests.factories import MONDAY, World, at, make_case

pytestmark = pytest.mark.django_db
S = CaseState
OS = OrderState
TUESDAY = MONDAY + dt.timedelta(days=1)
WEDNESDAY = MONDAY + dt.timedelta(days=2)
# Five working days after Wednesday's verification: the unrated case is due for a return visit.
AFTER_WINDOW = at("2026-03-12 08:00")
# Long after every deadline of the orders (a quarter and more).
MUCH_LATER = at("2026-09-01 10:00")


def report(order: DispatchOrder, actor: object, *, now: dt.datetime = TUESDAY) -> None:
    order_report(
        order=order,
        actor=actor,  # type: ignore[arg-type]
        leader_name="王副局长",
        contact_name="李科长",
        contact_phone="0595-22000000",
        work_plan="三日内完成清理",
        visit_at=now,
        visitors=["李科长"],
        now=now,
    )


def dispatched(world: World, *, coop_state: str) -> tuple[Case, DispatchOrder, DispatchOrder]:
    """A district case dispatched to a lead and a cooperating department, the latter left in ``coop_state``."""
    case = make_case(world, state=S.ACCEPTED, tier=AreaLevel.DISTRICT)
    case_dispatch(
        case=case,
        actor=world.district_officer,
        lead=world.dept_lead,
        cooperating=[world.dept_coop],
        now=MONDAY,
    )
    lead = case.orders.get(role=OrderRole.LEAD)
    coop = case.orders.get(role=OrderRole.COOPERATING)
    if coop_state in (OS.RECEIVED, OS.REPORTED):
        order_receive(order=coop, actor=world.coop_contact, now=TUESDAY)
    if coop_state == OS.REPORTED:
        report(coop, world.coop_contact)
    coop.refresh_from_db()
    assert coop.state == coop_state
    return case, lead, coop


def awaiting_feedback(world: World, *, coop_state: str) -> tuple[Case, DispatchOrder, DispatchOrder]:
    """The lead reported and completed, the community verified: the resident's answer is awaited."""
    case, lead, coop = dispatched(world, coop_state=coop_state)
    report(lead, world.lead_contact)
    order_complete(order=lead, actor=world.lead_contact, note="已疏通", now=TUESDAY)
    case_verify(case=case, actor=world.community_worker_x, passed=True, now=WEDNESDAY)
    case.refresh_from_db()
    assert case.state == S.AWAITING_FEEDBACK
    return case, lead, coop


def revisit(world: World, case: Case, *, reached: bool) -> None:
    """The window passes unanswered (the sweep's writer, for this case alone); the community reaches
    the resident, or fails twice."""
    assert case_return_visit_due(case=case, now=AFTER_WINDOW) is not None
    answer = {"solved": FeedbackSolved.SOLVED, "satisfaction": Satisfaction.SATISFIED} if reached else {}
    for _attempt in range(1 if reached else 2):
        case_return_visit(
            case=case,
            actor=world.community_worker_x,
            channel="phone",
            reached=reached,
            now=AFTER_WINDOW,
            **answer,
        )


# Each way a case ends: (the state it needs, what ends it, when, the unit the withdrawal names).
Ending = Callable[[World, Case], None]
ENDINGS: dict[str, tuple[str, Ending, dt.datetime, str]] = {
    "resident's answer closes": (
        S.AWAITING_FEEDBACK,
        lambda w, c: case_feedback(
            case=c, solved=FeedbackSolved.SOLVED, satisfaction=Satisfaction.SATISFIED, now=WEDNESDAY
        ),
        WEDNESDAY,
        "系统",
    ),
    "a reached return visit closes": (
        S.AWAITING_FEEDBACK,
        lambda w, c: revisit(w, c, reached=True),
        AFTER_WINDOW,
        "新华社区",
    ),
    "failed return visits close it unrated": (
        S.AWAITING_FEEDBACK,
        lambda w, c: revisit(w, c, reached=False),
        AFTER_WINDOW,
        "新华社区",
    ),
    "holder rejects": (
        S.ACCEPTED,
        lambda w, c: case_reject(case=c, actor=w.district_officer, reason="不属于受理范围", now=WEDNESDAY),
        WEDNESDAY,
        "鲤城区委组织部",
    ),
    "holder merges": (
        S.ACCEPTED,
        lambda w, c: case_merge(
            case=c,
            actor=w.district_officer,
            into=make_case(w, state=S.ACCEPTED, tier=AreaLevel.DISTRICT),
            now=WEDNESDAY,
        ),
        WEDNESDAY,
        "鲤城区委组织部",
    ),
}


@pytest.mark.parametrize("coop_state", [OS.DISPATCHED, OS.RECEIVED, OS.REPORTED])
@pytest.mark.parametrize("ending", list(ENDINGS))
def test_every_way_a_case_ends_withdraws_its_open_orders(world: World, ending: str, coop_state: str) -> None:
    needs, end, when, unit = ENDINGS[ending]
    if needs == S.AWAITING_FEEDBACK:
        case, lead, coop = awaiting_feedback(world, coop_state=coop_state)
    else:
        case, lead, coop = dispatched(world, coop_state=coop_state)

    end(world, case)

    case.refresh_from_db()
    coop.refresh_from_db()
    lead.refresh_from_db()
    assert case.state in (S.CLOSED, S.REJECTED, S.MERGED)
    assert not case.orders.filter(state__in=ACTIVE_ORDER_STATES).exists()
    assert (coop.state, coop.withdrawn_at) == (OS.WITHDRAWN, when)
    assert coop.withdrawal_reason
    # The lead that finished keeps its completion; one still at work is withdrawn with the rest.
    assert lead.state == (OS.COMPLETED if needs == S.AWAITING_FEEDBACK else OS.WITHDRAWN)
    # One timeline event for the cooperating order, naming its department and the reason.
    event = case.events.get(kind=EventKind.ORDER_WITHDRAWN, data__order_id=coop.pk)
    assert event.data["department_id"] == world.dept_coop.pk
    assert world.dept_coop.name in event.note and coop.withdrawal_reason in event.note
    assert (event.actor_label, event.at) == (unit, when)
    if coop_state == OS.REPORTED:  # its announced visit will not be made: nobody is to confirm it
        assert list(coop.attendances.values_list("state", flat=True)) == [AttendanceState.CANCELLED]


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_a_settled_order_is_nobodys_open_work_and_never_overdue(world: World, ending: str) -> None:
    needs, end, _when, _unit = ENDINGS[ending]
    maker = awaiting_feedback if needs == S.AWAITING_FEEDBACK else dispatched
    case, _lead, coop = maker(world, coop_state=OS.DISPATCHED)
    end(world, case)

    # Not on the department's to-do list.
    assert not my_department_orders(scope_for(world.coop_contact)).exists()
    # The sweep, long after every deadline, flags nothing.
    result = run_sweep(now=MUCH_LATER)
    assert (result.report_overdue, result.complete_overdue) == (0, 0)
    assert not CaseEvent.objects.filter(kind=EventKind.ORDER_OVERDUE).exists()
    coop.refresh_from_db()
    assert (coop.report_overdue_at, coop.complete_overdue_at) == (None, None)
    # Nor is it held against the department: not counted, not active, not late.
    counts = rates_for_orders(DispatchOrder.objects.filter(department=world.dept_coop), now=MUCH_LATER).counts
    assert (counts.orders, counts.active, counts.report_late, counts.complete_late) == (0, 0, 0, 0)


def test_a_pending_extension_of_a_settled_order_is_withdrawn_too(world: World) -> None:
    case, _lead, coop = awaiting_feedback(world, coop_state=OS.REPORTED)
    ext = extension_request(
        order=coop,
        actor=world.coop_contact,
        reason="需协调产权单位",
        new_due=coop.complete_due + dt.timedelta(days=30),
        now=WEDNESDAY,
    )
    case_feedback(case=case, solved=FeedbackSolved.SOLVED, satisfaction=Satisfaction.SATISFIED, now=WEDNESDAY)
    ext.refresh_from_db()
    assert ext.state == ExtensionState.WITHDRAWN
    assert not extensions_for_community(scope_for(world.community_worker_x)).exists()


def answer(case: Case | int) -> None:
    """The resident says solved (the case ends)."""
    case_feedback(case=case, solved=FeedbackSolved.SOLVED, satisfaction=Satisfaction.SATISFIED, now=WEDNESDAY)


def test_a_common_issues_orders_are_settled_when_its_last_case_ends(world: World) -> None:
    cases = [
        make_case(world, alley=alley, state=S.ACCEPTED, tier=AreaLevel.DISTRICT)
        for alley in (world.alley_x, world.alley_y)
    ]
    issue = common_issue_create(actor=world.district_officer, title="老旧管网", cases=cases, now=MONDAY)
    lead, coop = common_issue_dispatch(
        issue=issue,
        actor=world.district_officer,
        lead=world.dept_lead,
        cooperating=[world.dept_coop],
        now=MONDAY,
    )
    report(lead, world.lead_contact)
    order_complete(order=lead, actor=world.lead_contact, note="管网已改造", now=TUESDAY)
    first, second = cases
    case_verify(case=first, actor=world.community_worker_x, passed=True, now=WEDNESDAY)
    case_verify(case=second, actor=world.community_worker_y, passed=True, now=WEDNESDAY)

    answer(first)
    coop.refresh_from_db()
    assert coop.state == OS.DISPATCHED  # the other community's case still needs it

    answer(second)
    coop.refresh_from_db()
    lead.refresh_from_db()
    assert (coop.state, lead.state) == (OS.WITHDRAWN, OS.COMPLETED)
    # The order served both cases: both timelines say it was withdrawn.
    for case in cases:
        assert case.events.filter(kind=EventKind.ORDER_WITHDRAWN, data__order_id=coop.pk).count() == 1


def test_the_data_migration_settles_orders_left_open_on_ended_cases(world: World) -> None:
    """Databases from before the fix hold closed cases with open orders: the migration settles them."""
    case, _lead, coop = awaiting_feedback(world, coop_state=OS.REPORTED)
    ended = make_case(world, state=S.ACCEPTED, tier=AreaLevel.DISTRICT)
    case_dispatch(case=ended, actor=world.district_officer, lead=world.dept_lead, now=MONDAY)
    still_open, _l, open_coop = dispatched(world, coop_state=OS.DISPATCHED)
    # What the old code left behind: the cases ended, their orders did not.
    Case.objects.filter(pk=case.pk).update(state=S.CLOSED, closed_at=WEDNESDAY)
    Case.objects.filter(pk=ended.pk).update(state=S.REJECTED, closed_at=WEDNESDAY)
    ExtensionRequest.objects.create(
        order=coop,
        reason="x",
        requested_due=coop.complete_due + dt.timedelta(days=9),
        previous_due=coop.complete_due,
        requested_by=world.coop_contact,
    )

    migration = importlib.import_module("issues.migrations.0012_settle_orders_of_ended_cases")
    migration.settle(current_apps, None)

    coop.refresh_from_db()
    assert coop.state == OS.WITHDRAWN and coop.withdrawal_reason and coop.withdrawn_at is not None
    assert not DispatchOrder.objects.filter(case=ended, state__in=ACTIVE_ORDER_STATES).exists()
    assert ExtensionRequest.objects.get(order=coop).state == ExtensionState.WITHDRAWN
    event = case.events.get(kind=EventKind.ORDER_WITHDRAWN, data__order_id=coop.pk)
    assert event.actor_label == "系统" and world.dept_coop.name in event.note
    # An open case keeps its orders.
    open_coop.refresh_from_db()
    assert open_coop.state == OS.DISPATCHED and still_open.orders.filter(state=OS.DISPATCHED).count() == 2
    # Running it again changes nothing.
    events = CaseEvent.objects.count()
    migration.settle(current_apps, None)
    assert CaseEvent.objects.count() == events


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_common_issues_last_two_cases_closing_at_once_settle_its_orders(transactional_db: None) -> None:
    """Each close must see the other's: the second waits on the issue's lock, then sees the first closed."""
    from tests.factories import build_world
    from tests.faults import race

    world = build_world()
    cases = [
        make_case(world, alley=alley, state=S.ACCEPTED, tier=AreaLevel.DISTRICT)
        for alley in (world.alley_x, world.alley_y)
    ]
    issue = common_issue_create(actor=world.district_officer, title="老旧管网", cases=cases, now=MONDAY)
    lead, coop = common_issue_dispatch(
        issue=issue,
        actor=world.district_officer,
        lead=world.dept_lead,
        cooperating=[world.dept_coop],
        now=MONDAY,
    )
    report(lead, world.lead_contact)
    order_complete(order=lead, actor=world.lead_contact, note="管网已改造", now=TUESDAY)
    first, second = cases
    case_verify(case=first, actor=world.community_worker_x, passed=True, now=WEDNESDAY)
    case_verify(case=second, actor=world.community_worker_y, passed=True, now=WEDNESDAY)

    _result, error = race(lambda: answer(first.pk), lambda: answer(second.pk))

    assert error is None
    coop.refresh_from_db()
    assert coop.state == OS.WITHDRAWN
