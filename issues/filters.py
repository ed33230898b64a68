"""django-filter FilterSets for cases: the filters of the API's case list (and any staff page that wants them)."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alleys.choices import CODE_LENGTH, TIER_CHOICES, AreaLevel
from alleys.scoping import scope_for
from core.api.filters import IdFilter

from .choices import OPEN_STATES, CaseSource, CaseState, Urgency
from .deadline_state import overdue_q
from .models import Case, ReturnVisit

# The largest primary key a BigAutoField holds: a bigger number is invalid input (400), not a database error.


class CaseFilter(django_filters.FilterSet):
    """Case list filters: territory subtree, state, tier, category, department, dates, overdue, supervision,
    return visits."""

    area = django_filters.CharFilter(
        method="filter_area",
        label=_("区域编码"),
        help_text=_("区域统一编码：返回该区域及其下级所有街巷的案件（编码前缀匹配）。"),
    )
    state = django_filters.MultipleChoiceFilter(choices=CaseState.choices, label=_("状态"))
    tier = django_filters.MultipleChoiceFilter(choices=TIER_CHOICES, label=_("当前层级"))
    source = django_filters.MultipleChoiceFilter(choices=CaseSource.choices, label=_("来源"))
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices, label=_("紧急程度"))
    category = django_filters.CharFilter(field_name="category__code", label=_("事项类型编码"))
    category_class = django_filters.CharFilter(
        field_name="category__category_class__code", label=_("事项分类")
    )
    department = IdFilter(
        method="filter_department", label=_("部门"), help_text=_("派给该部门（牵头或配合）过的案件。")
    )
    lead_department = IdFilter(field_name="lead_department_id", label=_("牵头部门"))
    tracking_code = django_filters.CharFilter(
        field_name="tracking_code", lookup_expr="iexact", label=_("查询码")
    )
    created_after = django_filters.DateTimeFilter(
        field_name="created_at", lookup_expr="gte", label=_("提交时间不早于")
    )
    created_before = django_filters.DateTimeFilter(
        field_name="created_at", lookup_expr="lt", label=_("提交时间早于")
    )
    updated_after = django_filters.DateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label=_("更新时间不早于")
    )
    updated_before = django_filters.DateTimeFilter(
        field_name="updated_at", lookup_expr="lt", label=_("更新时间早于")
    )
    is_open = django_filters.BooleanFilter(method="filter_is_open", label=_("未办结"))
    overdue = django_filters.BooleanFilter(method="filter_overdue", label=_("已超期"))
    supervised = django_filters.BooleanFilter(field_name="supervised", label=_("督办"))
    held = django_filters.BooleanFilter(
        method="filter_held", label=_("我在办"), help_text=_("当前由我（我的单位）负责办理的案件。")
    )
    return_visited = django_filters.BooleanFilter(
        method="filter_return_visited",
        label=_("社区回访过"),
        help_text=_(
            "有回访记录的案件（评价期满后社区电话或上门回访过，联系上或没联系上）；"
            "待回访的案件请用 state=awaiting_return_visit。"
        ),
    )

    class Meta:
        model = Case
        fields: list[str] = []

    def filter_area(self, queryset: QuerySet[Case], name: str, value: str) -> QuerySet[Case]:
        code = value.strip()
        if len(code) == CODE_LENGTH[AreaLevel.BUILDING]:  # a building: its code prefixes no alley's
            return queryset.filter(building__code=code)
        return queryset.filter(alley__code__startswith=code) if code else queryset

    # django-filter calls a filter's method only with a value (never None or ""), and drf-spectacular
    # documents the parameter's type from the ``value`` annotation: keep it exact.
    def filter_department(self, queryset: QuerySet[Case], name: str, value: int) -> QuerySet[Case]:
        from .models import DispatchOrder

        orders = DispatchOrder.objects.filter(case_id=OuterRef("pk"), department_id=value)
        return queryset.filter(Exists(orders))

    def filter_is_open(self, queryset: QuerySet[Case], name: str, value: bool) -> QuerySet[Case]:
        q = Q(state__in=OPEN_STATES)
        return queryset.filter(q) if value else queryset.exclude(q)

    def filter_overdue(self, queryset: QuerySet[Case], name: str, value: bool) -> QuerySet[Case]:
        q = overdue_q(timezone.now())
        return queryset.filter(q) if value else queryset.exclude(q)

    def filter_return_visited(self, queryset: QuerySet[Case], name: str, value: bool) -> QuerySet[Case]:
        visited = Exists(ReturnVisit.objects.filter(case_id=OuterRef("pk")))
        return queryset.filter(visited) if value else queryset.exclude(visited)

    def filter_held(self, queryset: QuerySet[Case], name: str, value: bool) -> QuerySet[Case]:
        from .selectors import held_q

        user = getattr(self.request, "user", None)
        q = held_q(scope_for(user))
        return queryset.filter(q) if value else queryset.exclude(q)
