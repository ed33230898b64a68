"""API of chiefs' expenses reimbursed (实报实销): list, detail, filing with a receipt, the community's
moves, the chief's resubmission and a community's yearly report.

Reads are scoped by ``Expense.objects.visible_to`` (the chief's own, and those under the reader's
territory); every move calls its service in ``alleys.expenses``, which checks who may act and from
which state (a refusal by state is 409, by role 403, bad input 400).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from alleys.choices import AreaLevel, ExpensePurpose, ExpenseState
from alleys.expenses import (
    expense_approve,
    expense_file,
    expense_pay,
    expense_report,
    expense_resubmit,
    expense_return,
)
from alleys.models import Area, Expense
from core.api.base import ApiViewMixin, filter_backends
from core.api.errors import ErrorSerializer
from core.api.filters import AreaCodeFilterMixin
from core.api.parsers import FormParser, MultiPartParser

from .expense_serializers import (
    ExpenseFileInputSerializer,
    ExpensePayInputSerializer,
    ExpenseReportQuerySerializer,
    ExpenseReportSerializer,
    ExpenseResubmitInputSerializer,
    ExpenseReturnInputSerializer,
    ExpenseSerializer,
)

TAGS = ["expenses"]


class YearFilter(django_filters.NumberFilter):
    """A whole year, 2000 to 2100 (a year outside it is bad input, not a server error)."""

    field_class = forms.IntegerField


class ExpenseFilter(AreaCodeFilterMixin, django_filters.FilterSet):
    """Expenses by state, purpose, alley or area (code prefix) and year spent."""

    state = django_filters.MultipleChoiceFilter(choices=ExpenseState.choices, label=_("状态"))
    purpose = django_filters.ChoiceFilter(choices=ExpensePurpose.choices, label=_("用途"))
    under = django_filters.CharFilter(field_name="alley__code", method="filter_under", label=_("区域编码"))
    year = YearFilter(field_name="spent_on__year", min_value=2000, max_value=2100, label=_("支出年份"))

    class Meta:
        model = Expense
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="巷长垫付费用列表", tags=TAGS),
    retrieve=extend_schema(summary="巷长垫付费用详情", tags=TAGS),
)
class ExpenseViewSet(
    ApiViewMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet[Expense]
):
    """Chiefs' expenses the caller may see, and the moves of alleys/expenses.py's transition table."""

    serializer_class = ExpenseSerializer
    filterset_class = ExpenseFilter
    filter_backends = filter_backends()
    ordering_fields = ("submitted_at", "spent_on", "amount", "id")
    ordering = ("-submitted_at", "-id")

    def get_queryset(self) -> QuerySet[Expense]:
        return Expense.objects.visible_to(self.request.user).select_related(
            "alley", "chief__staff_profile", "decided_by__staff_profile"
        )

    def _visible(self) -> Expense:
        try:
            pk = int(self.kwargs["pk"])
        except (TypeError, ValueError) as exc:
            raise Http404 from exc
        found = self.get_queryset().filter(pk=pk).first()
        if found is None:
            raise Http404
        return found

    def _answer(self, expense: Expense, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=expense.pk)
        return Response(ExpenseSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    def _move(
        self, input_class: type[serializers.Serializer[Any]] | None, call: Callable[..., Expense]
    ) -> Response:
        expense = self._visible()
        values: dict[str, Any] = {}
        if input_class is not None:
            data = input_class(data=self.request.data, context=self.get_serializer_context())
            data.is_valid(raise_exception=True)
            values = dict(data.validated_data)
        return self._answer(call(expense=expense, user=self.request.user, now=timezone.now(), **values))

    @extend_schema(
        summary="巷长申报垫付费用（附票据照片，按内容检查）",
        request={"multipart/form-data": ExpenseFileInputSerializer},
        responses={201: ExpenseSerializer},
        tags=TAGS,
    )
    def create(self, request: Request) -> Response:
        data = ExpenseFileInputSerializer(data=request.data, context=self.get_serializer_context())
        data.is_valid(raise_exception=True)
        expense = expense_file(user=request.user, now=timezone.now(), **data.validated_data)
        return self._answer(expense, status.HTTP_201_CREATED)

    @extend_schema(summary="社区审核通过", request=None, responses={200: ExpenseSerializer}, tags=TAGS)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._move(None, expense_approve)

    @extend_schema(
        summary="社区退回巷长修改（写明理由）",
        request=ExpenseReturnInputSerializer,
        responses={200: ExpenseSerializer},
        tags=TAGS,
    )
    @action(detail=True, methods=["post"], url_path="return", url_name="return")
    def return_(self, request: Request, pk: str | None = None) -> Response:
        return self._move(ExpenseReturnInputSerializer, expense_return)

    @extend_schema(
        summary="社区标记已报销（实报实销，报销日期）",
        request=ExpensePayInputSerializer,
        responses={200: ExpenseSerializer},
        tags=TAGS,
    )
    @action(detail=True, methods=["post"])
    def pay(self, request: Request, pk: str | None = None) -> Response:
        return self._move(ExpensePayInputSerializer, expense_pay)

    @extend_schema(
        summary="巷长修改后重新提交（可换票据照片）",
        request={"multipart/form-data": ExpenseResubmitInputSerializer},
        responses={200: ExpenseSerializer},
        tags=TAGS,
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def resubmit(self, request: Request, pk: str | None = None) -> Response:
        return self._move(ExpenseResubmitInputSerializer, expense_resubmit)

    @extend_schema(
        summary="社区年度报表（按支出日期；已报销按用途、未报销合计）",
        parameters=[
            OpenApiParameter("community", str, required=True, description="社区编码"),
            OpenApiParameter("year", int, required=False, description="年份（默认今年）"),
        ],
        responses={200: ExpenseReportSerializer, 404: ErrorSerializer},
        tags=TAGS,
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def report(self, request: Request) -> Response:
        """A community the caller may see (its staff, the street, the organisation department); else 404."""
        query = ExpenseReportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        community = (
            Area.objects.visible_to(request.user)
            .filter(level=AreaLevel.COMMUNITY, code=query.validated_data["community"])
            .first()
        )
        if community is None:
            raise Http404
        year = query.validated_data.get("year") or timezone.localdate().year
        return Response(ExpenseReportSerializer(expense_report(community=community, year=year)).data)
