"""issues/workflow/attendance.py and the report's announced visit: 报到 in person.

The department's report names who will come and when; the whistling community confirms that
they came (the actual time, who was there) or records that they did not; only a confirmed
attendance meets the 5-working-day report deadline (issues/attendance.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import transaction

from alleys.choices import AreaLevel
from evaluation.rates import rates_for_orders
from issues.attendance import report_outcome
from issues.choices import AttendanceState, CaseState, EventKind, OrderRole, OrderState, ReportOutcome
from issues.models import Attendance, Case, DispatchOrder, Notification
from issues.sweep import run_sweep
from issues.workflow import (
    TransitionError,
    TransitionForbidden,
    TransitionInvalid,
    case_dispatch,
    case_reject,
)
from issues.workflow.attendance import attendance_confirm, attendance_missed
from issues.workflow.orders import (
    common_issue_create,
    common_issue_dispatch,
    order_complete,
    order_report,
)
from tests.factories import ACTORS, MONDAY, World, at, make_case

pytestmark = pytest.mark.django_db
OS = OrderState
AS = AttendanceState
EVERYONE = (*ACTORS, "admin", "anonymous")
TUESDAY = at("2026-03-03 10:00")
WEDNESDAY_9 = at("2026-03-04 09:30")


def dispatched(world: World, *, now: dt.datetime = MONDAY) -> tuple[Case, DispatchOrder]:
    case = make_case(world, state=CaseState.ACCEPTED, tier=AreaLevel.DISTRICT, now=now)
    case_dispatch(case=case, actor=world.district_officer, lead=world.dept_lead, now=now)
    return case, case.orders.get(role=OrderRole.LEAD)


def report(
    order: DispatchOrder,
    actor: Any,
    *,
    visit_at: dt.datetime | None = WEDNESDAY_9,
    visitors: Any = ("王副局长", "李科长"),
    now: dt.datetime = TUESDAY,
) -> DispatchOrder:
    return order_report(
        order=order,
        actor=actor,
        leader_name="王副局长",
        contact_name="李科长",
        contact_phone="0595-22000000",
        work_plan="三日内完成清理并设置警示",
        visit_at=visit_at,
        visitors=list(visitors),
        now=now,
    )


def confirm(order: DispatchOrder, actor: Any, *, attended_at: dt.datetime, now: dt.datetime) -> Attendance:
    return attendance_confirm(
        order=order,
        actor=actor,
        attended_at=attended_at,
        present=["王副局长", "李科长"],
        note="现场查看",
        now=now,
    )


def fresh(order: DispatchOrder) -> DispatchOrder:
    return DispatchOrder.objects.get(pk=order.pk)


# --- the report names who will come and when ------------------------------------------------------


def test_the_report_announces_who_will_come_and_when(world: World) -> None:
    case, order = dispatched(world)
    report(order, world.lead_contact)
    order = fresh(order)
    visit = order.attendances.get()
    assert (order.state, order.reported_at, order.attended_at) == (OS.REPORTED, TUESDAY, None)
    assert (visit.state, visit.planned_at, visit.visitors) == (
        AS.PLANNED,
        WEDNESDAY_9,
        ["王副局长", "李科长"],
    )
    event = case.events.get(kind=EventKind.ORDER_REPORTED)
    assert event.note.startswith("约定 2026-03-04 09:30 到社区报到。")
    assert event.data["people"] == ["王副局长", "李科长"] and event.public
    assert "王副局长" not in event.note  # the names are for staff only
    assert order.report_outcome(TUESDAY) == ReportOutcome.PENDING  # filed, not yet attended


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"visitors": []}, "visitors"),
        ({"visitors": ["张科员"]}, "visitors"),  # neither the leader nor the contact comes
        ({"visit_at": None}, "visit_at"),
        ({"visit_at": MONDAY}, "visit_at"),  # a plan in the past
    ],
)
def test_a_report_without_a_real_visit_is_refused(world: World, changes: dict[str, Any], field: str) -> None:
    _case, order = dispatched(world)
    with pytest.raises(TransitionInvalid) as refused:
        report(order, world.lead_contact, **changes)
    assert refused.value.field == field
    assert fresh(order).state == OS.DISPATCHED and not Attendance.objects.exists()


def test_names_may_be_typed_on_lines_or_with_commas(world: World) -> None:
    _case, order = dispatched(world)
    report(order, world.lead_contact, visitors=["王副局长，张科员\n李科长、张科员"])
    assert fresh(order).attendances.get().visitors == ["王副局长", "张科员", "李科长"]


def test_a_visit_after_the_deadline_is_accepted_and_said_to_be_late(world: World) -> None:
    case, order = dispatched(world)
    report(order, world.lead_contact, visit_at=at("2026-03-10 09:00"))
    assert "晚于报到期限" in case.events.get(kind=EventKind.ORDER_REPORTED).note


# --- who may say whether the department came --------------------------------------------------------

COMMUNITY = {"community_worker_x", "admin"}


@pytest.mark.parametrize("service", ["confirm", "missed"])
def test_only_the_whistling_community_may_record_the_visit(world: World, service: str) -> None:
    outcomes: dict[str, str] = {}
    for name in EVERYONE:
        _case, order = dispatched(world)
        report(order, world.lead_contact)
        later = at("2026-03-04 10:00")
        try:
            if service == "confirm":
                confirm(order, world.actor(name), attended_at=WEDNESDAY_9, now=later)
            else:
                attendance_missed(order=order, actor=world.actor(name), now=later)
            outcomes[name] = "may"
        except TransitionForbidden:
            outcomes[name] = "forbidden"
            assert fresh(order).attendances.get().state == AS.PLANNED
    assert outcomes == {a: "may" if a in COMMUNITY else "forbidden" for a in EVERYONE}


def test_each_community_of_a_common_issue_may_confirm(world: World) -> None:
    cases = [
        make_case(world, alley=a, state=CaseState.ACCEPTED, tier=AreaLevel.DISTRICT)
        for a in (world.alley_x, world.alley_y)
    ]
    issue = common_issue_create(actor=world.district_officer, title="老旧管网", cases=cases, now=MONDAY)
    [order] = common_issue_dispatch(
        issue=issue, actor=world.district_officer, lead=world.dept_lead, now=MONDAY
    )
    report(order, world.lead_contact)
    with pytest.raises(TransitionForbidden):
        confirm(order, world.community_worker_far, attended_at=WEDNESDAY_9, now=WEDNESDAY_9)
    visit = confirm(order, world.community_worker_y, attended_at=WEDNESDAY_9, now=WEDNESDAY_9)
    assert visit.community == world.community_y
    for case in cases:  # on every case's timeline, labelled with the community that confirmed
        event = case.events.get(kind=EventKind.ATTENDANCE_CONFIRMED)
        assert (event.actor_label, event.actor) == ("西街社区", world.community_worker_y)


def test_nothing_to_confirm_before_the_department_reports(world: World) -> None:
    _case, order = dispatched(world)
    with pytest.raises(TransitionForbidden):
        confirm(order, world.community_worker_y, attended_at=MONDAY, now=TUESDAY)
    with pytest.raises(TransitionError, match="没有待社区确认的到场安排"):
        confirm(order, world.community_worker_x, attended_at=MONDAY, now=TUESDAY)


# --- the community confirms ----------------------------------------------------------------------------


def test_confirming_records_the_actual_time_and_the_people_present(world: World) -> None:
    case, order = dispatched(world)
    report(order, world.lead_contact)
    came = at("2026-03-04 09:40")
    visit = confirm(order, world.community_worker_x, attended_at=came, now=at("2026-03-05 11:00"))
    order = fresh(order)
    assert (visit.state, visit.attended_at, visit.present, visit.note) == (
        AS.CONFIRMED,
        came,
        ["王副局长", "李科长"],
        "现场查看",
    )
    assert (visit.community, visit.decided_by) == (world.community_x, world.community_worker_x)
    assert (order.attended_at, order.report_on_time, order.state) == (came, True, OS.REPORTED)
    event = case.events.get(kind=EventKind.ATTENDANCE_CONFIRMED)
    assert (event.actor_label, event.actor, event.public) == ("新华社区", world.community_worker_x, True)
    assert event.note == "部门于 2026-03-04 09:40 到社区报到，社区已确认（按时报到）。"
    assert (event.data["people"], event.data["remark"], event.data["outcome"]) == (
        ["王副局长", "李科长"],
        "现场查看",
        ReportOutcome.ON_TIME,
    )
    with pytest.raises(TransitionError):  # once
        confirm(order, world.community_worker_x, attended_at=came, now=at("2026-03-05 11:00"))


@pytest.mark.parametrize(
    ("attended_at", "now", "field"),
    [
        (at("2026-03-04 12:00"), at("2026-03-04 11:00"), "attended_at"),  # in the future
        (at("2026-03-02 09:00"), at("2026-03-04 11:00"), "attended_at"),  # before the dispatch
        (None, at("2026-03-04 11:00"), "attended_at"),
    ],
)
def test_an_impossible_attendance_time_is_refused(
    world: World, attended_at: dt.datetime | None, now: dt.datetime, field: str
) -> None:
    _case, order = dispatched(world)
    report(order, world.lead_contact)
    with pytest.raises(TransitionInvalid) as refused:
        attendance_confirm(
            order=order,
            actor=world.community_worker_x,
            attended_at=attended_at,
            present=["王副局长"],
            now=now,
        )
    assert refused.value.field == field
    assert fresh(order).attended_at is None


def test_nobody_present_is_refused(world: World) -> None:
    _case, order = dispatched(world)
    report(order, world.lead_contact)
    with pytest.raises(TransitionInvalid) as refused:
        attendance_confirm(
            order=order,
            actor=world.community_worker_x,
            attended_at=WEDNESDAY_9,
            present=[" "],
            now=WEDNESDAY_9,
        )
    assert refused.value.field == "present"


# --- a no-show -------------------------------------------------------------------------------------------


def test_a_no_show_sends_the_department_back_to_report_again(world: World) -> None:
    case, order = dispatched(world)
    report(order, world.lead_contact)
    with pytest.raises(TransitionError, match="还没到"):
        attendance_missed(order=order, actor=world.community_worker_x, now=at("2026-03-04 09:00"))
    visit = attendance_missed(
        order=order, actor=world.community_worker_x, note="等到十一点无人到场", now=at("2026-03-04 11:00")
    )
    order = fresh(order)
    assert (visit.state, order.state, order.attended_at) == (AS.MISSED, OS.RECEIVED, None)
    event = case.events.get(kind=EventKind.ATTENDANCE_MISSED)
    assert "须重新报到" in event.note and event.actor_label == "新华社区"
    assert order.report_outcome(at("2026-03-04 11:00"), no_show=True) == ReportOutcome.MISSED
    # The department cannot complete without reporting again; it reports with a new date.
    with pytest.raises(TransitionError):
        order_complete(order=order, actor=world.lead_contact, note="已完成", now=at("2026-03-04 12:00"))
    report(order, world.lead_contact, visit_at=at("2026-03-06 09:30"), now=at("2026-03-04 14:00"))
    assert [v.state for v in fresh(order).attendances.all()] == [AS.MISSED, AS.PLANNED]
    confirm(order, world.community_worker_x, attended_at=at("2026-03-06 09:30"), now=at("2026-03-06 10:00"))
    assert fresh(order).report_on_time is True


def test_a_no_show_tells_the_department_and_the_organisation_department(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    _case, order = dispatched(world)
    report(order, world.lead_contact)
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        attendance_missed(order=order, actor=world.community_worker_x, now=at("2026-03-04 11:00"))
    told = set(Notification.objects.values_list("recipient__username", flat=True))
    assert told == {"lead_contact", "district_officer"}
    body = Notification.objects.get(recipient__username="district_officer").body
    assert "须重新报到" in body and "王副局长" in body  # staff read who was to come


def test_the_planned_visit_tells_the_community_and_a_confirmation_tells_the_department(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    _case, order = dispatched(world)
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        report(order, world.lead_contact)
    message = Notification.objects.get()
    assert message.recipient == world.community_worker_x
    assert "2026-03-04 09:30" in message.body and "李科长" in message.body
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        confirm(order, world.community_worker_x, attended_at=WEDNESDAY_9, now=WEDNESDAY_9)
    assert set(Notification.objects.values_list("recipient__username", flat=True)) == {"lead_contact"}


def test_a_withdrawn_order_cancels_its_planned_visit(world: World) -> None:
    case, order = dispatched(world)
    report(order, world.lead_contact)
    Case.objects.filter(pk=case.pk).update(state=CaseState.ACCEPTED)
    case_reject(case=case, actor=world.district_officer, reason="不属于受理范围", now=at("2026-03-03 15:00"))
    assert fresh(order).attendances.get().state == AS.CANCELLED


def test_one_planned_visit_per_order_in_the_database(world: World) -> None:
    _case, order = dispatched(world)
    report(order, world.lead_contact)
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017 - the constraint, whatever the backend
        Attendance.objects.create(order=order, planned_at=WEDNESDAY_9, visitors=["王副局长"])


# --- the deadline is met only by a confirmed attendance (working days) -----------------------------------

# Thursday 30 April 2026: five working days run over the May Day holiday (1–5 May) and the
# make-up Saturday (9 May) to Monday 11 May, 17:00.
MAYDAY_EVE = at("2026-04-30 10:00")
DUE = at("2026-05-11 17:00")


def test_a_report_filed_in_time_but_never_attended_is_flagged_overdue(world: World) -> None:
    case, order = dispatched(world, now=MAYDAY_EVE)
    assert order.report_due == DUE
    report(order, world.lead_contact, visit_at=at("2026-05-09 09:30"), now=at("2026-04-30 14:00"))
    assert run_sweep(now=DUE - dt.timedelta(minutes=1)).report_overdue == 0
    assert run_sweep(now=DUE + dt.timedelta(minutes=1)).report_overdue == 1
    note = case.events.get(kind=EventKind.ORDER_OVERDUE).note
    assert "社区尚未确认部门到场" in note
    assert fresh(order).report_outcome(DUE + dt.timedelta(minutes=1)) == ReportOutcome.MISSED


def test_an_attendance_on_the_make_up_saturday_is_on_time(world: World) -> None:
    _case, order = dispatched(world, now=MAYDAY_EVE)
    report(order, world.lead_contact, visit_at=at("2026-05-09 09:30"), now=at("2026-04-30 14:00"))
    # Confirmed only after the deadline, with the time they actually came: on time.
    confirm(order, world.community_worker_x, attended_at=at("2026-05-09 09:45"), now=at("2026-05-12 09:00"))
    order = fresh(order)
    assert order.report_outcome(at("2026-05-12 09:00")) == ReportOutcome.ON_TIME
    confirmed_before_the_sweep = run_sweep(now=DUE + dt.timedelta(minutes=1))
    assert confirmed_before_the_sweep.report_overdue == 0


def test_filed_in_time_attended_late_is_late(world: World) -> None:
    case, order = dispatched(world, now=MAYDAY_EVE)
    report(order, world.lead_contact, visit_at=at("2026-05-12 09:30"), now=at("2026-04-30 14:00"))
    confirm(order, world.community_worker_x, attended_at=at("2026-05-12 09:30"), now=at("2026-05-12 10:00"))
    order = fresh(order)
    assert (order.report_on_time, order.report_outcome(at("2026-05-12 10:00"))) == (False, ReportOutcome.LATE)
    assert "晚于报到期限 2026-05-11 17:00" in case.events.get(kind=EventKind.ATTENDANCE_CONFIRMED).note


def test_the_department_rates_count_confirmed_late_and_missed(world: World) -> None:
    on_time = dispatched(world, now=MAYDAY_EVE)[1]
    late = dispatched(world, now=MAYDAY_EVE)[1]
    never = dispatched(world, now=MAYDAY_EVE)[1]
    no_show = dispatched(world, now=MAYDAY_EVE)[1]
    for order in (on_time, late, never, no_show):
        report(order, world.lead_contact, visit_at=at("2026-05-08 09:30"), now=at("2026-04-30 14:00"))
    confirm(on_time, world.community_worker_x, attended_at=at("2026-05-08 09:30"), now=at("2026-05-08 10:00"))
    attendance_missed(order=no_show, actor=world.community_worker_x, now=at("2026-05-08 12:00"))
    ids = [o.pk for o in (on_time, late, never, no_show)]
    before_due = rates_for_orders(DispatchOrder.objects.filter(pk__in=ids), now=at("2026-05-08 12:00"))
    c = before_due.counts
    # Before the deadline the unconfirmed ones are pending; the no-show is missed at once.
    assert (c.report_on_time, c.report_late, c.report_missed, c.report_no_show) == (1, 0, 1, 1)
    confirm(late, world.community_worker_x, attended_at=at("2026-05-12 09:30"), now=at("2026-05-12 10:00"))
    after = rates_for_orders(DispatchOrder.objects.filter(pk__in=ids), now=at("2026-05-12 12:00"))
    c = after.counts
    assert (c.report_on_time, c.report_late, c.report_missed, c.report_no_show) == (1, 1, 2, 1)
    assert after.report_rate == pytest.approx(1 / 4)


@pytest.mark.parametrize(
    ("attended_at", "no_show", "now", "outcome"),
    [
        (DUE, False, DUE + dt.timedelta(days=3), ReportOutcome.ON_TIME),
        (DUE + dt.timedelta(seconds=1), False, DUE + dt.timedelta(days=3), ReportOutcome.LATE),
        (DUE - dt.timedelta(days=1), True, DUE, ReportOutcome.ON_TIME),  # came after a no-show, in time
        (None, True, DUE - dt.timedelta(days=1), ReportOutcome.MISSED),
        (None, False, DUE, ReportOutcome.MISSED),
        (None, False, DUE - dt.timedelta(seconds=1), ReportOutcome.PENDING),
    ],
)
def test_the_report_outcome_rule(
    attended_at: dt.datetime | None, no_show: bool, now: dt.datetime, outcome: str
) -> None:
    assert report_outcome(report_due=DUE, attended_at=attended_at, no_show=no_show, now=now) == outcome
