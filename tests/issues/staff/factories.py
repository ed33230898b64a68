"""A small named world for the staff-site tests (also used by tests/dispatch/staff).

One city with two districts; district 350502 has one street with communities X and Y,
each with one alley; district 350503 has a street, community and alley of its own.
Each named actor holds one role, so a test can say "the chief of alley X may, the
chief of alley Y gets a 404".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import factory
from django.contrib.auth import get_user_model

from alleys.choices import AreaLevel, Role, ServiceKind
from alleys.models import Area, Department, RoleAssignment, StaffProfile
from alleys.scoping import forget_scope
from dispatch.models import CategoryClass, CategoryType
from issues.choices import CaseSource, CaseState
from issues.models import Case
from issues.workflow.placement import place_at_tier

User = get_user_model()
TZ = ZoneInfo("Asia/Shanghai")
PHONE = "13900001234"
MASKED = "139****1234"


def at(text: str) -> dt.datetime:
    """An aware moment in the project's time zone from 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


class UserFactory(factory.django.DjangoModelFactory):
    """A staff login without a usable password."""

    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"staffuser{n}")
    password = "!"
    is_staff = True


class AreaFactory(factory.django.DjangoModelFactory):
    """One area of the tree; pass parent, level and code."""

    class Meta:
        model = Area

    name = factory.Sequence(lambda n: f"区域{n}")


class DepartmentFactory(factory.django.DjangoModelFactory):
    """A district or city department."""

    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"SD{n:04d}")
    name = factory.Sequence(lambda n: f"部门{n}")


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

    code = factory.Sequence(lambda n: f"ST{n:03d}")
    name = factory.Sequence(lambda n: f"事项{n}")
    category_class = factory.SubFactory(CategoryClassFactory, code="A")
    fix_photo_required = False


def grant(user: Any, role: str, *, area: Area | None = None, department: Department | None = None) -> Any:
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
    """Areas, departments, categories and named actors."""

    areas: dict[str, Area]
    departments: dict[str, Department]
    categories: dict[str, CategoryType]
    actors: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.actors[name]

    @property
    def alley_x(self) -> Area:
        return self.areas["alley_x"]

    @property
    def alley_y(self) -> Area:
        return self.areas["alley_y"]

    @property
    def other_alley(self) -> Area:
        return self.areas["other_alley"]


# Actor -> (role, area or department key)
ACTORS: dict[str, tuple[str, str]] = {
    "chief_x": (Role.CHIEF, "alley_x"),
    "chief_y": (Role.CHIEF, "alley_y"),
    "grid_x": (Role.GRID_WORKER, "alley_x"),
    "supervision_x": (Role.SUPERVISION_TEAM, "alley_x"),
    "cw_x": (Role.COMMUNITY_STAFF, "community_x"),
    "cw_y": (Role.COMMUNITY_STAFF, "community_y"),
    "cw_far": (Role.COMMUNITY_STAFF, "other_community"),
    "street": (Role.STREET_STAFF, "street"),
    "street_far": (Role.STREET_STAFF, "other_street"),
    "district": (Role.DISTRICT_ORG, "district"),
    "district_far": (Role.DISTRICT_ORG, "other_district"),
    "city": (Role.CITY_ORG, "city"),
    "lead": (Role.DEPT_CONTACT, "lead"),
    "coop": (Role.DEPT_CONTACT, "coop"),
    "far_dept": (Role.DEPT_CONTACT, "far"),
}


def build_world() -> World:
    """Create the world (about sixty rows)."""
    a: dict[str, Area] = {}
    a["city"] = AreaFactory(code="3505", name="泉州市", level=AreaLevel.CITY, parent=None)
    a["district"] = AreaFactory(code="350502", name="鲤城区", level=AreaLevel.DISTRICT, parent=a["city"])
    a["street"] = AreaFactory(code="350502001", name="开元街道", level=AreaLevel.STREET, parent=a["district"])
    a["community_x"] = AreaFactory(
        code="350502001001", name="新华社区", level=AreaLevel.COMMUNITY, parent=a["street"]
    )
    a["community_y"] = AreaFactory(
        code="350502001002", name="西街社区", level=AreaLevel.COMMUNITY, parent=a["street"]
    )
    a["alley_x"] = AreaFactory(
        code="350502001001001", name="金鱼巷", level=AreaLevel.ALLEY, parent=a["community_x"]
    )
    a["alley_y"] = AreaFactory(
        code="350502001002001", name="井亭巷", level=AreaLevel.ALLEY, parent=a["community_y"]
    )
    a["other_district"] = AreaFactory(
        code="350503", name="丰泽区", level=AreaLevel.DISTRICT, parent=a["city"]
    )
    a["other_street"] = AreaFactory(
        code="350503001", name="东湖街道", level=AreaLevel.STREET, parent=a["other_district"]
    )
    a["other_community"] = AreaFactory(
        code="350503001001", name="东湖社区", level=AreaLevel.COMMUNITY, parent=a["other_street"]
    )
    a["other_alley"] = AreaFactory(
        code="350503001001001", name="东湖巷", level=AreaLevel.ALLEY, parent=a["other_community"]
    )
    d = {
        "lead": DepartmentFactory(code="LC-CG", name="鲤城区城管局", area=a["district"], role_key="cg"),
        "coop": DepartmentFactory(code="LC-ZJ", name="鲤城区住建局", area=a["district"], role_key="zj"),
        "far": DepartmentFactory(code="FZ-CG", name="丰泽区城管局", area=a["other_district"], role_key="cg"),
        "city_dept": DepartmentFactory(code="QZ-CG", name="泉州市城管局", area=a["city"], role_key="cg"),
    }
    c = {
        "a": CategoryTypeFactory(
            code="A01", name="路灯不亮", category_class=CategoryClassFactory(code="A", default_tier="alley")
        ),
        "b": CategoryTypeFactory(
            code="B01",
            name="邻里纠纷",
            category_class=CategoryClassFactory(code="B", default_tier="community"),
        ),
        "c": CategoryTypeFactory(
            code="C01", name="占道经营", category_class=CategoryClassFactory(code="C", default_tier="street")
        ),
        "d": CategoryTypeFactory(
            code="D01",
            name="危房隐患",
            category_class=CategoryClassFactory(code="D", default_tier="district"),
        ),
    }
    world = World(areas=a, departments=d, categories=c)
    for name, (role, where) in ACTORS.items():
        user = UserFactory(username=name)
        StaffProfile.objects.create(user=user, full_name=f"{name}姓名")
        if where in d:
            grant(user, role, department=d[where])
        else:
            grant(user, role, area=a[where])
        world.actors[name] = user
    world.actors["admin"] = UserFactory(username="admin", is_superuser=True)
    world.actors["nobody"] = UserFactory(username="nobody")
    return world


def make_case(
    world: World,
    *,
    alley: Area | None = None,
    category: CategoryType | None = None,
    state: str = CaseState.SUBMITTED,
    tier: str = AreaLevel.ALLEY,
    now: dt.datetime | None = None,
    **fields: Any,
) -> Case:
    """A case placed directly in a state and tier, with fresh deadlines from ``now``."""
    from django.utils import timezone

    now = now or timezone.now()
    values: dict[str, Any] = {
        "source": CaseSource.RESIDENT_FORM,
        "description": "巷口路灯坏了三天",
        "reporter_name": "张三",
        "reporter_phone": PHONE,
        **fields,
    }
    case = Case(
        category=category or world.categories["a"],
        alley=alley or world.alley_x,
        state=state,
        created_at=now,
        **values,
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
