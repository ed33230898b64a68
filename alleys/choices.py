"""Enumerations of the territory and people model."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaLevel(models.TextChoices):
    """Levels of the area tree, top to bottom; a case's tier uses the same values."""

    CITY = "city", _("市")
    DISTRICT = "district", _("区")
    STREET = "street", _("街道")
    COMMUNITY = "community", _("社区")
    ALLEY = "alley", _("街巷/网格")
    # Below an alley, only where a community uses them (Jilin's 楼栋长, Quanzhou's building chiefs).
    # A building is a place, not a tier: cases still start with the alley's team and climb from there.
    BUILDING = "building", _("楼栋")


# The levels that are tiers of the chain, top-down: a case is held at one of these, and every
# table keyed by tier (deadline policies, whistles, roll-ups, HOLDER_ROLES) uses these only.
# The building level is deliberately not here (see AREA_LEVEL_ORDER).
LEVEL_ORDER: tuple[str, ...] = (
    AreaLevel.CITY,
    AreaLevel.DISTRICT,
    AreaLevel.STREET,
    AreaLevel.COMMUNITY,
    AreaLevel.ALLEY,
)
# Every level of the area tree, top-down: the tiers, then the optional building below the alley.
AREA_LEVEL_ORDER: tuple[str, ...] = (*LEVEL_ORDER, AreaLevel.BUILDING)
# The choices of a tier field (a case's tier, a whistle's tiers, a policy's tier): the area levels
# without the building. Same values and labels as before buildings existed, so no tier field changed.
TIER_CHOICES: list[tuple[str, Any]] = [
    (value, label) for value, label in AreaLevel.choices if value != AreaLevel.BUILDING
]
# The width of each level's unified code (national statistical division codes: 4-digit city,
# 6-digit district, 9-digit street, 12-digit community, plus a 3-digit alley/grid segment as
# in Jilin's coded grids, plus a 3-digit building segment where a community has buildings).
CODE_LENGTH: dict[str, int] = {
    AreaLevel.CITY: 4,
    AreaLevel.DISTRICT: 6,
    AreaLevel.STREET: 9,
    AreaLevel.COMMUNITY: 12,
    AreaLevel.ALLEY: 15,
    AreaLevel.BUILDING: 18,
}


def level_above(level: str) -> str | None:
    """The level one step up in the area tree, or None at the city (a building's is the alley)."""
    index = AREA_LEVEL_ORDER.index(level)
    return AREA_LEVEL_ORDER[index - 1] if index > 0 else None


def level_below(level: str) -> str | None:
    """The level one step down in the area tree, or None at the building (an alley's is the building)."""
    index = AREA_LEVEL_ORDER.index(level)
    return AREA_LEVEL_ORDER[index + 1] if index + 1 < len(AREA_LEVEL_ORDER) else None


def tier_above(tier: str) -> str | None:
    """The tier one step up the chain, or None at the city (the chain never goes below the alley)."""
    index = LEVEL_ORDER.index(tier)
    return LEVEL_ORDER[index - 1] if index > 0 else None


class Role(models.TextChoices):
    """What a person does; one person may hold several roles."""

    CHIEF = "chief", _("巷长")
    DEPUTY_CHIEF = "deputy_chief", _("副巷长")
    SERVICE_TEAM = "service_team", _("服务队员")
    SUPERVISION_TEAM = "supervision_team", _("督导队员")
    GRID_WORKER = "grid_worker", _("网格员")
    COMMUNITY_STAFF = "community_staff", _("社区工作人员")
    STREET_STAFF = "street_staff", _("街道工作人员")
    DISTRICT_ORG = "district_org", _("区委组织部")
    CITY_ORG = "city_org", _("市委组织部")
    DEPT_CONTACT = "dept_contact", _("部门联系人")
    DEPT_LEADER = "dept_leader", _("部门分管负责人")
    BUILDING_HEAD = "building_head", _("楼栋长")


ALLEY_TEAM_ROLES: frozenset[str] = frozenset(
    {Role.CHIEF, Role.DEPUTY_CHIEF, Role.SERVICE_TEAM, Role.SUPERVISION_TEAM, Role.GRID_WORKER}
)
DEPARTMENT_ROLES: frozenset[str] = frozenset({Role.DEPT_CONTACT, Role.DEPT_LEADER})
# The area level each area-bound role is attached to.
ROLE_LEVEL: dict[str, str] = {
    Role.CHIEF: AreaLevel.ALLEY,
    Role.DEPUTY_CHIEF: AreaLevel.ALLEY,
    Role.SERVICE_TEAM: AreaLevel.ALLEY,
    Role.SUPERVISION_TEAM: AreaLevel.ALLEY,
    Role.GRID_WORKER: AreaLevel.ALLEY,
    Role.BUILDING_HEAD: AreaLevel.BUILDING,
    Role.COMMUNITY_STAFF: AreaLevel.COMMUNITY,
    Role.STREET_STAFF: AreaLevel.STREET,
    Role.DISTRICT_ORG: AreaLevel.DISTRICT,
    Role.CITY_ORG: AreaLevel.CITY,
}
# Roles that hold a case at the tier of their area (the supervision team watches, it does not handle).
# Keyed by tier: the building head holds no tier; it handles its building's A-class cases beside
# the alley's team (issues.workflow.rules.is_building_head_of).
HOLDER_ROLES: dict[str, frozenset[str]] = {
    AreaLevel.ALLEY: frozenset({Role.CHIEF, Role.DEPUTY_CHIEF, Role.SERVICE_TEAM, Role.GRID_WORKER}),
    AreaLevel.COMMUNITY: frozenset({Role.COMMUNITY_STAFF}),
    AreaLevel.STREET: frozenset({Role.STREET_STAFF}),
    AreaLevel.DISTRICT: frozenset({Role.DISTRICT_ORG}),
    AreaLevel.CITY: frozenset({Role.CITY_ORG}),
}


class ServiceKind(models.TextChoices):
    """The speciality of a service-team member."""

    POLICE = "police", _("民警")
    CITY_MANAGEMENT = "city_management", _("城管")
    DOCTOR = "doctor", _("医生")
    MEDIATOR = "mediator", _("调解员")
    LAWYER = "lawyer", _("律师")
    OTHER = "other", _("其他")


class DepartmentKind(models.TextChoices):
    """Government department, state enterprise or public-service company."""

    GOVERNMENT = "government", _("政府部门")
    STATE_ENTERPRISE = "state_enterprise", _("国有企业")
    PUBLIC_SERVICE = "public_service", _("公共服务企业")


class ExpenseState(models.TextChoices):
    """Where a chief's expense stands (rules: ``alleys/expenses.py``)."""

    SUBMITTED = "submitted", _("待审核")
    APPROVED = "approved", _("已审核")
    PAID = "paid", _("已报销")
    RETURNED = "returned", _("已退回")


class ExpensePurpose(models.TextChoices):
    """What a chief spent their own money on for the alley's work."""

    PHONE = "phone", _("话费")
    TEA = "tea", _("茶水")
    PRINTING = "printing", _("印刷")
    OTHER = "other", _("其他")
