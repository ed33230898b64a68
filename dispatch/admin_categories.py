"""Admin for the taxonomy of matters: the A/B/C/D classes and the types with their defaults.

Only superusers edit the taxonomy (it drives tiers and deadlines for every case);
organisation departments may read it.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from alleys.admin import DepartmentAdmin, ScopedAdminMixin, ScopedInlineMixin
from alleys.choices import AreaLevel
from alleys.models import Department
from alleys.permissions import ORG_ROLES
from dispatch.models import CategoryClass, CategoryType


@admin.register(CategoryClass)
class CategoryClassAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The difficulty classes and the highest tier their cases climb to by themselves."""

    list_display = ("code", "name", "top_tier", "type_count")
    list_filter = ("top_tier",)
    search_fields = ("code", "name")
    scoped = False
    view_roles = ORG_ROLES

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).annotate(n_types=Count("types"))

    @admin.display(description=_("事项类型数"), ordering="n_types")
    def type_count(self, obj: Any) -> int:
        return int(obj.n_types)


@admin.register(CategoryType)
class CategoryTypeAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The types of matter with their highest tier, early alerts, department and time limits."""

    list_display = (
        "code",
        "name",
        "category_class",
        "highest_tier_display",
        "alert_tier",
        "default_department_role",
        "accept_hours",
        "resolve_hours",
        "common",
        "is_active",
        "sort_order",
    )
    list_filter = ("category_class", "top_tier", "alert_tier", "common", "is_active")
    search_fields = ("code", "name", "keywords")
    list_select_related = ("category_class",)
    filter_horizontal = ("departments",)
    scoped = False
    view_roles = ORG_ROLES
    fieldsets = (
        (None, {"fields": (("code", "name"), "category_class", "keywords", ("icon", "sort_order"))}),
        (
            _("默认办理"),
            {
                "fields": (
                    ("top_tier", "alert_tier"),
                    "default_department_role",
                    "service_kind",
                    ("accept_hours", "resolve_hours"),
                    "departments",
                )
            },
        ),
        (_("居民表单"), {"fields": ("common", "needs_contact", "fix_photo_required", "is_active")}),
    )

    @admin.display(description=_("最高办理层级"))
    def highest_tier_display(self, obj: CategoryType) -> str:
        return str(AreaLevel(obj.highest_tier).label)


class DepartmentCategoryInline(ScopedInlineMixin, admin.TabularInline):
    """The department's duty list (权责清单): the types of matter it answers for, read-only here."""

    model = CategoryType.departments.through
    fk_name = "department"
    fields = ("category_code", "category_name", "category_class")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    verbose_name = _("责任事项")
    verbose_name_plural = _("权责清单（责任事项，在“事项类型”中维护）")

    def can_edit(self, request: HttpRequest, obj: Any) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("categorytype__category_class")

    @admin.display(description=_("事项编码"))
    def category_code(self, obj: Any) -> str:
        return str(obj.categorytype.code)

    @admin.display(description=_("事项名称"))
    def category_name(self, obj: Any) -> str:
        return str(obj.categorytype.name)

    @admin.display(description=_("分类"))
    def category_class(self, obj: Any) -> str:
        return str(obj.categorytype.category_class)


class DepartmentWithDutiesAdmin(DepartmentAdmin):
    """The department admin (alleys) with its duty list in front: the list lives with the categories."""

    inlines = [DepartmentCategoryInline, *DepartmentAdmin.inlines]


admin.site.unregister(Department)
admin.site.register(Department, DepartmentWithDutiesAdmin)
