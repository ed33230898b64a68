"""Every rate against hand-computed fixtures: extensions, reopened cases, cases without feedback, holidays.

The fixture is eight cases submitted in September 2025, just before the National Day
holiday (1–8 October 2025 off; Sunday 28 September and Saturday 11 October are make-up
workdays). Working hours are 09:00–17:00. The expected figures are worked out by hand in
the comments and in docs/rates.md.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alleys.choices import AreaLevel
from dispatch.calendar import load_calendar
from evaluation.models import DepartmentEvaluation
from evaluation.rates import (
    CaseCounts,
    CaseInputs,
    Weights,
    WorkClock,
    case_rates,
    classify_case,
    composite,
    median_from_hist,
    rates_for_cases,
    rates_for_orders,
)
from issues.choices import (
    CaseSource,
    CaseState,
    ExtensionState,
    FeedbackSolved,
    OrderRole,
    OrderState,
    Satisfaction,
)
from issues.models import Case, ExtensionRequest
from tests.factories import DispatchOrderFactory, FeedbackFactory, at, case_at, escalated, survey_with_answers

pytestmark = pytest.mark.django_db

NOW = at("2025-10-20 12:00")
S, F, SAT = CaseState, FeedbackSolved, Satisfaction


def build_fixture(world: Any) -> dict[str, Case]:
    cases: dict[str, Case] = {}
    # A: accepted on time, resolved at the alley the same day (09:00 → 15:00 = 6 h), solved, satisfied.
    cases["A"] = case_at(
        world,
        created=at("2025-09-29 09:00"),
        state=S.CLOSED,
        accepted_at=at("2025-09-29 09:30"),
        accept_due=at("2025-09-29 13:00"),
        resolved_at=at("2025-09-29 15:00"),
        resolve_due=at("2025-10-10 17:00"),
        resolved_tier=AreaLevel.ALLEY,
    )
    FeedbackFactory(case=cases["A"], solved=F.SOLVED, satisfaction=SAT.SATISFIED)
    # B: accepted late (after the holiday), reopened once, resolved late on the make-up Saturday.
    # Hours: 30 Sep 16–17 (1) + 9 Oct (8) + 10 Oct (8) + Sat 11 Oct 09–12 (3) = 20 h.
    cases["B"] = case_at(
        world,
        created=at("2025-09-30 16:00"),
        state=S.CLOSED,
        accepted_at=at("2025-10-09 10:00"),
        accept_due=at("2025-09-30 17:00"),
        resolved_at=at("2025-10-11 12:00"),
        resolve_due=at("2025-10-10 17:00"),
        resolved_tier=AreaLevel.ALLEY,
        reopen_count=1,
        feedback_round=2,
    )
    FeedbackFactory(case=cases["B"], round=1, solved=F.NOT_SOLVED, satisfaction=SAT.DISSATISFIED)
    FeedbackFactory(case=cases["B"], round=2, solved=F.PARTLY, satisfaction=SAT.BASIC)
    # C: dispatched; the extension moved the deadline from 9 Oct to 20 Oct, resolved 15 Oct: on time.
    # Hours: Sun 28 Sep (make-up) 10–17 (7) + 29, 30 Sep (16) + 9, 10, 11, 13, 14 Oct (40) + 15 Oct 09–11 (2) = 65 h.
    # No reporter feedback: the survey's majority (2 of 3 solved) counts as solved.
    cases["C"] = case_at(
        world,
        created=at("2025-09-28 10:00"),
        state=S.AWAITING_FEEDBACK,
        accepted_at=at("2025-09-28 10:30"),
        accept_due=at("2025-09-28 17:00"),
        resolved_at=at("2025-10-15 11:00"),
        verified_at=at("2025-10-15 15:00"),
        resolve_due=at("2025-10-20 17:00"),
        resolved_tier=AreaLevel.DISTRICT,
        tier=AreaLevel.DISTRICT,
        lead_department=world.dept_lead,
    )
    survey_with_answers(
        cases["C"],
        opened_by=world.community_worker_x,
        community=world.community_x,
        answers=[(F.SOLVED, SAT.SATISFIED), (F.SOLVED, SAT.SATISFIED), (F.NOT_SOLVED, SAT.DISSATISFIED)],
    )
    # D: still waiting for acceptance, both deadlines passed: late on response and on time.
    cases["D"] = case_at(
        world,
        created=at("2025-09-29 09:00"),
        state=S.SUBMITTED,
        accept_due=at("2025-09-29 13:00"),
        resolve_due=at("2025-10-10 17:00"),
    )
    # E: accepted on time, being handled, deadline ahead: pending for the on-time rate.
    cases["E"] = case_at(
        world,
        created=at("2025-09-29 09:00"),
        state=S.IN_PROGRESS,
        accepted_at=at("2025-09-29 10:00"),
        accept_due=at("2025-09-29 13:00"),
        resolve_due=at("2025-12-31 17:00"),
    )
    # F: rejected, G: merged — outside every rate.
    cases["F"] = case_at(world, created=at("2025-09-29 09:00"), state=S.REJECTED)
    cases["G"] = case_at(world, created=at("2025-09-29 09:00"), state=S.MERGED, merged_into_id=cases["A"].pk)
    # H: found on patrol on a Saturday; the alley missed acceptance (escalated automatically), the
    # community accepted in time and fixed it. Hours: Sat 27 Sep (0) + Sun 28 Sep make-up (8) + 29 Sep 09–11 (2) = 10 h.
    cases["H"] = case_at(
        world,
        created=at("2025-09-27 10:00"),
        source=CaseSource.PATROL,
        state=S.CLOSED,
        accepted_at=at("2025-09-29 10:00"),
        accept_due=at("2025-09-29 17:00"),
        resolved_at=at("2025-09-29 11:00"),
        resolve_due=at("2025-10-10 17:00"),
        resolved_tier=AreaLevel.COMMUNITY,
        tier=AreaLevel.COMMUNITY,
    )
    escalated(cases["H"], when=at("2025-09-28 13:00"))
    return cases


@pytest.fixture
def fixture_cases(world: Any) -> dict[str, Case]:
    return build_fixture(world)


def test_counts_and_rates_by_hand(fixture_cases: dict[str, Case], settings: Any) -> None:
    settings.JXT_RATE_MIN_SAMPLE = 1  # six cases: the composite's arithmetic, not its sample guard
    rates = rates_for_cases(Case.objects.all(), now=NOW)
    c = rates.counts
    assert (c.submitted, c.cases, c.rejected, c.open) == (8, 6, 1, 2)
    # Response: A, C, E on time; B late, D waiting past its deadline, H escalated for missing it.
    assert (c.resp_on_time, c.resp_late) == (3, 3)
    assert rates.response_rate == pytest.approx(0.5)
    # On time: A, C (extended), H on time; B late; D open past its deadline; E pending.
    assert (c.resolved, c.on_time, c.late) == (4, 3, 2)
    assert rates.on_time_rate == pytest.approx(0.6)
    # Resolution: A solved, B's latest round only partly, C solved by the survey, H without feedback.
    assert (c.fb_cases, c.fb_solved) == (3, 2)
    assert rates.resolution_rate == pytest.approx(2 / 3)
    # Satisfaction: A 满意; B 不满意 then 基本满意; C's survey 满意, 满意, 不满意 → 4 of 6 answers.
    assert (c.answers, c.satisfied) == (6, 4)
    assert rates.satisfaction_rate == pytest.approx(4 / 6)
    # Working hours 6, 20, 65, 10 (holidays, make-up days, a Saturday): mean 25.25, median (10 + 20) / 2.
    assert c.hours_n == 4
    assert rates.avg_hours == pytest.approx(25.25)
    assert rates.median_hours == pytest.approx(15.0)
    # Reopened: B of the four ever resolved.
    assert rates.reopen_rate == pytest.approx(0.25)
    assert rates.escalation_profile == {
        "alley": pytest.approx(0.5),
        "community": pytest.approx(0.25),
        "street": 0.0,
        "district": pytest.approx(0.25),
        "city": 0.0,
    }
    assert rates.proactive_share == pytest.approx(1 / 6)
    # 30 × 0.5 + 35 × 2/3 + 35 × 2/3 = 61.67 → 61.7
    assert rates.composite == pytest.approx(61.7)


def test_working_hours_across_national_day() -> None:
    clock = WorkClock(load_calendar())
    assert clock.hours_between(at("2025-09-30 16:00"), at("2025-10-11 12:00")) == pytest.approx(20)
    assert clock.hours_between(at("2025-09-27 10:00"), at("2025-09-29 11:00")) == pytest.approx(10)
    assert clock.hours_between(at("2025-09-28 10:00"), at("2025-10-15 11:00")) == pytest.approx(65)
    # New Year's Eve 16:00 → Monday 5 Jan 10:00: 1 h, then 1–3 Jan off, Sunday 4 Jan a make-up
    # workday (8 h), then 1 h: 10 h.
    assert clock.hours_between(at("2025-12-31 16:00"), at("2026-01-05 10:00")) == pytest.approx(10)


_CLOCK: list[tuple[Any, WorkClock]] = []


@settings(max_examples=100, deadline=None)
@given(
    start=st.datetimes(min_value=dt.datetime(2024, 12, 1), max_value=dt.datetime(2027, 2, 1)),
    minutes=st.integers(min_value=0, max_value=60 * 24 * 90),
)
def test_fast_clock_equals_the_calendar(start: dt.datetime, minutes: int) -> None:
    if not _CLOCK:  # building the year tables once keeps a hundred examples fast
        calendar = load_calendar()
        _CLOCK.append((calendar, WorkClock(calendar)))
    calendar, clock = _CLOCK[0]
    a = start.replace(tzinfo=calendar.tz)
    b = a + dt.timedelta(minutes=minutes)
    expected = calendar.working_hours_between(a, b)
    assert clock.hours_between(a, b) == pytest.approx(expected, abs=1e-6)


def test_pending_until_is_the_next_deadline(fixture_cases: dict[str, Case]) -> None:
    from evaluation.rates import load_case_inputs

    inputs = load_case_inputs([fixture_cases["E"].pk])[fixture_cases["E"].pk]
    result = classify_case(inputs, now=NOW, clock=WorkClock())
    assert result.pending_until == at("2025-12-31 17:00")
    # When that moment passes, the same case counts as late without any event.
    later = classify_case(inputs, now=at("2026-01-05 09:00"), clock=WorkClock())
    assert (later.counts.late, later.pending_until) == (1, None)


def test_rates_without_data_are_none_not_zero() -> None:
    rates = case_rates(CaseCounts())
    assert rates.response_rate is None
    assert rates.median_hours is None
    assert rates.composite is None


def test_composite_needs_every_weighted_rate() -> None:
    weights = Weights(30, 35, 35)
    # A missing rate is not left out with its weight: that score would be another measure.
    assert composite(0.9, None, 0.6, weights) is None
    assert composite(0.9, 0.5, 0.6, weights) == pytest.approx(round(100 * (27 + 17.5 + 21) / 100, 1))
    # A rate of weight 0 is not needed.
    assert composite(1, None, None, Weights(1, 0, 0)) == 100.0


def test_composite_needs_the_minimum_sample_of_each_rate() -> None:
    weights = Weights(30, 35, 35)
    assert composite(0.9, 0.5, 0.6, weights, samples=(40, 4, 40), minimum=5) is None
    assert composite(0.9, 0.5, 0.6, weights, samples=(40, 5, 40), minimum=5) == pytest.approx(65.5)


def test_median_odd_and_even() -> None:
    assert median_from_hist({10: 1, 20: 1, 30: 1}) == 2.0
    assert median_from_hist({10: 2, 40: 2}) == 2.5
    assert median_from_hist({}) is None


def test_reopened_case_waiting_again_is_not_resolved() -> None:
    inputs = CaseInputs(
        state=CaseState.REOPENED,
        source=CaseSource.RESIDENT_FORM,
        created_at=at("2026-03-02 09:00"),
        accepted_at=at("2026-03-02 10:00"),
        accept_due=at("2026-03-10 13:00"),
        resolved_at=at("2026-03-03 10:00"),
        resolve_due=at("2026-03-20 17:00"),
        resolved_tier="alley",
        reopen_count=1,
        feedbacks=((1, FeedbackSolved.NOT_SOLVED, Satisfaction.DISSATISFIED),),
    )
    c = classify_case(inputs, now=at("2026-03-05 09:00"), clock=WorkClock(load_calendar())).counts
    assert (c.resolved, c.ever_resolved, c.reopened, c.fb_cases, c.fb_solved) == (0, 1, 1, 1, 0)


def test_department_rates_by_hand(world: Any, fixture_cases: dict[str, Case]) -> None:
    """Lead order on C: reported on time, completed within the extended deadline, evaluated 90;
    cooperating order: reported late, still open past its deadline; a withdrawn order is ignored."""
    case = fixture_cases["C"]
    lead = DispatchOrderFactory(
        case=case,
        department=world.dept_lead,
        dispatcher_area=world.district,
        dispatched_at=at("2025-09-29 09:00"),
        report_due=at("2025-09-30 17:00"),
        reported_at=at("2025-09-30 10:00"),
        attended_at=at("2025-09-30 10:00"),  # the community confirmed the visit
        complete_due=at("2025-10-20 17:00"),
        completed_at=at("2025-10-15 11:00"),
        state=OrderState.COMPLETED,
    )
    ExtensionRequest.objects.create(
        order=lead,
        reason="材料到货晚",
        requested_due=at("2025-10-20 17:00"),
        previous_due=at("2025-10-09 17:00"),
        state=ExtensionState.APPROVED,
    )
    DepartmentEvaluation.objects.create(
        order=lead,
        department=world.dept_lead,
        role=OrderRole.LEAD,
        community=world.community_x,
        case=case,
        report_timeliness_auto="on_time",
        report_timeliness="on_time",
        plan_quality=5,
        work_quality=4,
        cooperation=5,
        overall_score=90,
        opinion="及时",
        item_completed_at=at("2025-10-15 11:00"),
        evaluator=world.community_worker_x,
    )
    DispatchOrderFactory(
        case=case,
        department=world.dept_coop,
        role=OrderRole.COOPERATING,
        dispatcher_area=world.district,
        dispatched_at=at("2025-09-29 09:00"),
        report_due=at("2025-09-30 17:00"),
        reported_at=at("2025-10-09 09:30"),
        attended_at=at("2025-10-09 09:30"),  # the community confirmed the visit
        complete_due=at("2025-10-17 17:00"),
        state=OrderState.REPORTED,
    )
    DispatchOrderFactory(
        case=case,
        department=world.dept_far,
        dispatcher_area=world.district,
        dispatched_at=at("2025-09-29 09:00"),
        report_due=at("2025-09-30 17:00"),
        complete_due=at("2025-10-17 17:00"),
        state=OrderState.WITHDRAWN,
    )
    from issues.models import DispatchOrder

    lead_rates = rates_for_orders(DispatchOrder.objects.filter(department=world.dept_lead), now=NOW)
    assert lead_rates.report_rate == 1.0
    assert lead_rates.on_time_rate == 1.0  # the extension counts
    assert lead_rates.avg_evaluation == 90
    assert lead_rates.counts.extended == 1
    # The case's survey: 2 of 3 solved → solved; 2 of 3 answers satisfied.
    assert (lead_rates.resolution_rate, lead_rates.satisfaction_rate) == (1.0, pytest.approx(2 / 3))
    both = rates_for_orders(DispatchOrder.objects.all(), now=NOW)
    assert both.counts.orders == 2  # the withdrawn order is not counted
    assert both.report_rate == pytest.approx(0.5)
    assert both.on_time_rate == pytest.approx(0.5)  # the cooperating order is open past 17 Oct
