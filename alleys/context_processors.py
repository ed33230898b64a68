"""Template context of the staff header: whether the expenses entry belongs in the nav."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .choices import Role
from .scoping import cached_scope

_EXPENSE_ROLES = frozenset({Role.CHIEF, Role.COMMUNITY_STAFF})


def expenses_nav(request: HttpRequest) -> dict[str, Any]:
    """Chiefs file expenses and communities check them; the nav offers the page to them only."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not request.path.startswith("/staff"):
        return {}

    def show() -> bool:
        # Never a query: the scope the page already read decides. A page that read none (the
        # inbox) shows no entry, as with the calendar banner; a nav link is not worth a query.
        scope = cached_scope(user)
        return scope is not None and bool(scope.roles & _EXPENSE_ROLES)

    return {"show_expenses_nav": show}
