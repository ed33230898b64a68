"""谁在超期 (who is late): the units answering for overdue work in an area, worst first.

Every overdue item is counted against the unit that answers for its deadline, as
``issues.deadline_state`` decides both: a case by ``overdue_q`` and ``answerable`` (the
alley team, the community for a verification, the street, the organisation department, the
lead department once dispatched), a department order by ``order_report_overdue_q`` /
``order_complete_overdue_q`` against its department. Working days late are working hours past
the deadline (``evaluation.rates.WorkClock``) over ``HOURS_PER_DAY``, as ``held_cases`` counts
them. Two queries whatever the area's size: the overdue cases and the overdue orders, each
bounded by the open items, never by the history.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from alleys.models import Area
from dispatch.calendar import HOURS_PER_DAY
from issues.deadline_state import (
    ANSWERABLE_RELATED,
    DueKind,
    answerable,
    case_due,
    late_hours,
    order_dues,
    order_overdue_q,
    overdue_q,
)

from .rates import WorkClock
from .tables import Column, Table


@dataclass
class LateUnit:
    """One answerable unit's overdue work."""

    key: str
    name: str
    kind: str
    cases: int = 0
    orders: int = 0
    days: list[float] = field(default_factory=list)
    stages: Counter[str] = field(default_factory=Counter)

    @property
    def items(self) -> int:
        return self.cases + self.orders

    def row(self) -> dict[str, Any]:
        return {
            "code": self.key,
            "name": self.name,
            "kind": self.kind,
            "cases": self.cases,
            "orders": self.orders,
            "items": self.items,
            "days_sum": round(sum(self.days), 1),
            "days_max": round(max(self.days), 1) if self.days else 0.0,
            "stages": "、".join(f"{DueKind(k).label} {n}" for k, n in sorted(self.stages.items())),
        }


def who_is_late(area: Area, *, now: dt.datetime, limit: int | None = None) -> Table:
    """Units with overdue cases or orders in ``area``: count, working days late (sum, longest)."""
    from issues.models import Case, DispatchOrder

    clock = WorkClock.shared()
    units: dict[str, LateUnit] = {}

    def unit(key: str, name: str, kind: str) -> LateUnit:
        found = units.get(key)
        if found is None:
            found = units[key] = LateUnit(key=key, name=name, kind=kind)
        return found

    cases = (
        Case.objects.filter(alley__code__startswith=area.code)
        .filter(overdue_q(now))
        .select_related(*ANSWERABLE_RELATED)
        .only(
            "state",
            "tier",
            "accept_due",
            "resolve_due",
            "verify_due",
            "lead_department__name",
            "holder_area__name",
            "holder_area__code",
            "alley__name",
            "alley__code",
            "alley__parent__name",
            "alley__parent__code",
        )
    )
    for case in cases:
        due = case_due(case, now)
        if due is None:  # overdue_q and case_due read the same table; kept for the type checker
            continue
        who = answerable(case)
        u = unit(who.key, who.name, who.kind)
        u.cases += 1
        u.days.append(late_hours(due.due, now, clock) / HOURS_PER_DAY)
        u.stages[due.kind] += 1
    orders = (
        DispatchOrder.objects.filter(order_overdue_q(now))
        .filter(
            Q(case__alley__code__startswith=area.code)
            | Q(case__isnull=True, dispatcher_area__code__startswith=area.code)
        )
        .select_related("department")
        .only("state", "attended_at", "report_due", "complete_due", "department__name")
    )
    for order in orders:
        late = [d for d in order_dues(order, now) if d.is_overdue]
        if not late:
            continue
        u = unit(f"dept:{order.department_id}", order.department.name, _("部门"))
        u.orders += 1
        # The longest-passed deadline of the order (its report before its completion).
        u.days.append(max(late_hours(d.due, now, clock) for d in late) / HOURS_PER_DAY)
        for d in late:
            u.stages[d.kind] += 1
    rows = sorted(
        (u.row() for u in units.values()),
        key=lambda r: (-r["items"], -r["days_sum"], -r["days_max"], r["name"]),
    )
    for index, row in enumerate(rows, start=1):
        row["rank"] = index
    shown = rows[:limit] if limit else rows
    columns = [
        Column("rank", _("序号"), "int"),
        Column("name", _("责任单位")),
        Column("kind", _("单位类型")),
        Column("cases", _("超期案件"), "int"),
        Column("orders", _("超期派单"), "int"),
        Column("stages", _("超期环节")),
        Column("days_sum", _("超期合计（工作日）"), "hours"),
        Column("days_max", _("最长超期（工作日）"), "hours"),
    ]
    return Table(
        title=_("谁在超期"),
        columns=columns,
        rows=shown,
        period=_("截至 %(t)s") % {"t": f"{timezone.localtime(now):%Y-%m-%d %H:%M}"},
        filters={_("区域"): f"{area.name}（{area.code}）", _("排序"): _("超期件数多者在前，再按超期工作日")},
        extra={"units": len(rows)},
    )
