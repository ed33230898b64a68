"""Dashboards (/dashboard/), the wall screen and exports: thin views over evaluation.selectors.

Every page reads the rollups through the selectors, so the number of queries per page
is fixed whatever the size of the history (asserted in tests/evaluation/test_views.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alleys.choices import AreaLevel, level_below
from alleys.models import Area
from alleys.people import SignedInRequest
from issues.choices import OrderRole

from . import selectors as sel
from .exports import export_response
from .lateness import who_is_late
from .models import AnnualAssessment
from .participation import member_participation
from .periods import MAX_RANGE_DAYS, Period, period_choices
from .rates import Weights
from .tables import Table, fmt_rate, rate_band

TIER_LABELS = dict(AreaLevel.choices)


@dataclass
class Dash:
    """What every dashboard page knows: who, where, when."""

    request: HttpRequest
    viewer: sel.Viewer
    area: Area | None
    period: Period
    now: dt.datetime
    weights: Weights

    @property
    def today(self) -> dt.date:
        return timezone.localtime(self.now).date()

    def params(self, **extra: Any) -> str:
        values = {"period": self.period.key}
        if self.area is not None:
            values["area"] = self.area.code
        values.update({k: v for k, v in extra.items() if v not in (None, "")})
        return urlencode(values)

    def context(self, nav: str, **extra: Any) -> dict[str, Any]:
        area = self.area

        def crumbs() -> list[Area]:  # called by the template only where it shows them
            return sel.breadcrumbs(self.viewer, area) if area is not None else []

        return {
            "nav": "dashboard",
            "tab": nav,
            "viewer": self.viewer,
            "area": self.area,
            "crumbs": crumbs,
            "period": self.period,
            "periods": period_choices(self.today),
            "as_of": sel.as_of(),
            "params": self.params(),
            "weights": self.weights,
            "near_hours": settings.JXT_NEAR_HOURS,
            "max_range_days": MAX_RANGE_DAYS,
            # The ranking below this area: its tier's children, or an alley's buildings (楼栋).
            "child_label": TIER_LABELS.get(level_below(self.area.level) or "", "") if self.area else "",
            **extra,
        }


def _period_text(request: HttpRequest) -> str:
    """The period asked for: the custom range's two dates (from, to) when given, else ``period``."""
    first, last = request.GET.get("from", "").strip(), request.GET.get("to", "").strip()
    if first and last:
        return f"{first}~{last}"
    return request.GET.get("period", "")


def _dash(request: HttpRequest, *, need_area: bool = True) -> Dash:
    viewer = sel.viewer_for(request.user)
    if not viewer.sees_anything:
        raise PermissionDenied(_("您没有可查看的数据看板。"))
    now = timezone.now()
    period = Period.parse(_period_text(request), today=timezone.localtime(now).date())
    area = None
    if viewer.sees_areas:
        area = sel.resolve_area(viewer, request.GET.get("area"))
    elif need_area:
        raise PermissionDenied(_("该看板按辖区统计，部门用户请查看部门排名。"))
    return Dash(request=request, viewer=viewer, area=area, period=period, now=now, weights=Weights.current())


# --- charts: small specs the page script turns into ECharts options ------------------------------------------


def chart(
    rows: list[dict[str, Any]], series: list[tuple[str, Any, str]], *, x: str = "label", axis: str = ""
) -> dict[str, Any]:
    """A bar/line chart: ``series`` is (row key, Chinese name, "bar"|"line"|"pct")."""
    return {
        "count_axis": axis or _("数量"),
        "thin": _("样本不足"),
        "x": [str(r.get(x, "")) for r in rows],
        "series": [
            {
                "name": str(name),
                "type": "line" if kind in ("line", "pct") else "bar",
                "pct": kind == "pct",
                "data": [
                    None if r.get(key) is None else round(100 * r[key], 1) if kind == "pct" else r[key]
                    for r in rows
                ],
                # Each point's sample size, for the tooltip ("样本不足（n=2）" where the rate is withheld).
                **({"n": [r.get(f"{key}_n") for r in rows]} if kind == "pct" else {}),
            }
            for key, name, kind in series
        ],
    }


def funnel_chart(funnel: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "funnel",
        "unit": _("件"),
        "data": [{"name": f["label"], "value": f["count"]} for f in funnel],
    }


# Module-level labels are lazy: they are translated per request, in the user's language.
RATE_SERIES: list[tuple[str, Any, str]] = [
    ("response_rate", gettext_lazy("响应率"), "pct"),
    ("resolution_rate", gettext_lazy("解决率"), "pct"),
    ("satisfaction_rate", gettext_lazy("满意率"), "pct"),
]


# --- pages ------------------------------------------------------------------------------------------------


@login_required
def overview(request: SignedInRequest) -> HttpResponse:
    viewer = sel.viewer_for(request.user)
    if not viewer.sees_areas and viewer.department_ids:
        return redirect("dashboard:departments")
    d = _dash(request)
    assert d.area is not None
    data = sel.area_overview(d.area, d.period, now=d.now, weights=d.weights)
    charts = {
        "monthly": chart(
            data.monthly,
            [("submitted", _("新增案件"), "bar"), ("resolved", _("已办结"), "bar"), *RATE_SERIES],
        ),
        "weekly": chart(data.weekly, [("submitted", _("新增案件"), "bar"), *RATE_SERIES]),
        "classes": chart(
            data.classes, [("cases", _("案件数"), "bar"), ("resolution_rate", _("解决率"), "pct")]
        ),
        "funnel": funnel_chart(data.funnel),
    }
    late = who_is_late(d.area, now=d.now, limit=LATE_ON_OVERVIEW)
    return render(
        request,
        "evaluation/overview.html",
        d.context(
            "overview",
            data=data,
            charts=charts,
            rate_cards=_rate_cards(data),
            score=_score_card(data),
            late=late,
            # An alley breaks down by building only where it has buildings (one query, alleys only).
            buildings=d.area.level == AreaLevel.ALLEY and sel.has_buildings(d.area),
        ),
    )


LATE_ON_OVERVIEW = 10
LATE_ON_WALL = 8


def _rate_cards(data: sel.Overview) -> list[dict[str, Any]]:
    """The four rates of the period, each with its sample size, band and the previous period's."""
    r, p = data.rates, data.previous
    cards = []
    for key, label in (
        ("response_rate", _("响应率")),
        ("resolution_rate", _("解决率")),
        ("satisfaction_rate", _("满意率")),
        ("on_time_rate", _("按时办结率")),
    ):
        value, n = r.shown(key), r.samples.get(key, 0)
        previous, previous_n = p.shown(key), p.samples.get(key, 0)
        cards.append(
            {
                "key": key,
                "label": label,
                "value": value,
                "n": n,
                "text": fmt_rate(value, n),
                "band": rate_band(value, n),
                "previous": fmt_rate(previous, previous_n),
                "trend": data.trends.get(key, ""),
            }
        )
    return cards


def _score_card(data: sel.Overview) -> dict[str, Any]:
    """The composite score, or which of its rates lacks the sample (evaluation.rates.composite)."""
    r = data.rates
    thin = [
        f"{label}（n={r.samples.get(key, 0)}）"
        for key, label in (
            ("response_rate", _("响应率")),
            ("resolution_rate", _("解决率")),
            ("satisfaction_rate", _("满意率")),
        )
        if r.samples.get(key, 0) < r.min_sample
    ]
    return {"value": r.composite, "thin": "，".join(thin), "min": r.min_sample}


def _drill_table(d: Dash, area: Area) -> Table:
    sort = d.request.GET.get("sort", "composite")
    table = sel.drilldown(area, d.period, sort=sort, weights=d.weights)
    drill_url, overview_url = reverse("dashboard:drill"), reverse("dashboard:overview")
    for row in table.rows:
        query = urlencode({"area": row["code"], "period": d.period.key, "sort": sort})
        row["name_url"] = f"{drill_url if row['drill'] else overview_url}?{query}"
        if area.level == AreaLevel.ALLEY:  # a building (no rollups of its own): its cases
            row["name_url"] = row["cases_url"]
    return table


@login_required
def drill(request: SignedInRequest) -> HttpResponse:
    d = _dash(request)
    assert d.area is not None
    if d.area.level == AreaLevel.ALLEY and not sel.has_buildings(d.area):
        return redirect(sel.cases_url(d.area.code))
    table = _drill_table(d, d.area)
    charts = {
        "ranking": chart(
            table.rows, [("composite", _("综合得分"), "bar"), *RATE_SERIES], x="name", axis=_("得分")
        )
    }
    return render(
        request,
        "evaluation/drill.html",
        d.context(
            "drill",
            table=table,
            charts=charts,
            sort=request.GET.get("sort", "composite"),
            sort_keys=sel.SORT_KEYS,
        ),
    )


@login_required
def categories(request: SignedInRequest) -> HttpResponse:
    d = _dash(request)
    assert d.area is not None
    table = sel.category_table(d.area, d.period, sort=request.GET.get("sort", "cases"), weights=d.weights)
    top = table.rows[:15]
    charts = {
        "types": chart(
            top, [("cases", _("案件数"), "bar"), ("resolution_rate", _("解决率"), "pct")], x="name"
        )
    }
    return render(request, "evaluation/categories.html", d.context("categories", table=table, charts=charts))


def _department_table(d: Dash) -> Table:
    role = d.request.GET.get("role", "")
    return sel.department_ranking(
        d.viewer, d.area, d.period, role=role, sort=d.request.GET.get("sort", "composite"), weights=d.weights
    )


@login_required
def departments(request: SignedInRequest) -> HttpResponse:
    d = _dash(request, need_area=False)
    table = _department_table(d)
    charts = {
        "ranking": chart(
            table.rows[:20],
            [("composite", _("综合得分"), "bar"), ("overdue", _("当前超期派单"), "bar")],
            x="name",
            axis=_("得分/件"),
        )
    }
    return render(
        request,
        "evaluation/departments.html",
        d.context(
            "departments",
            table=table,
            charts=charts,
            role=request.GET.get("role", ""),
            roles=OrderRole.choices,
            sort=request.GET.get("sort", "composite"),
            scored=any(r.get("composite") is not None for r in table.rows),
            min_sample=settings.JXT_RATE_MIN_SAMPLE,
            longer=[p for p in period_choices(d.today) if p.kind in ("quarter", "year")][:1]
            + [p for p in period_choices(d.today) if p.kind == "year"][:1],
        ),
    )


def _held_table(d: Dash, kind: str) -> Table:
    assert d.area is not None
    return sel.held_cases(d.viewer, d.area, kind=kind, now=d.now)


@login_required
def held(request: SignedInRequest) -> HttpResponse:
    d = _dash(request)
    asked = request.GET.get("kind", "")
    kind = asked if asked in ("supervised", "late") else "overdue"
    assert d.area is not None
    table = who_is_late(d.area, now=d.now) if kind == "late" else _held_table(d, kind)
    cards = sel.open_cards([d.area.code])
    return render(request, "evaluation/held.html", d.context("held", table=table, kind=kind, cards=cards))


def _chiefs_table(d: Dash) -> Table:
    assert d.area is not None
    return sel.chiefs_activity(d.area, d.period, today=d.today)


@login_required
def chiefs(request: SignedInRequest) -> HttpResponse:
    d = _dash(request)
    table = _chiefs_table(d)
    return render(request, "evaluation/chiefs.html", d.context("chiefs", table=table))


@login_required
def members(request: SignedInRequest) -> HttpResponse:
    """In-service Party members' 双报到 per community: registered, confirmed, needs, claims, hours."""
    d = _dash(request)
    assert d.area is not None
    table = member_participation(d.area, d.period)
    return render(request, "evaluation/members.html", d.context("members", table=table))


@login_required
def wall(request: SignedInRequest) -> HttpResponse:
    """The duty room's wall screen: dark, large numbers, refreshing itself every 60 s."""
    d = _dash(request)
    assert d.area is not None
    data = sel.area_overview(d.area, d.period, now=d.now, weights=d.weights)
    children = _drill_table(d, d.area) if d.area.level != AreaLevel.ALLEY else None
    depts = sel.department_ranking(d.viewer, d.area, d.period, role="", sort="composite", weights=d.weights)
    charts = {
        "monthly": chart(data.monthly, [("submitted", _("新增案件"), "bar"), *RATE_SERIES]),
        "funnel": funnel_chart(data.funnel),
    }
    return render(
        request,
        "evaluation/wall.html",
        d.context(
            "wall",
            data=data,
            charts=charts,
            rate_cards=_rate_cards(data),
            children=children,
            red=[r for r in depts.rows if r.get("highlight") == "red"],
            black=[r for r in depts.rows if r.get("highlight") == "black"],
            lists=depts.extra["legend"],
            score=_score_card(data),
            alley={"value": data.rates.shown_share(AreaLevel.ALLEY), "n": data.rates.samples["alley_share"]},
            late=who_is_late(d.area, now=d.now, limit=LATE_ON_WALL),
            rate_keys=("response_rate", "resolution_rate", "satisfaction_rate"),
            refresh_seconds=60,
        ),
    )


@login_required
def definitions(request: SignedInRequest) -> HttpResponse:
    """How every figure is counted (the same text as docs/rates.md, in Chinese)."""
    return render(
        request,
        "evaluation/definitions.html",
        {
            "nav": "dashboard",
            "tab": "definitions",
            "weights": Weights.current(),
            "list_rule": sel.ListRule.current(),
            "min_sample": settings.JXT_RATE_MIN_SAMPLE,
            "min_cases": settings.JXT_RANKING_MIN_CASES,
        },
    )


# --- exports ------------------------------------------------------------------------------------------------

EXPORTS = ("drill", "categories", "departments", "overdue", "supervised", "late", "chiefs", "members")


@login_required
def export(request: SignedInRequest, what: str) -> HttpResponse:
    """Any ranked table of the dashboards as XLSX (default) or CSV; logged in ExportLog."""
    if what not in EXPORTS:
        raise Http404
    d = _dash(request, need_area=what != "departments")
    if what == "drill":
        assert d.area is not None
        if d.area.level == AreaLevel.ALLEY and not sel.has_buildings(d.area):
            raise Http404
        table = _drill_table(d, d.area)
    elif what == "categories":
        assert d.area is not None
        table = sel.category_table(d.area, d.period, sort=request.GET.get("sort", "cases"), weights=d.weights)
    elif what == "departments":
        table = _department_table(d)
    elif what in ("overdue", "supervised"):
        table = _held_table(d, what)
    elif what == "late":
        assert d.area is not None
        table = who_is_late(d.area, now=d.now)
    elif what == "members":
        assert d.area is not None
        table = member_participation(d.area, d.period)
    else:
        table = _chiefs_table(d)
    filters = {k: v for k, v in request.GET.items() if k in ("area", "period", "sort", "role", "kind")}
    stem = f"{what}-{d.period.key}-{d.area.code if d.area else 'departments'}"
    return export_response(
        user=request.user,
        table=table,
        what=what,
        fmt_name=request.GET.get("fmt", "xlsx"),
        filters=filters,
        file_stem=stem,
    )


@login_required
def assessment_export(request: SignedInRequest, pk: int) -> HttpResponse:
    assessment = (
        AnnualAssessment.objects.visible_to(request.user).select_related("street").filter(pk=pk).first()
    )
    if assessment is None:
        raise Http404
    table = sel.assessment_table(assessment)
    return export_response(
        user=request.user,
        table=table,
        what="assessment",
        fmt_name=request.GET.get("fmt", "xlsx"),
        filters={"assessment": assessment.pk, "street": assessment.street.code, "year": assessment.year},
        file_stem=f"assessment-{assessment.year}-{assessment.street.code}",
    )


@login_required
def assessment_summary_export(request: SignedInRequest) -> HttpResponse:
    d = _dash(request)
    assert d.area is not None
    year = _year(request, d.today)
    table = sel.assessment_summary(d.area, year)
    return export_response(
        user=request.user,
        table=table,
        what="assessment-summary",
        fmt_name=request.GET.get("fmt", "xlsx"),
        filters={"area": d.area.code, "year": year},
        file_stem=f"assessment-summary-{year}-{d.area.code}",
    )


def _year(request: HttpRequest, today: dt.date) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = today.year - 1 if today.month < 7 else today.year
    return year if 2000 <= year <= 2100 else today.year
