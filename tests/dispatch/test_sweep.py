"""dispatch/sweep.py: warn near deadlines, escalate once per tier, flag overdue orders, ask for return visits."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from alleys import reference as alleys_reference
from alleys.choices import AreaLevel
from dispatch.deadlines import compute_deadlines
from dispatch.models import CategoryType
from issues import reference as issues_reference
from issues.choices import CaseState, EventKind
from issues.models import Case, CaseEvent, DispatchOrder, Notification, SystemAlert, Whistle
from issues.sweep import next_batch_size, run_sweep
from issues.workflow import case_accept, case_dispatch, case_submit, case_whistle
from issues.workflow.orders import common_issue_create, common_issue_dispatch
from tests.factories import MONDAY, World, at, make_case

pytestmark = pytest.mark.django_db
S = CaseState
T = AreaLevel


def submitted(world: World, **kwargs: Any) -> Case:
    """A resident's lamp case in alley X, submitted on MONDAY 10:00 (accept by 14:00, warn at 13:12)."""
    kwargs.setdefault("category", world.cat_a)
    return case_submit(alley=world.alley_x, description="路灯不亮", now=MONDAY, **kwargs)


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def row_counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Case, CaseEvent, Whistle, DispatchOrder, Notification, SystemAlert)
    }


# --- (a) warnings ---------------------------------------------------------------------------------


def test_the_holder_is_warned_once_at_80_percent(world: World) -> None:
    case = submitted(world)
    assert case.warn_at == at("2026-03-02 13:12")
    assert run_sweep(now=at("2026-03-02 13:00")).warned == 0
    result = run_sweep(now=at("2026-03-02 13:15"))
    assert (result.warned, result.escalated) == (1, 0)
    assert run_sweep(now=at("2026-03-02 13:30")).warned == 0
    warning = case.events.get(kind=EventKind.DEADLINE_WARNING)
    assert warning.public is False and "14:00" in warning.note and "受理" in warning.note
    assert fresh(case).warn_at is None


def test_no_warning_for_a_case_no_longer_open(world: World) -> None:
    case = make_case(world, state=S.CLOSED, closed_at=MONDAY)
    Case.objects.filter(pk=case.pk).update(warn_at=MONDAY)
    assert run_sweep(now=MONDAY + dt.timedelta(hours=1)).warned == 0


# --- (b) escalation ----------------------------------------------------------------------------------


def test_a_missed_accept_deadline_escalates_once_even_when_swept_twice(world: World) -> None:
    case = submitted(world)
    assert run_sweep(now=at("2026-03-02 13:59")).escalated == 0
    now = at("2026-03-02 14:01")
    first, second = run_sweep(now=now), run_sweep(now=now)
    assert (first.escalated, second.escalated) == (1, 0)
    case = fresh(case)
    assert (case.tier, case.state, case.holder_area) == (T.COMMUNITY, S.SUBMITTED, world.community_x)
    assert case.escalation_due == at("2026-03-03 14:01")  # 8 working hours at the community
    whistle = Whistle.objects.get(case=case)
    assert (whistle.from_tier, whistle.to_tier, whistle.automatic) == (T.ALLEY, T.COMMUNITY, True)
    event = case.events.get(kind=EventKind.ESCALATED)
    assert "受理" in event.note and "金鱼巷街巷服务团队" in event.note and event.actor_label == "系统"
    # The missed deadline in the site's time, to the minute (formatted by the database).
    assert "（2026-03-02 14:00）" in event.note and whistle.reason == event.note


def test_a_case_already_whistled_to_the_next_tier_is_not_escalated_again_and_its_clock_stops(
    world: World,
) -> None:
    # Three overdue cases in one batch; the middle one already went to the community once.
    cases = [submitted(world, category=world.cat_b) for _ in range(3)]  # class B climbs to the street
    Whistle.objects.create(
        case=cases[1], from_tier=T.ALLEY, to_tier=T.COMMUNITY, reason="先前上报", at=MONDAY
    )
    now = at("2026-03-02 14:01")
    assert run_sweep(now=now).escalated == 2
    moved, kept, also_moved = (fresh(c) for c in cases)
    assert (moved.tier, also_moved.tier) == (T.COMMUNITY, T.COMMUNITY)
    assert (kept.tier, kept.state, kept.holder_area, kept.escalation_due) == (
        T.ALLEY,
        S.SUBMITTED,
        world.alley_x,
        None,
    )
    assert list(Whistle.objects.filter(case=kept).values_list("reason", flat=True)) == ["先前上报"]
    assert not kept.events.filter(kind=EventKind.ESCALATED).exists()
    assert CaseEvent.objects.filter(kind=EventKind.ESCALATED).count() == 2
    assert run_sweep(now=now + dt.timedelta(days=1)).escalated == 2  # the two moved ones, one tier on


def test_a_missed_resolve_deadline_escalates(world: World) -> None:
    case = submitted(world)
    case_accept(case=case, actor=world.chief_x, now=MONDAY)
    case = fresh(case)
    assert case.escalation_due == case.resolve_due == at("2026-03-05 17:00")
    assert run_sweep(now=at("2026-03-05 16:59")).escalated == 0
    assert run_sweep(now=at("2026-03-05 17:00")).escalated == 1
    case = fresh(case)
    assert (case.tier, case.state, case.accepted_at) == (T.COMMUNITY, S.SUBMITTED, None)
    assert "办结" in case.events.get(kind=EventKind.ESCALATED).note


def test_escalation_climbs_one_tier_per_missed_deadline_up_to_the_city(world: World) -> None:
    case = submitted(world, category=world.cat_d)  # class D climbs to the city
    tiers = []
    now = MONDAY
    for _ in range(5):
        now = fresh(case).escalation_due + dt.timedelta(minutes=1)
        run_sweep(now=now)
        run_sweep(now=now)  # a second sweep changes nothing
        tiers.append(fresh(case).tier)
    assert tiers == [T.COMMUNITY, T.STREET, T.DISTRICT, T.CITY, T.CITY]
    assert list(Whistle.objects.filter(case=case).order_by("at").values_list("to_tier", flat=True)) == [
        T.COMMUNITY,
        T.STREET,
        T.DISTRICT,
        T.CITY,
    ]
    # Nothing above the city: the overdue case is supervised, once, and its clock stops.
    case = fresh(case)
    assert (case.supervised, case.escalation_due, case.holder_area) == (True, None, world.city)
    assert case.events.filter(kind=EventKind.SUPERVISED).count() == 1
    assert run_sweep(now=now + dt.timedelta(days=30)).supervised_at_top == 0


def test_a_case_climbs_by_itself_only_to_the_highest_tier_of_its_class(world: World) -> None:
    """小事不出社区: class A's missed deadlines escalate it to the community, then it is supervised there."""
    case = submitted(world)
    run_sweep(now=fresh(case).escalation_due + dt.timedelta(minutes=1))
    assert fresh(case).tier == T.COMMUNITY
    result = run_sweep(now=fresh(case).escalation_due + dt.timedelta(minutes=1))
    assert (result.escalated, result.supervised_at_top) == (0, 1)
    case = fresh(case)
    assert (case.tier, case.supervised, case.escalation_due) == (T.COMMUNITY, True, None)
    [event] = case.events.filter(kind=EventKind.SUPERVISED)
    assert "社区层级办理超过期限" in event.note and event.actor_label == "系统"
    # A person may still whistle it higher, with a reason.
    case_whistle(case=case, actor=world.community_worker_x, reason="需要街道协调", now=MONDAY)
    assert fresh(case).tier == T.STREET


def test_no_stale_warning_after_the_city_supervises(world: World) -> None:
    # The sweep jumps over the warning time (the worker was down): the accept deadline is
    # missed at the city, the case is supervised, and no "deadline near" warning follows.
    case = submitted(world, category=world.cat_d)
    for _ in range(3):
        run_sweep(now=fresh(case).escalation_due + dt.timedelta(minutes=1))
    assert fresh(case).tier == T.DISTRICT
    run_sweep(now=fresh(case).escalation_due + dt.timedelta(minutes=1))
    at_city = fresh(case)
    assert at_city.tier == T.CITY and at_city.warn_at is not None
    late = at_city.escalation_due + dt.timedelta(minutes=1)
    assert run_sweep(now=late).supervised_at_top == 1
    assert fresh(case).warn_at is None
    for minutes in (1, 2, 60 * 24):
        assert run_sweep(now=late + dt.timedelta(minutes=minutes)).warned == 0
    assert not case.events.filter(kind=EventKind.DEADLINE_WARNING, at__gte=at_city.tier_entered_at).exists()


def test_a_warning_names_the_deadline_that_governs(world: World) -> None:
    case = submitted(world)
    case_accept(case=case, actor=world.chief_x, now=at("2026-03-02 10:30"))
    accepted = fresh(case)
    run_sweep(now=accepted.warn_at)
    warning = case.events.get(kind=EventKind.DEADLINE_WARNING)
    assert "办结" in warning.note
    assert f"{accepted.resolve_due.astimezone(MONDAY.tzinfo):%Y-%m-%d %H:%M}" in warning.note


def test_cases_without_a_running_clock_are_left_alone(world: World) -> None:
    waiting = make_case(world, state=S.AWAITING_VERIFICATION)
    rated = make_case(world, state=S.AWAITING_FEEDBACK)
    dispatched = make_case(world, state=S.ACCEPTED, tier=T.DISTRICT)
    case_dispatch(case=dispatched, actor=world.district_officer, lead=world.dept_lead, now=MONDAY)
    result = run_sweep(now=MONDAY + dt.timedelta(days=20))
    assert result.escalated == 0
    assert {fresh(c).tier for c in (waiting, rated, dispatched)} == {T.ALLEY, T.DISTRICT}
    assert not Whistle.objects.exists()


def test_a_reopened_case_escalates_on_its_fresh_accept_deadline(world: World) -> None:
    case = make_case(world, state=S.REOPENED, reopen_count=1)
    assert run_sweep(now=case.accept_due + dt.timedelta(minutes=1)).escalated == 1
    assert fresh(case).tier == T.COMMUNITY


# --- (c) overdue orders ---------------------------------------------------------------------------------


def dispatched_case(world: World) -> tuple[Case, DispatchOrder]:
    case = make_case(world, state=S.ACCEPTED, tier=T.DISTRICT)
    case_dispatch(case=case, actor=world.district_officer, lead=world.dept_lead, now=MONDAY)
    return case, case.orders.get()


def test_an_order_not_reported_in_time_is_flagged_once(world: World) -> None:
    case, order = dispatched_case(world)
    assert order.report_due == at("2026-03-09 17:00")
    assert run_sweep(now=at("2026-03-09 16:59")).report_overdue == 0
    late = at("2026-03-09 17:01")
    first, second = run_sweep(now=late), run_sweep(now=late + dt.timedelta(days=1))
    assert (first.report_overdue, second.report_overdue) == (1, 0)
    order.refresh_from_db()
    assert order.report_overdue_at == late
    event = case.events.get(kind=EventKind.ORDER_OVERDUE)
    assert event.data == {"order_id": order.pk, "department_id": world.dept_lead.pk, "what": "report"}
    assert "鲤城区城管局" in event.note and "报到超时" in event.note


def test_an_order_not_completed_in_time_is_flagged_once(world: World) -> None:
    case, order = dispatched_case(world)
    DispatchOrder.objects.filter(pk=order.pk).update(state="reported", reported_at=MONDAY, attended_at=MONDAY)
    late = order.complete_due + dt.timedelta(minutes=1)
    first, second = run_sweep(now=late), run_sweep(now=late)
    assert (first.complete_overdue, second.complete_overdue, first.report_overdue) == (1, 0, 0)
    assert case.events.filter(kind=EventKind.ORDER_OVERDUE, data__what="complete").count() == 1


def test_an_overdue_common_issue_order_is_flagged_on_every_case(world: World) -> None:
    cases = [
        make_case(world, alley=a, state=S.ACCEPTED, tier=T.DISTRICT) for a in (world.alley_x, world.alley_y)
    ]
    issue = common_issue_create(actor=world.district_officer, title="老旧管网", cases=cases, now=MONDAY)
    [order] = common_issue_dispatch(
        issue=issue, actor=world.district_officer, lead=world.dept_lead, now=MONDAY
    )
    result = run_sweep(now=order.report_due + dt.timedelta(minutes=1))
    assert result.report_overdue == 1
    for case in cases:
        assert case.events.filter(kind=EventKind.ORDER_OVERDUE, data__order_id=order.pk).count() == 1


def test_finished_orders_are_not_flagged(world: World) -> None:
    _case, order = dispatched_case(world)
    DispatchOrder.objects.filter(pk=order.pk).update(state="withdrawn")
    result = run_sweep(now=order.complete_due + dt.timedelta(days=1))
    assert (result.report_overdue, result.complete_overdue) == (0, 0)


# --- (d) the feedback window ----------------------------------------------------------------------------


def test_cases_nobody_rated_are_due_for_a_return_visit_after_five_working_days(world: World) -> None:
    # Not closed any more (issue 15): tests/issues/test_return_visits.py has the rest.
    case = make_case(world, state=S.AWAITING_FEEDBACK)  # verified MONDAY (2026-03-02) 10:00
    assert run_sweep(now=at("2026-03-06 23:00")).return_visit_due == 0
    result = run_sweep(now=at("2026-03-09 08:00"))
    assert result.return_visit_due == 1
    case = fresh(case)
    assert (case.state, case.closed_at) == (S.AWAITING_RETURN_VISIT, None)
    assert "未收到反映人评价" in case.events.get(kind=EventKind.RETURN_VISIT_DUE).note
    assert run_sweep(now=at("2026-03-10 08:00")).return_visit_due == 0


# --- failing loudly ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("year", [2027, 2028, 2030])
def test_a_sweep_in_a_year_without_official_data_still_escalates(world: World, year: int) -> None:
    # It used to stop every escalation from New Year's Day on, for everyone, until someone
    # entered the year: a predicted calendar keeps the loop going.
    case = submitted(world)
    dry = run_sweep(now=at(f"{year}-01-05 10:00"), dry_run=True)
    assert dry.escalated == 1
    result = run_sweep(now=at(f"{year}-01-05 10:00"))
    assert result.escalated == 1
    moved = fresh(case)
    assert moved.tier == T.COMMUNITY and moved.deadline_provisional
    assert Whistle.objects.filter(case=case, to_tier=T.COMMUNITY).count() == 1


# --- dry run ---------------------------------------------------------------------------------------------------


def test_a_dry_run_reports_and_writes_nothing(world: World) -> None:
    submitted(world)
    accepted = submitted(world)
    case_accept(case=accepted, actor=world.chief_x, now=MONDAY)
    city = make_case(world, state=S.ACCEPTED, tier=T.CITY)
    _case, order = dispatched_case(world)
    make_case(world, state=S.AWAITING_FEEDBACK)
    now = at("2026-06-01 10:00")
    before = row_counts()
    snapshot = (
        list(Case.objects.order_by("pk").values()),
        list(DispatchOrder.objects.order_by("pk").values()),
    )
    lines: list[str] = []
    result = run_sweep(now=now, dry_run=True, log=lines.append)
    assert row_counts() == before
    assert (
        list(Case.objects.order_by("pk").values()),
        list(DispatchOrder.objects.order_by("pk").values()),
    ) == snapshot
    assert (
        result.dry_run,
        result.escalated,
        result.supervised_at_top,
        result.report_overdue,
        result.return_visit_due,
    ) == (
        True,
        2,
        1,
        1,
        1,
    )
    assert any(city.tracking_code in line and "supervise" in line for line in lines)
    assert any(f"order {order.pk}" in line for line in lines)
    # The real run then does exactly what the dry run said.
    real = run_sweep(now=now)
    assert (real.escalated, real.supervised_at_top, real.report_overdue, real.return_visit_due) == (
        2,
        1,
        1,
        1,
    )


# --- queries per batch -------------------------------------------------------------------------------------


def overdue_cases(world: World, n: int, category: CategoryType) -> None:
    """``n`` cases whose accept deadline passed, with no warning pending (only escalation batches run)."""
    for _ in range(n):
        make_case(world, category=category, now=MONDAY)
    Case.objects.update(warn_at=None)


def count_queries(now: dt.datetime) -> tuple[int, int]:
    # Each sweep starts cold: the areas and types it reads from the process's copies are read again.
    alleys_reference.clear()
    issues_reference.clear()
    with CaptureQueriesContext(connection) as ctx:
        result = run_sweep(now=now, batch=20)
    return len(ctx.captured_queries), result.batches


def _queries_grow_only_with_batches(world: World, category: CategoryType) -> None:
    now = MONDAY + dt.timedelta(days=1)
    compute_deadlines(category=category, tier=T.COMMUNITY, start=now)  # load the policy and calendar caches
    empty, no_batches = count_queries(now)
    assert no_batches == 0
    overdue_cases(world, 10, category)
    q10, b10 = count_queries(now)
    Case.objects.update(escalation_due=None)
    overdue_cases(world, 30, category)
    q30, b30 = count_queries(now)
    Case.objects.update(escalation_due=None)
    overdue_cases(world, 60, category)
    q60, b60 = count_queries(now)
    assert (b10, b30, b60) == (1, 2, 3)
    # Each further batch costs the same number of statements, however many rows it holds.
    assert q60 - q30 == q30 - q10, (
        f"{empty=} {q10=} {q30=} {q60=}: queries grow with the rows, not the batches"
    )


def test_escalation_queries_grow_only_with_batches_when_the_type_sets_its_tier(
    world: World, settings: Any
) -> None:
    settings.JXT_SWEEP_LOCK_SECONDS = 0  # fixed batches, however busy the machine
    world.cat_a.top_tier = T.COMMUNITY
    world.cat_a.save()
    _queries_grow_only_with_batches(world, world.cat_a)


def test_escalation_queries_grow_only_with_batches_when_the_class_sets_the_tier(
    world: World, settings: Any
) -> None:
    settings.JXT_SWEEP_LOCK_SECONDS = 0
    assert world.cat_a.top_tier == ""
    _queries_grow_only_with_batches(world, world.cat_a)


# --- batches sized to a lock budget (a mass event on a busy machine) ---------------------------------


def test_a_slow_batch_makes_the_next_smaller_and_a_fast_one_grows_back(settings: Any) -> None:
    settings.JXT_SWEEP_LOCK_SECONDS = 0.3
    assert next_batch_size(2000, 2000, 0.6, most=2000) == 1000  # twice the budget: half
    assert next_batch_size(500, 500, 0.05, most=2000) == 1000  # well under it: at most doubled
    assert next_batch_size(1000, 1000, 0.1, most=2000) == 2000  # never above JXT_SWEEP_BATCH
    assert next_batch_size(1000, 1000, 60.0, most=2000) == 500  # never below a quarter of it
    assert next_batch_size(500, 120, 5.0, most=2000) == 2000  # the last, partial batch: start over
    settings.JXT_SWEEP_LOCK_SECONDS = 0
    assert next_batch_size(2000, 2000, 9.0, most=2000) == 2000  # no budget: fixed batches


def test_a_sweep_with_a_tiny_lock_budget_still_escalates_every_due_case(world: World, settings: Any) -> None:
    settings.JXT_SWEEP_LOCK_SECONDS = 1e-6  # every batch over budget: the smallest batches
    overdue_cases(world, 120, world.cat_a)
    result = run_sweep(now=MONDAY + dt.timedelta(days=1), batch=60)
    assert result.escalated == 120
    assert result.batches == 5  # 60, then four of the smallest (a quarter: 15)
    assert Whistle.objects.filter(automatic=True).count() == 120
    assert CaseEvent.objects.filter(kind=EventKind.ESCALATED).count() == 120
