"""The error pages (400, 403, 404, 429, 500, CSRF) in the visitor's language, with the reason.

Django's own handlers show bare English pages once DEBUG is off and drop the reason a view
gave (``PermissionDenied("该区域不在您的辖区内。")``). These keep it, offer a way back, and
wear the staff look under the staff prefixes and the residents' look everywhere else.
Wired as ``handler400`` … ``handler500`` in ``config/urls.py``, ``CSRF_FAILURE_VIEW`` and
``RATELIMIT_VIEW`` in settings.

Under ``/api/`` the same errors answer the API's one JSON error shape (``core.api.errors``), as
its schema says: a URL no route matches (``/api/v1/cases/1.5/``) is a 404 a program can read,
not a page.
"""

from __future__ import annotations

import re

from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware import csrf
from django.shortcuts import render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django_ratelimit.exceptions import Ratelimited
from rest_framework import exceptions

from .api.errors import error_body

API_PREFIX = "/api/"
STAFF_PREFIXES = ("/staff/", "/dashboard/", "/admin/")

# Http404 messages written for developers (get_object_or_404's) are not shown to users.
_DEVELOPER_404 = re.compile(r"^No .+ matches the given query\.?$")


def _is_staff_path(request: HttpRequest) -> bool:
    return request.path_info.startswith(STAFF_PREFIXES)


def _page(request: HttpRequest, status: int, title: str, reason: str = "") -> HttpResponse:
    if request.path_info.startswith(API_PREFIX):
        return _api_error(status, reason or title)
    staff = _is_staff_path(request)
    context = {
        "status": status,
        "title": title,
        "reason": reason,
        "base_template": "staff/base.html" if staff else "public/base.html",
        "staff": staff,
        "back": _back(request),
    }
    return render(request, f"{status}.html", context, status=status)


# The codes DRF's exceptions give the same statuses inside a view (core.api.errors keeps them).
_API_CODES = {
    400: exceptions.ParseError.default_code,
    403: exceptions.PermissionDenied.default_code,
    404: exceptions.NotFound.default_code,
    429: exceptions.Throttled.default_code,
    500: exceptions.APIException.default_code,
}


def _api_error(status: int, message: str) -> HttpResponse:
    return JsonResponse(error_body(_API_CODES[status], message), status=status)


def _back(request: HttpRequest) -> str:
    """The page the visitor came from, when it is one of ours (never a link to another site)."""
    referer = request.headers.get("Referer", "")
    try:
        host = request.get_host()
    except DisallowedHost:  # the 400 for a bad Host header: no link at all
        return ""
    if referer and url_has_allowed_host_and_scheme(
        referer, allowed_hosts={host}, require_https=request.is_secure()
    ):
        return referer
    return ""


def _reason(exception: Exception | None) -> str:
    """The message a view gave its exception, if it gave one meant for people."""
    if exception is None or not exception.args or not isinstance(exception.args[0], str):
        return ""
    message = str(exception.args[0])
    return "" if _DEVELOPER_404.match(message) else message


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """400: the request could not be understood; SuspiciousOperation's text is for the log only."""
    return _page(request, 400, _("请求有误"))


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """403 with the view's reason; django-ratelimit's refusal (a PermissionDenied) is a 429."""
    if isinstance(exception, Ratelimited):
        return too_many_requests(request, exception)
    return _page(request, 403, _("没有权限"), _reason(exception))


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """404 with the view's reason when it gave one for people."""
    if request.path_info.startswith(API_PREFIX):
        # Worded like a view's own 404 (DRF's NotFound), so a program sees one answer for both.
        return _api_error(404, _reason(exception) or str(exceptions.NotFound.default_detail))
    return _page(request, 404, _("页面不存在"), _reason(exception))


def too_many_requests(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """429: django-ratelimit refused the request."""
    return _page(request, 429, _("操作太频繁了"))


def server_error(request: HttpRequest) -> HttpResponse:
    """500, rendered without a request context: no database query, no context processor,
    so it renders even when the database is what failed."""
    if request.path_info.startswith(API_PREFIX):
        return _api_error(500, _("系统出错了"))
    staff = _is_staff_path(request)
    html = loader.get_template("500.html").render({"staff": staff, "status": 500})
    return HttpResponse(html, status=500)


# Django's public CSRF reasons (django.middleware.csrf.REASON_*), said for people.
_CSRF_ORIGIN_REASONS = (csrf.REASON_BAD_ORIGIN.split(" - ")[0], csrf.REASON_NO_REFERER.split(" - ")[0])


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """403 for a form whose CSRF check failed, saying what to do about it."""
    if reason == csrf.REASON_NO_CSRF_COOKIE:
        said = _("浏览器没有保存本站的 Cookie。请允许本站使用 Cookie，刷新页面后重新提交。")
    elif reason.startswith(_CSRF_ORIGIN_REASONS):
        said = _("请求不是从本站页面发出的。请回到本站页面重新提交。")
    else:
        said = _("页面已过期。请刷新页面后重新提交；您填写的内容可能需要重新输入。")
    return _page(request, 403, _("无法提交表单"), said)
