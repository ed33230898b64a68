"""Who acts: the one type every service, selector and page gives a person.

``request.user`` is the user model or ``AnonymousUser``; the services take either and decide
by the person's scope (``alleys.scoping.scope_for``), which is empty for the public and for
an inactive login, so a "may not" is one rule whoever calls. ``None`` (where a signature
allows it) is the system: the sweep, a Celery task, a management command.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

# settings.AUTH_USER_MODEL is Django's User; django-stubs types request.user the same way.
Actor: TypeAlias = "User | AnonymousUser"
# A signed-in person (a row of the user model), for what only a stored user can be.
Member: TypeAlias = "User"


class SignedInRequest(HttpRequest):
    """The request of a page behind ``login_required``: its user is a stored user (django-stubs' advice)."""

    user: User


def signed_in(user: Actor | None) -> Member:
    """``user`` as a stored user, for an endpoint that admits signed-in people only.

    The authentication layer (``login_required``, DRF's ``IsAuthenticated``) has already
    turned the public away; this says so to the type checker and refuses loudly if it did not.
    """
    if user is None or not user.is_authenticated:
        raise PermissionDenied
    return user
