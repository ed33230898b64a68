"""Deadline policy: how long each tier has to accept and to resolve a case, and when to warn.

Policies are rows of DeadlinePolicy (category class × tier), editable in the admin;
a category type may shorten its own start tier's limits. Where no row exists the
defaults below apply. A deadline whose computation walked a day of a year without the
State Council's arrangement (predicted from the statutory holidays, see dispatch.calendar)
is marked provisional; dispatch.calendar_watch.recompute_provisional recomputes those once
the year (or an override) is entered, by itself.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from django.conf import settings

from alleys.choices import AreaLevel
from alleys.reference import register_process_cache

from .calendar import BusinessCalendar, get_calendar
from .chain import START_TIER
from .choices import TimeUnit


@dataclass(frozen=True)
class Limit:
    """An amount of working time."""

    value: int
    unit: str

    def add_to(self, calendar: BusinessCalendar, start: dt.datetime) -> dt.datetime:
        if self.unit == TimeUnit.DAYS:
            return calendar.add_working_days(start, self.value)
        return calendar.add_working_hours(start, self.value)

    def halved(self) -> Limit:
        if self.unit == TimeUnit.DAYS:
            return (
                Limit(max(1, math.ceil(self.value * 8 / 2)), TimeUnit.HOURS)
                if self.value <= 2
                else Limit(math.ceil(self.value / 2), TimeUnit.DAYS)
            )
        return Limit(max(1, math.ceil(self.value / 2)), TimeUnit.HOURS)


# Defaults when no DeadlinePolicy row exists: (accept, resolve) per tier.
DEFAULT_LIMITS: dict[str, tuple[Limit, Limit]] = {
    AreaLevel.ALLEY: (Limit(4, TimeUnit.HOURS), Limit(3, TimeUnit.DAYS)),
    AreaLevel.COMMUNITY: (Limit(8, TimeUnit.HOURS), Limit(5, TimeUnit.DAYS)),
    AreaLevel.STREET: (Limit(2, TimeUnit.DAYS), Limit(10, TimeUnit.DAYS)),
    AreaLevel.DISTRICT: (Limit(3, TimeUnit.DAYS), Limit(60, TimeUnit.DAYS)),
    AreaLevel.CITY: (Limit(5, TimeUnit.DAYS), Limit(60, TimeUnit.DAYS)),
}


@dataclass(frozen=True)
class Deadlines:
    """The deadlines a case gets on arriving at a tier."""

    accept_due: dt.datetime
    resolve_due: dt.datetime
    warn_at: dt.datetime | None
    provisional: bool


def limits_for(*, category: object, tier: str, urgent: bool = False) -> tuple[Limit, Limit]:
    """(accept, resolve) limits for a category type at a tier."""
    accept, resolve = _policy_table().get((category.category_class_id, tier), DEFAULT_LIMITS[tier])  # type: ignore[attr-defined]
    if tier == START_TIER:  # a type's own limits are for the first response, in the alley
        if category.accept_hours:  # type: ignore[attr-defined]
            accept = Limit(category.accept_hours, TimeUnit.HOURS)  # type: ignore[attr-defined]
        if category.resolve_hours:  # type: ignore[attr-defined]
            resolve = Limit(category.resolve_hours, TimeUnit.HOURS)  # type: ignore[attr-defined]
    if urgent:
        accept, resolve = accept.halved(), resolve.halved()
    return accept, resolve


_policy_lock = threading.Lock()
_policy_cache: tuple[float, Mapping[tuple[int, str], tuple[Limit, Limit]]] | None = None


def _policy_table() -> Mapping[tuple[int, str], tuple[Limit, Limit]]:
    """All policies in one query, cached for a minute (the sweep computes thousands of deadlines)."""
    global _policy_cache
    now = time.monotonic()
    with _policy_lock:
        if _policy_cache is not None and now - _policy_cache[0] < 60:
            return _policy_cache[1]
    from .models import DeadlinePolicy

    table = MappingProxyType(
        {
            (p.category_class_id, p.tier): (
                Limit(p.accept_value, p.accept_unit),
                Limit(p.resolve_value, p.resolve_unit),
            )
            for p in DeadlinePolicy.objects.all()
        }
    )
    with _policy_lock:
        _policy_cache = (now, table)
    return table


def clear_policy_cache(*_args: object, **_kwargs: object) -> None:
    global _policy_cache
    with _policy_lock:
        _policy_cache = None


register_process_cache(clear_policy_cache)


def walks_predicted_days(
    start: dt.datetime, due: dt.datetime, *, calendar: BusinessCalendar | None = None
) -> bool:
    """Whether a deadline counted from ``start`` to ``due`` walked a day of a predicted year: the
    one rule of a provisional deadline (``deadline_provisional``), recomputed once the year is known.
    """
    return not (calendar or get_calendar()).is_official_between(start, due)


def compute_deadlines(
    *,
    category: object,
    tier: str,
    start: dt.datetime,
    urgent: bool = False,
    calendar: BusinessCalendar | None = None,
) -> Deadlines:
    """Deadlines for a case arriving at ``tier`` at ``start``."""
    calendar = calendar or get_calendar()
    accept, resolve = limits_for(category=category, tier=tier, urgent=urgent)
    accept_due = accept.add_to(calendar, start)
    resolve_due = resolve.add_to(calendar, start)
    used = calendar.working_hours_between(start, accept_due)
    warn_at = calendar.add_working_hours(start, used * settings.JXT_WARN_FRACTION) if used else None
    provisional = walks_predicted_days(start, max(accept_due, resolve_due), calendar=calendar)
    return Deadlines(accept_due=accept_due, resolve_due=resolve_due, warn_at=warn_at, provisional=provisional)


def warn_time(
    *, start: dt.datetime, due: dt.datetime, calendar: BusinessCalendar | None = None
) -> dt.datetime | None:
    """When JXT_WARN_FRACTION of the working time between start and due is used."""
    calendar = calendar or get_calendar()
    used = calendar.working_hours_between(start, due)
    return calendar.add_working_hours(start, used * settings.JXT_WARN_FRACTION) if used else None


def order_deadlines(
    *, start: dt.datetime, calendar: BusinessCalendar | None = None
) -> tuple[dt.datetime, dt.datetime, bool]:
    """(report_due, complete_due, provisional) for a department order dispatched at ``start``."""
    from .models import OrderSettings

    calendar = calendar or get_calendar()
    conf = OrderSettings.current()
    report_due = calendar.add_working_days(start, conf.report_days)
    complete_due = calendar.add_working_days(start, conf.complete_days)
    provisional = walks_predicted_days(start, max(report_due, complete_due), calendar=calendar)
    return report_due, complete_due, provisional


def consultation_due(
    *, start: dt.datetime, calendar: BusinessCalendar | None = None
) -> tuple[dt.datetime, bool]:
    """(answer_due, provisional) for departments asked their opinion before dispatch at ``start``."""
    from .models import OrderSettings

    calendar = calendar or get_calendar()
    due = calendar.add_working_days(start, OrderSettings.current().consult_days)
    return due, walks_predicted_days(start, due, calendar=calendar)


def verification_due(*, start: dt.datetime, calendar: BusinessCalendar | None = None) -> dt.datetime:
    """When the community must have verified a fix reported at ``start`` (``OrderSettings.verify_days``)."""
    from .models import OrderSettings

    calendar = calendar or get_calendar()
    return calendar.add_working_days(start, OrderSettings.current().verify_days)
