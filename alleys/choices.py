"""Enumerations of the territory and people model."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaLevel(models.TextChoices):
    """Levels of the area tree, top to bottom; a case's tier uses the same values."""

    CITY = "city", _("市")
    DISTRICT = "district", _("区")
    STREET = "street", _("街道")
    COMMUNITY = "community", _("社区")
    ALLEY = "alley", _("街巷/网格")


# Top-down order and the width of each level's unified code (national statistical
# division codes: 4-digit city, 6-digit district, 9-digit street, 12-digit community,
# plus a 3-digit alley/grid segment as in Jilin's coded grids).
LEVEL_ORDER: tuple[str, ...] = (
    AreaLevel.CITY,
    AreaLevel.DISTRICT,
    AreaLevel.STREET,
    AreaLevel.COMMUNITY,
    AreaLevel.ALLEY,
)
CODE_LENGTH: dict[str, int] = {
    AreaLevel.CITY: 4,
    AreaLevel.DISTRICT: 6,
    AreaLevel.STREET: 9,
    AreaLevel.COMMUNITY: 12,
    AreaLevel.ALLEY: 15,
}


def level_above(level: str) -> str | None:
    """The level one step up, or None at the city."""
    index = LEVEL_ORDER.index(level)
    return LEVEL_ORDER[index - 1] if index > 0 else None


def level_below(level: str) -> str | None:
    """The level one step down, or None at the alley."""
    index = LEVEL_ORDER.index(level)
    return LEVEL_ORDER[index + 1] if index + 1 < len(LEVEL_ORDER) else None


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
    Role.COMMUNITY_STAFF: AreaLevel.COMMUNITY,
    Role.STREET_STAFF: AreaLevel.STREET,
    Role.DISTRICT_ORG: AreaLevel.DISTRICT,
    Role.CITY_ORG: AreaLevel.CITY,
}
# Roles that hold a case at the tier of their area (the supervision team watches, it does not handle).
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
