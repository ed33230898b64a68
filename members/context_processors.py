"""Template context of the staff header: whether the 党员双报到 entry belongs in the nav."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from alleys.scoping import cached_scope

from .models import READER_ROLES


def members_nav(request: HttpRequest) -> dict[str, Any]:
    """Community, street and organisation staff, and logins with no role (members, work units' contacts)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not request.path.startswith("/staff"):
        return {}

    def show() -> bool:
        # Never a query: the scope the page already read decides (as for the expenses entry).
        scope = cached_scope(user)
        return scope is not None and (scope.is_global or bool(scope.roles & READER_ROLES) or not scope.roles)

    return {"show_members_nav": show}
