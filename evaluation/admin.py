"""Admin for evaluations, surveys, the annual assessment, the rate weights and the export log.

Evaluations, survey answers, assessment changes and exports are records made through the
pages (evaluation.services), so here they are read-only. An approved (frozen) annual
assessment cannot be changed or deleted by anyone; a draft's scores change only through
the adjustment service, which writes the audit trail. The composite weights are the one
editable setting (superusers only; organisation departments may read them).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from alleys.admin import ScopedAdminMixin, ScopedInlineMixin
from alleys.choices import Role
from alleys.permissions import ANY_ROLE, ORG_ROLES

from .models import (
    AnnualAssessment,
    AssessmentEvent,
    AssessmentLine,
    DepartmentEvaluation,
    ExportLog,
    RateWeights,
    RollupState,
    Survey,
    SurveyAnswer,
)

# Departments read their evaluations on the 一哨一考核 page; the admin is for the territory's staff.
EVALUATION_ROLES = frozenset({Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISTRICT_ORG, Role.CITY_ORG})


class RecordAdminMixin(ScopedAdminMixin):
    """A record made through the pages: visible in scope, never added, edited or deleted here."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(DepartmentEvaluation)
class DepartmentEvaluationAdmin(RecordAdminMixin, admin.ModelAdmin):
    """一哨一考核: what each community said of each department order."""

    view_roles = EVALUATION_ROLES
    list_display = (
        "department",
        "role",
        "community",
        "report_timeliness",
        "plan_quality",
        "work_quality",
        "cooperation",
        "overall_score",
        "evaluated_at",
    )
    list_filter = ("role", "report_timeliness", "evaluated_at")
    search_fields = ("department__name", "community__name", "opinion")
    list_select_related = ("department", "community")
    date_hierarchy = "evaluated_at"


class SurveyAnswerInline(ScopedInlineMixin, admin.TabularInline):
    """The answers (anonymous)."""

    model = SurveyAnswer
    fields = ("respondent_kind", "solved", "satisfaction", "comment", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def can_edit(self, request: HttpRequest, obj: Any) -> bool:
        return False


@admin.register(Survey)
class SurveyAdmin(RecordAdminMixin, admin.ModelAdmin):
    """Satisfaction surveys; opened, extended and closed on the survey pages."""

    view_roles = frozenset({Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISTRICT_ORG, Role.CITY_ORG})
    list_display = ("title", "community", "state", "opened_at", "closes_at")
    list_filter = ("state",)
    search_fields = ("title", "case__tracking_code")
    list_select_related = ("community",)
    exclude = ("token",)
    inlines = [SurveyAnswerInline]


class AssessmentLineInline(ScopedInlineMixin, admin.TabularInline):
    """The departments' lines (scores change only through the adjustment page, with a reason)."""

    model = AssessmentLine
    fields = (
        "department",
        "evaluations",
        "communities",
        "computed_score",
        "adjusted_score",
        "adjustment_reason",
        "rank",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    def can_edit(self, request: HttpRequest, obj: Any) -> bool:
        return False


class AssessmentEventInline(ScopedInlineMixin, admin.TabularInline):
    """The audit trail."""

    model = AssessmentEvent
    fields = ("at", "kind", "department_name", "old_score", "new_score", "reason", "actor")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def can_edit(self, request: HttpRequest, obj: Any) -> bool:
        return False


@admin.register(AnnualAssessment)
class AnnualAssessmentAdmin(RecordAdminMixin, admin.ModelAdmin):
    """The streets' annual proposals; frozen once approved (no change, no delete, for anyone)."""

    view_roles = frozenset({Role.STREET_STAFF, Role.DISTRICT_ORG, Role.CITY_ORG})
    list_display = ("street", "year", "state", "computed_at", "approved_at")
    list_filter = ("year", "state")
    list_select_related = ("street",)
    readonly_fields = ("street", "year", "state", "computed_at", "submitted_at", "approved_by", "approved_at")
    inlines = [AssessmentLineInline, AssessmentEventInline]

    def get_actions(self, request: HttpRequest) -> Any:
        # No bulk delete: a frozen result must not disappear through the changelist.
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


@admin.register(RateWeights)
class RateWeightsAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """The composite score's weights (response / resolution / satisfaction)."""

    scoped = False
    view_roles = ORG_ROLES
    list_display = ("__str__", "response", "resolution", "satisfaction", "updated_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and not RateWeights.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ExportLog)
class ExportLogAdmin(RecordAdminMixin, admin.ModelAdmin):
    """Who exported what (superusers see everyone's, others their own)."""

    view_roles = ANY_ROLE
    list_display = ("at", "user", "title", "fmt", "rows")
    list_filter = ("fmt", "what")
    list_select_related = ("user",)
    date_hierarchy = "at"

    def scope_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset if request.user.is_superuser else queryset.filter(user_id=request.user.pk)


@admin.register(RollupState)
class RollupStateAdmin(RecordAdminMixin, admin.ModelAdmin):
    """When the dashboards' figures were last refreshed (every minute; `refresh_rollups --full` rebuilds)."""

    scoped = False
    view_roles = ORG_ROLES
    list_display = ("key", "refreshed_at", "full_at", "last_changed", "last_duration_ms")
    exclude = ("marks",)
