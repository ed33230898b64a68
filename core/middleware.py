"""The text boundary (``core.text``) applied to every request and every HTML or XML response.

Before any view runs, path parameters, the query string and a form body (urlencoded, or multipart
unless the view reads its own body: ``reads_own_body``) are checked: a NUL is refused with 400 in
the view's own error shape (the API's error body, Open311's error array through the view's
``text_refusal``, otherwise a short Chinese page), and the other characters XML 1.0 forbids are
removed from ``request.GET`` / ``request.POST``. Django forms (residents', staff, admin), the
API's query parameters and filters, and Open311 all read those, so none re-implements the rule.
JSON bodies are the API parsers' (``core.api.parsers``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.utils.html import format_html
from django.utils.translation import gettext as _
from rest_framework.views import APIView

from .api.errors import error_body
from .text import NUL_MESSAGE, has_nul, strip_forbidden, strip_response

FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
CLEANED_TYPES = ("text/html", "text/xml", "application/xml")

ViewFunc = TypeVar("ViewFunc", bound=Callable[..., Any])


def reads_own_body(view: ViewFunc) -> ViewFunc:
    """Marks a view that reads its form body itself (its own upload handlers, its own words for a body
    too big), so the boundary must not read it first; the view calls ``clean_request_body`` after."""
    view.reads_own_body = True  # type: ignore[attr-defined]
    return view


def _nul_key(params: QueryDict) -> str | None:
    for key, values in params.lists():
        if has_nul(key) or any(isinstance(v, str) and has_nul(v) for v in values):
            return strip_forbidden(key) or "non_field_errors"
    return None


def _cleaned(params: QueryDict) -> QueryDict | None:
    """A copy with the forbidden characters removed, or None when there were none."""
    changed = False
    out = QueryDict(mutable=True, encoding=params.encoding)
    for key, values in params.lists():
        clean_values = [strip_forbidden(v) if isinstance(v, str) else v for v in values]
        clean_key = strip_forbidden(key)
        changed = changed or clean_key != key or clean_values != values
        out.setlist(clean_key, clean_values)
    # Form values are texts (files are in FILES), so the copy round-trips as a read-only QueryDict.
    return QueryDict(out.urlencode(), encoding=params.encoding) if changed else None


def clean_request_body(request: HttpRequest, *, strip_nul: bool = False) -> str | None:
    """Checks and cleans ``request.POST`` (already read): the name of a field holding a NUL, or None.

    With ``strip_nul`` the NUL is removed too, for a form that shows the refusal beside the field
    with everything else the person typed; otherwise ``request.POST`` is left as it came.
    """
    key = _nul_key(request.POST)
    if key is not None and not strip_nul:
        return key
    if (cleaned := _cleaned(request.POST)) is not None:
        request.POST = cleaned  # type: ignore[assignment]  # a read-only QueryDict, as Django builds
    return key


def _is_form(request: HttpRequest) -> bool:
    return request.method == "POST" and request.content_type in FORM_TYPES


class TextBoundaryMiddleware:
    """Refuses NUL and removes XML-forbidden characters from what enters and what leaves as HTML/XML."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        content_type = response.get("Content-Type", "").split(";")[0].strip()
        if content_type in CLEANED_TYPES and not response.streaming:
            response.content = strip_response(response.content)
        return response

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        for name, value in [*enumerate(view_args), *view_kwargs.items()]:
            if isinstance(value, str) and has_nul(value):
                return refusal(request, view_func, view_kwargs, str(name))
        if (key := _nul_key(request.GET)) is not None:
            return refusal(request, view_func, view_kwargs, key)
        if (cleaned := _cleaned(request.GET)) is not None:
            request.GET = cleaned  # type: ignore[assignment]  # a read-only QueryDict, as Django builds
        if _is_form(request) and not getattr(view_func, "reads_own_body", False):
            try:
                key = clean_request_body(request)
            except (BadRequest, MultiPartParserError, SuspiciousOperation):
                # A body too big or broken is the view's to answer (each face has its own words for it).
                return None
            if key is not None:
                return refusal(request, view_func, view_kwargs, key)
        return None


def refusal(
    request: HttpRequest, view_func: Callable[..., Any], view_kwargs: dict[str, Any], field: str
) -> HttpResponse:
    """400 in the shape the view's clients read."""
    message = str(NUL_MESSAGE)
    if (own := getattr(view_func, "text_refusal", None)) is not None:
        response: HttpResponse = own(request, view_kwargs, message)
        return response
    # DRF's as_view() keeps the view class on the function it returns.
    view_class = getattr(view_func, "cls", None)
    if isinstance(view_class, type) and issubclass(view_class, APIView):
        return JsonResponse(error_body("invalid", message, {field: [message]}), status=400)
    return HttpResponseBadRequest(
        format_html(
            '<!doctype html><html lang="zh-Hans"><meta charset="utf-8"><title>{}</title>'
            '<p>{}</p><p><a href="/">{}</a></p></html>',
            _("提交的内容有误"),
            message,
            _("返回首页"),
        )
    )
