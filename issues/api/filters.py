"""Filter backends and FilterSets of the API besides the case list (which lives in ``issues.filters``)."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.api.filters import AreaCodeFilterMixin, IdFilter
from issues.choices import PatrolKind
from issues.models import PatrolLog


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

    def filter_mine(self, queryset: QuerySet[PatrolLog], name: str, value: bool) -> QuerySet[PatrolLog]:
        # Called with a value only (django-filter); the annotation is the parameter's type in the schema.
        user_id = getattr(getattr(self.request, "user", None), "pk", None)
        return queryset.filter(chief_id=user_id) if value else queryset.exclude(chief_id=user_id)
