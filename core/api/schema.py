"""The OpenAPI generator for the API: every operation documents the errors it can answer.

Clients (and the schemathesis property tests) rely on the schema listing every status
code an operation may return, each with the one error envelope of ``errors.py``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ComponentRegistry

from .errors import ErrorSerializer

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the error responses of the project's exception handler."""

    def get_filter_backends(self) -> list[Any]:
        # A non-list view that filters (the rates) documents its filters too.
        if getattr(self.view, "filters_in_schema", False):
            return list(getattr(self.view, "filter_backends", []))
        return list(super().get_filter_backends())

    def get_operation(
        self, path: str, path_regex: str, path_prefix: str, method: str, registry: ComponentRegistry
    ) -> dict[str, Any] | None:
        # Public members of AutoSchema only (get_operation, resolve_serializer, map_renderers): the
        # errors reach every operation, @extend_schema(responses=...) ones too, and Error is a component.
        operation: dict[str, Any] | None = super().get_operation(
            path, path_regex, path_prefix, method, registry
        )
        if operation is None:
            return None
        ref = self.resolve_serializer(ErrorSerializer, "response").ref
        media_types = self.map_renderers("media_type")
        for code in error_codes(self.method, path, operation):
            content = {media_type: {"schema": ref} for media_type in media_types}
            operation["responses"].setdefault(code, {"content": content, "description": ""})
        return operation


def error_codes(method: str, path: str, operation: dict[str, Any]) -> list[str]:
    """The errors an operation may answer (a view adds others with ``@extend_schema(responses=...)``)."""
    codes = ["401", "403"]
    if method in WRITE_METHODS or any(p["in"] == "query" for p in operation.get("parameters", ())):
        codes.append("400")  # invalid input: a body, or a filter, ordering or page parameter
    if "{" in path:
        codes.append("404")  # not there, or outside the caller's scope
    if method == "POST":
        codes.append("409")  # an illegal transition, or a lost race against a constraint
    if "requestBody" in operation:
        codes.append("415")  # a body in a media type the operation does not parse (or with none)
    codes.append("503")  # the database is down or restarting (errors.py): nothing was done, try again
    return codes
