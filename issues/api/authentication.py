"""How API callers prove who they are: staff tokens and integration clients' keys.

Staff use their session (the browsable API, the staff site's scripts) or a DRF token
sent as ``Authorization: Token <key>`` (``Bearer <key>`` is accepted too, since most
HTTP clients write that by default). An integration (a hotline system, a mini-program)
sends its client key as ``Authorization: Api-Key <key>`` and acts as the client's
service user, so its roles decide what it sees — the same scoping as for a person.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.db import router
from django.db.models import FilteredRelation, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, TokenAuthentication, get_authorization_header
from rest_framework.authtoken.models import Token
from rest_framework.request import Request

from alleys.scoping import Scope, remember_scope, scope_from_assignments
from issues.models import ApiClient

# Recording every request's time would write a row per call; a few minutes' precision is enough.
LAST_USED_PRECISION = dt.timedelta(minutes=5)


def _credentials(request: Request, keywords: tuple[str, ...]) -> str | None:
    """The credential after one of ``keywords`` in the Authorization header, or None if another scheme."""
    parts = get_authorization_header(request).split()
    if not parts or parts[0].decode("latin-1").lower() not in keywords:
        return None
    if len(parts) != 2:
        raise exceptions.AuthenticationFailed(_("Authorization 头格式错误：应为“<类型> <密钥>”。"))
    try:
        return parts[1].decode()
    except UnicodeError as exc:
        raise exceptions.AuthenticationFailed(_("密钥中含有无效字符。")) from exc


class StaffTokenAuthentication(TokenAuthentication):
    """A staff user's DRF token, as ``Token <key>`` or ``Bearer <key>``."""

    keyword = "Token"
    keywords = ("token", "bearer")

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        key = _credentials(request, self.keywords)
        if key is None:
            return None
        return self.authenticate_credentials(key)

    def authenticate_credentials(self, key: str) -> tuple[Any, Any]:
        """DRF's token check (same answers), reading the token, its user and the user's scope in one query.

        Nothing is kept between requests but the statement: a deleted token or a deactivated
        user is refused on the very next request.
        """
        rows = list(_token_with_scope(key))
        if not rows:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user_model = get_user_model()
        database = router.db_for_read(Token)
        first = rows[0]
        user = user_model.from_db(database, _USER_FIELDS, first[1 : 1 + len(_USER_FIELDS)])
        token = Token.from_db(database, ["key", "user_id", "created"], [key, user.pk, first[0]])
        token.user = user
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        if user.is_superuser:
            scope = Scope(is_global=True)
        else:
            # One row per active assignment (one row of NULLs without any): what scope_for would read.
            scope = scope_from_assignments(row[-3:] for row in rows if row[-3] is not None)
        remember_scope(user, scope)
        return user, token


_USER_FIELDS = [f.attname for f in get_user_model()._meta.concrete_fields]


def _token_with_scope(key: str) -> QuerySet[Any, Any]:
    """The token's creation time, its user's columns, then (role, area code, department id) per active role.

    Ordered like ``RoleAssignment.Meta.ordering``, so the scope is the one ``scope_for`` computes.
    """
    return (
        Token.objects.filter(key=key)
        .annotate(active_role=FilteredRelation("user__roles", condition=Q(user__roles__is_active=True)))
        .values_list(
            "created",
            *(f"user__{name}" for name in _USER_FIELDS),
            "active_role__role",
            "active_role__area__code",
            "active_role__department_id",
        )
        .order_by("active_role__area__code", "active_role__role")
    )


class ApiKeyAuthentication(BaseAuthentication):
    """An integration client's key, as ``Api-Key <key>``; the request acts as the client's service user."""

    keyword = "Api-Key"

    def authenticate(self, request: Request) -> tuple[Any, ApiClient] | None:
        raw = _credentials(request, (self.keyword.lower(),))
        if raw is None:
            return None
        client = ApiClient.authenticate(raw)
        if client is None:
            raise exceptions.AuthenticationFailed(_("API 密钥无效或已停用。"))
        user = client.service_user
        if user is None:
            # Without a service user there is no role to scope the client by; Open311 uses the area instead.
            raise exceptions.AuthenticationFailed(_("该对接客户端没有配置服务账号，不能使用 REST 接口。"))
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("该对接客户端的服务账号已停用。"))
        touch_client(client)
        return user, client

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


def touch_client(client: ApiClient, *, now: dt.datetime | None = None) -> None:
    """Record that the client was used (at most one write every few minutes)."""
    now = now or timezone.now()
    if client.last_used_at is None or now - client.last_used_at > LAST_USED_PRECISION:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now


class ApiKeyScheme(OpenApiAuthenticationExtension):
    """Documents ``Api-Key`` in the OpenAPI schema."""

    target_class = "issues.api.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "对接客户端密钥：`Api-Key <key>`",
        }


class StaffTokenScheme(OpenApiAuthenticationExtension):
    """Documents ``Token``/``Bearer`` staff tokens in the OpenAPI schema."""

    target_class = "issues.api.authentication.StaffTokenAuthentication"
    name = "tokenAuth"
    priority = 1  # above drf-spectacular's own TokenAuthentication extension, which matches subclasses

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "工作人员令牌：`Token <key>` 或 `Bearer <key>`",
        }
