"""Template context of the admin and staff headers: the unread-message count, the calendar banner."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from alleys.context_processors import signed_in_staff_page
from alleys.permissions import ORG_ROLES
from alleys.scoping import scope_for
from dispatch.calendar import arrangement_url, unofficial_years


def inbox(request: HttpRequest) -> dict[str, Any]:
    if not signed_in_staff_page(request):
        return {}
    user = request.user
    from issues.models import Notification

    def count() -> int:
        return Notification.objects.for_user(user).unread().count()

    # Lazy: the query runs only if a template shows the count.
    return {"inbox_unread": count}


def calendar_banner(request: HttpRequest) -> dict[str, Any]:
    """While this year or (from 1 November) next year is predicted, tell those who can enter it.

    Lazy, like the inbox count. Other users' roles are the scope the page already read to decide
    what they see (a page that did not, the inbox, reads it once for the whole header).
    Superusers and organisation departments cost the process's cached calendar (reloaded once
    a minute).
    """
    if not signed_in_staff_page(request):
        return {}
    user = request.user

    def banner() -> dict[str, Any] | None:
        if not user.is_active:
            return None
        if not user.is_superuser and not scope_for(user).roles & ORG_ROLES:
            return None
        years = unofficial_years(timezone.now())
        if not years:
            return None
        # Only superusers may enter a year (the calendar decides every clock); the others are told
        # who will.
        return {
            "years": "、".join(str(year) for year in years),
            "url": arrangement_url() if user.is_superuser else "",
        }

    return {"calendar_banner": banner}
