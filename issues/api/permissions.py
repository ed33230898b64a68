"""Who may call the API at all; what they may touch is decided by querysets and the services.

Reads are narrowed by ``visible_to(user)`` (out of scope is 404); writes call the
state machine and order services, which check role and territory themselves and
raise ``TransitionForbidden`` (403). Patrol logging, plain CRUD with no service, asks
``issues.patrols`` as the staff pages do. No rule lives here.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from issues.models import ApiClient


class IsActiveUser(BasePermission):
    """An authenticated, active account (a staff member, or an integration's service user).

    An integration client marked read-only (``can_write`` off) may only read.
    """

    message = _("该对接客户端只有查询权限。")

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        client = request.auth
        if isinstance(client, ApiClient) and not client.can_write:
            return request.method in SAFE_METHODS
        return True
