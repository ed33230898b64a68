"""dispatch/calendar.py: Chinese working days and working hours, with fixed dates.

Working time is 09:00–17:00 (8 hours a day) in Asia/Shanghai. The official data comes
from the chinesecalendar package, which knows 2004–2026 here; administrators add days
(CalendarDay) and whole years they maintain (CalendarYear). Later years are predicted
(tests/dispatch/test_calendar_predicted.py).
"""

from __future__ import annotations

import datetime as dt

import pytest

from dispatch.calendar import BusinessCalendar, get_calendar, load_calendar
from dispatch.choices import CalendarDayKind
from dispatch.models import CalendarDay, CalendarYear
from tests.factories import at

D = dt.date.fromisoformat
CAL = BusinessCalendar()


@pytest.mark.parametrize(
    ("day", "workday", "why"),
    [
        ("2026-03-02", True, "an ordinary Monday"),
        ("2026-03-07", False, "an ordinary Saturday"),
        ("2026-03-08", False, "an ordinary Sunday"),
        ("2026-10-01", False, "National Day"),
        ("2026-10-07", False, "the last day of the National Day break"),
        ("2026-02-14", True, "make-up Saturday before the Spring Festival"),
        ("2026-02-28", True, "make-up Saturday after the Spring Festival"),
        ("2026-02-16", False, "New Year's Eve 2026 (除夕) falls in the break"),
        ("2026-02-23", False, "the last day of the 2026 Spring Festival break"),
        ("2024-02-04", True, "make-up Sunday of 2024"),
        ("2024-02-09", True, "New Year's Eve 2024 (除夕) was a workday"),
        ("2024-02-10", False, "Spring Festival 2024"),
        ("2025-01-28", False, "New Year's Eve 2025 (除夕) became a public holiday"),
        ("2025-12-31", True, "December 31st"),
        ("2026-01-01", False, "New Year's Day"),
        ("2026-01-04", True, "make-up Sunday after New Year 2026"),
    ],
)
def test_working_days(day: str, workday: bool, why: str) -> None:
    assert CAL.is_workday(D(day)) is workday, why


@pytest.mark.parametrize(
    ("start", "hours", "due", "why"),
    [
        ("2026-03-02 10:00", 4, "2026-03-02 14:00", "inside one day"),
        ("2026-03-06 16:00", 4, "2026-03-09 12:00", "Friday 16:00 + 4h runs over the weekend"),
        ("2026-03-07 11:00", 4, "2026-03-09 13:00", "a Saturday report starts Monday morning"),
        ("2026-03-02 07:30", 2, "2026-03-02 11:00", "before office hours starts at 09:00"),
        ("2026-03-02 17:00", 1, "2026-03-03 10:00", "at closing time starts the next morning"),
        ("2026-03-02 10:00", 8, "2026-03-03 10:00", "a full working day"),
        ("2026-02-13 16:00", 4, "2026-02-14 12:00", "the make-up Saturday counts"),
        ("2026-02-14 16:00", 4, "2026-02-24 12:00", "across the whole Spring Festival break"),
        ("2025-01-27 16:00", 4, "2025-02-05 12:00", "除夕 2025 is already a holiday"),
        ("2024-02-08 16:00", 4, "2024-02-09 12:00", "除夕 2024 was a workday"),
        ("2024-02-02 16:00", 4, "2024-02-04 12:00", "into the 2024 make-up Sunday"),
        ("2025-12-31 16:00", 4, "2026-01-04 12:00", "December 31st to the make-up Sunday after New Year"),
        ("2026-09-30 15:00", 4, "2026-10-08 11:00", "across the National Day week"),
    ],
)
def test_adding_working_hours(start: str, hours: int, due: str, why: str) -> None:
    assert CAL.add_working_hours(at(start), hours) == at(due), why


@pytest.mark.parametrize(
    ("start", "days", "due", "why"),
    [
        ("2026-03-02 10:00", 5, "2026-03-09 17:00", "5 working days from a Monday: end of next Monday"),
        ("2026-03-02 10:00", 1, "2026-03-03 17:00", "one working day: end of the next working day"),
        ("2026-03-06 10:00", 1, "2026-03-09 17:00", "from a Friday: end of Monday"),
        ("2026-03-08 10:00", 5, "2026-03-13 17:00", "from a Sunday: Monday is the first"),
        ("2026-02-13 10:00", 5, "2026-02-27 17:00", "across the Spring Festival (make-up Saturday included)"),
        ("2026-03-02 10:00", 0, "2026-03-02 17:00", "zero days: end of today"),
    ],
)
def test_adding_working_days(start: str, days: int, due: str, why: str) -> None:
    assert CAL.add_working_days(at(start), days) == at(due), why


def test_working_hours_between() -> None:
    assert CAL.working_hours_between(at("2026-03-06 16:00"), at("2026-03-09 12:00")) == 4
    assert CAL.working_hours_between(at("2026-02-13 09:00"), at("2026-02-24 09:00")) == 16
    assert CAL.working_hours_between(at("2026-03-09 12:00"), at("2026-03-06 16:00")) == 0
    assert CAL.workdays_between(D("2026-02-09"), D("2026-03-01")) == 11


def test_utc_moments_are_read_in_beijing_time() -> None:
    # 2026-03-06 08:00 UTC is Friday 16:00 in Beijing.
    utc = dt.datetime(2026, 3, 6, 8, 0, tzinfo=dt.UTC)
    assert CAL.add_working_hours(utc, 4) == at("2026-03-09 12:00")


def test_a_year_without_official_data_is_answered_not_refused() -> None:
    assert not CAL.is_official(D("2030-05-06"))
    assert CAL.is_workday(D("2030-05-06"))  # a Monday
    assert not CAL.is_workday(D("2030-05-01"))  # Labour Day, predicted
    assert CAL.add_working_hours(at("2030-05-06 10:00"), 4) == at("2030-05-06 14:00")
    # Running off the end of the official years goes on into the prediction.
    assert CAL.add_working_days(at("2026-12-28 10:00"), 10) == at("2027-01-12 17:00")


@pytest.mark.django_db
def test_admin_overrides_win_over_the_package() -> None:
    CalendarDay.objects.create(date=D("2026-03-09"), kind=CalendarDayKind.HOLIDAY, name="台风停工")
    CalendarDay.objects.create(date=D("2026-03-07"), kind=CalendarDayKind.WORKDAY, name="调休上班")
    calendar = get_calendar()
    assert not calendar.is_workday(D("2026-03-09"))
    assert calendar.is_workday(D("2026-03-07"))
    assert calendar.add_working_hours(at("2026-03-06 16:00"), 4) == at("2026-03-07 12:00")
    assert calendar.add_working_hours(at("2026-03-07 16:00"), 4) == at("2026-03-10 12:00")


@pytest.mark.django_db
def test_saving_an_override_takes_effect_at_once() -> None:
    assert get_calendar().is_workday(D("2026-03-09"))
    day = CalendarDay.objects.create(date=D("2026-03-09"), kind=CalendarDayKind.HOLIDAY)
    assert not get_calendar().is_workday(D("2026-03-09"))
    day.delete()
    assert get_calendar().is_workday(D("2026-03-09"))


@pytest.mark.django_db
def test_a_manual_year_makes_an_unknown_year_known() -> None:
    CalendarYear.objects.create(year=2030, note="国务院办公厅关于2030年部分节假日安排的通知")
    CalendarDay.objects.create(date=D("2030-10-01"), kind=CalendarDayKind.HOLIDAY, name="国庆节")
    CalendarDay.objects.create(date=D("2030-09-29"), kind=CalendarDayKind.WORKDAY, name="调休上班")
    calendar = load_calendar()
    assert calendar.is_official(D("2030-05-06"))
    assert calendar.is_workday(D("2030-05-06"))  # a Monday
    assert not calendar.is_workday(D("2030-05-04"))  # a Saturday
    assert not calendar.is_workday(D("2030-10-01"))
    assert calendar.is_workday(D("2030-09-29"))  # a Sunday, made a workday
    assert calendar.add_working_hours(at("2030-09-30 16:00"), 4) == at("2030-10-02 12:00")


def test_an_override_alone_is_official_but_the_rest_of_its_year_is_predicted() -> None:
    calendar = BusinessCalendar(overrides={D("2031-01-02"): True})
    assert calendar.is_official(D("2031-01-02")) and calendar.is_workday(D("2031-01-02"))
    assert not calendar.is_official(D("2031-01-03"))
    assert calendar.is_workday(D("2031-01-03"))  # an ordinary Friday
