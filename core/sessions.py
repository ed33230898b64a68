"""How long a staff session lives: an idle limit and an absolute limit after the login.

Idle: Django's ``SESSION_COOKIE_AGE`` (the session row's expiry and the cookie's), renewed when
the session is saved. ``SESSION_SAVE_EVERY_REQUEST`` would renew it on every request, at the price
of an ``UPDATE`` of the session row (three statements with its transaction) on every staff page
and API call; here the session is marked modified (Django's documented ``session.modified``) at
most once per ``JXT_SESSION_TOUCH_SECONDS``, so a session ends between ``SESSION_COOKIE_AGE``
minus that and ``SESSION_COOKIE_AGE`` after its last request.

Absolute: the login's time is kept in the session (``stamp_login``, on ``user_logged_in``), and
a request that comes ``JXT_SESSION_MAX_AGE`` seconds after it finds itself signed out, so a
stolen or forgotten session does not live for ever by being used.
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
SEEN_AT = "jxt_seen_at"


def stamp_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """``user_logged_in`` receiver: remember when this session signed in (the login saves the session)."""
    if request is not None and hasattr(request, "session"):
        now = timezone.now().timestamp()
        request.session[LOGIN_AT] = now
        request.session[SEEN_AT] = now


class SessionLifetimeMiddleware:
    """Ends signed-in sessions at their absolute limit and renews their idle limit (after AuthenticationMiddleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            session = request.session
            now = timezone.now().timestamp()
            started = session.get(LOGIN_AT)
            if not isinstance(started, int | float):
                # A session from before this rule (or a login that bypassed the signal): count from now.
                session[LOGIN_AT] = session[SEEN_AT] = now
            elif now - started > settings.JXT_SESSION_MAX_AGE:
                logout(request)
                messages.info(request, _("为保护账号安全，登录时间已满上限，请重新登录。"))
            else:
                seen = session.get(SEEN_AT)
                if not isinstance(seen, int | float) or now - seen >= settings.JXT_SESSION_TOUCH_SECONDS:
                    session[SEEN_AT] = now  # saved with a fresh expiry at the end of this request
        return self.get_response(request)
