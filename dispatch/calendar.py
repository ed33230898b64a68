"""The business calendar: Chinese public holidays and make-up workdays (调休), in working time.

Layers, each overriding the one before:

1. **Predicted** — for a year the official data does not cover: weekends plus China's
   statutory public holidays computed by rule (``holidays.China``: Spring Festival, Qingming,
   observed days …). Make-up workdays cannot be predicted, so deadlines over such days are
   *provisional*. A year beyond what the rules can compute (before 1950, after 2100) is
   weekends only, still provisional.
2. **Official** — the ``chinesecalendar`` package (the State Council's arrangements it ships),
   or a year an administrator entered by hand (CalendarYear: its days are CalendarDay rows,
   other weekdays work and weekends rest).
3. **Overrides** — CalendarDay rows win over everything (a typhoon day, a make-up Sunday).

The calendar answers every date; ``is_official`` tells callers whether the answer is the
State Council's or a guess (see dispatch.deadlines, which marks deadlines provisional).

Working time is one window per working day (default 09:00–17:00, i.e. 8 working
hours a day), in the project's time zone.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING

import chinese_calendar
import holidays
from django.conf import settings
from django.db import transaction
from django.dispatch import Signal
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from alleys.reference import register_process_cache

from .choices import CalendarDayKind

if TYPE_CHECKING:
    from .models import CalendarYear

logger = logging.getLogger(__name__)

WORK_START = dt.time.fromisoformat(getattr(settings, "JXT_WORK_START", "09:00"))
WORK_END = dt.time.fromisoformat(getattr(settings, "JXT_WORK_END", "17:00"))
HOURS_PER_DAY = (
    dt.datetime.combine(dt.date.min, WORK_END) - dt.datetime.combine(dt.date.min, WORK_START)
).seconds / 3600
# A bound on day-by-day walks, so overrides that declare years of holidays can never loop for ever.
_MAX_DAYS = 3 * 366


class NoWorkingDay(Exception):
    """No working day within three years of a date: the overrides declared them all holidays."""

    def __init__(self, day: dt.date) -> None:
        super().__init__(f"no working day within {_MAX_DAYS} days of {day.isoformat()}")
        self.day = day


@functools.cache
def package_years() -> tuple[int, int]:
    """The first and last year the chinesecalendar package has the State Council's data for."""
    from chinese_calendar import constants

    return min(constants.holidays).year, max(max(constants.holidays), max(constants.workdays)).year


@functools.cache
def predicted_holidays(year: int) -> Mapping[dt.date, str] | None:
    """China's statutory public holidays of ``year`` computed by rule, or None beyond the rules.

    Cached for the life of the process, which is also what makes the warning below
    appear once per process and year: predicted data is expected, not an error.
    """
    if not holidays.China.start_year <= year <= holidays.China.end_year:
        logger.warning("calendar: %s beyond the statutory-holiday rules; weekends only", year)
        return None
    try:
        # Category "public" only: the half-day holidays (Women's Day, Youth Day …) are not days off.
        days = holidays.China(years=year, categories=("public",), language="zh_CN")
    except (NotImplementedError, ValueError, KeyError, IndexError) as exc:
        # The lunar tables end somewhere; the library says so by raising.
        logger.warning("calendar: %s beyond the statutory-holiday rules (%s); weekends only", year, exc)
        return None
    logger.warning("calendar: %s predicted from statutory holidays", year)
    # Read-only: the one copy is shared by every caller for the life of the process.
    return MappingProxyType({day: str(name) for day, name in sorted(days.items())})


@dataclass(frozen=True)
class BusinessCalendar:
    """Working days and working hours: package or hand-entered data, a prediction, the admin's overrides.

    Frozen: ``get_calendar`` hands the one instance to every request and thread; a change is a new
    instance. (Only the memo below fills in, with answers that follow from the fields.)
    """

    overrides: Mapping[dt.date, bool] = field(default_factory=dict)  # date -> is_workday
    manual_years: frozenset[int] = frozenset()
    tz: dt.tzinfo = field(default_factory=timezone.get_default_timezone)
    # Answers already worked out: every deadline walks the same few weeks of days, and the
    # package's lookup costs more than the walk. (The instance is replaced when the admin
    # changes a day, see get_calendar, so this never outlives its overrides.)
    _workdays: dict[dt.date, bool] = field(default_factory=dict, init=False, repr=False, compare=False)

    # --- days -------------------------------------------------------------------------
    def is_official_year(self, year: int) -> bool:
        """Whether the State Council's arrangement of ``year`` is known (package or entered by hand)."""
        first, last = package_years()
        return first <= year <= last or year in self.manual_years

    def is_official(self, day: dt.date) -> bool:
        """Whether ``day`` is known rather than predicted (an admin's override is known too)."""
        return day in self.overrides or self.is_official_year(day.year)

    def is_official_between(self, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether every day from ``start``'s to ``end``'s (local dates, inclusive) is official.

        A deadline's computation walks exactly those days, so this is what makes it provisional.
        """
        first, last = self._local(start).date(), self._local(end).date()
        for year in range(first.year, last.year + 1):
            if self.is_official_year(year):
                continue
            # A predicted year: only a stretch made entirely of overrides is known.
            day = max(first, dt.date(year, 1, 1))
            stop = min(last, dt.date(year, 12, 31))
            while day <= stop:
                if day not in self.overrides:
                    return False
                day += dt.timedelta(days=1)
        return True

    def is_workday(self, day: dt.date) -> bool:
        known = self._workdays.get(day)
        if known is None:
            known = self._workdays[day] = self._is_workday(day)
        return known

    def _is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        first, last = package_years()
        if first <= day.year <= last:
            return bool(chinese_calendar.is_workday(day))
        weekday = day.weekday() < 5
        if day.year in self.manual_years:
            return weekday
        predicted = predicted_holidays(day.year)
        return weekday and (predicted is None or day not in predicted)

    def next_workday(self, day: dt.date, *, include_self: bool = True) -> dt.date:
        current = day if include_self else day + dt.timedelta(days=1)
        for _ in range(_MAX_DAYS):
            if self.is_workday(current):
                return current
            current += dt.timedelta(days=1)
        raise NoWorkingDay(day)

    def add_workdays(self, day: dt.date, days: int) -> dt.date:
        """The ``days``-th working day after ``day`` (0 = the next working day from ``day`` on)."""
        current = self.next_workday(day)
        for _ in range(days):
            current = self.next_workday(current, include_self=False)
        return current

    def workdays_between(self, start: dt.date, end: dt.date) -> int:
        """Working days in [start, end]."""
        count = 0
        current = start
        while current <= end:
            count += self.is_workday(current)
            current += dt.timedelta(days=1)
        return count

    # --- working time ---------------------------------------------------------------------
    def _local(self, moment: dt.datetime) -> dt.datetime:
        return (
            timezone.localtime(moment, self.tz)
            if timezone.is_aware(moment)
            else moment.replace(tzinfo=self.tz)
        )

    def _at(self, day: dt.date, t: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, t, tzinfo=self.tz)

    def align(self, moment: dt.datetime) -> dt.datetime:
        """The first working instant at or after ``moment``."""
        local = self._local(moment)
        day = local.date()
        if self.is_workday(day):
            if local.time() < WORK_START:
                return self._at(day, WORK_START)
            if local.time() < WORK_END:
                return local
        return self._at(self.next_workday(day, include_self=False), WORK_START)

    def add_working_hours(self, moment: dt.datetime, hours: float) -> dt.datetime:
        """``moment`` plus ``hours`` of working time (a deadline falls inside a working window)."""
        current = self.align(moment)
        remaining = dt.timedelta(hours=hours)
        for _ in range(_MAX_DAYS):
            end_of_day = self._at(current.date(), WORK_END)
            available = end_of_day - current
            if remaining <= available:
                return current + remaining
            remaining -= available
            current = self._at(self.next_workday(current.date(), include_self=False), WORK_START)
        raise NoWorkingDay(self._local(moment).date())

    def add_working_days(self, moment: dt.datetime, days: int) -> dt.datetime:
        """The end of the ``days``-th working day after the day of ``moment`` ("within 5 working days")."""
        local = self._local(moment)
        due_day = (
            self.add_workdays(local.date() + dt.timedelta(days=1), days - 1) if days > 0 else local.date()
        )
        return self._at(due_day, WORK_END)

    def working_hours_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working hours elapsed from ``start`` to ``end`` (0 if end <= start)."""
        if end <= start:
            return 0.0
        a, b = self._local(start), self._local(end)
        total = 0.0
        day = a.date()
        while day <= b.date():
            if self.is_workday(day):
                lo = max(a, self._at(day, WORK_START))
                hi = min(b, self._at(day, WORK_END))
                if hi > lo:
                    total += (hi - lo).total_seconds() / 3600
            day += dt.timedelta(days=1)
        return total


# --- the process-wide calendar, reloaded when the admin changes a day ------------------------
_lock = threading.Lock()
_cached: tuple[float, BusinessCalendar] | None = None
CACHE_SECONDS = 60.0


def get_calendar() -> BusinessCalendar:
    """The calendar with the database's overrides (cached for a minute; changes clear it at once)."""
    global _cached
    now = time.monotonic()
    with _lock:
        if _cached is not None and now - _cached[0] < CACHE_SECONDS:
            return _cached[1]
    calendar = load_calendar()
    with _lock:
        _cached = (now, calendar)
    return calendar


def load_calendar() -> BusinessCalendar:
    from .models import CalendarDay, CalendarYear

    overrides = MappingProxyType({row.date: row.kind == "workday" for row in CalendarDay.objects.all()})
    years = frozenset(CalendarYear.objects.values_list("year", flat=True))
    return BusinessCalendar(overrides=overrides, manual_years=years)


def clear_calendar_cache(*_args: object, **_kwargs: object) -> None:
    global _cached
    with _lock:
        _cached = None


register_process_cache(clear_calendar_cache)


# The month from which next year's arrangement is awaited (the State Council publishes it
# in November or December).
ANNOUNCE_FROM_MONTH = 11


# --- which years are guessed (the banner, the yearly notice, the admin form) ----------------------------------------------------------------------


def unofficial_years(now: dt.datetime, calendar: BusinessCalendar | None = None) -> list[int]:
    """The current year if it is predicted, and from 1 November next year too (local time)."""
    calendar = calendar or get_calendar()
    local = timezone.localtime(now)
    years = [local.year, local.year + 1] if local.month >= ANNOUNCE_FROM_MONTH else [local.year]
    return [year for year in years if not calendar.is_official_year(year)]


def arrangement_url() -> str:
    """The admin's one-page form for a year's arrangement (path only)."""
    try:
        return reverse("admin:dispatch_calendaryear_arrangement")
    except NoReverseMatch:  # a site without the admin
        return ""


# --- changes -------------------------------------------------------------------------------------

# Sent after the calendar's rows changed (an admin's save or delete, a year entered): this
# process has already dropped its copy; listeners (the case layer) recompute what depended on it.
calendar_changed = Signal()


def announce_change(*_args: object, **_kwargs: object) -> None:
    """Receiver of CalendarDay/CalendarYear saves and deletes: reload the calendar, tell the listeners."""
    clear_calendar_cache()
    calendar_changed.send(sender=BusinessCalendar)


@transaction.atomic
def calendar_year_replace(
    *, year: int, note: str, holidays: dict[dt.date, str], workdays: dict[dt.date, str]
) -> CalendarYear:
    """Enter the State Council's arrangement of ``year``: it becomes official, its days these.

    Every CalendarDay of the year is replaced (an override the notice does not repeat is
    dropped: the notice is the whole truth for its year). Provisional deadlines are
    recomputed after commit.
    """
    from .models import CalendarDay, CalendarYear

    entry, _created = CalendarYear.objects.update_or_create(year=year, defaults={"note": note})
    CalendarDay.objects.filter(date__year=year).delete()
    CalendarDay.objects.bulk_create(
        [
            *(CalendarDay(date=d, kind=CalendarDayKind.HOLIDAY, name=n) for d, n in sorted(holidays.items())),
            *(CalendarDay(date=d, kind=CalendarDayKind.WORKDAY, name=n) for d, n in sorted(workdays.items())),
        ]
    )
    announce_change()  # bulk_create sends no signal
    return entry
