"""Template context of the staff header: whether the expenses entry belongs in the nav."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .choices import Role
from .scoping import scope_for

_EXPENSE_ROLES = frozenset({Role.CHIEF, Role.COMMUNITY_STAFF})


def expenses_nav(request: HttpRequest) -> dict[str, Any]:
    """Chiefs file expenses and communities check them; the nav offers the page to them only."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not request.path.startswith("/staff"):
        return {}

    def show() -> bool:
        # Lazy: the staff pages have usually read the scope already, so this costs no query.
        return bool(scope_for(user).roles & _EXPENSE_ROLES)

    return {"show_expenses_nav": show}
