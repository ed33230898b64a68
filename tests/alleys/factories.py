"""factory_boy factories for the territory, people and departments, and a small named tree.

Codes follow the fixed widths (city 4, district 6, street 9, community 12, alley 15):
a child's code is its parent's plus the next free number, so factories never collide
within a test however many they make.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import factory
from django.contrib.auth import get_user_model
from factory.django import DjangoModelFactory

from alleys.choices import CODE_LENGTH, AreaLevel, DepartmentKind, Role, ServiceKind
from alleys.models import AlleyProfile, Area, Department, RoleAssignment, StaffProfile

User = get_user_model()

DEMO_PASSWORD = "pw-for-tests"


def next_child_code(parent: Area | None, level: str) -> str:
    """The next free code under ``parent`` (or the next city code)."""
    width = CODE_LENGTH[level] - (len(parent.code) if parent else 0)
    prefix = parent.code if parent else ""
    taken = set(Area.objects.filter(level=level, code__startswith=prefix).values_list("code", flat=True))
    number = 1 if parent else 3501
    while f"{prefix}{number:0{width}d}" in taken:
        number += 1
    return f"{prefix}{number:0{width}d}"


class AreaFactory(DjangoModelFactory):
    """An area; use the level factories below, which build the parents they need."""

    class Meta:
        model = Area

    level = AreaLevel.CITY
    parent = None
    code = factory.LazyAttribute(lambda o: next_child_code(o.parent, o.level))
    name = factory.LazyAttribute(lambda o: f"{AreaLevel(o.level).label}{o.code}")
    is_active = True


class CityFactory(AreaFactory):
    """A city (4-digit code)."""

    level = AreaLevel.CITY
    parent = None


class DistrictFactory(AreaFactory):
    """A district in a new city unless ``parent`` is given."""

    level = AreaLevel.DISTRICT
    parent = factory.SubFactory(CityFactory)


class StreetFactory(AreaFactory):
    """A street (街道)."""

    level = AreaLevel.STREET
    parent = factory.SubFactory(DistrictFactory)


class CommunityFactory(AreaFactory):
    """A community (社区)."""

    level = AreaLevel.COMMUNITY
    parent = factory.SubFactory(StreetFactory)


class AlleyFactory(AreaFactory):
    """An alley or grid (the bottom unit)."""

    level = AreaLevel.ALLEY
    parent = factory.SubFactory(CommunityFactory)


class AlleyProfileFactory(DjangoModelFactory):
    """The profile and board of an alley."""

    class Meta:
        model = AlleyProfile

    area = factory.SubFactory(AlleyFactory)
    households = 120
    shops = 8
    resident_units = 2
    convention = "门前三包，垃圾分类。"
    board_contact_phone = "0595-12345678"


class DepartmentFactory(DjangoModelFactory):
    """A district government department unless told otherwise."""

    class Meta:
        model = Department

    code = factory.Sequence(lambda n: f"D{n:05d}")
    name = factory.Sequence(lambda n: f"测试部门{n}")
    kind = DepartmentKind.GOVERNMENT
    area = factory.SubFactory(DistrictFactory)
    leader_name = "王分管"
    contact_name = "李联系"
    contact_phone = "0595-87654321"


class UserFactory(DjangoModelFactory):
    """A login (not staff) with the tests' password."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = False
    password = factory.django.Password(DEMO_PASSWORD)


class StaffUserFactory(UserFactory):
    """A login that may open the admin (what it sees there depends on its roles)."""

    is_staff = True


class SuperuserFactory(UserFactory):
    """A superuser."""

    is_staff = True
    is_superuser = True


class StaffProfileFactory(DjangoModelFactory):
    """Name and phone of a staff user."""

    class Meta:
        model = StaffProfile

    user = factory.SubFactory(StaffUserFactory)
    full_name = factory.Sequence(lambda n: f"张{n}")
    phone = "13800000000"


class RoleAssignmentFactory(DjangoModelFactory):
    """A role on an area (alley chief by default) or, with ``department``, in a department."""

    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(StaffUserFactory)
    role = Role.CHIEF
    area = factory.Maybe("department", yes_declaration=None, no_declaration=factory.SubFactory(AlleyFactory))
    department = None
    service_kind = factory.LazyAttribute(lambda o: ServiceKind.POLICE if o.role == Role.SERVICE_TEAM else "")
    is_active = True


def make_actor(
    role: str,
    *,
    area: Area | None = None,
    department: Department | None = None,
    username: str | None = None,
    is_active: bool = True,
    **assignment: Any,
) -> Any:
    """A staff user with a profile and one role (more roles: RoleAssignmentFactory(user=...))."""
    user = StaffUserFactory(**({"username": username} if username else {}))
    StaffProfileFactory(user=user, full_name=f"{Role(role).label}{user.pk}")
    RoleAssignmentFactory(
        user=user, role=role, area=area, department=department, is_active=is_active, **assignment
    )
    return user


@dataclass
class Tree:
    """A small city: 2 districts × 2 streets × 2 communities × 2 alleys, named d1, d1s2, d1s2c1, d1s2c1a2…

    Plus a department in each district (``dep_d1``, ``dep_d2``) and one of the city (``dep_city``).
    """

    city: Area
    areas: dict[str, Area] = field(default_factory=dict)
    departments: dict[str, Department] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Area:
        return self.areas[name]

    def dep(self, name: str) -> Department:
        return self.departments[name]

    def codes(self, *names: str) -> set[str]:
        return {self.areas[n].code for n in names}

    def under(self, name: str) -> set[str]:
        """Codes of the named area and everything below it."""
        prefix = self.areas[name].code
        return {a.code for a in self.areas.values() if a.code.startswith(prefix)}

    @property
    def all_codes(self) -> set[str]:
        return {a.code for a in self.areas.values()}


def build_tree() -> Tree:
    city = CityFactory(code="3505", name="泉州市")
    tree = Tree(city=city, areas={"city": city})
    for d in (1, 2):
        district = DistrictFactory(parent=city, code=f"{city.code}{d:02d}", name=f"区{d}")
        tree.areas[f"d{d}"] = district
        for s in (1, 2):
            street = StreetFactory(parent=district, code=f"{district.code}{s:03d}", name=f"区{d}街道{s}")
            tree.areas[f"d{d}s{s}"] = street
            for c in (1, 2):
                community = CommunityFactory(
                    parent=street, code=f"{street.code}{c:03d}", name=f"区{d}街道{s}社区{c}"
                )
                tree.areas[f"d{d}s{s}c{c}"] = community
                for a in (1, 2):
                    alley = AlleyFactory(
                        parent=community, code=f"{community.code}{a:03d}", name=f"区{d}街道{s}社区{c}巷{a}"
                    )
                    tree.areas[f"d{d}s{s}c{c}a{a}"] = alley
    tree.departments["dep_d1"] = DepartmentFactory(
        area=tree["d1"], name="区1城管局", code="D1-CG", role_key="cg"
    )
    tree.departments["dep_d2"] = DepartmentFactory(
        area=tree["d2"], name="区2城管局", code="D2-CG", role_key="cg"
    )
    tree.departments["dep_city"] = DepartmentFactory(area=city, name="市供电公司", code="C-GD", role_key="gd")
    return tree
