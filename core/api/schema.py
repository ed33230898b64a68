"""The OpenAPI generator for the API: every operation documents the errors it can answer.

Clients (and the schemathesis property tests) rely on the schema listing every status
code an operation may return, each with the one error envelope of ``errors.py``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema

from .errors import ErrorSerializer

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})

# One component name per choice set (several fields share AreaLevel, CaseState, …).
ENUM_NAME_OVERRIDES: dict[str, str] = {
    "AreaLevelEnum": "alleys.choices.AreaLevel",
    "RoleEnum": "alleys.choices.Role",
    "ServiceKindEnum": "alleys.choices.ServiceKind",
    "DepartmentKindEnum": "alleys.choices.DepartmentKind",
    "CaseStateEnum": "issues.choices.CaseState",
    "CaseSourceEnum": "issues.choices.CaseSource",
    "StaffSourceEnum": "issues.api.serializers.StaffSource",
    "UrgencyEnum": "issues.choices.Urgency",
    "EventKindEnum": "issues.choices.EventKind",
    "PhotoKindEnum": "issues.choices.PhotoKind",
    "PatrolKindEnum": "issues.choices.PatrolKind",
    "FeedbackSolvedEnum": "issues.choices.FeedbackSolved",
    "SatisfactionEnum": "issues.choices.Satisfaction",
    "FeedbackChannelEnum": "issues.choices.FeedbackChannel",
    "OrderStateEnum": "issues.choices.OrderState",
    "OrderRoleEnum": "issues.choices.OrderRole",
    "ExtensionStateEnum": "issues.choices.ExtensionState",
    "TimelinessEnum": "evaluation.choices.Timeliness",
    "RatingEnum": "evaluation.choices.Rating",
}
# drf-spectacular settings for this API's schema (the schema view and `manage.py spectacular
# --custom-settings issues.api.schema.SCHEMA_SETTINGS` use them; SPECTACULAR_SETTINGS may include them too).
SCHEMA_SETTINGS: dict[str, object] = {"ENUM_NAME_OVERRIDES": ENUM_NAME_OVERRIDES}


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the error responses of the project's exception handler."""

    def get_filter_backends(self) -> list[Any]:
        # A non-list view that filters (the rates) documents its filters too.
        if getattr(self.view, "filters_in_schema", False):
            return list(getattr(self.view, "filter_backends", []))
        return list(super().get_filter_backends())

    def error_codes(self) -> list[str]:
        codes = ["401", "403"]
        if self.method in WRITE_METHODS or self._is_list_view() or self.get_filter_backends():
            codes.append("400")  # invalid input, or an invalid filter value on a list
        if "{" in self.path or "404" in getattr(self.view, "schema_error_codes", ()):
            codes.append("404")  # not there, or outside the caller's scope
        if self.method == "POST":
            codes.append("409")  # an illegal transition, or a lost race against a constraint
        return codes

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code in self.error_codes():
            if code not in responses:
                responses[code] = self._get_response_for_code(ErrorSerializer, code, direction=direction)
        return responses
