"""Who may see what: the territorial and departmental scope of a user.

Every page, API, dashboard and export narrows its querysets through
``visible_to(user)`` methods that read this one scope, so no view can forget it.
The scope is computed once per user object and cached on it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q

from .choices import CODE_LENGTH, DEPARTMENT_ROLES, HOLDER_ROLES, ROLE_LEVEL, AreaLevel
from .people import Actor

_CACHE_ATTR = "_jxt_scope"


@dataclass(frozen=True)
class Scope:
    """The area-code prefixes and departments a user acts in, with their roles."""

    is_global: bool = False
    # Area-code prefixes the user sees (a prefix covers the area and everything under it).
    area_prefixes: tuple[str, ...] = ()
    department_ids: frozenset[int] = frozenset()
    # (role, area code or "", department id or 0) for every active assignment.
    assignments: tuple[tuple[str, str, int], ...] = ()
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_empty(self) -> bool:
        return not (self.is_global or self.area_prefixes or self.department_ids)

    def area_q(self, field_name: str = "code") -> Q:
        """A Q object matching area codes (under ``field_name``) inside this scope."""
        if self.is_global:
            return Q()
        if not self.area_prefixes:
            return Q(pk__in=[])
        q = Q()
        for prefix in self.area_prefixes:
            q |= Q(**{f"{field_name}__startswith": prefix})
        return q

    @property
    def building_codes(self) -> tuple[str, ...]:
        """The buildings among the prefixes (a building head's): a building's code is a prefix of
        nothing but itself, so rows keyed by an alley's code never match it; cases also name their
        building (``Case.objects.visible_to``)."""
        width = CODE_LENGTH[AreaLevel.BUILDING]
        return tuple(p for p in self.area_prefixes if len(p) == width)

    def covers_code(self, code: str) -> bool:
        """Whether an area code lies in this scope."""
        return self.is_global or any(code.startswith(p) for p in self.area_prefixes)

    def holds_tier(self, tier: str, area_code: str) -> bool:
        """Whether the user has a holder role for ``tier`` on exactly the area ``area_code``.

        (Supervision from the level above — a community worker acting for its alleys —
        is a rule of the state machine: see issues.workflow.is_holder.)
        """
        if self.is_global:
            return True
        for role, code, _dept in self.assignments:
            if not code:
                continue
            if role in HOLDER_ROLES.get(tier, frozenset()) and code == area_code:
                return True
        return False

    def has_role_over(self, roles: frozenset[str] | set[str], area_code: str) -> bool:
        """Whether the user has one of ``roles`` on an area containing ``area_code``."""
        if self.is_global:
            return True
        return any(
            role in roles and code and area_code.startswith(code) for role, code, _ in self.assignments
        )

    def in_department(self, department_id: int) -> bool:
        return self.is_global or department_id in self.department_ids


def scope_for(user: Actor | None) -> Scope:
    """The user's scope, computed once and cached on the user object."""
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is not None:
        return cached
    scope = _compute(user)
    remember_scope(user, scope)
    return scope


def forget_scope(user: Actor) -> None:
    """Drop the cached scope (after role assignments change)."""
    if hasattr(user, _CACHE_ATTR):
        delattr(user, _CACHE_ATTR)


def remember_scope(user: Actor | None, scope: Scope) -> None:
    """Cache ``scope`` on ``user`` (a caller that read the assignments with the user, in one query)."""
    with contextlib.suppress(AttributeError):
        setattr(user, _CACHE_ATTR, scope)


def _compute(user: Actor | None) -> Scope:
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return Scope()
    if user.is_superuser:
        return Scope(is_global=True)
    # Through the user's reverse relation (RoleAssignment.user, related_name "roles"): the models
    # module imports this one, not the other way round.
    rows = user.roles.filter(is_active=True).values_list("role", "area__code", "department_id")
    return scope_from_assignments(rows)


def scope_from_assignments(rows: Iterable[tuple[str, str | None, int | None]]) -> Scope:
    """The scope of a non-superuser from its active assignments' (role, area code, department id)."""
    prefixes: set[str] = set()
    departments: set[int] = set()
    assignments: list[tuple[str, str, int]] = []
    for role, code, dept_id in rows:
        assignments.append((role, code or "", dept_id or 0))
        if role in ROLE_LEVEL and code:
            prefixes.add(code)
        if role in DEPARTMENT_ROLES and dept_id:
            departments.add(dept_id)
    # Keep only the widest prefixes: "3505" makes "350502" redundant.
    minimal = tuple(sorted(p for p in prefixes if not any(p != q and p.startswith(q) for q in prefixes)))
    return Scope(
        area_prefixes=minimal,
        department_ids=frozenset(departments),
        assignments=tuple(assignments),
        roles=frozenset(r for r, _, _ in assignments),
    )
