"""The absolute limit of a staff session: signed out a fixed time after the login, busy or not.

The idle limit is Django's own (``SESSION_COOKIE_AGE`` renewed by ``SESSION_SAVE_EVERY_REQUEST``);
this adds the other half: the login's time is kept in the session (``stamp_login``, on
``user_logged_in``), and a request that comes ``JXT_SESSION_MAX_AGE`` seconds after it finds
itself signed out, so a stolen or forgotten session does not live for ever by being used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

LOGIN_AT = "jxt_login_at"


def stamp_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_in`` receiver: remember when this session signed in."""
    if request is not None and hasattr(request, "session"):
        request.session[LOGIN_AT] = timezone.now().timestamp()


class SessionLifetimeMiddleware:
    """Signs a session out ``JXT_SESSION_MAX_AGE`` seconds after its login (after AuthenticationMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = timezone.now().timestamp()
            started = request.session.get(LOGIN_AT)
            if not isinstance(started, int | float):
                # A session from before this rule (or a login that bypassed the signal): count from now.
                request.session[LOGIN_AT] = now
            elif now - started > settings.JXT_SESSION_MAX_AGE:
                logout(request)
                messages.info(request, _("为保护账号安全，登录时间已满上限，请重新登录。"))
        return self.get_response(request)
