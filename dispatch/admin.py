"""Admin for deadlines, the business calendar, notification channels, alerts and the inbox.

Deadline policies, order settings and the calendar decide every case's clock, so
only superusers edit them; organisation departments may read them. A whole year's
arrangement is entered on one page (CalendarYear's list, "录入全年放假安排"). Messages and
deliveries are records of what happened and are read-only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alleys.admin import ScopedAdminMixin, is_superuser, request_scope
from alleys.choices import DEPARTMENT_ROLES
from alleys.permissions import ANY_ROLE, MANAGER_ROLES, ORG_ROLES, manager_codes
from alleys.scoping import Scope

from .calendar import predicted_holidays
from .calendar_watch import calendar_year_replace, unofficial_years
from .choices import CalendarDayKind
from .forms import CalendarArrangementForm, format_day_lines
from .models import (
    CalendarDay,
    CalendarYear,
    DeadlinePolicy,
    Notification,
    NotificationChannel,
    NotificationDelivery,
    NotificationOutbox,
    OrderSettings,
    SystemAlert,
)


class ReadableByOrgMixin(ScopedAdminMixin):
    """A global setting: organisation departments read it, superusers edit it."""

    scoped = False
    view_roles = ORG_ROLES


@admin.register(DeadlinePolicy)
class DeadlinePolicyAdmin(ReadableByOrgMixin, admin.ModelAdmin):
    """Time to accept and to resolve per class and tier."""

    list_display = ("category_class", "tier", "accept_value", "accept_unit", "resolve_value", "resolve_unit")
    list_filter = ("tier", "category_class")
    list_select_related = ("category_class",)


@admin.register(OrderSettings)
class OrderSettingsAdmin(ReadableByOrgMixin, admin.ModelAdmin):
    """The one row of department-order time limits."""

    list_display = ("__str__", "report_days", "complete_days", "verify_days")

    def has_add_permission(self, request: HttpRequest) -> bool:
        # One row only (OrderSettings.current() creates it when missing).
        return super().has_add_permission(request) and not OrderSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CalendarYear)
class CalendarYearAdmin(ReadableByOrgMixin, admin.ModelAdmin):
    """Years whose holidays were entered by hand, and the one-page form that enters a whole year."""

    list_display = ("year", "note")
    search_fields = ("note",)
    change_list_template = "admin/dispatch/calendaryear/change_list.html"

    def get_urls(self) -> list[Any]:
        view = self.admin_site.admin_view(self.arrangement_view)
        return [
            path("arrangement/", view, name="dispatch_calendaryear_arrangement"),
            *super().get_urls(),
        ]

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        extra = {"may_enter_arrangement": self.has_change_permission(request), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)

    def arrangement_view(self, request: HttpRequest) -> HttpResponse:
        """Enter the State Council's arrangement of a year: holidays and make-up workdays on one page."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        if request.method == "POST":
            form = CalendarArrangementForm(request.POST)
            if form.is_valid():
                data = form.cleaned_data
                calendar_year_replace(
                    year=data["year"],
                    note=data["note"],
                    holidays=data["holidays_days"],
                    workdays=data["workdays_days"],
                )
                self.message_user(
                    request,
                    _(
                        "已录入 %(year)d 年的放假安排：%(h)d 天放假，%(w)d 天调休上班。"
                        "涉及该年的“期限待定”已重新计算。"
                    )
                    % {
                        "year": data["year"],
                        "h": len(data["holidays_days"]),
                        "w": len(data["workdays_days"]),
                    },
                    messages.SUCCESS,
                )
                return redirect("admin:dispatch_calendaryear_changelist")
        else:
            form = CalendarArrangementForm(initial=arrangement_initial(_requested_year(request)))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("录入全年放假安排"),
            "form": form,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/dispatch/calendaryear/arrangement.html", context)


def _requested_year(request: HttpRequest) -> int:
    """?year=…, else the first year that is still predicted (next year from November), else next year."""
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = 0
    if 2000 <= year <= 2100:
        return year
    now = timezone.now()
    return next(iter(unofficial_years(now)), timezone.localtime(now).year + 1)


def arrangement_initial(year: int) -> dict[str, Any]:
    """The form's starting point: what is entered for ``year``, else the prediction (no workdays)."""
    entry = CalendarYear.objects.filter(year=year).first()
    days = {d.date: (d.kind, d.name) for d in CalendarDay.objects.filter(date__year=year)}
    if entry is not None or days:
        holidays = {day: name for day, (kind, name) in days.items() if kind == CalendarDayKind.HOLIDAY}
        workdays = {day: name for day, (kind, name) in days.items() if kind == CalendarDayKind.WORKDAY}
    else:
        holidays, workdays = dict(predicted_holidays(year) or {}), {}
    return {
        "year": year,
        "note": entry.note
        if entry is not None
        else _("国务院办公厅关于%(year)d年部分节假日安排的通知") % {"year": year},
        "holidays": format_day_lines(holidays),
        "workdays": "\n".join(f"{day.isoformat()} {name}".strip() for day, name in sorted(workdays.items())),
    }


@admin.register(CalendarDay)
class CalendarDayAdmin(ReadableByOrgMixin, admin.ModelAdmin):
    """Extra holidays and make-up workdays."""

    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    search_fields = ("name",)
    date_hierarchy = "date"


def _channel_q(scope: Scope) -> Q:
    """Channels of the user's units: areas in their territory, their departments, and (for
    organisation departments) the departments of their district or city."""
    q = scope.area_q("area__code") & Q(area__isnull=False)
    if not scope.area_prefixes:
        q = Q(pk__in=[])
    q |= Q(department_id__in=scope.department_ids)
    for code in manager_codes(scope, ORG_ROLES):
        q |= Q(department__area__code__startswith=code)
    return q


@admin.register(NotificationChannel)
class NotificationChannelAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Where a unit's notifications go besides the inbox (email, group-robot webhook)."""

    list_display = ("unit", "kind", "target_display", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("target", "area__name", "department__name")
    list_select_related = ("area", "department")
    autocomplete_fields = ("area", "department")
    view_roles = MANAGER_ROLES | DEPARTMENT_ROLES
    manage_roles = view_roles

    def scope_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # NotificationChannel has no visible_to(); its units decide.
        scope = request_scope(request)
        return queryset if scope.is_global else queryset.filter(_channel_q(scope))

    def can_manage(self, request: HttpRequest, obj: Any) -> bool:
        # Whoever sees a channel is responsible for that unit (their own area, department or
        # the departments an organisation department oversees).
        return True

    def choice_queryset(self, db_field: Any, request: HttpRequest) -> QuerySet[Any] | None:
        scope = request_scope(request)
        queryset = super().choice_queryset(db_field, request)
        if db_field.name == "department" and queryset is not None and not scope.is_global:
            own = Q(pk__in=scope.department_ids)
            for code in manager_codes(scope, ORG_ROLES):
                own |= Q(area__code__startswith=code)
            queryset = queryset.filter(own)
        return queryset

    @admin.display(description=_("单位"))
    def unit(self, obj: NotificationChannel) -> str:
        return str(obj.area or obj.department)

    @admin.display(description=_("地址"))
    def target_display(self, obj: NotificationChannel) -> str:
        # Webhook URLs carry their secret in the path or query; the list shows the host only.
        if obj.target.startswith(("http://", "https://")):
            return f"{urlsplit(obj.target).netloc}/…"
        return obj.target


@admin.register(SystemAlert)
class SystemAlertAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Loud problems for administrators (superusers only)."""

    list_display = ("key", "message", "count", "first_seen", "last_seen", "resolved_at")
    list_filter = (("resolved_at", admin.EmptyFieldListFilter),)
    search_fields = ("key", "message")
    readonly_fields = ("key", "message", "count", "first_seen", "last_seen")
    actions = ["mark_resolved"]
    scoped = False
    view_roles = frozenset()

    @admin.action(description=_("标记为已处理"))
    def mark_resolved(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        count = queryset.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())
        self.message_user(request, _("已处理 %(n)d 条告警。") % {"n": count})


class ReadOnlyMixin(ScopedAdminMixin):
    """A record of what happened: nobody adds, edits or deletes it here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The staff member's own inbox (superusers see every inbox)."""

    list_display = ("title", "kind", "case", "created_at", "read_at")
    list_filter = (("read_at", admin.EmptyFieldListFilter), "kind")
    search_fields = ("title",)
    list_select_related = ("case",)
    actions = ["mark_read"]
    view_roles = ANY_ROLE

    def scope_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset if is_superuser(request) else queryset.filter(recipient_id=request.user.pk)

    def get_list_display(self, request: HttpRequest) -> Any:
        if is_superuser(request):
            return ("title", "recipient", "kind", "case", "created_at", "read_at")
        return self.list_display

    @admin.action(description=_("标为已读"))
    def mark_read(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        # Only one's own messages, even for a superuser looking at everyone's.
        count = queryset.filter(recipient_id=request.user.pk, read_at__isnull=True).update(
            read_at=timezone.now()
        )
        self.message_user(request, _("已将 %(n)d 条消息标为已读。") % {"n": count})


@admin.register(NotificationDelivery)
class NotificationDeliveryAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Sends through email and webhooks, with attempts and errors (superusers only)."""

    list_display = (
        "title",
        "channel",
        "kind",
        "state",
        "attempts",
        "created_at",
        "next_attempt_at",
        "sent_at",
    )
    list_filter = ("state", "kind")
    search_fields = ("title", "last_error")
    list_select_related = ("channel__area", "channel__department")
    scoped = False
    view_roles = frozenset()


@admin.register(NotificationOutbox)
class NotificationOutboxAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Fan-outs not done yet: normally empty within seconds; rows that stay say the worker is behind or down."""

    list_display = ("pk", "event_count", "created_at", "attempts", "next_attempt_at")
    ordering = ("next_attempt_at", "pk")
    scoped = False
    view_roles = frozenset()

    @admin.display(description=_("事件数"))
    def event_count(self, obj: NotificationOutbox) -> int:
        return len(obj.event_ids or [])
