"""Admin for integration clients (ApiClient): their area, service account and key.

Only superusers manage clients: a key reaches every case in the client's area. The raw
key is generated on creation (and by the "regenerate" action), shown once in a message
and stored only as a hash, so nobody can read it again — a lost key is replaced.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from alleys.admin import ScopedAdminMixin

from .models import ApiClient


@admin.register(ApiClient)
class ApiClientAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Integration clients (hotline, mini-program, Open311 apps) and their keys."""

    scoped = False
    view_roles = frozenset()  # superusers only
    manage_roles = frozenset()
    list_display = ("name", "area", "service_user", "key_prefix", "can_write", "is_active", "last_used_at")
    list_filter = ("is_active", "can_write")
    list_select_related = ("area", "service_user")
    search_fields = ("name", "contact", "key_prefix")
    raw_id_fields = ("area", "service_user")
    readonly_fields = ("key_prefix", "created_at", "last_used_at")
    fields = (
        "name",
        "area",
        "service_user",
        "can_write",
        "is_active",
        "contact",
        "key_prefix",
        "created_at",
        "last_used_at",
    )
    actions = ["regenerate_key"]

    def save_model(
        self, request: HttpRequest, obj: ApiClient, form: ModelForm[ApiClient], change: bool
    ) -> None:
        raw = obj.set_new_key() if not change or not obj.key_hash else None
        super().save_model(request, obj, form, change)
        if raw is not None:
            show_key_once(request, obj, raw)

    @admin.action(description=gettext_lazy("重新生成密钥（旧密钥立即失效）"), permissions=["change"])
    def regenerate_key(self, request: HttpRequest, queryset: QuerySet[ApiClient]) -> None:
        for client in queryset:
            raw = client.set_new_key()
            client.save(update_fields=["key_prefix", "key_hash"])
            show_key_once(request, client, raw)


def show_key_once(request: HttpRequest, client: ApiClient, raw: str) -> None:
    """The raw key, in a message shown on the next page only; it is not stored anywhere else."""
    messages.warning(
        request,
        format_html(
            "{} <code>{}</code>",
            _("“%(name)s”的 API 密钥只显示这一次，请立即复制并安全地交给对接方：") % {"name": client.name},
            raw,
        ),
    )
