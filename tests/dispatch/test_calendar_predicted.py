"""The layered calendar past the official data: predicted statutory holidays, overrides, hand-entered years.

chinesecalendar knows 2004–2026 here; 2027 and 2028 are predicted by ``holidays.China``
(New Year's Day 2027 is Friday January 1st; the Spring Festival 2027 break is predicted
as February 5–10). Working time is 09:00–17:00 in Asia/Shanghai.
"""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from alleys.choices import AreaLevel
from dispatch.calendar import BusinessCalendar, load_calendar, predicted_holidays
from dispatch.choices import CalendarDayKind
from dispatch.deadlines import compute_deadlines, order_deadlines
from dispatch.models import CalendarDay, CalendarYear
from tests.factories import World, at

D = dt.date.fromisoformat
CAL = BusinessCalendar()
T = AreaLevel
NEW_YEARS_EVE = at("2026-12-31 15:00")  # a Thursday, the last official day


@pytest.mark.parametrize(
    ("day", "workday", "why"),
    [
        ("2027-01-01", False, "New Year's Day 2027"),
        ("2027-01-04", True, "the first Monday of 2027"),
        ("2027-02-04", True, "the Thursday before the Spring Festival"),
        ("2027-02-05", False, "New Year's Eve 2027 (除夕)"),
        ("2027-02-08", False, "Spring Festival 2027"),
        ("2027-02-10", False, "the last predicted day of the Spring Festival 2027"),
        ("2027-02-11", True, "work resumes"),
        ("2027-10-01", False, "National Day 2027"),
        ("2027-03-06", False, "an ordinary Saturday"),
        ("2028-01-26", False, "Spring Festival 2028"),
        ("2028-10-03", False, "Mid-Autumn Festival and National Day 2028"),
        ("2028-03-06", True, "an ordinary Monday of 2028"),
    ],
)
def test_predicted_working_days(day: str, workday: bool, why: str) -> None:
    assert CAL.is_workday(D(day)) is workday, why
    assert CAL.is_official(D(day)) is False


def test_2026_is_official_2027_and_2028_are_predicted() -> None:
    assert CAL.is_official(D("2026-12-31"))
    assert not CAL.is_official(D("2027-01-04"))
    assert not CAL.is_official(D("2028-06-01"))


def test_a_span_across_the_predicted_spring_festival_skips_it() -> None:
    # Thursday 16:00 + 4h: one hour on Thursday, then February 5–10 off, three hours on the 11th.
    assert CAL.add_working_hours(at("2027-02-04 16:00"), 4) == at("2027-02-11 12:00")
    assert CAL.add_working_days(at("2027-02-04 10:00"), 2) == at("2027-02-12 17:00")
    assert CAL.working_hours_between(at("2027-02-04 09:00"), at("2027-02-11 17:00")) == 16


def test_a_year_beyond_the_rules_is_weekends_only_and_never_raises() -> None:
    assert predicted_holidays(2103) is None
    assert CAL.is_workday(D("2103-01-01"))  # a Monday: New Year's Day is not known that far
    assert not CAL.is_workday(D("2103-01-06"))  # a Saturday
    assert CAL.add_working_hours(at("2103-01-05 16:00"), 4) == at("2103-01-08 12:00")
    assert not CAL.is_official_between(at("2103-01-05 16:00"), at("2103-01-08 12:00"))


def test_the_prediction_is_logged_once_per_year_as_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    predicted_holidays.cache_clear()
    calendar = BusinessCalendar()
    with caplog.at_level(logging.WARNING, logger="dispatch.calendar"):
        for _ in range(3):
            BusinessCalendar().add_working_days(at("2028-03-01 10:00"), 30)
        calendar.is_workday(D("2028-12-01"))
    lines = [r for r in caplog.records if "2028" in r.getMessage()]
    assert [(r.levelname, r.getMessage()) for r in lines] == [
        ("WARNING", "calendar: 2028 predicted from statutory holidays")
    ]


# --- deadlines ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_deadline_from_new_years_eve_skips_new_years_day(world: World) -> None:
    deadlines = compute_deadlines(category=world.cat_a, tier=T.ALLEY, start=NEW_YEARS_EVE)
    # 4 working hours: two on December 31st, two on Monday January 4th (not on the 1st).
    assert deadlines.accept_due == at("2027-01-04 11:00")
    # 3 working days: January 4th, 5th and 6th (Monday–Friday would have counted the 1st).
    assert deadlines.resolve_due == at("2027-01-06 17:00")
    assert deadlines.provisional is True


@pytest.mark.django_db
def test_deadlines_within_2026_are_not_provisional_and_predicted_years_are(world: World) -> None:
    assert (
        compute_deadlines(category=world.cat_a, tier=T.ALLEY, start=at("2026-12-01 10:00")).provisional
        is False
    )
    assert (
        compute_deadlines(category=world.cat_a, tier=T.ALLEY, start=at("2027-06-01 10:00")).provisional
        is True
    )
    assert (
        compute_deadlines(category=world.cat_a, tier=T.ALLEY, start=at("2028-06-01 10:00")).provisional
        is True
    )
    assert order_deadlines(start=at("2026-03-02 10:00"))[2] is False
    assert order_deadlines(start=at("2027-06-01 10:00"))[2] is True


@pytest.mark.django_db
def test_an_override_wins_over_the_prediction(world: World) -> None:
    CalendarDay.objects.create(date=D("2027-01-01"), kind=CalendarDayKind.WORKDAY, name="假设上班")
    CalendarDay.objects.create(date=D("2027-02-11"), kind=CalendarDayKind.HOLIDAY, name="春节延长")
    calendar = load_calendar()
    assert calendar.add_working_hours(NEW_YEARS_EVE, 4) == at("2027-01-01 11:00")
    assert calendar.add_working_hours(at("2027-02-04 16:00"), 4) == at("2027-02-12 12:00")
    deadlines = compute_deadlines(category=world.cat_a, tier=T.ALLEY, start=NEW_YEARS_EVE, calendar=calendar)
    assert deadlines.accept_due == at("2027-01-01 11:00")
    # The override is known, the rest of 2027 is still predicted.
    assert deadlines.provisional is True


@pytest.mark.django_db
def test_a_hand_entered_year_is_official(world: World) -> None:
    CalendarYear.objects.create(year=2027, note="国务院办公厅关于2027年部分节假日安排的通知")
    CalendarDay.objects.create(date=D("2027-01-01"), kind=CalendarDayKind.HOLIDAY, name="元旦")
    calendar = load_calendar()
    assert calendar.is_official(D("2027-07-01"))
    deadlines = compute_deadlines(category=world.cat_a, tier=T.ALLEY, start=NEW_YEARS_EVE, calendar=calendar)
    assert (deadlines.accept_due, deadlines.provisional) == (at("2027-01-04 11:00"), False)
    # As entered: a day the notice does not list follows the week (no prediction in an official year).
    assert calendar.is_workday(D("2027-02-08"))
