"""API of one whistle one evaluation (一哨一考核) and of the rates for any filter.

The rates come from ``evaluation.rates`` only (its one definition): for any case filter
they are computed directly from the filtered, scoped cases; for an area and a period
alone (``?area=&period=``) they are read from the dashboards' monthly rollups, which hold
the same counters. A direct computation is refused above ``MAX_DIRECT`` rows — narrow
the filter, or ask for area + period.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from alleys.people import signed_in
from alleys.scoping import scope_for
from core.api.base import ApiViewMixin, filter_backends
from core.api.errors import ErrorSerializer
from core.api.filters import AreaCodeFilterMixin, IdFilter
from evaluation import rates
from evaluation.models import AreaMonthStat, DepartmentEvaluation, RollupState
from evaluation.periods import Period
from evaluation.services import evaluation_record
from issues.api.order_views import OrderFilter
from issues.filters import CaseFilter
from issues.models import Case, DispatchOrder

from .serializers import (
    CaseRatesSerializer,
    EvaluationInputSerializer,
    EvaluationSerializer,
    OrderRatesSerializer,
)

# Direct computation reads ~4 queries per 2,000 rows; beyond this, use the rollups.
MAX_DIRECT = 20_000


class EvaluationFilter(AreaCodeFilterMixin, django_filters.FilterSet):
    """Evaluations by department, order, case, community subtree and date."""

    department = IdFilter(field_name="department_id", label=gettext_lazy("部门"))
    order = IdFilter(field_name="order_id", label=gettext_lazy("派单"))
    case = IdFilter(field_name="case_id", label=gettext_lazy("案件"))
    area = django_filters.CharFilter(
        field_name="community__code", method="filter_under", label=gettext_lazy("区域编码")
    )
    evaluated_after = django_filters.DateTimeFilter(
        field_name="evaluated_at", lookup_expr="gte", label=gettext_lazy("评价时间不早于")
    )
    evaluated_before = django_filters.DateTimeFilter(
        field_name="evaluated_at", lookup_expr="lt", label=gettext_lazy("评价时间早于")
    )

    class Meta:
        model = DepartmentEvaluation
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="一哨一考核评价", tags=["evaluations"]),
    retrieve=extend_schema(summary="一哨一考核评价", tags=["evaluations"]),
    create=extend_schema(
        summary="社区评价部门（派单办结并核实后，每单一次）",
        tags=["evaluations"],
        request=EvaluationInputSerializer,
        responses={201: EvaluationSerializer},
    ),
)
class EvaluationViewSet(
    ApiViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet[DepartmentEvaluation]
):
    """Evaluations in the caller's territory or of the caller's department; communities record them."""

    serializer_class = EvaluationSerializer
    filterset_class = EvaluationFilter
    filter_backends = filter_backends()
    ordering_fields = ("evaluated_at", "overall_score", "id")
    ordering = ("-evaluated_at", "-id")

    def get_queryset(self) -> QuerySet[DepartmentEvaluation]:
        return DepartmentEvaluation.objects.visible_to(self.request.user).select_related(
            "department", "community", "evaluator__staff_profile"
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = EvaluationInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        evaluation = evaluation_record(actor=signed_in(request.user), **values)
        fresh = self.get_queryset().get(pk=evaluation.pk)
        return Response(EvaluationSerializer(fresh).data, status=status.HTTP_201_CREATED)


def _case_rates_body(result: rates.CaseRates, *, mode: str, as_of: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "mode": mode,
        "as_of": as_of,
        "counts": result.counts.as_dict(),
        "escalation_profile": dict(result.escalation_profile),
        "samples": dict(result.samples),
        "min_sample": result.min_sample,
    }
    for name in (
        "response_rate",
        "resolution_rate",
        "satisfaction_rate",
        "on_time_rate",
        "avg_hours",
        "median_hours",
        "reopen_rate",
        "proactive_share",
        "composite",
    ):
        body[name] = getattr(result, name)
    return body


PERIOD = OpenApiParameter(
    "period",
    str,
    description="统计周期：2026-03（月）、2026-Q1（季度）或 2026（年）；与 area 一起、且不带其他筛选条件时读取月度汇总",
    required=False,
)


class CaseRatesView(ApiViewMixin, APIView):
    """The case rates (response, resolution, satisfaction, on time, times, escalation) for any case filter."""

    filter_backends = filter_backends()[:1]  # django-filter only: ordering means nothing here
    filterset_class = CaseFilter
    filters_in_schema = True

    def get_queryset(self) -> QuerySet[Case]:
        return Case.objects.visible_to(self.request.user)

    @extend_schema(
        summary="案件指标（任意筛选条件）",
        parameters=[PERIOD],
        # 404: an area outside the caller's scope (rollup mode), though the path has no {id}.
        responses={200: CaseRatesSerializer, 404: ErrorSerializer},
        tags=["rates"],
    )
    def get(self, request: Request) -> Response:
        params = {k for k, v in request.query_params.items() if v not in ("", None)}
        weights = rates.Weights.current()
        if "period" in params:
            if params - {"period", "area"} or "area" not in params:
                raise ValidationError({"period": [_("period 只能与 area 一起使用（读取区域月度汇总）。")]})
            return Response(self._from_rollups(request, weights))
        queryset = django_filters.rest_framework.DjangoFilterBackend().filter_queryset(
            request, self.get_queryset(), self
        )
        if queryset.count() > MAX_DIRECT:
            raise ValidationError(
                {"non_field_errors": [_("案件太多，请缩小筛选范围，或用 area 与 period 读取月度汇总。")]}
            )
        result = rates.rates_for_cases(queryset, weights=weights)
        return Response(CaseRatesSerializer(_case_rates_body(result, mode="direct", as_of=None)).data)

    def _from_rollups(self, request: Request, weights: rates.Weights) -> dict[str, Any]:
        code = request.query_params["area"].strip()
        if not scope_for(request.user).covers_code(code):
            raise NotFound()
        period = Period.parse(request.query_params["period"], today=timezone.localdate())
        # The API reads the month rollups: whole months only (the pages' rolling windows read the facts).
        if not period.aligned or period.key != request.query_params["period"].strip():
            raise ValidationError({"period": [_("period 格式应为 2026-03、2026-Q1 或 2026。")]})
        rows = AreaMonthStat.objects.filter(
            area_code=code, month__gte=period.start, month__lt=period.end
        ).values("hours_hist", *rates.CASE_COUNTERS)
        result = rates.case_rates(rates.CaseCounts.total(rows), weights)
        as_of = RollupState.objects.filter(key="main").values_list("refreshed_at", flat=True).first()
        return dict(CaseRatesSerializer(_case_rates_body(result, mode="rollup", as_of=as_of)).data)


class OrderRatesView(ApiViewMixin, APIView):
    """The department rates (report, completion on time, resolution, satisfaction, evaluation) for any order filter."""

    filter_backends = filter_backends()[:1]
    filterset_class = OrderFilter
    filters_in_schema = True

    def get_queryset(self) -> QuerySet[DispatchOrder]:
        return DispatchOrder.objects.visible_to(self.request.user)

    @extend_schema(
        summary="部门指标（任意派单筛选条件）", responses={200: OrderRatesSerializer}, tags=["rates"]
    )
    def get(self, request: Request) -> Response:
        queryset = django_filters.rest_framework.DjangoFilterBackend().filter_queryset(
            request, self.get_queryset(), self
        )
        if queryset.count() > MAX_DIRECT:
            raise ValidationError({"non_field_errors": [_("派单太多，请缩小筛选范围。")]})
        result = rates.rates_for_orders(queryset, weights=rates.Weights.current())
        body = {f.name: getattr(result, f.name) for f in dataclasses.fields(result) if f.name != "counts"}
        body["counts"] = dataclasses.asdict(result.counts)
        return Response(OrderRatesSerializer(body).data)
