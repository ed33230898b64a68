"""Read-only API of the territory: areas, alleys with their teams, departments."""

from __future__ import annotations

import django_filters
from django.db.models import Prefetch, QuerySet
from django.utils.translation import gettext_lazy as _
from rest_framework import viewsets

from alleys.choices import AreaLevel, DepartmentKind
from alleys.models import Area, Department, RoleAssignment
from core.api.base import ApiViewMixin, filter_backends
from core.api.filters import AreaCodeFilterMixin

from .serializers import AlleySerializer, AreaSerializer, DepartmentSerializer


class AreaFilter(AreaCodeFilterMixin, django_filters.FilterSet):
    """Areas under a code, at a level."""

    under = django_filters.CharFilter(
        field_name="code", method="filter_under", label=_("区域编码"), help_text=_("该区域及其所有下级。")
    )
    level = django_filters.MultipleChoiceFilter(choices=AreaLevel.choices, label=_("层级"))
    is_active = django_filters.BooleanFilter(label=_("启用"))

    class Meta:
        model = Area
        fields: list[str] = []


class AreaViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet[Area]):
    """The territory tree inside the caller's scope (city → district → street → community → alley)."""

    serializer_class = AreaSerializer
    filterset_class = AreaFilter
    filter_backends = filter_backends()
    ordering_fields = ("code", "name")
    ordering = ("code",)
    lookup_field = "code"
    lookup_value_regex = "[0-9]{4,15}"

    def get_queryset(self) -> QuerySet[Area]:
        return Area.objects.visible_to(self.request.user)


class AlleyViewSet(AreaViewSet):
    """Alleys and grids with their boards and teams (role and name of each member)."""

    serializer_class = AlleySerializer

    def get_queryset(self) -> QuerySet[Area]:
        team = (
            RoleAssignment.objects.filter(is_active=True)
            .select_related("user__staff_profile")
            .order_by("role", "id")
        )
        return (
            Area.objects.visible_to(self.request.user)
            .filter(level=AreaLevel.ALLEY)
            .select_related("profile")
            .prefetch_related(Prefetch("role_assignments", queryset=team, to_attr="team"))
        )


class DepartmentFilter(AreaCodeFilterMixin, django_filters.FilterSet):
    """Departments of a district or city, by kind and function."""

    area = django_filters.CharFilter(field_name="area__code", method="filter_under", label=_("区域编码"))
    kind = django_filters.ChoiceFilter(choices=DepartmentKind.choices, label=_("类型"))
    role_key = django_filters.CharFilter(label=_("职能简称"))
    is_active = django_filters.BooleanFilter(label=_("启用"))

    class Meta:
        model = Department
        fields: list[str] = []


class DepartmentViewSet(ApiViewMixin, viewsets.ReadOnlyModelViewSet[Department]):
    """Departments of the caller's district and city (and the caller's own department)."""

    serializer_class = DepartmentSerializer
    filterset_class = DepartmentFilter
    filter_backends = filter_backends()
    ordering_fields = ("code", "name")
    ordering = ("code",)

    def get_queryset(self) -> QuerySet[Department]:
        return Department.objects.visible_to(self.request.user).select_related("area")
