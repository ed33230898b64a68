"""Response headers every page needs and Django has no setting for.

Django's ``SecurityMiddleware`` sends ``X-Content-Type-Options``, ``Referrer-Policy`` and
HSTS, ``XFrameOptionsMiddleware`` sends ``X-Frame-Options`` and django-csp sends the
Content-Security-Policy (all configured in ``config/settings.py``). What is left is here:
``Permissions-Policy`` and ``Cache-Control: no-store`` on responses that carry personal data.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase, HttpResponseRedirect
from django.templatetags.static import static
from django.utils.cache import add_never_cache_headers


def _is_private(request: HttpRequest) -> bool:
    """Whether the response may carry personal data that a shared browser or proxy must not keep.

    Every staff page, dashboard and export (and the admin) is private; the API and Open311
    are private when the caller identified itself (a session, a token or an ``api_key``),
    since the answer then includes what only that caller may see, and for every write (its
    answer names the new case; the body is not read here, it belongs to the view).
    """
    path = request.path_info
    if path.startswith(tuple(settings.JXT_NO_STORE_PREFIXES)):
        return True
    if path.startswith(("/api/", "/open311/")):
        user = getattr(request, "user", None)
        return bool(
            (user is not None and user.is_authenticated)
            or request.headers.get("Authorization")
            or request.GET.get("api_key")
            or request.method not in ("GET", "HEAD", "OPTIONS")
        )
    return False


def browser_protections(get_response: Callable[[HttpRequest], HttpResponseBase]) -> Callable:
    """Adds ``Permissions-Policy`` to every response and ``no-store`` to private ones."""

    policy = settings.JXT_PERMISSIONS_POLICY

    def middleware(request: HttpRequest) -> HttpResponseBase:
        response = get_response(request)
        if policy and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = policy
        if _is_private(request):
            add_never_cache_headers(response)
        return response

    return middleware


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """``/favicon.ico``, which browsers ask for by themselves: the site's SVG icon, not a 404 in the log.

    Every page links the icon (``<link rel="icon">``); this is for the automatic request only.
    Resolved per request: the static file's name carries its hash once collected.
    """
    return HttpResponseRedirect(static("favicon.svg"))
