"""Reporting periods as the dashboards and exports select them.

The default is a rolling window of days ending today (``30d``): on 5 December the current
calendar month holds five days, too few for a rate. Months (``2026-03``), quarters
(``2026-Q1``) and years (``2026``) are whole calendar periods and read the month rollups;
rolling windows and custom ranges (``2026-03-05~2026-04-04``) read the per-case facts by day
(``evaluation.selectors``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _

DEFAULT_DAYS = 30
ROLLING_DAYS = (7, 30, 90)
# A custom range reads the per-case facts of every day in it; longer spans are what years are for.
MAX_RANGE_DAYS = 366


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """[start, end) in days: a rolling window, a month, a quarter, a year or a custom range."""

    kind: str  # rolling | month | quarter | year | range
    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def aligned(self) -> bool:
        """Whole calendar months: the month rollups answer for it."""
        return self.kind in ("month", "quarter", "year")

    @property
    def key(self) -> str:
        if self.kind == "rolling":
            return f"{self.days}d"
        if self.kind == "range":
            return f"{self.start:%Y-%m-%d}~{self.end - dt.timedelta(days=1):%Y-%m-%d}"
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return str(self.start.year)

    @property
    def last_day(self) -> dt.date:
        return self.end - dt.timedelta(days=1)

    @property
    def label(self) -> str:
        if self.kind == "rolling":
            return _("近%(n)d天（%(a)s至%(b)s）") % {
                "n": self.days,
                "a": f"{self.start:%m-%d}",
                "b": f"{self.last_day:%m-%d}",
            }
        if self.kind == "range":
            return _("%(a)s至%(b)s") % {"a": f"{self.start:%Y-%m-%d}", "b": f"{self.last_day:%Y-%m-%d}"}
        if self.kind == "month":
            return _("%(y)d年%(m)d月") % {"y": self.start.year, "m": self.start.month}
        if self.kind == "quarter":
            return _("%(y)d年第%(q)d季度") % {"y": self.start.year, "q": (self.start.month - 1) // 3 + 1}
        return _("%(y)d年") % {"y": self.start.year}

    @property
    def short_label(self) -> str:
        """The selector's text: a rolling window by its length only (its dates are in ``label``)."""
        if self.kind == "rolling":
            return _("近%(n)d天") % {"n": self.days}
        return self.label

    @property
    def months(self) -> list[dt.date]:
        """The first day of every month the period touches."""
        result, day = [], self.start.replace(day=1)
        while day < self.end:
            result.append(day)
            day = add_months(day, 1)
        return result

    def previous(self) -> Period:
        """The period of the same length just before (the trend arrows' comparison)."""
        if self.aligned:
            span = len(self.months)
            return Period(self.kind, add_months(self.start, -span), self.start)
        return Period(self.kind, self.start - dt.timedelta(days=self.days), self.start)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day < self.end

    @classmethod
    def month(cls, day: dt.date) -> Period:
        start = day.replace(day=1)
        return cls("month", start, add_months(start, 1))

    @classmethod
    def rolling(cls, today: dt.date, days: int = DEFAULT_DAYS) -> Period:
        """The ``days`` days ending today (today included)."""
        end = today + dt.timedelta(days=1)
        return cls("rolling", end - dt.timedelta(days=days), end)

    @classmethod
    def parse(cls, text: str | None, *, today: dt.date) -> Period:
        """Parse ``30d`` / ``2026-03`` / ``2026-Q1`` / ``2026`` / ``2026-03-05~2026-04-04``.

        Anything else (nothing, a typo, a range backwards or too long) is the default: the
        ``DEFAULT_DAYS`` days ending today.
        """
        text = (text or "").strip()
        if m := re.fullmatch(r"(\d{1,3})d", text):
            days = int(m[1])
            if days in ROLLING_DAYS:
                return cls.rolling(today, days)
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})~(\d{4}-\d{2}-\d{2})", text):
            try:
                first, last = dt.date.fromisoformat(m[1]), dt.date.fromisoformat(m[2])
            except ValueError:
                return cls.rolling(today)
            if first <= last and (last - first).days < MAX_RANGE_DAYS and 2000 <= first.year <= 2100:
                return cls("range", first, last + dt.timedelta(days=1))
        if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
            year, month = int(m[1]), int(m[2])
            if 2000 <= year <= 2100 and 1 <= month <= 12:
                return cls.month(dt.date(year, month, 1))
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", text):
            year, quarter = int(m[1]), int(m[2])
            if 2000 <= year <= 2100:
                start = dt.date(year, 3 * quarter - 2, 1)
                return cls("quarter", start, add_months(start, 3))
        if m := re.fullmatch(r"(\d{4})", text):
            year = int(m[1])
            if 2000 <= year <= 2100:
                return cls("year", dt.date(year, 1, 1), dt.date(year + 1, 1, 1))
        return cls.rolling(today)


def period_choices(today: dt.date) -> list[Period]:
    """What the period selector offers: rolling windows, the last 12 months, 4 quarters, 2 years."""
    this_month = today.replace(day=1)
    rolling = [Period.rolling(today, days) for days in ROLLING_DAYS]
    months = [Period.month(add_months(this_month, -i)) for i in range(12)]
    q_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    quarters = [
        Period("quarter", add_months(q_start, -3 * i), add_months(q_start, -3 * i + 3)) for i in range(4)
    ]
    years = [Period("year", dt.date(y, 1, 1), dt.date(y + 1, 1, 1)) for y in (today.year, today.year - 1)]
    return [*rolling, *months, *quarters, *years]
