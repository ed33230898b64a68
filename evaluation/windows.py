"""Counters of a period that is not whole months (a rolling window, a custom range), from the facts by day.

Months, quarters and years read the month rollups (``evaluation.selectors``). Any other span
sums the per-case and per-order facts (``CaseFact``, ``OrderFact``) of its days: the same
counters the rollups sum, so a window and a month that cover the same days agree. A fixed
number of queries per call, each bounded by the items submitted (dispatched) in the window,
through the ``(day, alley_code)`` and ``(day, area_code)`` indexes.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from django.db.models import Case as SqlCase
from django.db.models import Count, IntegerField, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce, Substr

from .models import CaseFact, OrderFact
from .periods import Period
from .rates import CASE_COUNTERS, ORDER_COUNTERS, CaseCounts, OrderCounts

CASE_SUMS = {name: Sum(name) for name in CASE_COUNTERS}
ORDER_SUMS = {name: Sum(name) for name in ORDER_COUNTERS}
CURRENT, PREVIOUS = 1, 0


def _case_facts(area_code: str, start: dt.date, end: dt.date) -> QuerySet[CaseFact]:
    return CaseFact.objects.filter(day__gte=start, day__lt=end, alley_code__startswith=area_code)


def case_counts(
    area_code: str,
    period: Period,
    *,
    child_len: int | None = None,
    previous: bool = False,
    hist: bool = True,
) -> dict[tuple[str, int], CaseCounts]:
    """Summed case counters under ``area_code`` in ``period`` (and the period before, if asked).

    Keyed by (child code, CURRENT or PREVIOUS); the child code is the area's own when
    ``child_len`` is None, else the first ``child_len`` digits of the alley's code. Two queries
    (counters, then the resolution-time histogram for the median), one without ``hist``.
    """
    start = period.previous().start if previous else period.start
    facts = _case_facts(area_code, start, period.end).annotate(
        bucket=SqlCase(When(day__gte=period.start, then=Value(CURRENT)), default=Value(PREVIOUS)),
        child=Substr("alley_code", 1, child_len) if child_len else Value(area_code),
    )
    result: dict[tuple[str, int], CaseCounts] = defaultdict(CaseCounts)
    for row in facts.values("child", "bucket").annotate(**CASE_SUMS).order_by():
        result[(row["child"], row["bucket"])].add(row)
    if hist:
        for row in (
            facts.filter(tenths__isnull=False)
            .values("child", "bucket", "tenths")
            .annotate(n=Count("pk"))
            .order_by()
        ):
            result[(row["child"], row["bucket"])].hours_hist[int(row["tenths"] or 0)] += row["n"]
    return result


def building_case_counts(
    alley_code: str, period: Period, *, previous: bool = False
) -> dict[tuple[str, int], CaseCounts]:
    """``case_counts`` of one alley per building (楼栋), keyed by (building code, CURRENT or PREVIOUS).

    Buildings are no level of the rollups (their tables are keyed by tier areas): a building's
    counts are the same per-case facts summed by the building the case names ("" for the cases that
    name none), so they add up to the alley's, and from there to its community, street, ….
    Two queries, bounded by the alley's cases in the window.
    """
    start = period.previous().start if previous else period.start
    facts = (
        _case_facts(alley_code, start, period.end)
        .filter(alley_code=alley_code)
        .annotate(
            bucket=SqlCase(When(day__gte=period.start, then=Value(CURRENT)), default=Value(PREVIOUS)),
            child=Coalesce("case__building__code", Value("")),
        )
    )
    result: dict[tuple[str, int], CaseCounts] = defaultdict(CaseCounts)
    for row in facts.values("child", "bucket").annotate(**CASE_SUMS).order_by():
        result[(row["child"], row["bucket"])].add(row)
    for row in (
        facts.filter(tenths__isnull=False)
        .values("child", "bucket", "tenths")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        result[(row["child"], row["bucket"])].hours_hist[int(row["tenths"] or 0)] += row["n"]
    return result


def case_counts_by_category(area_code: str, period: Period) -> list[Mapping[str, Any]]:
    """Per category type (and its class) under ``area_code`` in ``period``: summed counters (1 query)."""
    return list(
        _case_facts(area_code, period.start, period.end)
        .values("category_id", "class_code")
        .annotate(**CASE_SUMS)
        .order_by()
    )


def case_counts_by_class(area_code: str, period: Period) -> list[Mapping[str, Any]]:
    """Per category class under ``area_code`` in ``period`` (1 query)."""
    return list(
        _case_facts(area_code, period.start, period.end)
        .values("class_code")
        .annotate(**CASE_SUMS)
        .order_by("class_code")
    )


def proactive_by_alley(area_code: str, period: Period) -> dict[str, Mapping[str, Any]]:
    """Cases and proactive cases per alley under ``area_code`` in ``period`` (1 query)."""
    return {
        r["alley_code"]: r
        for r in _case_facts(area_code, period.start, period.end)
        .values("alley_code")
        .annotate(cases=Sum("cases"), proactive=Sum("proactive"))
        .order_by()
    }


def order_counts(
    period: Period, *, area_code: str | None, department_ids: frozenset[int] | None, role: str
) -> dict[int, OrderCounts]:
    """Summed order counters per department in ``period`` (1 query): orders of cases under
    ``area_code``, or (a department's own view) of ``department_ids``."""
    facts = OrderFact.objects.filter(day__gte=period.start, day__lt=period.end)
    if area_code is not None:
        facts = facts.filter(area_code__startswith=area_code)
    elif department_ids is not None:
        facts = facts.filter(department_id__in=sorted(department_ids))
    if role:
        facts = facts.filter(role=role)
    result: dict[int, OrderCounts] = {}
    for row in facts.values("department_id").annotate(**ORDER_SUMS).order_by():
        result[row["department_id"]] = OrderCounts().add(row)
    return result


def patrol_activity(area_code: str, period: Period) -> dict[str, Mapping[str, Any]]:
    """The chiefs' patrols and visits per alley in ``period``, counted as the monthly rollup
    counts them (``evaluation.rollups._sum_activity``): distinct days, logs, households (2 queries)."""
    from issues.choices import PatrolKind
    from issues.models import PatrolLog

    logs = PatrolLog.objects.filter(
        alley__code__startswith=area_code, date__gte=period.start, date__lt=period.end
    )
    result: dict[str, dict[str, Any]] = defaultdict(dict)
    patrols: Any = (
        logs.filter(kind=PatrolKind.PATROL)
        .values("alley__code")
        .annotate(days=Count("date", distinct=True), n=Count("pk"))
        .order_by()
    )
    for r in patrols:
        result[r["alley__code"]].update(patrol_days=r["days"], logs=r["n"])
    visits: Any = (
        logs.filter(kind=PatrolKind.VISIT)
        .values("alley__code")
        .annotate(
            weeks=Count("date", distinct=True),
            households=Sum("households_visited", output_field=IntegerField()),
        )
        .order_by()
    )
    for r in visits:
        result[r["alley__code"]].update(visit_weeks=r["weeks"], households=r["households"] or 0)
    return dict(result)
