"""Admin for deadline policies, order settings and the business calendar.

Deadline policies, order settings and the calendar decide every case's clock, so
only superusers edit them; organisation departments may read them. A whole year's
arrangement is entered on one page (CalendarYear's list, "录入全年放假安排").
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alleys.admin import ScopedAdminMixin
from alleys.permissions import ORG_ROLES

from . import admin_categories  # noqa: F401 (registers the category admins)
from .calendar import calendar_year_replace, predicted_holidays, unofficial_years
from .choices import CalendarDayKind
from .forms import CalendarArrangementForm, format_day_lines
from .models import CalendarDay, CalendarYear, DeadlinePolicy, OrderSettings


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
