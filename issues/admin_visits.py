"""Admin of the departments' visits to the whistling communities (报到到场) and of consultations before dispatch.

Both are records the state machine writes (``issues.workflow.attendance``,
``issues.workflow.consultations``): read-only here, scoped like their orders and cases, for
the organisation departments that supervise them. Everyone else works with them on the staff
pages (the order page, the dispatch page, the consultations list).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from alleys.permissions import ORG_ROLES

from .admin_notifications import ReadOnlyMixin
from .models import Attendance, Consultation


@admin.register(Attendance)
class AttendanceAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """The visits departments announced in their reports and what the communities recorded of them."""

    list_display = ("order", "department", "planned_at", "state", "attended_at", "community", "decided_at")
    list_filter = ("state",)
    search_fields = ("order__department__name", "order__case__tracking_code")
    list_select_related = ("order__department", "community")
    date_hierarchy = "planned_at"
    view_roles = ORG_ROLES

    @admin.display(description=_("承办部门"), ordering="order__department__name")
    def department(self, obj: Attendance) -> Any:
        return obj.order.department


@admin.register(Consultation)
class ConsultationAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """Opinions asked of the proposed departments before a dispatch, and their answers."""

    list_display = (
        "case",
        "department",
        "asked_at",
        "answer_due",
        "state",
        "opinion",
        "answered_at",
        "order",
    )
    list_filter = ("state", "opinion")
    search_fields = ("case__tracking_code", "department__name", "answer")
    list_select_related = ("case", "department", "order")
    date_hierarchy = "asked_at"
    view_roles = ORG_ROLES
