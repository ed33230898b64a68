"""Template context: the staff member's unread-message count for the admin header."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def inbox(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not request.path.startswith(("/admin", "/staff")):
        return {}
    from .models import Notification

    def count() -> int:
        return Notification.objects.for_user(user).unread().count()

    # Lazy: the query runs only if a template shows the count.
    return {"inbox_unread": count}
