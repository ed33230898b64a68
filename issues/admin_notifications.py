"""Admin for notification channels, system alerts, the inbox, deliveries and the outbox.

Messages and deliveries are records of what happened and are read-only.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alleys.admin import ScopedAdminMixin, is_superuser, request_scope
from alleys.choices import DEPARTMENT_ROLES
from alleys.permissions import ANY_ROLE, MANAGER_ROLES, ORG_ROLES, manager_codes
from alleys.scoping import Scope

from .models import (
    Notification,
    NotificationChannel,
    NotificationDelivery,
    NotificationOutbox,
    ResidentSms,
    SystemAlert,
)


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


@admin.register(ResidentSms)
class ResidentSmsAdmin(ReadOnlyMixin, admin.ModelAdmin):
    """SMS to residents who asked for them, with attempts and errors (superusers only; no number, no text)."""

    list_display = ("pk", "template", "state", "attempts", "created_at", "next_attempt_at", "sent_at")
    list_filter = ("state", "template")
    search_fields = ("last_error",)
    # The case's tracking code is the resident's key: not listed here.
    exclude = ("case", "event")
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
