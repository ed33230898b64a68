"""Residents' personal data: who may see it, and how it is masked for everyone else.

Names, phone numbers and exact addresses are shown in full only to those handling
the case; lists, exports, dashboards and public pages show them masked or not at all.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q

from alleys.choices import HOLDER_ROLES, LEVEL_ORDER, AreaLevel, Role
from alleys.people import Actor
from alleys.scoping import scope_for
from core.phones import mask_number as mask_phone
from dispatch.chain import BUILDING_CLASSES

from .models import Case

__all__ = ["handles_case", "handles_q", "mask_name", "mask_phone", "reporter_for", "reporter_shown"]


def handles_case(user: Actor | None, case: Case) -> bool:
    """Whether ``user`` handles this case: a holder on its chain up to its tier, or an ordered department.

    The alley team, its community (always: it verifies and calls back), and — once the case has climbed that far — the street
    and organisation departments; departments with an order on the case; the building head of
    the case's building while they may handle it (an A-class case at the alley,
    ``issues.workflow.rules.is_building_head_of``). The supervision team watches but does not
    see residents' personal data.
    """
    scope = scope_for(user)
    if scope.is_global:
        return True
    if scope.is_empty:
        return False
    tier_rank = LEVEL_ORDER.index(case.tier)
    for role, code, _dept in scope.assignments:
        if role == Role.BUILDING_HEAD:
            if code and _building_head_handles(case, code):
                return True
            continue
        if not code or not case.alley.code.startswith(code):
            continue
        # The community verifies and calls back on every case of its alleys, whatever the tier.
        if role == Role.COMMUNITY_STAFF:
            return True
        for level in LEVEL_ORDER[tier_rank:]:  # the case's tier and everything below it
            if role in HOLDER_ROLES[level]:
                return True
    if scope.department_ids:
        return case.orders.filter(department_id__in=scope.department_ids).exists()
    return False


def handles_q(user: Actor | None) -> Any:
    """``handles_case`` as a condition on cases, for lists, searches and exports (one query for all rows).

    The two must agree (``tests/issues/staff/test_case_search.py`` compares them case by case).
    """
    scope = scope_for(user)
    if scope.is_global:
        return Q()
    q: Any = Q(pk__in=[])
    for role, code, _dept in scope.assignments:
        if not code:
            continue
        if role == Role.COMMUNITY_STAFF:
            q |= Q(alley__code__startswith=code)
            continue
        if role == Role.BUILDING_HEAD:
            q |= Q(
                building__code=code,
                tier=AreaLevel.ALLEY,
                category__category_class__code__in=sorted(BUILDING_CLASSES),
            )
            continue
        # The role's level, and every tier at or above it that the case may have climbed to.
        tiers = [tier for index, tier in enumerate(LEVEL_ORDER) if role in _roles_from(index)]
        if tiers:
            q |= Q(alley__code__startswith=code, tier__in=tiers)
    if scope.department_ids:
        from .models import DispatchOrder

        q |= Exists(
            DispatchOrder.objects.filter(
                case_id=OuterRef("pk"), department_id__in=sorted(scope.department_ids)
            )
        )
    return q


def _building_head_handles(case: Case, code: str) -> bool:
    """``handles_q``'s building-head row for one case (the rule: ``rules.is_building_head_of``)."""
    return (
        case.building_id is not None
        and case.tier == AreaLevel.ALLEY
        and case.building is not None
        and case.building.code == code
        and case.category.category_class.code in BUILDING_CLASSES
    )


def _roles_from(tier_rank: int) -> frozenset[str]:
    """The holder roles of the tier at ``tier_rank`` and every level below it (``handles_case``'s loop)."""
    return frozenset().union(*(HOLDER_ROLES[level] for level in LEVEL_ORDER[tier_rank:]))


def mask_name(name: str) -> str:
    """张* / 欧阳** : the surname only."""
    name = (name or "").strip()
    if not name:
        return ""
    return name[0] + "*" * max(len(name) - 1, 1)


def reporter_for(user: Actor | None, case: Case) -> dict[str, str]:
    """The reporter's name, phone and address as this user may see them."""
    return reporter_shown(case, handles=handles_case(user, case))


def reporter_shown(case: Case, *, handles: bool) -> dict[str, str]:
    """The reporter as shown to someone who handles the case (in full) or not (masked)."""
    if handles:
        return {"name": case.reporter_name, "phone": case.reporter_phone, "address": case.address_detail}
    return {
        "name": mask_name(case.reporter_name),
        "phone": mask_phone(case.reporter_phone),
        "address": "",
    }
