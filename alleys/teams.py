"""Alley service teams: appointing a person to an alley's service team (服务队员) as a role assignment.

The in-service Party members' app (``members``) calls this when the community approves a member's
request to join; the check that the actor is staff of the alley's community is made here too, so
no caller can appoint around it.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.errors import ActionForbidden, ActionInvalid

from .choices import AreaLevel, Role, ServiceKind
from .models import Area, RoleAssignment
from .people import Actor, Member
from .scoping import forget_scope, scope_for

COMMUNITY_ROLES = frozenset({Role.COMMUNITY_STAFF})


def service_team_appoint(
    *, actor: Actor, user: Member, alley: Area, service_kind: str, now: dt.datetime
) -> RoleAssignment:
    """Make ``user`` a service-team member of ``alley`` (an inactive earlier appointment is revived)."""
    if alley.level != AreaLevel.ALLEY:
        raise ActionInvalid(_("请选择一条街巷。"), field="alley")
    if service_kind not in ServiceKind.values:
        raise ActionInvalid(_("服务队员请选择专长。"), field="service_kind")
    if not scope_for(actor).has_role_over(COMMUNITY_ROLES, alley.code):
        raise ActionForbidden(_("只有该街巷所在社区的工作人员可以确认加入服务队。"))
    with transaction.atomic():
        assignment, created = RoleAssignment.objects.select_for_update().get_or_create(
            user=user,
            role=Role.SERVICE_TEAM,
            area=alley,
            department=None,
            defaults={"service_kind": service_kind, "since": timezone.localdate(now)},
        )
        if not created and not assignment.is_active:
            assignment.is_active = True
            assignment.service_kind = service_kind
            assignment.since = timezone.localdate(now)
            assignment.save(update_fields=["is_active", "service_kind", "since"])
    forget_scope(user)
    return assignment
