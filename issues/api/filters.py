"""Filter backends and FilterSets of the API besides the case list (which lives in ``issues.filters``)."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request

from issues.choices import PatrolKind
from issues.filters import IdFilter
from issues.models import PatrolLog


class StableOrderingFilter(OrderingFilter):
    """``?ordering=`` that always ends on the primary key, so pages never repeat or skip a row."""

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> list[str]:
        ordering = list(super().get_ordering(request, queryset, view) or [])
        if not any(field.lstrip("-") in ("id", "pk") for field in ordering):
            ordering.append("-id")
        return ordering


class AreaCodeFilterMixin:
    """``?under=<code>``: the area and everything below it."""

    def filter_under(self, queryset: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return queryset.filter(**{f"{name}__startswith": value.strip()}) if value.strip() else queryset


class PatrolLogFilter(AreaCodeFilterMixin, django_filters.FilterSet):
    """Patrol and visit logs by alley subtree, kind, chief and date."""

    area = django_filters.CharFilter(
        field_name="alley__code", method="filter_under", label=_("区域编码"), help_text=_("编码前缀匹配。")
    )
    kind = django_filters.ChoiceFilter(choices=PatrolKind.choices, label=_("类型"))
    chief = IdFilter(field_name="chief_id", label=_("巷长"))
    date_after = django_filters.DateFilter(field_name="date", lookup_expr="gte", label=_("日期不早于"))
    date_before = django_filters.DateFilter(field_name="date", lookup_expr="lte", label=_("日期不晚于"))
    mine = django_filters.BooleanFilter(method="filter_mine", label=_("我的记录"))

    class Meta:
        model = PatrolLog
        fields: list[str] = []

    def filter_mine(
        self, queryset: QuerySet[PatrolLog], name: str, value: bool | None
    ) -> QuerySet[PatrolLog]:
        if value is None:
            return queryset
        user_id = getattr(getattr(self.request, "user", None), "pk", None)
        return queryset.filter(chief_id=user_id) if value else queryset.exclude(chief_id=user_id)
