"""The refusals every service raises: one hierarchy that the pages and the API answer alike.

A service refuses with a message for the user (Simplified Chinese through gettext) and, when the
refusal concerns one input, that input's name. The HTTP status says why: 409 the action is not
allowed now, 403 the actor may not take it, 400 something it needs is missing or wrong.
"""

from __future__ import annotations


class ActionRefused(Exception):
    """An action that is not allowed now; the message is for the user."""

    status_code = 409

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class ActionForbidden(ActionRefused):
    """The actor may not take this action."""

    status_code = 403


class ActionInvalid(ActionRefused):
    """Something the action needs is missing or wrong."""

    status_code = 400
