"""Admin of joint meetings and standing mechanisms: scoped and read-only.

Meetings are planned, held and decided on the staff pages (or the API), which call the services
of ``issues.workflow.meetings``; a decision may whistle a case, so nothing here writes them.
Files are linked to the permission-checked staff views, never to a media URL. The module is
for the units that convene meetings (community, street, organisation departments); alley teams
and departments read the meetings and mechanisms they may see on the staff pages.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from alleys.admin import ScopedAdminMixin
from alleys.choices import Role

from .admin import ReadOnlyInlineMixin
from .models import AgendaItem, JointMeeting, MechanismReview, MeetingAttachment, StandingMechanism


class _ReadOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Scoped by the model's ``visible_to``; no adding, changing or deleting here."""

    view_roles = frozenset({Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISTRICT_ORG, Role.CITY_ORG})

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AgendaItemInline(ReadOnlyInlineMixin, admin.TabularInline):
    """The meeting's agenda and its decisions."""

    model = AgendaItem
    fields = ("position", "case", "common_issue", "grounds", "state", "decision", "assignments", "decided_at")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ("position", "id")


class MeetingAttachmentInline(ReadOnlyInlineMixin, admin.TabularInline):
    """The meeting's files, downloaded through the staff view."""

    model = MeetingAttachment
    fields = ("download", "content_type", "size", "uploaded_at")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False

    @admin.display(description=_("文件"))
    def download(self, obj: MeetingAttachment) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("staff:meeting-attachment", kwargs={"pk": obj.pk}), obj.name
        )


@admin.register(JointMeeting)
class JointMeetingAdmin(_ReadOnlyAdmin):
    """Joint meetings the user may see, with their agendas, decisions and files."""

    list_display = ("title", "area", "date", "state")
    list_filter = ("state", "area__level")
    search_fields = ("title",)
    list_select_related = ("area",)
    date_hierarchy = "date"
    fields = (
        "title",
        "area",
        "date",
        "state",
        "present_departments",
        "present_areas",
        "attendees",
        "minutes",
    )
    readonly_fields = fields
    inlines = (AgendaItemInline, MeetingAttachmentInline)


class MechanismReviewInline(ReadOnlyInlineMixin, admin.TabularInline):
    """The mechanism's review dates and reviews."""

    model = MechanismReview
    fields = ("due_on", "reminded_at", "done_at", "note")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(StandingMechanism)
class StandingMechanismAdmin(_ReadOnlyAdmin):
    """Standing mechanisms of the user's territory and departments."""

    list_display = ("title", "owner_department", "area", "document_number", "is_active")
    list_filter = ("is_active",)
    search_fields = ("title", "document_title", "document_number")
    list_select_related = ("owner_department", "area")
    fields = (
        "title",
        "description",
        "area",
        "category_type",
        "category_class",
        "owner_department",
        "cooperating_departments",
        "document_title",
        "document_number",
        "document_link",
        "common_issue",
        "decision",
        "is_active",
        "created_at",
    )
    readonly_fields = fields
    inlines = (MechanismReviewInline,)

    @admin.display(description=_("文件"))
    def document_link(self, obj: StandingMechanism) -> str:
        if not obj.document:
            return "-"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("staff:mechanism-document", kwargs={"pk": obj.pk}),
            obj.document_name,
        )
