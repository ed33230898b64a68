"""Template context of the staff header: which pages have it, whether the expenses entry belongs in the nav."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .choices import Role
from .scoping import scope_for

_EXPENSE_ROLES = frozenset({Role.CHIEF, Role.COMMUNITY_STAFF})

# The pages under the staff header (templates/staff/base.html): the staff pages and the dashboards;
# and the admin, whose header shows the unread count.
STAFF_PATHS = ("/staff", "/dashboard", "/admin")


def signed_in_staff_page(request: HttpRequest) -> bool:
    """Whether ``request`` is a signed-in user's staff page, whose header the processors below fill."""
    user = getattr(request, "user", None)
    return user is not None and user.is_authenticated and request.path.startswith(STAFF_PATHS)


def expenses_nav(request: HttpRequest) -> dict[str, Any]:
    """Chiefs file expenses and communities check them; the nav offers the page to them only."""
    if not signed_in_staff_page(request):
        return {}
    user = request.user

    def show() -> bool:
        # The scope the page already read decides; a page that read none (the inbox) reads it
        # once here, so the header is the same on every page.
        return bool(scope_for(user).roles & _EXPENSE_ROLES)

    return {"show_expenses_nav": show}
