"""Who may change what in the territory: the write rules on top of the read scope.

``alleys.scoping`` answers "what may this user see"; these functions answer "what
may this user edit". A manager (community staff and up) edits what lies strictly
below their own area: a community worker its alleys and their teams, a street
worker its communities and alleys, an organisation department its district or city
and the departments there. Nobody edits their own unit or their own level's roles;
the level above does.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet

from .choices import AreaLevel, Role
from .models import Area, Department, RoleAssignment
from .people import Actor, Member
from .scoping import Scope, scope_for

# Roles that manage the territory below their area.
MANAGER_ROLES: frozenset[str] = frozenset(
    {Role.COMMUNITY_STAFF, Role.STREET_STAFF, Role.DISTRICT_ORG, Role.CITY_ORG}
)
# Organisation departments: they also manage the departments of their district or city.
ORG_ROLES: frozenset[str] = frozenset({Role.DISTRICT_ORG, Role.CITY_ORG})
ANY_ROLE: frozenset[str] = frozenset(Role.values)


def _any(qs: list[Q]) -> Q:
    # An empty list matches nothing (not everything, as a bare Q() would).
    return reduce(or_, qs) if qs else Q(pk__in=[])


def manager_codes(scope: Scope, roles: frozenset[str] = MANAGER_ROLES) -> tuple[str, ...]:
    """The codes of the areas on which the user holds one of ``roles`` (active assignments)."""
    return tuple(sorted({code for role, code, _dept in scope.assignments if role in roles and code}))


def can_manage_area(scope: Scope, code: str) -> bool:
    """Whether the user may edit the area with ``code`` (it lies strictly below an area they manage)."""
    if scope.is_global:
        return True
    return any(code != mine and code.startswith(mine) for mine in manager_codes(scope))


def manageable_area_q(scope: Scope, field: str = "code") -> Q:
    """Areas (codes under ``field``) the user may edit."""
    if scope.is_global:
        return Q()
    return _any([Q(**{f"{field}__startswith": c}) & ~Q(**{field: c}) for c in manager_codes(scope)])


def parent_choice_q(scope: Scope) -> Q:
    """Areas the user may add a child area under (their own managed area included)."""
    # Not an alley, unless it has buildings already: a community adds its first building on the
    # alley's page (the 楼栋 inline), so communities without buildings see the choices they always had.
    # Nothing goes under a building, the lowest level.
    has_buildings = Exists(Area.objects.filter(parent_id=OuterRef("pk"), level=AreaLevel.BUILDING))
    possible = (~Q(level=AreaLevel.ALLEY) | Q(has_buildings)) & ~Q(level=AreaLevel.BUILDING)
    if scope.is_global:
        return possible
    return possible & _any([Q(code__startswith=c) for c in manager_codes(scope)])


def can_manage_department(scope: Scope, department: Department) -> bool:
    """Whether the user may edit the department's record and its people (organisation departments)."""
    if scope.is_global:
        return True
    code = department.area.code
    return any(code.startswith(mine) for mine in manager_codes(scope, ORG_ROLES))


def manageable_department_q(scope: Scope, field: str = "area__code") -> Q:
    """Departments (area code under ``field``) the user may edit."""
    if scope.is_global:
        return Q()
    return _any([Q(**{f"{field}__startswith": c}) for c in manager_codes(scope, ORG_ROLES)])


def department_area_choice_q(scope: Scope) -> Q:
    """District and city areas a new department may be put in by this user."""
    levels = Q(level__in=[AreaLevel.DISTRICT, AreaLevel.CITY])
    if scope.is_global:
        return levels
    return levels & _any([Q(code__startswith=c) for c in manager_codes(scope, ORG_ROLES)])


def can_manage_assignment(scope: Scope, assignment: RoleAssignment) -> bool:
    """Whether the user may grant, change or revoke this role assignment."""
    if scope.is_global:
        return True
    if assignment.area_id is not None:
        return assignment.area is not None and can_manage_area(scope, assignment.area.code)
    if assignment.department_id is not None:
        return assignment.department is not None and can_manage_department(scope, assignment.department)
    return False


def visible_assignments(user: Actor) -> QuerySet[RoleAssignment]:
    """Role assignments the admin shows ``user``: their territory's and departments' (``visible_to``),
    plus, for an organisation department, the people of the departments it manages."""
    assignments = RoleAssignment.objects.all()
    scope = scope_for(user)
    if scope.is_global:
        return assignments
    visible = RoleAssignment.objects.visible_to(user)
    if not manager_codes(scope, ORG_ROLES):
        return visible
    managed = manageable_department_q(scope, "department__area__code")
    return assignments.filter(Q(pk__in=visible.values("pk")) | managed)


def visible_users(user: Actor) -> QuerySet[Member]:
    """Users holding a role assignment (active or not) that ``user`` may see."""
    users = get_user_model()._default_manager.all()
    scope = scope_for(user)
    if scope.is_global:
        return users
    if scope.is_empty:
        return users.none()
    seen = visible_assignments(user).filter(user_id=OuterRef("pk"))
    return users.filter(Exists(seen))


def can_manage_user(scope: Scope, target: Member) -> bool:
    """Whether the user may edit ``target``'s account (login, password, status, profile).

    Only when every role of the target is theirs to manage: a person who also serves
    elsewhere, or holds Django permissions, is edited by someone who sees all of it.
    """
    if scope.is_global:
        return True
    if target.pk is None or target.is_superuser:
        return False
    if target.groups.exists() or target.user_permissions.exists():
        return False
    assignments = list(
        RoleAssignment.objects.filter(user_id=target.pk).select_related("area", "department__area")
    )
    return bool(assignments) and all(can_manage_assignment(scope, a) for a in assignments)
