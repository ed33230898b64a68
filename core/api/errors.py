"""One error shape for the whole REST API.

Every error answers ``{"error": {"code": "...", "message": "...", "fields": {...}}}``:
``code`` is stable for programs, ``message`` is for people (Chinese by default, English
with ``Accept-Language: en``), ``fields`` maps a field name (dotted for nested input) to
its messages. The state machine's refusals keep their meaning: an illegal transition
(or evaluation) is 409, missing or invalid input 400, an actor without the right 403; a
database that is down or restarting is 503 ("unavailable"), never a bare 500. A resource
outside the caller's scope never reaches here as 403: querysets hide it, so it is 404.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, serializers, status
from rest_framework.fields import get_error_detail
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from core.errors import ActionForbidden, ActionInvalid, ActionRefused

from ..transient import DATABASE_UNAVAILABLE, drop_connection

NON_FIELD = "non_field_errors"


def error_body(code: str, message: str, fields: dict[str, list[str]] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


def flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested error detail as ``{"a.0.b": ["message", ...]}``."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = str(key) if not prefix else f"{prefix}.{key}"
            for sub, messages in flatten(value, name).items():
                out.setdefault(sub, []).extend(messages)
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            if detail:
                out[prefix or NON_FIELD] = [str(item) for item in detail]
        else:
            for index, value in enumerate(detail):
                if value:
                    out.update(flatten(value, f"{prefix}.{index}" if prefix else str(index)))
    elif detail is not None:
        out[prefix or NON_FIELD] = [str(detail)]
    return out


def _refusal_response(exc: ActionRefused) -> Response:
    if isinstance(exc, ActionInvalid):
        code = "invalid"
    elif isinstance(exc, ActionForbidden):
        code = "permission_denied"
    else:
        code = "conflict"
    fields = {exc.field: [exc.message]} if exc.field else {}
    return Response(error_body(code, exc.message, fields), status=exc.status_code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, answering in the project's error shape; None lets Django answer 500."""
    if isinstance(exc, ActionRefused):
        set_rollback()
        return _refusal_response(exc)
    if isinstance(exc, DATABASE_UNAVAILABLE):
        # The database is down or restarting (a create was already tried twice): nothing was
        # saved, and the client may send the same request again.
        set_rollback()
        drop_connection()
        return Response(
            error_body("unavailable", _("系统暂时繁忙，请求尚未处理，请稍后重试。")),
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
            headers={"Retry-After": "30"},
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=get_error_detail(exc))
    elif isinstance(exc, IntegrityError):
        # A race lost against a database constraint (two clicks at once): the service rolled back.
        set_rollback()
        return Response(
            error_body("conflict", _("数据已被其他操作修改，请刷新后重试。")), status=status.HTTP_409_CONFLICT
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten(exc.detail)
        general = fields.pop(NON_FIELD, [])
        message = general[0] if general else _("提交的内容有误，请检查后重试。")
        if general[1:]:
            fields[NON_FIELD] = general
        response.data = error_body("invalid", message, fields)
        return response
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    detail = exc.detail
    message = detail if isinstance(detail, str) else " ".join(flatten(detail).get(NON_FIELD, [])) or str(exc)
    response.data = error_body(str(code), str(message))
    return response


class ErrorDetailSerializer(serializers.Serializer[Any]):
    """What went wrong."""

    code = serializers.CharField(
        help_text="invalid, conflict, permission_denied, not_found, not_authenticated…"
    )
    message = serializers.CharField()
    # Named like Serializer.fields on purpose (the wire format); DRF moves declared fields off the class.
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))  # type: ignore[assignment]


class ErrorSerializer(serializers.Serializer[Any]):
    """The error envelope of every API error."""

    error = ErrorDetailSerializer()
