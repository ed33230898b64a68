"""Factories and a small named world for the casework tests (issues and dispatch).

Areas, departments and logins come from tests/alleys/factories.py; this module adds
the categories, the cases and a world whose actors are named for permission tables.

The world is one city with two districts; district 350502 has one street with two
communities (X and Y), each with one alley; district 350503 has one street, community
and alley of its own. Named actors hold one role each, so a permission table can say
"the chief of alley X may, the chief of alley Y may not".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import factory
from django.contrib.auth import get_user_model

from alleys.choices import AreaLevel, Role, ServiceKind
from alleys.models import Area, Department, RoleAssignment
from alleys.scoping import forget_scope
from dispatch.models import CategoryClass, CategoryType
from issues.choices import CaseSource, CaseState
from issues.models import Case
from tests.alleys.factories import AreaFactory, DepartmentFactory, StaffUserFactory

User = get_user_model()
TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    """An aware moment in the project's time zone from 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


# A Monday in an ordinary working week (no holiday near it).
MONDAY = at("2026-03-02 10:00")


class UserFactory(StaffUserFactory):
    """A staff login, fetched again when the username exists."""

    class Meta:
        model = User
        django_get_or_create = ("username",)


class CategoryClassFactory(factory.django.DjangoModelFactory):
    """A category class with its start tier."""

    class Meta:
        model = CategoryClass
        django_get_or_create = ("code",)

    name = factory.LazyAttribute(lambda o: f"{o.code}类")
    default_tier = AreaLevel.ALLEY


class CategoryTypeFactory(factory.django.DjangoModelFactory):
    """A category type; no fix photo needed unless asked."""

    class Meta:
        model = CategoryType

    code = factory.Sequence(lambda n: f"T{n:03d}")
    name = factory.Sequence(lambda n: f"事项{n}")
    category_class = factory.SubFactory(CategoryClassFactory, code="A")
    fix_photo_required = False


def grant(user: Any, role: str, *, area: Area | None = None, department: Department | None = None) -> Any:
    """Give ``user`` a role (and drop the cached scope so it takes effect at once)."""
    RoleAssignment.objects.create(
        user=user,
        role=role,
        area=area,
        department=department,
        service_kind=ServiceKind.POLICE if role == Role.SERVICE_TEAM else "",
    )
    forget_scope(user)
    return user


@dataclass
class World:
    """The territory, departments, categories and named actors of one test."""

    city: Area
    district: Area
    street: Area
    community_x: Area
    community_y: Area
    alley_x: Area
    alley_y: Area
    other_district: Area
    other_street: Area
    other_community: Area
    other_alley: Area
    dept_lead: Department
    dept_coop: Department
    dept_far: Department
    dept_city: Department
    cat_a: CategoryType
    cat_b: CategoryType
    cat_c: CategoryType
    cat_d: CategoryType
    actors: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        # Named actors read like attributes: world.chief_x, world.district_officer.
        actors = self.__dict__.get("actors", {})
        if name in actors:
            return actors[name]
        raise AttributeError(name)

    def actor(self, name: str) -> Any:
        """A named actor; "anonymous" is None (a resident, or nobody)."""
        return None if name == "anonymous" else self.actors[name]

    def area_at(self, alley: Area, tier: str) -> Area:
        return Area.objects.get(code=alley.code_at(tier))


# Actor name -> (role, where): where names a World attribute (area or department).
ACTORS: dict[str, tuple[str, str]] = {
    "chief_x": (Role.CHIEF, "alley_x"),
    "chief_y": (Role.CHIEF, "alley_y"),
    "service_x": (Role.SERVICE_TEAM, "alley_x"),
    "supervision_x": (Role.SUPERVISION_TEAM, "alley_x"),
    "community_worker_x": (Role.COMMUNITY_STAFF, "community_x"),
    "community_worker_y": (Role.COMMUNITY_STAFF, "community_y"),
    "community_worker_far": (Role.COMMUNITY_STAFF, "other_community"),
    "street_worker": (Role.STREET_STAFF, "street"),
    "street_worker_far": (Role.STREET_STAFF, "other_street"),
    "district_officer": (Role.DISTRICT_ORG, "district"),
    "district_officer_far": (Role.DISTRICT_ORG, "other_district"),
    "city_officer": (Role.CITY_ORG, "city"),
    "lead_contact": (Role.DEPT_CONTACT, "dept_lead"),
    "coop_contact": (Role.DEPT_CONTACT, "dept_coop"),
    "far_contact": (Role.DEPT_CONTACT, "dept_far"),
    "city_contact": (Role.DEPT_CONTACT, "dept_city"),
}


def build_world() -> World:
    """Create the small named world (about sixty rows)."""
    city = AreaFactory(code="3505", name="泉州市", level=AreaLevel.CITY, parent=None)
    district = AreaFactory(code="350502", name="鲤城区", level=AreaLevel.DISTRICT, parent=city)
    street = AreaFactory(code="350502001", name="开元街道", level=AreaLevel.STREET, parent=district)
    community_x = AreaFactory(code="350502001001", name="新华社区", level=AreaLevel.COMMUNITY, parent=street)
    community_y = AreaFactory(code="350502001002", name="西街社区", level=AreaLevel.COMMUNITY, parent=street)
    alley_x = AreaFactory(code="350502001001001", name="金鱼巷", level=AreaLevel.ALLEY, parent=community_x)
    alley_y = AreaFactory(code="350502001002001", name="井亭巷", level=AreaLevel.ALLEY, parent=community_y)
    other_district = AreaFactory(code="350503", name="丰泽区", level=AreaLevel.DISTRICT, parent=city)
    other_street = AreaFactory(
        code="350503001", name="东湖街道", level=AreaLevel.STREET, parent=other_district
    )
    other_community = AreaFactory(
        code="350503001001", name="东湖社区", level=AreaLevel.COMMUNITY, parent=other_street
    )
    other_alley = AreaFactory(
        code="350503001001001", name="东湖巷", level=AreaLevel.ALLEY, parent=other_community
    )
    world = World(
        city=city,
        district=district,
        street=street,
        community_x=community_x,
        community_y=community_y,
        alley_x=alley_x,
        alley_y=alley_y,
        other_district=other_district,
        other_street=other_street,
        other_community=other_community,
        other_alley=other_alley,
        dept_lead=DepartmentFactory(code="LC-CG", name="鲤城区城管局", area=district, role_key="cg"),
        dept_coop=DepartmentFactory(code="LC-ZJ", name="鲤城区住建局", area=district, role_key="zj"),
        dept_far=DepartmentFactory(code="FZ-CG", name="丰泽区城管局", area=other_district, role_key="cg"),
        dept_city=DepartmentFactory(code="QZ-CG", name="泉州市城管局", area=city, role_key="cg"),
        cat_a=CategoryTypeFactory(
            code="A01", name="路灯不亮", category_class=CategoryClassFactory(code="A", default_tier="alley")
        ),
        cat_b=CategoryTypeFactory(
            code="B01",
            name="邻里纠纷",
            category_class=CategoryClassFactory(code="B", default_tier="community"),
        ),
        cat_c=CategoryTypeFactory(
            code="C01", name="占道经营", category_class=CategoryClassFactory(code="C", default_tier="street")
        ),
        cat_d=CategoryTypeFactory(
            code="D01",
            name="危房隐患",
            category_class=CategoryClassFactory(code="D", default_tier="district"),
        ),
    )
    for name, (role, where) in ACTORS.items():
        target = getattr(world, where)
        user = UserFactory(username=name)
        if isinstance(target, Department):
            grant(user, role, department=target)
        else:
            grant(user, role, area=target)
        world.actors[name] = user
    world.actors["admin"] = UserFactory(username="admin", is_superuser=True)
    return world


def make_case(
    world: World,
    *,
    alley: Area | None = None,
    category: CategoryType | None = None,
    state: str = CaseState.SUBMITTED,
    tier: str = AreaLevel.ALLEY,
    now: dt.datetime = MONDAY,
    **fields: Any,
) -> Case:
    """A case placed directly in a state and tier (for permission tables), with fresh deadlines."""
    from issues.workflow.placement import place_at_tier

    alley = alley or world.alley_x
    case = Case(
        source=CaseSource.RESIDENT_FORM,
        category=category or world.cat_a,
        alley=alley,
        description="巷口路灯坏了三天",
        reporter_name="张三",
        reporter_phone="13900001234",
        state=state,
        created_at=now,
        **fields,
    )
    place_at_tier(case, tier, now=now)
    if state not in (CaseState.SUBMITTED, CaseState.REOPENED):
        case.accepted_at = now
        case.escalation_due = case.resolve_due
    if state in (CaseState.AWAITING_VERIFICATION, CaseState.AWAITING_FEEDBACK):
        case.escalation_due = None
        case.warn_at = None
        case.resolved_at = now
        case.resolved_tier = tier
    if state == CaseState.AWAITING_FEEDBACK:
        case.verified_at = now
    case.save()
    return case
