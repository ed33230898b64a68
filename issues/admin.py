"""Admin of the issues app.

The taxonomy admin lives in its own module (owned with the territory admin); the
case admin is added here. Importing the module registers its ModelAdmins.

The case admin is a scoped, read-mostly view: states, tiers and deadlines change only
through the state machine (``issues.workflow``), here by the admin actions "accept",
"supervise" and "chase"; the timeline and photos are shown, never edited. Residents'
phone numbers are masked in the list and shown in full only to those handling a case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alleys.admin import ScopedAdminMixin, ScopedInlineMixin, request_scope
from alleys.choices import HOLDER_ROLES
from alleys.permissions import MANAGER_ROLES
from dispatch.chain import unit_label

from . import admin_apiclients, admin_notifications, admin_visits  # noqa: F401 (register their admins)
from .deadline_state import case_due, overdue_q
from .models import Case, CaseEvent, CasePhoto, ReturnVisit
from .privacy import handles_case, mask_name, mask_phone
from .workflow import TransitionError, case_accept, case_chase, case_supervise, is_holder

# Everyone who can hold a case at some tier may edit the wording of the cases they hold.
CASE_EDITOR_ROLES: frozenset[str] = frozenset().union(*HOLDER_ROLES.values())
# Plain facts a holder may correct; everything else is written by the state machine.
EDITABLE_FIELDS = ("description", "address_detail", "latitude", "longitude")
STATE_FIELDS = (
    "tracking_code",
    "source",
    "category",
    "alley",
    "urgency",
    "state",
    "tier",
    "holder_area",
    "lead_department",
    "tier_entered_at",
    "accept_due",
    "resolve_due",
    "escalation_due",
    "warn_at",
    "deadline_provisional",
    "supervised",
    "chase_count",
    "merged_into",
    "rejection_reason",
    "resolved_tier",
    "reopen_count",
    "feedback_round",
    "patrol",
    "created_by",
    "created_at",
    "accepted_at",
    "resolved_at",
    "verified_at",
    "closed_at",
)
# The case's light as a class of static/css/admin.css (the CSP allows no inline style).
LIGHT_CLASSES = {"grey", "yellow", "green", "orange", "done"}


class ReadOnlyInlineMixin(ScopedInlineMixin):
    """Rows shown with their case and never edited here (the services write them)."""

    def can_edit(self, request: HttpRequest, obj: Any) -> bool:
        return False


class CaseEventInline(ReadOnlyInlineMixin, admin.TabularInline):
    """The case's timeline: immutable, read-only."""

    model = CaseEvent
    fields = ("at", "kind", "actor_label", "actor_name", "state_change", "tier_change", "note", "public")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ("at", "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("actor__staff_profile")

    @admin.display(description=_("操作人"))
    def actor_name(self, obj: CaseEvent) -> str:
        if obj.actor is None:
            return ""
        profile = getattr(obj.actor, "staff_profile", None)
        return profile.full_name if profile is not None else obj.actor.get_username()

    @admin.display(description=_("状态"))
    def state_change(self, obj: CaseEvent) -> str:
        if not obj.from_state:
            return ""
        return f"{obj.get_from_state_display()} → {obj.get_to_state_display()}"

    @admin.display(description=_("层级"))
    def tier_change(self, obj: CaseEvent) -> str:
        if not obj.from_tier:
            return ""
        return f"{obj.get_from_tier_display()} → {obj.get_to_tier_display()}"


class CasePhotoInline(ReadOnlyInlineMixin, admin.TabularInline):
    """The case's photos, served through the permission-checked staff view."""

    model = CasePhoto
    fields = ("preview", "kind", "state", "is_public", "created_at")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False

    @admin.display(description=_("照片"))
    def preview(self, obj: CasePhoto) -> str:
        if not obj.is_processed:
            return obj.failure or obj.get_state_display()
        url = reverse("staff:photo", kwargs={"pk": obj.pk})
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="{}" height="80" loading="lazy"></a>',
            url,
            url,
            obj.get_kind_display(),
        )


def _person(user: Any) -> str:
    profile = getattr(user, "staff_profile", None)
    return profile.full_name if profile is not None else user.get_username()


class ReturnVisitInline(ReadOnlyInlineMixin, admin.TabularInline):
    """The community's return visits of the case: read-only (``case_return_visit`` writes them)."""

    model = ReturnVisit
    fk_name = "case"
    fields = ("round", "channel", "visited_at", "visitor", "reached", "words", "note")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ("visited_at", "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("recorded_by__staff_profile")

    @admin.display(description=_("回访人"))
    def visitor(self, obj: ReturnVisit) -> str:
        return _person(obj.recorded_by)


@admin.register(ReturnVisit)
class ReturnVisitAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Return visits of the cases in the user's territory: a record, never added, edited or deleted here."""

    list_display = ("case_code", "round", "channel", "visited_at", "visitor", "reached")
    list_filter = ("channel", "reached")
    list_select_related = ("case", "recorded_by__staff_profile")
    search_fields = ("=case__tracking_code",)
    search_help_text = _("按查询码查找")
    date_hierarchy = "visited_at"
    fields = ("case", "round", "channel", "visited_at", "visitor", "reached", "words", "note", "recorded_at")
    readonly_fields = fields
    # The list is the communities' record and their supervisors'; a chief or a department sees a
    # case's visits on the case (the inline), as it sees the case.
    view_roles = MANAGER_ROLES

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        return super().get_search_results(request, queryset, search_term.strip().upper())

    @admin.display(description=_("案件"), ordering="case__tracking_code")
    def case_code(self, obj: ReturnVisit) -> str:
        return obj.case.tracking_code

    @admin.display(description=_("回访人"))
    def visitor(self, obj: ReturnVisit) -> str:
        return _person(obj.recorded_by)


class OverdueFilter(admin.SimpleListFilter):
    """Cases past their governing deadline (``issues.deadline_state``)."""

    title = _("是否超期")
    parameter_name = "overdue"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("yes", _("已超期"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() != "yes":
            return queryset
        return queryset.filter(overdue_q(timezone.now()))


@admin.register(Case)
class CaseAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Cases in the user's territory (or with an order for their department); changes go through services."""

    list_display = (
        "tracking_code",
        "category_name",
        "alley",
        "state_light",
        "holder",
        "deadline",
        "reporter_phone_masked",
    )
    list_filter = (
        "state",
        "tier",
        OverdueFilter,
        "supervised",
        "source",
        "urgency",
        "category__category_class",
    )
    search_fields = ("=tracking_code",)
    search_help_text = _("按查询码查找")
    list_select_related = ("category", "alley", "holder_area", "lead_department")
    date_hierarchy = "created_at"
    list_per_page = 50
    inlines = (CaseEventInline, ReturnVisitInline, CasePhotoInline)
    actions = ("accept_selected", "supervise_selected", "chase_selected")
    manage_roles = CASE_EDITOR_ROLES

    # --- who may do what -----------------------------------------------------------------
    def has_add_permission(self, request: HttpRequest) -> bool:
        # Cases come in through the resident form, the staff intake page and the API (case_submit).
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The case and its timeline are the audit trail.
        return False

    def can_manage(self, request: HttpRequest, obj: Any) -> bool:
        return is_holder(request_scope(request), obj)

    # --- the change form -----------------------------------------------------------------
    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        handler = obj is not None and handles_case(request.user, obj)
        reporter = ("reporter_name", "reporter_phone", "consent_at") if handler else ("reporter_masked",)
        what = ("description", "address_detail", ("latitude", "longitude")) if handler else ("description",)
        return (
            (None, {"fields": ("tracking_code", "source", "category", "alley", *what, "urgency", "patrol")}),
            (_("反映人"), {"fields": reporter}),
            (
                _("办理状态（只能通过办理操作改变）"),
                {
                    "fields": (
                        ("state", "tier", "holder_area"),
                        "lead_department",
                        ("accept_due", "resolve_due", "escalation_due"),
                        ("supervised", "chase_count", "reopen_count"),
                        "merged_into",
                        "rejection_reason",
                    )
                },
            ),
            (
                _("时间"),
                {
                    "classes": ("collapse",),
                    "fields": (
                        ("created_at", "accepted_at", "resolved_at", "verified_at", "closed_at"),
                        "created_by",
                    ),
                },
            ),
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = [*STATE_FIELDS, "reporter_masked", "reporter_name", "reporter_phone", "consent_at"]
        if obj is None or not self.has_change_permission(request, obj):
            readonly += list(EDITABLE_FIELDS)
        return readonly

    # --- the list ------------------------------------------------------------------------
    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        # Tracking codes are upper case; people type them as they hear them.
        return super().get_search_results(request, queryset, search_term.strip().upper())

    @admin.display(description=_("事项类型"), ordering="category__code")
    def category_name(self, obj: Case) -> str:
        return str(obj.category.name)

    @admin.display(description=_("状态"), ordering="state")
    def state_light(self, obj: Case) -> str:
        light = obj.light if obj.light in LIGHT_CLASSES else "grey"
        supervised = gettext("督办") if obj.supervised else ""
        # Jilin's orange light by name, as the staff pages show it (awaiting the answer or the visit).
        state = (
            f"{gettext('橘灯')} · {obj.get_state_display()}" if light == "orange" else obj.get_state_display()
        )
        return format_html(
            '<span class="jxt-nowrap"><span class="jxt-light jxt-light-{}"></span> {}</span>'
            ' <strong class="jxt-alert">{}</strong>',
            light,
            state,
            supervised,
        )

    @admin.display(description=_("层级 · 责任单位"), ordering="tier")
    def holder(self, obj: Case) -> str:
        label = f"{obj.get_tier_display()} · {unit_label(obj.tier, obj.holder_area)}"
        if obj.lead_department_id and obj.lead_department is not None:
            return f"{label}（{gettext('牵头')}：{obj.lead_department.name}）"
        return label

    @admin.display(description=_("期限"), ordering="resolve_due")
    def deadline(self, obj: Case) -> str:
        governing = case_due(obj, timezone.now())
        if governing is None:
            return "-"
        due = governing.due
        text = timezone.localtime(due).strftime("%Y-%m-%d %H:%M")
        if governing.is_overdue:
            return format_html(
                '<span class="jxt-nowrap">{}</span> <strong class="jxt-alert">{}</strong>',
                text,
                gettext("已超期"),
            )
        return format_html('<span class="jxt-nowrap">{}</span>', text)

    @admin.display(description=_("反映人电话"))
    def reporter_phone_masked(self, obj: Case) -> str:
        return mask_phone(obj.reporter_phone)

    @admin.display(description=_("反映人"))
    def reporter_masked(self, obj: Case) -> str:
        name, phone = mask_name(obj.reporter_name), mask_phone(obj.reporter_phone)
        return " ".join(part for part in (name, phone) if part) or "-"

    # --- actions: each calls the state machine, one case at a time --------------------------
    def _run(
        self,
        request: HttpRequest,
        queryset: QuerySet[Any],
        service: Callable[..., Any],
        done_message: str,
    ) -> None:
        done = 0
        for pk, code in queryset.values_list("pk", "tracking_code"):
            try:
                service(case=pk, actor=request.user)
            except TransitionError as exc:
                self.message_user(request, f"{code}：{exc.message}", messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"n": done}, messages.SUCCESS)

    @admin.action(description=_("受理所选案件"))
    def accept_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._run(request, queryset, case_accept, gettext("已受理 %(n)d 件案件。"))

    @admin.action(description=_("督办所选案件"))
    def supervise_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._run(request, queryset, case_supervise, gettext("已督办 %(n)d 件案件。"))

    @admin.action(description=_("催办所选案件"))
    def chase_selected(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        self._run(request, queryset, case_chase, gettext("已催办 %(n)d 件案件。"))


# Registered after the case admin: it reuses ReadOnlyInlineMixin from here.
from . import admin_meetings  # noqa: E402, F401
