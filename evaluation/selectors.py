"""Reads for the dashboards, the to-do list and the annual assessment pages.

Every dashboard read goes to the rollup tables (evaluation.rollups) with a fixed number
of queries per page, whatever the size of the history: an area's figures are its own
rollup rows, its children's rows are found by code prefix. Scoping is the user's
``scope_for``: an area is shown only if the scope covers its code, departments only
their own rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alleys.choices import CODE_LENGTH, AreaLevel, Role, level_below
from alleys.models import Area, Department
from alleys.people import Actor
from alleys.scoping import Scope, scope_for
from dispatch.calendar import HOURS_PER_DAY
from issues.choices import VERIFIED_STATES, OrderRole, OrderState
from issues.deadline_state import ANSWERABLE_RELATED, answerable_unit, case_due, governing_due, overdue_q
from participation.supervision import Quarter, results_by_alley

from . import windows
from .models import (
    AlleyMonthActivity,
    AnnualAssessment,
    AreaMonthCategoryStat,
    AreaMonthStat,
    AreaWeekStat,
    AssessmentLine,
    DepartmentEvaluation,
    DepartmentMonthStat,
    DepartmentOpenStat,
    OpenStat,
    RollupState,
)
from .periods import Period, add_months
from .rates import (
    CASE_COUNTERS,
    ORDER_COUNTERS,
    CaseCounts,
    CaseRates,
    OrderCounts,
    Weights,
    WorkClock,
    case_rates,
    min_sample,
    order_rates,
    shown_rate,
)
from .tables import RATE_COLUMNS, Column, Table

CASE_SUMS = {name: Sum(name) for name in CASE_COUNTERS}
ORDER_SUMS = {name: Sum(name) for name in ORDER_COUNTERS}
TIER_LABELS = dict(AreaLevel.choices)


@dataclass(frozen=True)
class ListRule:
    """How the department ranking's red and black lists are decided: thresholds, not positions.

    A department is on the red list (红榜) when its composite score is at least ``red_min``, on
    the black list (黑榜) when at most ``black_max``, whatever the others scored: equal scores
    are listed alike. One with fewer than ``min_orders`` orders in the period is listed as
    样本不足 and not ranked. The settings ``JXT_RED_LIST_MIN_SCORE``, ``JXT_BLACK_LIST_MAX_SCORE``
    and ``JXT_RANKING_MIN_ORDERS`` hold them; the page, the wall screen and the exports state them.
    """

    red_min: float
    black_max: float
    min_orders: int

    @classmethod
    def current(cls) -> ListRule:
        return cls(
            red_min=settings.JXT_RED_LIST_MIN_SCORE,
            black_max=settings.JXT_BLACK_LIST_MAX_SCORE,
            min_orders=settings.JXT_RANKING_MIN_ORDERS,
        )

    def ranked(self, row: Mapping[str, Any]) -> bool:
        return int(row.get("orders") or 0) >= self.min_orders

    def mark(self, row: Mapping[str, Any]) -> tuple[str, str]:
        """The row's mark and highlight: 红榜/red, 黑榜/black, 样本不足 (no highlight), or none."""
        if not self.ranked(row):
            return _("样本不足"), ""
        score = row.get("composite")
        if score is None:  # a rate under the minimum sample (evaluation.rates.composite)
            return _("样本不足"), ""
        if score >= self.red_min:
            return _("红榜"), "red"
        if score <= self.black_max:
            return _("黑榜"), "black"
        return "", ""

    def legend(self) -> list[tuple[str, str, str]]:
        """(mark, highlight, what it means) for the page, the wall and the exports."""
        return [
            (_("红榜"), "red", _("综合得分 ≥ %(score).1f") % {"score": self.red_min}),
            (_("黑榜"), "black", _("综合得分 ≤ %(score).1f") % {"score": self.black_max}),
            (_("样本不足"), "", _("统计期内派单少于 %(n)d 件，不参与排名") % {"n": self.min_orders}),
        ]


def cases_url(code: str, **params: str) -> str:
    """The staff case list filtered to an area (the staff pages provide it)."""
    try:
        base = reverse("staff:case-list")
    except NoReverseMatch:
        base = "/staff/cases/"
    return f"{base}?{urlencode({'area': code, **params})}"


# --- who is looking ----------------------------------------------------------------------------------


@dataclass
class Viewer:
    """The areas and departments a user may see on the dashboards."""

    user: Actor
    scope: Scope
    roots: list[Area]
    department_ids: frozenset[int]

    @property
    def sees_areas(self) -> bool:
        return bool(self.roots)

    @property
    def sees_anything(self) -> bool:
        return bool(self.roots or self.department_ids)

    def covers(self, code: str) -> bool:
        return self.scope.covers_code(code)


def viewer_for(user: Actor) -> Viewer:
    scope = scope_for(user)
    if scope.is_global:
        roots = list(Area.objects.filter(level=AreaLevel.CITY).order_by("code"))
    elif scope.area_prefixes:
        roots = list(Area.objects.filter(code__in=scope.area_prefixes).order_by("code"))
    else:
        roots = []
    return Viewer(user=user, scope=scope, roots=roots, department_ids=scope.department_ids)


def resolve_area(viewer: Viewer, code: str | None) -> Area:
    """The area a page shows: the one asked for if the user may see it, else the user's first."""
    if not viewer.roots:
        raise PermissionDenied(_("您没有可查看的辖区。"))
    if not code:
        return viewer.roots[0]
    for root in viewer.roots:
        if root.code == code:
            return root
    if not viewer.covers(code):
        raise PermissionDenied(_("该区域不在您的辖区内。"))
    area = Area.objects.filter(code=code).first()
    if area is None:
        raise PermissionDenied(_("没有这个区域。"))
    return area


def breadcrumbs(viewer: Viewer, area: Area) -> list[Area]:
    """The areas above ``area`` the user may open, top first (one query)."""
    return [a for a in Area.objects.chain_above(area) if viewer.covers(a.code)]


def as_of() -> dt.datetime | None:
    """When the rollups were last refreshed (shown as “数据更新于 HH:MM”)."""
    return RollupState.objects.filter(key="main").values_list("refreshed_at", flat=True).first()


# --- rates of areas ---------------------------------------------------------------------------------------


# The case rates a row shows, each with its sample size under "<name>_n" (tables.Column.sample).
SAMPLED_RATES: tuple[str, ...] = (
    "response_rate",
    "resolution_rate",
    "satisfaction_rate",
    "on_time_rate",
    "reopen_rate",
    "alley_share",
    "proactive_share",
)


def rate_row(rates: CaseRates) -> dict[str, Any]:
    """The rate columns of one ranked-table row: a rate below the minimum sample is None
    (shown as 样本不足 with its n, never sorted or charted as a figure)."""
    c = rates.counts
    values = {
        name: rates.shown(name)
        for name in ("response_rate", "resolution_rate", "satisfaction_rate", "on_time_rate", "reopen_rate")
    }
    values["alley_share"] = rates.shown_share(AreaLevel.ALLEY)
    values["proactive_share"] = rates.shown("proactive_share")
    return {
        "cases": c.cases,
        "open": c.open,
        **values,
        **{f"{name}_n": rates.samples.get(name, 0) for name in SAMPLED_RATES},
        "avg_hours": rates.avg_hours,
        "median_hours": rates.median_hours,
        "composite": rates.composite,
    }


def trend(current: float | None, previous: float | None) -> str:
    """“up”, “down” or “flat” (within 0.5 percentage points), or “” when either side is missing."""
    if current is None or previous is None:
        return ""
    if current - previous > 0.005:
        return "up"
    if previous - current > 0.005:
        return "down"
    return "flat"


@dataclass
class Overview:
    """What the overview and the wall screen show for one area and period."""

    area: Area
    period: Period
    cards: dict[str, int]
    rates: CaseRates
    previous: CaseRates
    trends: dict[str, str]
    monthly: list[dict[str, Any]]
    weekly: list[dict[str, Any]]
    classes: list[dict[str, Any]]
    funnel: list[dict[str, Any]]
    profile: list[dict[str, Any]]


def open_cards(area_codes: list[str]) -> dict[str, int]:
    """Open, overdue, near, due-today and supervised cases now (the OpenStat snapshot; 1 query)."""
    totals = OpenStat.objects.filter(area_code__in=area_codes).aggregate(
        open=Sum("open"),
        overdue=Sum("overdue"),
        near=Sum("near"),
        due_today=Sum("due_today"),
        supervised=Sum("supervised"),
    )
    return {k: v or 0 for k, v in totals.items()}


def area_overview(area: Area, period: Period, *, now: dt.datetime, weights: Weights) -> Overview:
    """Cards, rates with trend arrows, monthly and weekly trends, classes and the funnel.

    6 queries for whole months (the month rollups), 8 for a rolling window or a custom range
    (its counters and their median's histogram from the facts by day, ``evaluation.windows``).
    """
    today = timezone.localtime(now).date()
    cards = open_cards([area.code])
    # Twelve months up to the period's last month, or up to this month for the current period.
    trend_end = min(add_months(period.last_day, 1), add_months(today, 1))
    before = period.previous()
    first = add_months(trend_end, -12)
    if period.aligned:
        first = min(first, before.start)
    by_month = {
        row["month"]: row
        for row in AreaMonthStat.objects.filter(
            area_code=area.code, month__gte=first, month__lt=max(trend_end, period.end)
        ).values("month", "hours_hist", *CASE_COUNTERS)
    }
    if period.aligned:
        current = CaseCounts.total(r for m, r in by_month.items() if period.contains(m))
        previous = CaseCounts.total(r for m, r in by_month.items() if before.contains(m))
    else:
        sums = windows.case_counts(area.code, period, previous=True)
        current = sums.get((area.code, windows.CURRENT), CaseCounts())
        previous = sums.get((area.code, windows.PREVIOUS), CaseCounts())
    rates, prev_rates = case_rates(current, weights), case_rates(previous, weights)
    monthly = []
    for i in range(12):
        month = add_months(trend_end, i - 12)
        r = case_rates(CaseCounts().add(by_month.get(month, {})), weights)
        monthly.append(
            {
                "label": f"{month:%Y-%m}",
                "submitted": r.counts.submitted,
                "resolved": r.counts.resolved,
                **rate_row(r),
            }
        )
    this_week = today - dt.timedelta(days=today.weekday())
    weeks = {
        row["week"]: row
        for row in AreaWeekStat.objects.filter(
            area_code=area.code, week__gte=this_week - dt.timedelta(weeks=11), week__lte=this_week
        ).values("week", *CASE_COUNTERS)
    }
    weekly = []
    for i in range(12):
        week = this_week - dt.timedelta(weeks=11 - i)
        r = case_rates(CaseCounts().add(weeks.get(week, {})), weights)
        weekly.append({"label": f"{week:%m-%d}", "submitted": r.counts.submitted, **rate_row(r)})
    cards["new_this_week"] = weekly[-1]["submitted"]
    classes = class_breakdown(area, period, weights=weights)
    funnel = [
        {
            "tier": tier,
            "label": TIER_LABELS[tier],
            "count": count,
            "share": (count / rates.counts.resolved) if rates.counts.resolved else None,
        }
        for tier, count in rates.funnel
    ]
    profile = [
        {"tier": tier, "label": TIER_LABELS[tier], "count": getattr(current, f"tier_{tier}"), "share": share}
        for tier, share in rates.escalation_profile.items()
    ]
    return Overview(
        area=area,
        period=period,
        cards=cards,
        rates=rates,
        previous=prev_rates,
        trends={
            name: trend(rates.shown(name), prev_rates.shown(name))
            for name in ("response_rate", "resolution_rate", "satisfaction_rate", "on_time_rate")
        },
        monthly=monthly,
        weekly=weekly,
        classes=classes,
        funnel=funnel,
        profile=profile,
    )


def class_breakdown(area: Area, period: Period, *, weights: Weights) -> list[dict[str, Any]]:
    """Per category class (A–D), from the category rollup (community and above; 2 queries)."""
    from dispatch.models import CategoryClass

    code = area.code if area.level != AreaLevel.ALLEY else area.code[: CODE_LENGTH[AreaLevel.COMMUNITY]]
    if period.aligned:
        rows: Any = (
            AreaMonthCategoryStat.objects.filter(
                area_code=code, month__gte=period.start, month__lt=period.end
            )
            .values("class_code")
            .annotate(**CASE_SUMS)
            .order_by("class_code")
        )
    else:
        rows = windows.case_counts_by_class(code, period)
    names = dict(CategoryClass.objects.values_list("code", "name"))
    result = []
    for row in rows:
        r = case_rates(CaseCounts().add(row), weights)
        result.append(
            {
                "code": row["class_code"],
                "label": f"{row['class_code']} {names.get(row['class_code'], '')}".strip(),
                **rate_row(r),
            }
        )
    return result


ORDER_SAMPLED: tuple[str, ...] = ("report_rate", "on_time_rate", "resolution_rate", "satisfaction_rate")


# --- drill-down --------------------------------------------------------------------------------------------

SORT_KEYS = {
    "composite": gettext_lazy("综合得分"),
    "response_rate": gettext_lazy("响应率"),
    "resolution_rate": gettext_lazy("解决率"),
    "satisfaction_rate": gettext_lazy("满意率"),
    "on_time_rate": gettext_lazy("按时办结率"),
    "overdue": gettext_lazy("超期件数"),
    "cases": gettext_lazy("案件数"),
}


def ranking_min_cases() -> int:
    """Cases an area needs in the period to be ranked (``JXT_RANKING_MIN_CASES``)."""
    return int(settings.JXT_RANKING_MIN_CASES)


def rank_rows(
    rows: list[dict[str, Any]], sort: str, *, volume: str = "cases", minimum: int = 0
) -> list[dict[str, Any]]:
    """Best first; rows without the figure go last; equal figures share a rank (1, 1, 3).

    Rows with fewer than ``minimum`` of ``volume`` (cases) are not ranked, whatever the sort
    but the volume itself: they follow the ranked ones by code, rank None, marked 样本不足 —
    an alley with one case and none overdue is not the best alley.
    """
    sort = sort if sort in SORT_KEYS else "composite"
    ascending = sort == "overdue"  # fewer overdue is better
    gated = sort != volume and minimum > 0
    too_few = [r for r in rows if gated and (r.get(volume) or 0) < minimum]
    eligible = [r for r in rows if not (gated and (r.get(volume) or 0) < minimum)]
    present = [r for r in eligible if r.get(sort) is not None]
    missing = [r for r in eligible if r.get(sort) is None]
    present.sort(key=lambda r: (r[sort] if ascending else -r[sort], r.get("code", "")))
    rank, last = 0, object()
    for index, row in enumerate(present, start=1):
        if row[sort] != last:
            rank, last = index, row[sort]
        row["rank"] = rank
        row["mark"] = ""
    for row in missing:
        row["rank"] = None
        row["mark"] = ""
    too_few.sort(key=lambda r: r.get("code", ""))
    for row in too_few:
        row["rank"] = None
        row["mark"] = _("样本不足")
    return present + missing + too_few


def drilldown(area: Area, period: Period, *, sort: str, weights: Weights) -> Table:
    """The children of ``area`` ranked with their rates, open and overdue counts (3 queries).

    An alley's children are its buildings (楼栋), where it has them (``building_drilldown``);
    an alley without buildings has no children to rank.
    """
    if area.level == AreaLevel.ALLEY:
        return building_drilldown(area, period, sort=sort, weights=weights)
    child_level = level_below(area.level)
    if child_level is None:
        raise PermissionDenied(_("街巷是最小的统计单元。"))
    has_buildings = Exists(Area.objects.filter(parent_id=OuterRef("pk"), level=AreaLevel.BUILDING))
    children = list(
        Area.objects.filter(parent=area)
        .annotate(has_buildings=has_buildings)
        .order_by("code")
        .values("code", "name", "has_buildings")
    )
    before = period.previous()
    current: dict[str, CaseCounts] = defaultdict(CaseCounts)
    previous: dict[str, CaseCounts] = defaultdict(CaseCounts)
    if period.aligned:
        for row in AreaMonthStat.objects.filter(
            level=child_level, area_code__startswith=area.code, month__gte=before.start, month__lt=period.end
        ).values("area_code", "month", "hours_hist", *CASE_COUNTERS):
            (current if period.contains(row["month"]) else previous)[row["area_code"]].add(row)
    else:
        sums = windows.case_counts(area.code, period, child_len=CODE_LENGTH[child_level], previous=True)
        for (code, bucket), counts in sums.items():
            (current if bucket == windows.CURRENT else previous)[code].add(counts)
    open_now: dict[str, Mapping[str, Any]] = {
        r["area_code"]: r
        for r in OpenStat.objects.filter(level=child_level, area_code__startswith=area.code)
        .values("area_code")
        .annotate(open_now=Sum("open"), overdue=Sum("overdue"), supervised=Sum("supervised"))
    }
    rows = []
    for child in children:
        code = child["code"]
        r = case_rates(current[code], weights)
        p = case_rates(previous[code], weights)
        live = open_now.get(code, {})
        rows.append(
            {
                "code": code,
                "name": child["name"],
                **rate_row(r),
                "open_now": live.get("open_now") or 0,
                "overdue": live.get("overdue") or 0,
                "supervised": live.get("supervised") or 0,
                "trend": trend(r.composite and r.composite / 100, p.composite and p.composite / 100),
                "cases_url": cases_url(code),
                # An alley is a leaf unless it has buildings to break it down by.
                "drill": child_level != AreaLevel.ALLEY or child["has_buildings"],
            }
        )
    return _ranked_children(area, rows, child_level, period, sort=sort)


def has_buildings(alley: Area) -> bool:
    """Whether the alley has buildings to break its figures down by (1 query)."""
    return Area.objects.filter(parent=alley, level=AreaLevel.BUILDING).exists()


def building_drilldown(alley: Area, period: Period, *, sort: str, weights: Weights) -> Table:
    """The buildings (楼栋) of ``alley`` ranked like any children: counts from the alley's per-case facts
    by building (``windows.building_case_counts``), open and overdue now from the cases (3 queries).
    The row "未指定楼栋" is not ranked: it carries the alley's cases that name no building, so the
    rows add up to the alley. An alley without buildings has no children (as before buildings)."""
    from issues.models import Case

    children = list(
        Area.objects.filter(parent=alley, level=AreaLevel.BUILDING).order_by("code").values("code", "name")
    )
    if not children:
        raise PermissionDenied(_("街巷是最小的统计单元。"))
    current: dict[str, CaseCounts] = defaultdict(CaseCounts)
    previous: dict[str, CaseCounts] = defaultdict(CaseCounts)
    for (code, bucket), counts in windows.building_case_counts(alley.code, period, previous=True).items():
        (current if bucket == windows.CURRENT else previous)[code].add(counts)
    live: dict[str, Mapping[str, Any]] = {
        r["building__code"] or "": r
        for r in Case.objects.open()
        .filter(alley=alley)
        .values("building__code")
        .annotate(
            open_now=Count("pk"),
            overdue=Count("pk", filter=overdue_q(timezone.now())),
            supervised=Count("pk", filter=Q(supervised=True)),
        )
        .order_by()
    }
    rows = []
    for child in children:
        code = child["code"]
        r = case_rates(current[code], weights)
        p = case_rates(previous[code], weights)
        now_row: Mapping[str, Any] = live.get(code, {})
        rows.append(
            {
                "code": code,
                "name": child["name"],
                **rate_row(r),
                "open_now": now_row.get("open_now") or 0,
                "overdue": now_row.get("overdue") or 0,
                "supervised": now_row.get("supervised") or 0,
                "trend": trend(r.composite and r.composite / 100, p.composite and p.composite / 100),
                "cases_url": cases_url(code),
                "drill": False,
            }
        )
    table = _ranked_children(alley, rows, AreaLevel.BUILDING, period, sort=sort)
    if current.get("") is not None or live.get(""):
        rest = case_rates(current[""], weights)
        table.rows.append(
            {
                "code": "",
                "name": _("未指定楼栋"),
                **rate_row(rest),
                "open_now": live.get("", {}).get("open_now") or 0,
                "overdue": live.get("", {}).get("overdue") or 0,
                "supervised": live.get("", {}).get("supervised") or 0,
                "trend": "",
                "cases_url": cases_url(alley.code),
                "drill": False,
                "rank": None,
                "mark": _("不参与排名"),
            }
        )
    return table


def _ranked_children(
    area: Area, rows: list[dict[str, Any]], child_level: str, period: Period, *, sort: str
) -> Table:
    columns = [
        Column("rank", _("排名"), "int"),
        Column("name", _("名称")),
        Column("code", _("统一编码")),
        *RATE_COLUMNS,
        Column("open_now", _("当前在办"), "int"),
        Column("overdue", _("当前超期"), "int"),
        Column("supervised", _("督办"), "int"),
        Column("mark", _("备注")),
    ]
    minimum = ranking_min_cases()
    return Table(
        title=_("%(area)s下级%(level)s排名") % {"area": area.name, "level": TIER_LABELS[child_level]},
        columns=columns,
        rows=rank_rows(rows, sort, minimum=minimum),
        period=period.label,
        filters={
            _("区域"): f"{area.name}（{area.code}）",
            _("排序"): str(SORT_KEYS.get(sort, SORT_KEYS["composite"])),
            **sample_rules(minimum),
        },
    )


def sample_rules(ranking_minimum: int | None = None) -> dict[str, str]:
    """What 样本不足 means on this table, for the page's legend and the export's preamble."""
    rules = {
        _("最小样本"): _(
            "比率的样本（分母）少于 %(n)d 时显示“样本不足”而不显示数值，综合得分须三率样本均达到 %(n)d"
        )
        % {"n": min_sample()}
    }
    if ranking_minimum:
        rules[_("参与排名")] = _("统计期内案件不少于 %(n)d 件") % {"n": ranking_minimum}
    return rules


def category_table(area: Area, period: Period, *, sort: str, weights: Weights) -> Table:
    """Per category type with the rates (community level and above; 2 queries)."""
    from dispatch.models import CategoryType

    code = area.code if area.level != AreaLevel.ALLEY else area.code[: CODE_LENGTH[AreaLevel.COMMUNITY]]
    rows_db: list[Mapping[str, Any]]
    if period.aligned:
        rows_db = list(
            AreaMonthCategoryStat.objects.filter(
                area_code=code, month__gte=period.start, month__lt=period.end
            )
            .values("category_id", "class_code")
            .annotate(**CASE_SUMS)
        )
    else:
        rows_db = windows.case_counts_by_category(code, period)
    names: dict[int, Mapping[str, Any]] = {
        r["pk"]: r
        for r in CategoryType.objects.filter(pk__in=[r["category_id"] for r in rows_db]).values(
            "pk", "code", "name"
        )
    }
    rows = []
    for row in rows_db:
        r = case_rates(CaseCounts().add(row), weights)
        meta = names.get(row["category_id"], {})
        rows.append(
            {
                "code": meta.get("code", ""),
                "name": meta.get("name", ""),
                "class_code": row["class_code"],
                **rate_row(r),
                "cases_url": cases_url(area.code, category=meta.get("code", "")),
            }
        )
    sort = sort if sort in SORT_KEYS and sort != "overdue" else "cases"
    columns = [
        Column("rank", _("排名"), "int"),
        Column("class_code", _("分类")),
        Column("code", _("事项编码")),
        Column("name", _("事项名称")),
        *[c for c in RATE_COLUMNS if c.key != "median_hours"],
        Column("mark", _("备注")),
    ]
    minimum = ranking_min_cases()
    return Table(
        title=_("%(area)s事项类型统计") % {"area": area.name},
        columns=columns,
        rows=rank_rows(rows, sort, minimum=minimum),
        period=period.label,
        filters={
            _("区域"): f"{area.name}（{area.code}）",
            _("排序"): str(SORT_KEYS[sort]),
            **sample_rules(minimum),
        },
    )


# --- departments ------------------------------------------------------------------------------------------


def department_ranking(
    viewer: Viewer, area: Area | None, period: Period, *, role: str, sort: str, weights: Weights
) -> Table:
    """Departments by score or by overdue orders, lead or cooperating, for orders in the area (2 queries).

    An area user sees every department's orders on cases in the area; a department user
    sees only their own department's rows.
    """
    stats = DepartmentMonthStat.objects.filter(month__gte=period.start, month__lt=period.end)
    live = DepartmentOpenStat.objects.all()
    if area is not None:
        stats = stats.filter(area_code__startswith=area.code)
        live = live.filter(area_code__startswith=area.code)
    elif not viewer.scope.is_global:
        stats = stats.filter(department_id__in=viewer.department_ids)
        live = live.filter(department_id__in=viewer.department_ids)
    if role in OrderRole.values:
        stats = stats.filter(role=role)
        live = live.filter(role=role)
    counts: list[tuple[int, str, str, OrderCounts]] = []
    if period.aligned:
        for row in stats.values("department_id", "department__name", "department__area__name").annotate(
            **ORDER_SUMS
        ):
            counts.append(
                (
                    row["department_id"],
                    row["department__name"],
                    row["department__area__name"],
                    OrderCounts().add(row),
                )
            )
    else:
        by_dept = windows.order_counts(
            period,
            area_code=area.code if area is not None else None,
            department_ids=None if area is not None or viewer.scope.is_global else viewer.department_ids,
            role=role if role in OrderRole.values else "",
        )
        names = {
            d["pk"]: d
            for d in Department.objects.filter(pk__in=sorted(by_dept)).values("pk", "name", "area__name")
        }
        counts = [
            (pk, names[pk]["name"], names[pk]["area__name"], c) for pk, c in by_dept.items() if pk in names
        ]
    rows_by_dept: dict[int, dict[str, Any]] = {}
    for department_id, dept_name, dept_level, total in counts:
        r = order_rates(total, weights)
        rows_by_dept[department_id] = {
            "code": str(department_id),
            "name": dept_name,
            "level": dept_level,
            "orders": r.counts.orders,
            # 报到 counts only as the community confirmed the visit (issues.attendance).
            "reports_on_time": r.counts.report_on_time,
            "reports_late": r.counts.report_late,
            "reports_missed": r.counts.report_missed,
            "no_shows": r.counts.report_no_show,
            **{name: r.shown(name) for name in ORDER_SAMPLED},
            **{f"{name}_n": r.samples.get(name, 0) for name in ORDER_SAMPLED},
            "avg_evaluation": r.avg_evaluation,
            "evaluations": r.counts.eval_n,
            "rejected": r.counts.rejected,
            "extended": r.counts.extended,
            "composite": r.composite,
            "overdue": 0,
            "active": 0,
        }
    for row in live.values("department_id", "department__name", "department__area__name").annotate(
        active=Sum("active"), overdue_report=Sum("overdue_report"), overdue_complete=Sum("overdue_complete")
    ):
        entry = rows_by_dept.setdefault(
            row["department_id"],
            {
                "code": str(row["department_id"]),
                "name": row["department__name"],
                "level": row["department__area__name"],
                "orders": 0,
                "composite": None,
            },
        )
        entry["active"] = row["active"] or 0
        entry["overdue_report"] = row["overdue_report"] or 0
        entry["overdue_complete"] = row["overdue_complete"] or 0
        entry["overdue"] = entry["overdue_report"] + entry["overdue_complete"]
    sort = sort if sort in ("composite", "overdue", "avg_evaluation") else "composite"
    rule = ListRule.current()
    # Only departments with enough orders are ranked; the others follow, unranked, by code.
    eligible = [r for r in rows_by_dept.values() if rule.ranked(r)]
    too_few = sorted((r for r in rows_by_dept.values() if not rule.ranked(r)), key=lambda r: r["code"])
    rows = rank_rows(eligible, sort if sort != "avg_evaluation" else "composite")
    if sort == "avg_evaluation":
        rows = _rank_by(rows, "avg_evaluation")
    for unranked in too_few:
        unranked["rank"] = None
    rows += too_few
    for ranked_row in rows:
        ranked_row["mark"], ranked_row["highlight"] = rule.mark(ranked_row)
    columns = [
        Column("rank", _("排名"), "int"),
        Column("name", _("部门/单位")),
        Column("level", _("所属")),
        Column("orders", _("派单数"), "int"),
        Column("reports_on_time", _("按时到场报到"), "int"),
        Column("reports_late", _("逾期到场报到"), "int"),
        Column("reports_missed", _("未到场报到"), "int"),
        Column("no_shows", _("未按约到场次数"), "int"),
        Column("report_rate", _("按时报到率"), "pct", sample="report_rate_n"),
        Column("on_time_rate", _("按时办结率"), "pct", sample="on_time_rate_n"),
        Column("resolution_rate", _("解决率"), "pct", sample="resolution_rate_n"),
        Column("satisfaction_rate", _("满意率"), "pct", sample="satisfaction_rate_n"),
        Column("avg_evaluation", _("社区评价均分"), "score"),
        Column("evaluations", _("评价次数"), "int"),
        Column("rejected", _("退单"), "int"),
        Column("extended", _("获批延期"), "int"),
        Column("active", _("当前在办"), "int"),
        Column("overdue", _("当前超期派单"), "int"),
        Column("composite", _("综合得分"), "score"),
        Column("mark", _("红黑榜")),
    ]
    role_label = dict(OrderRole.choices).get(role, _("牵头和配合"))
    filters = {
        _("角色"): str(role_label),
        _("排序"): str({"overdue": _("超期派单"), "avg_evaluation": _("社区评价")}.get(sort, _("综合得分"))),
    }
    if area is not None:
        filters[_("区域")] = f"{area.name}（{area.code}）"
    legend = rule.legend()
    filters.update({mark: meaning for mark, _highlight, meaning in legend})
    filters.update(sample_rules())
    return Table(
        title=_("部门排名"),
        columns=columns,
        rows=rows,
        period=period.label,
        filters=filters,
        extra={"legend": legend},
    )


def _rank_by(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    present = sorted((r for r in rows if r.get(key) is not None), key=lambda r: -r[key])
    missing = [r for r in rows if r.get(key) is None]
    rank, last = 0, object()
    for index, row in enumerate(present, start=1):
        if row[key] != last:
            rank, last = index, row[key]
        row["rank"] = rank
    for row in missing:
        row["rank"] = None
    return present + missing


# --- overdue and supervised lists --------------------------------------------------------------------------


def held_cases(viewer: Viewer, area: Area, *, kind: str, now: dt.datetime, limit: int = 100) -> Table:
    """Overdue (or supervised) open cases in the area: who holds them and for how long (2 queries).

    Bounded by the open cases (partial indexes on open deadlines), not by the history;
    no resident's personal data.
    """
    from issues.models import Case

    base = Case.objects.open().filter(alley__code__startswith=area.code)
    if kind == "supervised":
        qs = base.filter(supervised=True).order_by("tier_entered_at", "pk")
        title = _("督办案件")
    else:
        kind = "overdue"
        qs = base.filter(overdue_q(now)).order_by(governing_due(), "pk")
        title = _("超期案件")
    qs = qs.select_related(*ANSWERABLE_RELATED, "category", "category__category_class")
    clock = WorkClock.shared()
    rows = []
    for case in qs[:limit]:
        governing = case_due(case, now)
        due = governing.due if governing else None
        holder = answerable_unit(case)
        rows.append(
            {
                "code": case.tracking_code,
                "category": case.category.name,
                "class_code": case.category.category_class.code,
                "alley": case.alley.name,
                "state": case.get_state_display(),
                "tier": case.get_tier_display(),
                "holder": holder,
                "held_days": round(clock.hours_between(case.tier_entered_at, now) / HOURS_PER_DAY, 1),
                "due": due,
                "due_kind": governing.label if governing else "",
                "overdue_days": round(clock.hours_between(governing.due, now) / HOURS_PER_DAY, 1)
                if governing and governing.is_overdue
                else None,
                "supervised": _("是") if case.supervised else "",
                "chases": case.chase_count,
                "cases_url": cases_url(case.alley.code, q=case.tracking_code),
            }
        )
    columns = [
        Column("code", _("查询码")),
        Column("class_code", _("分类")),
        Column("category", _("事项")),
        Column("alley", _("街巷")),
        Column("state", _("状态")),
        Column("tier", _("当前层级")),
        Column("holder", _("责任单位")),
        Column("held_days", _("在本层级（工作日）"), "hours"),
        Column("due_kind", _("期限类型")),
        Column("due", _("期限"), "datetime"),
        Column("overdue_days", _("已超期（工作日）"), "hours"),
        Column("supervised", _("督办")),
        Column("chases", _("催办次数"), "int"),
    ]
    return Table(
        title=title,
        columns=columns,
        rows=rows,
        period=_("截至 %(t)s") % {"t": f"{timezone.localtime(now):%Y-%m-%d %H:%M}"},
        filters={_("区域"): f"{area.name}（{area.code}）", _("最多显示"): str(limit)},
        extra={"kind": kind},
    )


# --- chiefs' activity --------------------------------------------------------------------------------------


def chiefs_activity(area: Area, period: Period, *, today: dt.date) -> Table:
    """Per alley: patrol coverage, weekly visits done and proactive share (3 queries)."""
    clock = WorkClock.shared()
    last = min(period.end - dt.timedelta(days=1), today)
    workdays = 0
    mondays = 0
    day = period.start
    while day <= last:
        workdays += clock.is_workday(day)
        mondays += day.weekday() == 0
        day += dt.timedelta(days=1)
    alleys = list(
        Area.objects.filter(level=AreaLevel.ALLEY, code__startswith=area.code)
        .order_by("code")
        .values("code", "name")
    )
    activity: dict[str, Mapping[str, Any]]
    proactive: dict[str, Mapping[str, Any]]
    if not period.aligned:
        activity = windows.patrol_activity(area.code, period)
        proactive = windows.proactive_by_alley(area.code, period)
    else:
        activity = {
            r["alley_code"]: r
            for r in AlleyMonthActivity.objects.filter(
                alley_code__startswith=area.code, month__gte=period.start, month__lt=period.end
            )
            .values("alley_code")
            .annotate(
                patrol_days=Sum("patrol_days"),
                visit_weeks=Sum("visit_weeks"),
                households=Sum("households_visited"),
                logs=Sum("patrol_logs"),
            )
        }
        proactive = {
            r["area_code"]: r
            for r in AreaMonthStat.objects.filter(
                level=AreaLevel.ALLEY,
                area_code__startswith=area.code,
                month__gte=period.start,
                month__lt=period.end,
            )
            .values("area_code")
            .annotate(cases=Sum("cases"), proactive=Sum("proactive"))
        }
    # The residents' ratings of the alley's supervision list (群众监督清单), in the quarters the period
    # touches: a month shows its whole quarter, a year its four.
    rated = results_by_alley(area.code, start=Quarter.of(period.start).start, end=period.end)
    rows = []
    for alley in alleys:
        a = activity.get(alley["code"], {})
        p = proactive.get(alley["code"], {})
        r = rated.get(alley["code"], {})
        days = a.get("patrol_days") or 0
        weeks = a.get("visit_weeks") or 0
        rows.append(
            {
                "code": alley["code"],
                "name": alley["name"],
                "patrol_days": days,
                "workdays": workdays,
                "coverage": min(days / workdays, 1.0) if workdays else None,
                "visit_weeks": weeks,
                "weeks": mondays,
                "visits_done": min(weeks / mondays, 1.0) if mondays else None,
                "households": a.get("households") or 0,
                "cases": p.get("cases") or 0,
                "proactive": p.get("proactive") or 0,
                "proactive_share": shown_rate(
                    (p["proactive"] / p["cases"]) if p.get("cases") else None,
                    p.get("cases") or 0,
                    min_sample(),
                ),
                "proactive_share_n": p.get("cases") or 0,
                # Shown from JXT_RATE_MIN_SAMPLE ballots (residents), not scores.
                "supervision_share": (r["satisfied"] / r["scores"])
                if r.get("scores") and r["ballots"] >= min_sample()
                else None,
                "supervision_share_n": r.get("ballots") or 0,
                "cases_url": cases_url(alley["code"]),
            }
        )
    # Least covered first: the list is for finding alleys nobody walks.
    rows.sort(key=lambda r: (r["coverage"] if r["coverage"] is not None else 2, r["code"]))
    for index, row in enumerate(rows, start=1):
        row["rank"] = index
    columns = [
        Column("rank", _("序号"), "int"),
        Column("name", _("街巷/网格")),
        Column("code", _("统一编码")),
        Column("patrol_days", _("巡查天数"), "int"),
        Column("workdays", _("工作日数"), "int"),
        Column("coverage", _("巡查覆盖率"), "pct"),
        Column("visit_weeks", _("已走访周数"), "int"),
        Column("weeks", _("应走访周数"), "int"),
        Column("visits_done", _("周走访完成率"), "pct"),
        Column("households", _("走访户数"), "int"),
        Column("cases", _("案件数"), "int"),
        Column("proactive", _("主动发现"), "int"),
        Column("proactive_share", _("主动发现占比"), "pct", sample="proactive_share_n"),
        Column("supervision_share", _("群众监督满意率"), "pct", sample="supervision_share_n"),
    ]
    return Table(
        title=_("%(area)s巷长履职情况") % {"area": area.name},
        columns=columns,
        rows=rows,
        period=period.label,
        filters={_("区域"): f"{area.name}（{area.code}）", **sample_rules()},
    )


# --- the community's to-do: evaluations ------------------------------------------------------------------


@dataclass(frozen=True)
class PendingEvaluation:
    """A completed and verified order the user's community has not evaluated yet."""

    order: Any
    community: Area
    case: Any = None

    @property
    def url(self) -> str:
        return (
            reverse("dashboard:evaluation-new", kwargs={"order_id": self.order.pk})
            + f"?community={self.community.code}"
        )


def _community_codes(scope: Scope) -> list[str]:
    return sorted({code for role, code, _d in scope.assignments if role == Role.COMMUNITY_STAFF and code})


def pending_evaluations(user: Actor, *, limit: int | None = None) -> list[PendingEvaluation]:
    """Orders completed and verified in the user's communities, not yet evaluated (3–4 queries).

    Case orders: the case is verified (awaiting the answer or the return visit, or closed). Common-issue orders:
    each community with a verified case in the issue evaluates once.
    """
    from issues.models import Case, DispatchOrder

    scope = scope_for(user)
    codes = _community_codes(scope)
    if not codes and not scope.is_global:
        return []
    area_q = Q() if scope.is_global else Q(pk__in=[])
    for code in codes:
        area_q |= Q(case__alley__code__startswith=code)
    verified = sorted(VERIFIED_STATES)
    done = DepartmentEvaluation.objects.filter(order_id=OuterRef("pk"))
    orders = list(
        DispatchOrder.objects.filter(
            area_q, state=OrderState.COMPLETED, case__verified_at__isnull=False, case__state__in=verified
        )
        .exclude(Exists(done))
        .select_related("case", "case__alley", "case__category", "department")
        .order_by("completed_at", "pk")[: limit or None]
    )
    wanted: dict[str, Area] = {}
    items: list[tuple[Any, str, Any]] = []
    for order in orders:
        assert order.case is not None  # the query asks for case orders
        code = order.case.alley.code_at(AreaLevel.COMMUNITY)
        items.append((order, code, order.case))
        wanted[code] = None  # type: ignore[assignment]
    # Common issues: one evaluation per community that has a verified case in the issue.
    issue_q = Q() if scope.is_global else Q(pk__in=[])
    for code in codes:
        issue_q |= Q(alley__code__startswith=code)
    issue_cases = (
        Case.objects.filter(
            issue_q,
            common_issues__orders__state=OrderState.COMPLETED,
            verified_at__isnull=False,
            state__in=verified,
        )
        .values_list("common_issues__orders", "alley__code")
        .distinct()
    )
    pairs = {
        (order_id, alley_code[: CODE_LENGTH[AreaLevel.COMMUNITY]]) for order_id, alley_code in issue_cases
    }
    if pairs:
        evaluated = set(
            DepartmentEvaluation.objects.filter(order_id__in={p[0] for p in pairs}).values_list(
                "order_id", "community__code"
            )
        )
        issue_orders = {
            o.pk: o
            for o in DispatchOrder.objects.filter(
                pk__in={p[0] for p in pairs}, state=OrderState.COMPLETED
            ).select_related("department", "common_issue")
        }
        for order_id, code in sorted(pairs):
            if (order_id, code) not in evaluated and order_id in issue_orders:
                items.append((issue_orders[order_id], code, None))
                wanted[code] = None  # type: ignore[assignment]
    areas = {a.code: a for a in Area.objects.filter(code__in=list(wanted))} if wanted else {}
    result = [PendingEvaluation(order=o, community=areas[c], case=case) for o, c, case in items if c in areas]
    result.sort(key=lambda p: (p.order.completed_at or timezone.now(), p.order.pk))
    return result[:limit] if limit else result


# --- annual assessment ---------------------------------------------------------------------------------------


def assessment_table(assessment: AnnualAssessment) -> Table:
    """A street's annual proposal (or frozen result), ranked by final score (1 query)."""
    from .choices import Grade, grade_for

    lines = list(assessment.lines.select_related("department", "department__area"))
    rows = []
    for line in lines:
        final = float(line.final_score)
        rows.append(
            {
                "code": line.department.code,
                "name": line.department.name,
                "level": line.department.area.name,
                "evaluations": line.evaluations,
                "communities": line.communities,
                "on_time_share": line.on_time_share,
                "avg_plan": float(line.avg_plan) if line.avg_plan is not None else None,
                "avg_work": float(line.avg_work) if line.avg_work is not None else None,
                "avg_cooperation": float(line.avg_cooperation) if line.avg_cooperation is not None else None,
                "computed_score": float(line.computed_score),
                "adjusted_score": float(line.adjusted_score) if line.adjusted_score is not None else None,
                "adjustment_reason": line.adjustment_reason,
                "final_score": final,
                "grade": Grade(grade_for(final)).label,
                "line_id": line.pk,
                "stored_rank": line.rank,
            }
        )
    rows = _rank_by(rows, "final_score")
    columns = [
        Column("rank", _("排名"), "int"),
        Column("name", _("部门/单位")),
        Column("level", _("所属")),
        Column("evaluations", _("评价次数"), "int"),
        Column("communities", _("评价社区数"), "int"),
        Column("on_time_share", _("按时报到占比"), "pct"),
        Column("avg_plan", _("方案质量均分（5分制）"), "score"),
        Column("avg_work", _("办理质量均分（5分制）"), "score"),
        Column("avg_cooperation", _("配合程度均分（5分制）"), "score"),
        Column("computed_score", _("计算得分"), "score"),
        Column("adjusted_score", _("调整后得分"), "score"),
        Column("adjustment_reason", _("调整理由")),
        Column("final_score", _("最终得分"), "score"),
        Column("grade", _("等次")),
    ]
    return Table(
        title=_("%(year)d年度%(street)s部门考核%(state)s")
        % {
            "year": assessment.year,
            "street": assessment.street.name,
            "state": _("结果（已审定）") if assessment.is_frozen else _("建议"),
        },
        columns=columns,
        rows=rows,
        period=_("%(y)d年度") % {"y": assessment.year},
        filters={
            _("街道"): f"{assessment.street.name}（{assessment.street.code}）",
            _("状态"): assessment.get_state_display(),
        },
    )


def assessment_summary(area: Area, year: int) -> Table:
    """Approved (frozen) results of every street in the area, per department, ranked (1 query)."""
    from .choices import AssessmentState, Grade, grade_for

    per_dept: dict[int, dict[str, Any]] = {}
    for line in AssessmentLine.objects.filter(
        assessment__year=year,
        assessment__state=AssessmentState.APPROVED,
        assessment__street__code__startswith=area.code,
    ).select_related("department", "department__area"):
        entry = per_dept.setdefault(
            line.department_id,
            {
                "code": line.department.code,
                "name": line.department.name,
                "level": line.department.area.name,
                "scores": [],
                "evaluations": 0,
            },
        )
        entry["scores"].append(float(line.final_score))
        entry["evaluations"] += line.evaluations
    rows = []
    for entry in per_dept.values():
        scores = entry.pop("scores")
        mean = round(sum(scores) / len(scores), 2)
        rows.append(
            {**entry, "streets": len(scores), "final_score": mean, "grade": Grade(grade_for(mean)).label}
        )
    rows = _rank_by(rows, "final_score")
    columns = [
        Column("rank", _("排名"), "int"),
        Column("name", _("部门/单位")),
        Column("level", _("所属")),
        Column("streets", _("参评街道数"), "int"),
        Column("evaluations", _("评价次数"), "int"),
        Column("final_score", _("平均最终得分"), "score"),
        Column("grade", _("等次")),
    ]
    return Table(
        title=_("%(year)d年度%(area)s部门考核汇总排名") % {"year": year, "area": area.name},
        columns=columns,
        rows=rows,
        period=_("%(y)d年度") % {"y": year},
        filters={_("区域"): f"{area.name}（{area.code}）", _("范围"): _("已审定的街道考核结果")},
    )
