"""dispatch/deadlines.py: the deadline policy on the business calendar; provisional deadlines in predicted years."""

from __future__ import annotations

import pytest

from alleys.choices import AreaLevel
from dispatch.choices import TimeUnit
from dispatch.deadlines import compute_deadlines, order_deadlines, warn_time
from dispatch.models import DeadlinePolicy, OrderSettings
from issues.models import SystemAlert
from issues.workflow import case_submit
from tests.factories import MONDAY, World, at

pytestmark = pytest.mark.django_db
T = AreaLevel


@pytest.mark.parametrize(
    ("tier", "accept_due", "resolve_due"),
    [
        (T.ALLEY, "2026-03-02 14:00", "2026-03-05 17:00"),  # 4 working hours, 3 working days
        (T.COMMUNITY, "2026-03-03 10:00", "2026-03-09 17:00"),  # 8 hours, 5 days
        (T.STREET, "2026-03-04 17:00", "2026-03-16 17:00"),  # 2 days, 10 days
        (T.DISTRICT, "2026-03-05 17:00", "2026-05-28 17:00"),  # 3 days, 60 days
    ],
)
def test_default_limits_per_tier(world: World, tier: str, accept_due: str, resolve_due: str) -> None:
    deadlines = compute_deadlines(category=world.cat_a, tier=tier, start=MONDAY)
    assert (deadlines.accept_due, deadlines.resolve_due) == (at(accept_due), at(resolve_due))
    assert deadlines.provisional is False


def test_the_warning_comes_at_80_percent_of_the_accept_time(world: World) -> None:
    deadlines = compute_deadlines(category=world.cat_a, tier=T.ALLEY, start=at("2026-03-06 16:00"))
    # 4 working hours from Friday 16:00 end Monday 12:00; 3.2 hours in is Monday 11:12.
    assert deadlines.accept_due == at("2026-03-09 12:00")
    assert deadlines.warn_at == at("2026-03-09 11:12")


def test_an_admin_policy_replaces_the_default(world: World) -> None:
    DeadlinePolicy.objects.create(
        category_class=world.cat_a.category_class,
        tier=T.ALLEY,
        accept_value=1,
        accept_unit=TimeUnit.DAYS,
        resolve_value=16,
        resolve_unit=TimeUnit.HOURS,
    )
    deadlines = compute_deadlines(category=world.cat_a, tier=T.ALLEY, start=MONDAY)
    assert (deadlines.accept_due, deadlines.resolve_due) == (at("2026-03-03 17:00"), at("2026-03-04 10:00"))
    # Another class keeps the default.
    other = compute_deadlines(category=world.cat_b, tier=T.ALLEY, start=MONDAY)
    assert other.accept_due == at("2026-03-02 14:00")


def test_a_category_type_shortens_its_own_start_tier_only(world: World) -> None:
    world.cat_a.accept_hours = 1
    world.cat_a.resolve_hours = 6
    world.cat_a.save()
    at_start = compute_deadlines(category=world.cat_a, tier=T.ALLEY, start=MONDAY)
    assert (at_start.accept_due, at_start.resolve_due) == (at("2026-03-02 11:00"), at("2026-03-02 16:00"))
    above = compute_deadlines(category=world.cat_a, tier=T.COMMUNITY, start=MONDAY)
    assert above.accept_due == at("2026-03-03 10:00")


def test_urgent_cases_get_half_the_time(world: World) -> None:
    urgent = compute_deadlines(category=world.cat_a, tier=T.ALLEY, start=MONDAY, urgent=True)
    assert urgent.accept_due == at("2026-03-02 12:00")  # 2 of 4 hours
    assert urgent.resolve_due == at("2026-03-04 17:00")  # 3 days → 2 (rounded up)


def test_a_date_in_a_predicted_year_is_provisional_and_alerts_nobody(world: World) -> None:
    start = at("2030-05-06 10:00")  # a Monday in a year the package does not know
    deadlines = compute_deadlines(category=world.cat_a, tier=T.ALLEY, start=start)
    assert deadlines.provisional is True
    assert deadlines.accept_due == at("2030-05-06 14:00")
    # Predicted data is expected: no alert per deadline (calendar_watch tells people once a year).
    assert not SystemAlert.objects.exists()


def test_a_resolve_deadline_running_into_next_year_is_provisional(world: World) -> None:
    deadlines = compute_deadlines(category=world.cat_a, tier=T.DISTRICT, start=at("2026-12-01 10:00"))
    assert deadlines.provisional is True
    # 60 working days skip New Year's Day and the predicted Spring Festival 2027 (Feb 5–10).
    assert deadlines.resolve_due == at("2027-03-02 17:00")


def test_intake_in_a_predicted_year_works_and_marks_the_case(world: World) -> None:
    case = case_submit(
        category=world.cat_a, alley=world.alley_x, description="路灯", now=at("2030-05-06 10:00")
    )
    case.refresh_from_db()
    assert case.deadline_provisional is True
    assert case.accept_due == at("2030-05-06 14:00")


def test_order_deadlines_report_within_a_week_complete_within_a_quarter(world: World) -> None:
    report_due, complete_due, provisional = order_deadlines(start=MONDAY)
    assert (report_due, provisional) == (at("2026-03-09 17:00"), False)
    assert complete_due == at("2026-05-28 17:00")
    conf = OrderSettings.current()
    conf.report_days = 2
    conf.save()
    assert order_deadlines(start=MONDAY)[0] == at("2026-03-04 17:00")


def test_order_deadlines_in_a_predicted_year_are_provisional(world: World) -> None:
    report_due, _complete_due, provisional = order_deadlines(start=at("2030-05-06 10:00"))
    assert provisional is True and report_due == at("2030-05-13 17:00")
    # Entirely within 2026: official.
    assert order_deadlines(start=MONDAY)[2] is False


def test_warn_time(world: World) -> None:
    assert warn_time(start=MONDAY, due=at("2026-03-02 15:00")) == at("2026-03-02 14:00")
    assert warn_time(start=MONDAY, due=MONDAY) is None
    # A predicted year has a warning like any other.
    assert warn_time(start=at("2030-05-06 10:00"), due=at("2030-05-08 10:00")) == at("2030-05-07 14:48")


def test_the_cached_calendar_and_policies_are_read_only(db: object) -> None:
    import dataclasses
    import datetime as dt

    from dispatch import deadlines
    from dispatch.calendar import get_calendar, predicted_holidays

    calendar = get_calendar()
    with pytest.raises(dataclasses.FrozenInstanceError):
        calendar.overrides = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        calendar.overrides[dt.date(2030, 1, 1)] = True  # type: ignore[index]
    with pytest.raises(TypeError):
        deadlines._policy_table()[(1, "alley")] = deadlines.DEFAULT_LIMITS["alley"]  # type: ignore[index]
    holidays = predicted_holidays(2040)
    if holidays is not None:
        with pytest.raises(TypeError):
            holidays[dt.date(2040, 1, 2)] = "x"  # type: ignore[index]
