"""The supervision list in the admin, read-only: commitments are kept on the staff pages, ballots by residents.

The ballots' phone digests are not shown; the comments are (without anything that identifies a resident).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from alleys.admin import ScopedAdminMixin
from alleys.choices import Role

from .models import Commitment, SupervisionBallot
from .supervision import ballots_visible_to, commitments_visible_to

VIEW_ROLES = frozenset(
    {Role.CHIEF, Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISTRICT_ORG, Role.CITY_ORG}
)


class ReadOnly(ScopedAdminMixin, admin.ModelAdmin):
    view_roles = VIEW_ROLES

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Commitment)
class CommitmentAdmin(ReadOnly):
    list_display = ("alley", "position", "text", "source", "is_active", "updated_at")
    list_filter = ("source", "is_active")
    list_select_related = ("alley",)
    search_fields = ("alley__name", "alley__code", "text")

    def scope_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(pk__in=commitments_visible_to(request.user).values("pk"))


@admin.register(SupervisionBallot)
class SupervisionBallotAdmin(ReadOnly):
    list_display = ("alley", "quarter", "cast_at", "comment")
    list_filter = ("quarter",)
    list_select_related = ("alley",)
    exclude = ("phone_digest",)

    def scope_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(pk__in=ballots_visible_to(request.user).values("pk"))
