"""Admin of 双报到: work units' Party organisations are managed here; registrations, needs, claims and
service-team requests are read-only (every write goes through ``members/services.py`` on the staff pages
or the API). Phones are not listed: the staff page shows them to the home community only."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from alleys.admin import ScopedAdminMixin
from alleys.choices import Role

from .models import READER_ROLES, Claim, PartyOrganization, Registration, ServiceNeed, TeamMembership


@admin.register(PartyOrganization)
class PartyOrganizationAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Work units' Party organisations and their contacts; the organisation departments keep the list."""

    view_roles = READER_ROLES
    manage_roles = frozenset({Role.DISTRICT_ORG, Role.CITY_ORG})
    list_display = ("name", "department", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name",)
    autocomplete_fields = ("department",)
    filter_horizontal = ("contacts",)


class ReadOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Scoped by the model's ``visible_to``; nothing added, changed or deleted here."""

    view_roles = READER_ROLES

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Registration)
class RegistrationAdmin(ReadOnlyAdmin):
    """Members' registrations (read-only; the phone is left out)."""

    list_display = ("full_name", "organization", "community", "alley", "state", "registered_at")
    list_filter = ("state",)
    list_select_related = ("organization", "community", "alley")
    search_fields = ("full_name", "community__name", "organization__name")
    exclude = ("phone",)


@admin.register(ServiceNeed)
class ServiceNeedAdmin(ReadOnlyAdmin):
    """The communities' service needs (read-only)."""

    list_display = ("title", "kind", "community", "places", "state", "posted_at")
    list_filter = ("state", "kind")
    list_select_related = ("community",)
    search_fields = ("title", "community__name")


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    """Claims and recorded service (read-only)."""

    list_display = ("need", "registration", "state", "hours", "claimed_at", "confirmed_at")
    list_filter = ("state",)
    list_select_related = ("need", "registration")
    exclude = ("photo",)


@admin.register(TeamMembership)
class TeamMembershipAdmin(ReadOnlyAdmin):
    """Requests to join alley service teams (read-only)."""

    list_display = ("registration", "alley", "service_kind", "state", "requested_at")
    list_filter = ("state",)
    list_select_related = ("registration", "alley")
