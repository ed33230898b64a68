"""DRF throttles that count clients by the project's one address rule (``core.client``).

DRF's own ``get_ident`` believes ``X-Forwarded-For`` whenever ``NUM_PROXIES`` is unset, so a new
header value per request would be a new budget; ``get_ident`` is the documented hook to change that.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.throttling import AnonRateThrottle

from core.client import client_address


class ClientAddressAnonThrottle(AnonRateThrottle):
    """``AnonRateThrottle`` keyed by ``core.client.client_address``."""

    def get_ident(self, request: Any) -> str:
        return client_address(request)


class LoginLockedOut(exceptions.APIException):
    """Too many failed logins for this account or from this address (django-axes' lockout)."""

    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_detail = _("登录失败次数过多，该账号或地址已被暂时锁定，请稍后再试或联系管理员解锁。")
    default_code = "locked_out"
