"""The rollups hold exactly what evaluation.rates computes directly, and stay so incrementally."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from alleys.choices import AreaLevel
from evaluation.models import (
    AlleyMonthActivity,
    AreaMonthCategoryStat,
    AreaMonthStat,
    AreaWeekStat,
    CaseFact,
    DepartmentMonthStat,
    DepartmentOpenStat,
    OpenStat,
    RollupState,
)
from evaluation.rates import CaseCounts, OrderCounts, rates_for_cases, rates_for_orders
from evaluation.rollups import refresh_rollups
from issues.choices import (
    CaseSource,
    CaseState,
    FeedbackSolved,
    OrderRole,
    OrderState,
    PatrolKind,
    Satisfaction,
)
from issues.models import Case, DispatchOrder, PatrolLog
from issues.workflow import case_accept, case_feedback, case_submit
from tests.factories import DispatchOrderFactory, at, case_at

from .test_rates import NOW, build_fixture

pytestmark = pytest.mark.django_db


def month_counts(code: str, month: str) -> CaseCounts:
    return CaseCounts.total(AreaMonthStat.objects.filter(area_code=code, month=f"{month}-01").values())


def direct(qs: Any, now: Any = NOW) -> CaseCounts:
    return rates_for_cases(qs, now=now).counts


def comparable(c: CaseCounts) -> dict[str, Any]:
    d = c.as_dict()
    d["hours_sum"] = round(d["hours_sum"], 6)
    return {**d, "hist": dict(c.hours_hist)}


def test_full_refresh_equals_direct_rates_at_every_level(world: Any) -> None:
    build_fixture(world)
    other = case_at(world, created=at("2025-09-29 09:00"), alley=world.other_alley, state=CaseState.SUBMITTED)
    result = refresh_rollups(now=NOW, full=True)
    assert result.full and result.cases_changed == 9
    for area in (world.alley_x, world.community_x, world.street, world.district, world.city):
        expected = direct(Case.objects.filter(alley__code__startswith=area.code))
        assert comparable(month_counts(area.code, "2025-09")) == comparable(expected), area.code
    assert month_counts(world.other_district.code, "2025-09").submitted == 1
    assert month_counts(world.city.code, "2025-09").submitted == 9
    assert other.pk in set(CaseFact.objects.values_list("case_id", flat=True))
    # The weeks add up to the month (all cases were submitted 27–30 September).
    weeks = CaseCounts.total(AreaWeekStat.objects.filter(area_code=world.city.code).values())
    assert weeks.submitted == 9
    # Categories add up to the area, at community level and above.
    by_type = CaseCounts.total(AreaMonthCategoryStat.objects.filter(area_code=world.district.code).values())
    assert by_type.cases == month_counts(world.district.code, "2025-09").cases
    assert not AreaMonthCategoryStat.objects.filter(level=AreaLevel.ALLEY).exists()
    assert RollupState.objects.get().refreshed_at == NOW


def test_incremental_refresh_follows_the_workflow(world: Any) -> None:
    build_fixture(world)
    refresh_rollups(now=NOW, full=True)
    before = month_counts(world.district.code, "2025-09")
    now = at("2025-09-30 09:00")
    case = case_submit(
        category=world.cat_a,
        alley=world.alley_y,
        description="井盖松动",
        source=CaseSource.PATROL,
        actor=world.chief_y,
        now=now,
    )
    result = refresh_rollups(now=NOW)
    assert not result.full and result.cases_changed == 1
    after = month_counts(world.district.code, "2025-09")
    assert (after.submitted, after.proactive) == (before.submitted + 1, before.proactive + 1)
    assert month_counts(world.alley_y.code, "2025-09").submitted == 1
    case_accept(case=case, actor=world.chief_y, now=at("2025-09-30 10:00"))
    refresh_rollups(now=NOW)
    assert month_counts(world.alley_y.code, "2025-09").resp_on_time == 1
    expected = direct(Case.objects.filter(alley__code__startswith=world.district.code))
    assert comparable(month_counts(world.district.code, "2025-09")) == comparable(expected)
    # A second refresh with nothing new changes nothing.
    again = refresh_rollups(now=NOW)
    assert again.cases_changed == 0


def test_feedback_after_resolution_updates_resolution_and_satisfaction(world: Any) -> None:
    case = case_at(
        world,
        created=at("2026-03-02 09:00"),
        state=CaseState.AWAITING_FEEDBACK,
        accepted_at=at("2026-03-02 09:10"),
        accept_due=at("2026-03-02 13:00"),
        resolved_at=at("2026-03-02 11:00"),
        verified_at=at("2026-03-02 12:00"),
        resolve_due=at("2026-03-05 17:00"),
        resolved_tier="alley",
    )
    refresh_rollups(now=at("2026-03-03 09:00"), full=True)
    assert month_counts(world.city.code, "2026-03").fb_cases == 0
    case_feedback(
        case=case, solved=FeedbackSolved.SOLVED, satisfaction=Satisfaction.BASIC, now=at("2026-03-03 10:00")
    )
    refresh_rollups(now=at("2026-03-03 11:00"))
    c = month_counts(world.city.code, "2026-03")
    assert (c.fb_cases, c.fb_solved, c.answers, c.satisfied) == (1, 1, 1, 1)


def test_a_passing_deadline_changes_the_figures_without_any_event(world: Any) -> None:
    cases = build_fixture(world)
    refresh_rollups(now=NOW, full=True)
    assert CaseFact.objects.get(case=cases["E"]).pending_until == at("2025-12-31 17:00")
    before = month_counts(world.city.code, "2025-09")
    refresh_rollups(now=at("2026-01-05 09:00"))
    after = month_counts(world.city.code, "2025-09")
    assert after.late == before.late + 1
    assert CaseFact.objects.get(case=cases["E"]).pending_until is None


def test_open_snapshot_matches_the_overdue_queryset(world: Any) -> None:
    build_fixture(world)
    refresh_rollups(now=NOW, full=True)
    overdue = Case.objects.overdue(NOW).filter(alley__code__startswith=world.city.code).count()
    snap = list(OpenStat.objects.filter(area_code=world.city.code))
    # D (waiting past its deadlines); E's escalation deadline (set when it was placed) passed too.
    assert sum(r.overdue for r in snap) == overdue
    assert sum(r.open for r in snap) == 2


def test_department_rollups_equal_direct_rates(world: Any) -> None:
    cases = build_fixture(world)
    DispatchOrderFactory(
        case=cases["C"],
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
    DispatchOrderFactory(
        case=cases["E"],
        department=world.dept_coop,
        role=OrderRole.COOPERATING,
        dispatcher_area=world.district,
        dispatched_at=at("2025-09-29 09:00"),
        report_due=at("2025-09-30 17:00"),
        complete_due=at("2025-10-17 17:00"),
    )
    refresh_rollups(now=NOW, full=True)
    for dept in (world.dept_lead, world.dept_coop):
        rolled = OrderCounts.total(DepartmentMonthStat.objects.filter(department=dept).values())
        assert rolled == rates_for_orders(DispatchOrder.objects.filter(department=dept), now=NOW).counts
    live = DepartmentOpenStat.objects.get(department=world.dept_coop)
    assert (live.active, live.overdue_report, live.overdue_complete) == (1, 1, 1)
    assert DepartmentMonthStat.objects.get(department=world.dept_lead).area_code == world.community_x.code


def test_patrols_roll_up_per_alley_and_month(world: Any) -> None:
    refresh_rollups(now=NOW, full=True)
    for day in ("2026-03-02", "2026-03-03", "2026-03-03"):
        PatrolLog.objects.get_or_create(
            chief=world.chief_x, alley=world.alley_x, kind=PatrolKind.PATROL, date=day
        )
    PatrolLog.objects.create(
        chief=world.service_x, alley=world.alley_x, kind=PatrolKind.PATROL, date="2026-03-03"
    )
    PatrolLog.objects.create(
        chief=world.chief_x,
        alley=world.alley_x,
        kind=PatrolKind.VISIT,
        date="2026-03-02",
        households_visited=12,
    )
    refresh_rollups(now=NOW)
    row = AlleyMonthActivity.objects.get(alley_code=world.alley_x.code)
    assert (row.patrol_days, row.patrol_logs, row.visit_weeks, row.households_visited) == (2, 3, 1, 12)


def test_command_and_beat_schedule(world: Any) -> None:
    build_fixture(world)
    out = StringIO()
    call_command("refresh_rollups", "--full", "--now", "2025-10-20T12:00+08:00", stdout=out)
    assert "full refresh" in out.getvalue()
    assert month_counts(world.city.code, "2025-09").submitted == 8
    tasks = PeriodicTask.objects.filter(task="evaluation.refresh_rollups")
    every_minute = tasks.get(interval__isnull=False)
    assert (every_minute.interval.every, every_minute.interval.period, every_minute.enabled) == (
        1,
        "minutes",
        True,
    )
    assert tasks.filter(crontab__isnull=False, kwargs__contains="full").exists()


def test_the_task_runs_the_refresh(world: Any) -> None:
    from evaluation.tasks import refresh_rollups_task

    build_fixture(world)
    result = refresh_rollups_task.delay().get()
    assert result["full"] is True  # the first run rebuilds
    assert AreaMonthStat.objects.exists()
    assert refresh_rollups_task.delay().get()["full"] is False


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_second_refresh_while_one_runs_is_skipped(world: Any) -> None:
    import threading

    from django.db import connection, transaction

    refresh_rollups(now=NOW, full=True)
    results: list[Any] = []
    with transaction.atomic():
        RollupState.objects.select_for_update().get(key="main")

        def other() -> None:
            try:
                results.append(refresh_rollups(now=NOW))
            finally:
                connection.close()

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(timeout=30)
    assert results and results[0].skipped
