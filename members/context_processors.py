"""Template context of the staff header: whether the 党员双报到 entry belongs in the nav."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from alleys.context_processors import signed_in_staff_page
from alleys.scoping import scope_for

from .models import READER_ROLES


def members_nav(request: HttpRequest) -> dict[str, Any]:
    """Community, street and organisation staff, and logins with no role (members, work units' contacts)."""
    if not signed_in_staff_page(request):
        return {}
    user = request.user

    def show() -> bool:
        # The scope the page already read (else read once), as for the expenses entry.
        scope = scope_for(user)
        return scope.is_global or bool(scope.roles & READER_ROLES) or not scope.roles

    return {"show_members_nav": show}
