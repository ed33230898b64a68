"""Reporting periods (month, quarter, year) as the dashboards and exports select them."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _


def add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """A month (``2026-03``), a quarter (``2026-Q1``) or a year (``2026``); [start, end)."""

    kind: str
    start: dt.date
    end: dt.date

    @property
    def key(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return str(self.start.year)

    @property
    def label(self) -> str:
        if self.kind == "month":
            return _("%(y)d年%(m)d月") % {"y": self.start.year, "m": self.start.month}
        if self.kind == "quarter":
            return _("%(y)d年第%(q)d季度") % {"y": self.start.year, "q": (self.start.month - 1) // 3 + 1}
        return _("%(y)d年") % {"y": self.start.year}

    @property
    def months(self) -> list[dt.date]:
        result, day = [], self.start
        while day < self.end:
            result.append(day)
            day = add_months(day, 1)
        return result

    def previous(self) -> Period:
        span = len(self.months)
        return Period(self.kind, add_months(self.start, -span), self.start)

    def contains(self, day: dt.date) -> bool:
        return self.start <= day < self.end

    @classmethod
    def month(cls, day: dt.date) -> Period:
        start = day.replace(day=1)
        return cls("month", start, add_months(start, 1))

    @classmethod
    def parse(cls, text: str | None, *, today: dt.date) -> Period:
        """Parse ``2026-03`` / ``2026-Q1`` / ``2026``; anything else is the current month."""
        text = (text or "").strip()
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
        return cls.month(today)


def period_choices(today: dt.date) -> list[Period]:
    """What the period selector offers: the last 12 months, the last 4 quarters, this and last year."""
    this_month = today.replace(day=1)
    months = [Period.month(add_months(this_month, -i)) for i in range(12)]
    q_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    quarters = [
        Period("quarter", add_months(q_start, -3 * i), add_months(q_start, -3 * i + 3)) for i in range(4)
    ]
    years = [Period("year", dt.date(y, 1, 1), dt.date(y + 1, 1, 1)) for y in (today.year, today.year - 1)]
    return [*months, *quarters, *years]
