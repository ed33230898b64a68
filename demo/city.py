"""Seeding the demo city: territory, categories, departments, deadline policies and people.

The services behind ``manage.py seed_demo``. The data come from ``alleys.demo_data`` (pure
Python); this module writes them. Every step syncs rows keyed by a natural key (area code,
category code, department code, username, …): missing rows are bulk-created, rows whose
seeded fields differ are bulk-updated, rows already right are not touched. A second run
therefore reads a handful of tables and writes nothing.

People are planned first as plain records (``plan_people``), so the plan is deterministic
and testable without a database: every slot (the chief of an alley, the second staff
member of a community, …) has a fixed username and takes the next index of
``demo_data.person_name`` in tree order. The six named demo logins are not extra people:
each *is* one of those slots (``chief`` is the chief of one alley, ``dept`` the contact of
鲤城区城市管理局), so what they see in the admin is what that person would see.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.db import models, transaction
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from alleys.choices import CODE_LENGTH, LEVEL_ORDER, AreaLevel, Role, ServiceKind
from alleys.models import AlleyProfile, Area, Department, RoleAssignment, StaffProfile
from dispatch.choices import TimeUnit
from dispatch.models import CategoryClass, CategoryType, DeadlinePolicy, OrderSettings

from . import data as demo_data
from .data import AreaSeed, DepartmentSeed

# The documented demo password (README); a deployment sets DEMO_PASSWORD or --password.
DEFAULT_PASSWORD = "demo12345"  # noqa: S105
BATCH_SIZE = 500

M = TypeVar("M", bound=models.Model)
StrOrPromise = str | Promise


class Writer(Protocol):
    """Where progress text goes: a command's ``self.stdout``, ``sys.stdout`` or a StringIO."""

    def write(self, text: str, /) -> Any: ...


# --------------------------------------------------------------------------- report


@dataclass
class SyncCount:
    """Rows created and updated by one seeding step."""

    created: int = 0
    updated: int = 0

    def add(self, other: SyncCount) -> None:
        self.created += other.created
        self.updated += other.updated


@dataclass(frozen=True)
class DemoLogin:
    """One of the named demo logins, for the summary the command prints."""

    username: str
    role_label: str
    place: str
    # Whether the account's password is (still) the one this run was given.
    password_works: bool


@dataclass
class SeedReport:
    """What a run of ``seed_city`` did, step by step, and the named logins."""

    steps: dict[str, SyncCount] = field(default_factory=dict)
    logins: list[DemoLogin] = field(default_factory=list)

    def step(self, key: str) -> SyncCount:
        return self.steps.setdefault(key, SyncCount())

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated for c in self.steps.values())


# --------------------------------------------------------------------------- generic sync


def _sync_rows(
    model: type[M],
    *,
    desired: dict[Any, dict[str, Any]],
    existing: dict[Any, M],
    validate: Callable[[M], None] | None = None,
) -> tuple[SyncCount, dict[Any, M]]:
    """Make the rows keyed like ``desired`` hold its values; return the counts and all rows by key.

    ``desired`` values use attribute names (``parent_id``, not ``parent``) so comparing
    them with loaded rows needs no extra queries. Only changed fields are written.
    """
    count = SyncCount()
    rows: dict[Any, M] = {}
    to_create: list[M] = []
    to_update: list[M] = []
    changed_fields: set[str] = set()
    for key, values in desired.items():
        obj = existing.get(key)
        if obj is None:
            obj = model(**values)
            to_create.append(obj)
        else:
            changed = [name for name, value in values.items() if getattr(obj, name) != value]
            if changed:
                for name in changed:
                    setattr(obj, name, values[name])
                to_update.append(obj)
                changed_fields.update(changed)
        rows[key] = obj
    if validate is not None:
        for obj in (*to_create, *to_update):
            validate(obj)
    if to_create:
        # PostgreSQL and SQLite >= 3.35 return the new primary keys, so ``rows`` is usable at once.
        model._default_manager.bulk_create(to_create, batch_size=BATCH_SIZE)
        count.created = len(to_create)
    if to_update:
        model._default_manager.bulk_update(to_update, sorted(changed_fields), batch_size=BATCH_SIZE)
        count.updated = len(to_update)
    return count, rows


def _mix(key: str, salt: int) -> int:
    """A stable pseudo-random number (CRC32; ``hash()`` changes between processes)."""
    return zlib.crc32(f"{key}#{salt}".encode())


# --------------------------------------------------------------------------- territory


def _nodes_by_level(root: AreaSeed) -> dict[str, list[tuple[AreaSeed, AreaSeed | None]]]:
    """Every (node, parent) of the tree grouped by level, in code order."""
    by_level: dict[str, list[tuple[AreaSeed, AreaSeed | None]]] = {level: [] for level in LEVEL_ORDER}

    def walk(node: AreaSeed, parent: AreaSeed | None) -> None:
        by_level[node.level].append((node, parent))
        for child in node.children:
            walk(child, node)

    walk(root, None)
    return by_level


def _seed_areas(report: SeedReport) -> dict[str, Area]:
    """The area tree, level by level so every parent has its id before its children."""
    existing = {a.code: a for a in Area.objects.filter(code__startswith=demo_data.CITY.code)}
    areas: dict[str, Area] = {}
    by_id: dict[int, Area] = {a.pk: a for a in existing.values()}

    def validate(area: Area) -> None:
        # bulk_create skips Area.save(), so run the tree's own checks (level, parent, prefix) here.
        if area.parent_id is not None:
            area.parent = by_id[area.parent_id]
        area.clean()

    tree = _nodes_by_level(demo_data.CITY)
    for level in LEVEL_ORDER:
        desired: dict[Any, dict[str, Any]] = {}
        for node, parent in tree[level]:
            desired[node.code] = {
                "code": node.code,
                "name": node.name,
                "level": level,
                "parent_id": areas[parent.code].pk if parent is not None else None,
            }
        count, rows = _sync_rows(Area, desired=desired, existing=existing, validate=validate)
        report.step(f"area_{level}").add(count)
        areas.update(rows)
        by_id.update({a.pk: a for a in rows.values()})
    return areas


def _seed_alley_profiles(areas: dict[str, Area], report: SeedReport) -> None:
    existing = {p.area_id: p for p in AlleyProfile.objects.filter(area__code__startswith=demo_data.CITY.code)}
    desired: dict[Any, dict[str, Any]] = {}
    for node, _parent in _nodes_by_level(demo_data.CITY)[AreaLevel.ALLEY]:
        seed = node.profile
        if seed is None:
            continue
        area_id = areas[node.code].pk
        desired[area_id] = {
            "area_id": area_id,
            "households": seed.households,
            "shops": seed.shops,
            "resident_units": seed.resident_units,
            "features": seed.features,
            "convention": demo_data.render_convention(node.name),
            "office_hours": seed.office_hours,
            "board_contact_phone": seed.board_contact_phone,
        }
    count, _rows = _sync_rows(AlleyProfile, desired=desired, existing=existing)
    report.step("alley_profile").add(count)


# --------------------------------------------------------------------------- categories


def _seed_categories(report: SeedReport) -> tuple[dict[str, CategoryClass], dict[str, CategoryType]]:
    existing_classes = CategoryClass.objects.in_bulk(field_name="code")
    count, classes = _sync_rows(
        CategoryClass,
        desired={
            c.code: {
                "code": c.code,
                "name": c.name,
                "description": c.description,
                "top_tier": c.top_tier,
            }
            for c in demo_data.CATEGORY_CLASSES
        },
        existing=existing_classes,
    )
    report.step("category_class").add(count)

    existing_types = CategoryType.objects.in_bulk(field_name="code")
    desired: dict[Any, dict[str, Any]] = {}
    for position, t in enumerate(demo_data.CATEGORY_TYPES, start=1):
        desired[t.code] = {
            "code": t.code,
            "name": t.name,
            "category_class_id": classes[t.class_code].pk,
            "default_department_role": t.default_department_role or "",
            "service_kind": t.service_kind or "",
            "needs_contact": t.needs_contact,
            "fix_photo_required": t.fix_photo_required,
            "common": t.common,
            "icon": t.icon,
            "keywords": " ".join(t.keywords),
            "alert_tier": t.alert_tier or "",
            # Gaps of ten leave room for types an administrator inserts between them.
            "sort_order": position * 10,
        }
    count, types = _sync_rows(CategoryType, desired=desired, existing=existing_types)
    report.step("category_type").add(count)
    return classes, types


# Per class: (accept, resolve) at each tier as ((value, unit), (value, unit)). Class A at the
# alley is the figure everyone quotes (4 working hours to accept, 3 working days to fix);
# harder classes get longer at the lower tiers, where they are the exception; at district
# and city level an order governs, whose completion limit is one quarter (60 working days).
_H, _D = TimeUnit.HOURS, TimeUnit.DAYS
_Limit = tuple[int, str]
DEADLINE_DEFAULTS: dict[str, dict[str, tuple[_Limit, _Limit]]] = {
    "A": {
        AreaLevel.ALLEY: ((4, _H), (3, _D)),
        AreaLevel.COMMUNITY: ((8, _H), (5, _D)),
        AreaLevel.STREET: ((16, _H), (10, _D)),
        AreaLevel.DISTRICT: ((3, _D), (60, _D)),
        AreaLevel.CITY: ((5, _D), (60, _D)),
    },
    "B": {
        AreaLevel.ALLEY: ((4, _H), (5, _D)),
        AreaLevel.COMMUNITY: ((8, _H), (7, _D)),
        AreaLevel.STREET: ((16, _H), (15, _D)),
        AreaLevel.DISTRICT: ((3, _D), (60, _D)),
        AreaLevel.CITY: ((5, _D), (60, _D)),
    },
    "C": {
        AreaLevel.ALLEY: ((8, _H), (5, _D)),
        AreaLevel.COMMUNITY: ((8, _H), (10, _D)),
        AreaLevel.STREET: ((2, _D), (20, _D)),
        AreaLevel.DISTRICT: ((3, _D), (60, _D)),
        AreaLevel.CITY: ((5, _D), (60, _D)),
    },
    "D": {
        AreaLevel.ALLEY: ((8, _H), (5, _D)),
        AreaLevel.COMMUNITY: ((16, _H), (10, _D)),
        AreaLevel.STREET: ((2, _D), (20, _D)),
        AreaLevel.DISTRICT: ((5, _D), (60, _D)),
        AreaLevel.CITY: ((5, _D), (60, _D)),
    },
}


def _seed_deadline_policies(classes: dict[str, CategoryClass], report: SeedReport) -> None:
    """Create missing policy rows; never overwrite one, since tuning them in the admin is the point."""
    have = set(DeadlinePolicy.objects.values_list("category_class_id", "tier"))
    new: list[DeadlinePolicy] = []
    for class_code, tiers in DEADLINE_DEFAULTS.items():
        category_class = classes.get(class_code)
        if category_class is None:
            continue
        for tier, ((accept_value, accept_unit), (resolve_value, resolve_unit)) in tiers.items():
            if (category_class.pk, tier) in have:
                continue
            new.append(
                DeadlinePolicy(
                    category_class=category_class,
                    tier=tier,
                    accept_value=accept_value,
                    accept_unit=accept_unit,
                    resolve_value=resolve_value,
                    resolve_unit=resolve_unit,
                )
            )
    DeadlinePolicy.objects.bulk_create(new)
    report.step("deadline_policy").created += len(new)


def _seed_order_settings(report: SeedReport) -> None:
    """The single settings row; like the policies, an existing row is the administrator's."""
    _obj, created = OrderSettings.objects.get_or_create(
        pk=1, defaults={"report_days": 5, "complete_days": 60, "verify_days": 3}
    )
    report.step("order_settings").created += int(created)


# --------------------------------------------------------------------------- departments


def _seed_departments(areas: dict[str, Area], report: SeedReport) -> dict[str, Department]:
    existing = Department.objects.in_bulk([d.code for d in demo_data.DEPARTMENTS], field_name="code")
    desired: dict[Any, dict[str, Any]] = {
        d.code: {
            "code": d.code,
            "name": d.name,
            "kind": d.kind,
            "area_id": areas[d.area_code].pk,
            "role_key": d.role_key,
            "leader_name": d.leader_name,
            "leader_phone": d.leader_phone,
            "contact_name": d.contact_name,
            "contact_phone": d.contact_phone,
        }
        for d in demo_data.DEPARTMENTS
    }
    count, departments = _sync_rows(Department, desired=desired, existing=existing)
    report.step("department").add(count)
    return departments


def _seed_duties(
    types: dict[str, CategoryType], departments: dict[str, Department], report: SeedReport
) -> None:
    """CategoryType.departments = the departments whose duty list (权责清单) names the type."""
    through = CategoryType.departments.through
    desired: set[tuple[int, int]] = set()
    for dept in demo_data.DEPARTMENTS:
        for code in dept.category_codes:
            desired.add((types[code].pk, departments[dept.code].pk))
    type_ids = [t.pk for t in types.values()]
    have = set(
        through.objects.filter(categorytype_id__in=type_ids).values_list("categorytype_id", "department_id")
    )
    missing = desired - have
    extra = have - desired
    count = report.step("duty")
    if missing:
        through.objects.bulk_create(
            [through(categorytype_id=t, department_id=d) for t, d in sorted(missing)], batch_size=BATCH_SIZE
        )
        count.created += len(missing)
    if extra:
        # The seeded types' duty lists are the demo's; a pair the seed does not name goes.
        for type_id, dept_id in extra:
            through.objects.filter(categorytype_id=type_id, department_id=dept_id).delete()
        count.updated += len(extra)


# --------------------------------------------------------------------------- people plan


@dataclass(frozen=True)
class RoleSeed:
    """One role a planned person holds, on an area code or a department code."""

    role: str
    area_code: str = ""
    department_code: str = ""
    service_kind: str = ""


@dataclass
class PersonSeed:
    """One planned demo account with its profile and roles."""

    username: str
    full_name: str
    phone: str
    title: str
    is_staff: bool
    is_party_member: bool = True
    is_superuser: bool = False
    roles: list[RoleSeed] = field(default_factory=list)


@dataclass(frozen=True)
class Anchors:
    """Where the named demo logins sit: one district, street, community, alley and department."""

    district: AreaSeed
    street: AreaSeed
    community: AreaSeed
    alley: AreaSeed
    department: DepartmentSeed


ANCHOR_DISTRICT = "350502"  # 鲤城区, the old town the articles describe
ANCHOR_STREET_NAME = "开元街道"
ANCHOR_DEPARTMENT = "LC-CG"  # 鲤城区城市管理局


def demo_anchors(root: AreaSeed | None = None) -> Anchors:
    """The areas and department the named logins belong to (same choice on every run)."""
    city = root or demo_data.CITY
    district = next(d for d in city.children if d.code == ANCHOR_DISTRICT)
    street = next((s for s in district.children if s.name == ANCHOR_STREET_NAME), district.children[0])
    community = street.children[0]
    alley = community.children[0]
    return Anchors(district, street, community, alley, demo_data.DEPARTMENTS_BY_CODE[ANCHOR_DEPARTMENT])


# A community shares one member of each speciality among its alleys (one community police
# officer, one family doctor, …); each alley's team is the 3–5 of them matched to it.
SERVICE_KINDS: tuple[str, ...] = (
    ServiceKind.POLICE,
    ServiceKind.CITY_MANAGEMENT,
    ServiceKind.DOCTOR,
    ServiceKind.MEDIATOR,
    ServiceKind.LAWYER,
)
SERVICE_TITLES: dict[str, str] = {
    ServiceKind.POLICE: "社区民警",
    ServiceKind.CITY_MANAGEMENT: "城管执法队员",
    ServiceKind.DOCTOR: "家庭医生",
    ServiceKind.MEDIATOR: "人民调解员",
    ServiceKind.LAWYER: "社区法律顾问",
}


def alley_service_kinds(alley_code: str) -> tuple[str, ...]:
    """The alley's service team: always the police officer, then 2–4 more by a stable rotation."""
    size = 3 + _mix(alley_code, 1) % 3
    others = SERVICE_KINDS[1:]
    start = _mix(alley_code, 2) % len(others)
    rotated = others[start:] + others[:start]
    chosen = {ServiceKind.POLICE, *rotated[: size - 1]}
    return tuple(k for k in SERVICE_KINDS if k in chosen)


def alley_deputy_count(alley_code: str) -> int:
    return 1 + _mix(alley_code, 3) % 2


def alley_supervisor_count(alley_code: str) -> int:
    return 1 + _mix(alley_code, 4) % 2


class _People:
    """Accumulates planned people, handing out name indices in tree order."""

    def __init__(self, named: dict[tuple[str, str, int], str]) -> None:
        self.named = named
        self.index = 0
        self.people: list[PersonSeed] = []

    def add(
        self,
        *,
        slot: tuple[str, str, int],
        username: str,
        title: str,
        is_staff: bool,
        roles: list[RoleSeed],
        party: bool = True,
    ) -> PersonSeed:
        index = self.index
        self.index += 1
        person = PersonSeed(
            username=self.named.get(slot, username),
            full_name=demo_data.person_name(index),
            phone=demo_data.phone(index, "139"),
            title=title,
            is_staff=is_staff,
            is_party_member=party,
            roles=roles,
        )
        self.people.append(person)
        return person


def plan_people(root: AreaSeed | None = None) -> list[PersonSeed]:
    """Every demo account, in a fixed order, with the named logins in their slots."""
    city = root or demo_data.CITY
    anchors = demo_anchors(city)
    named: dict[tuple[str, str, int], str] = {
        (Role.DISTRICT_ORG, anchors.district.code, 1): "orgdept",
        (Role.STREET_STAFF, anchors.street.code, 1): "street",
        (Role.COMMUNITY_STAFF, anchors.community.code, 1): "community",
        (Role.CHIEF, anchors.alley.code, 1): "chief",
        (Role.DEPT_CONTACT, anchors.department.code, 1): "dept",
    }
    people = _People(named)
    people.people.append(
        PersonSeed(
            username="admin",
            full_name="系统管理员",
            phone="",
            title="系统管理员",
            is_staff=True,
            is_superuser=True,
        )
    )

    def staff(role: str, node: AreaSeed, prefix: str, titles: tuple[str, str]) -> None:
        for n in (1, 2):
            people.add(
                slot=(role, node.code, n),
                username=f"{prefix}_{node.code}_{n}",
                title=titles[n - 1],
                is_staff=True,
                roles=[RoleSeed(role, area_code=node.code)],
            )

    staff(Role.CITY_ORG, city, "cityorg", ("市委组织部组织二科科长", "市委组织部组织二科干事"))
    for district in city.children:
        staff(Role.DISTRICT_ORG, district, "orgdept", ("区委组织部组织科科长", "区委组织部组织科干事"))
        for street in district.children:
            staff(Role.STREET_STAFF, street, "street", ("街道党建办主任", "街道党建办干事"))
            for community in street.children:
                staff(Role.COMMUNITY_STAFF, community, "community", ("社区党委书记", "社区专职工作者"))
                _plan_community_alleys(people, community)
    _plan_department_people(people)
    return people.people


def _plan_community_alleys(people: _People, community: AreaSeed) -> None:
    teams = {alley.code: alley_service_kinds(alley.code) for alley in community.children}
    for kind in SERVICE_KINDS:
        served = [code for code, kinds in teams.items() if kind in kinds]
        if not served:
            continue
        people.add(
            slot=(Role.SERVICE_TEAM, community.code, SERVICE_KINDS.index(kind) + 1),
            username=f"service_{kind}_{community.code}",
            title=SERVICE_TITLES[kind],
            is_staff=True,  # they accept and handle cases on the staff pages
            roles=[RoleSeed(Role.SERVICE_TEAM, area_code=code, service_kind=kind) for code in served],
            party=kind in (ServiceKind.POLICE, ServiceKind.CITY_MANAGEMENT)
            or _mix(f"{community.code}{kind}", 10) % 2 == 0,
        )
    for alley in community.children:
        code = alley.code
        people.add(
            slot=(Role.CHIEF, code, 1),
            username=f"chief_{code}",
            title="巷长",
            is_staff=True,
            roles=[RoleSeed(Role.CHIEF, area_code=code)],
        )
        for n in range(1, alley_deputy_count(code) + 1):
            people.add(
                slot=(Role.DEPUTY_CHIEF, code, n),
                username=f"deputy_{code}_{n}",
                title="副巷长",
                is_staff=True,
                roles=[RoleSeed(Role.DEPUTY_CHIEF, area_code=code)],
            )
        for n in range(1, alley_supervisor_count(code) + 1):
            people.add(
                slot=(Role.SUPERVISION_TEAM, code, n),
                username=f"supervisor_{code}_{n}",
                title="督导队员（退休党员）",
                # Retired Party members watch and comment; they do not work in the admin.
                is_staff=False,
                roles=[RoleSeed(Role.SUPERVISION_TEAM, area_code=code)],
            )
        people.add(
            slot=(Role.GRID_WORKER, code, 1),
            username=f"grid_{code}",
            title="专职网格员",
            is_staff=True,
            roles=[RoleSeed(Role.GRID_WORKER, area_code=code)],
            party=_mix(code, 11) % 2 == 0,
        )


def _department_username(prefix: str, code: str) -> str:
    return f"{prefix}_{code.lower().replace('-', '_')}"


def _plan_department_people(people: _People) -> None:
    """A contact and a leader per department, named as in the department's own row."""
    for dept in demo_data.DEPARTMENTS:
        for role, prefix, name, phone_number, title in (
            (Role.DEPT_CONTACT, "dept_contact", dept.contact_name, dept.contact_phone, "联系人"),
            (Role.DEPT_LEADER, "dept_leader", dept.leader_name, dept.leader_phone, "分管负责人"),
        ):
            username = _department_username(prefix, dept.code)
            people.people.append(
                PersonSeed(
                    username=people.named.get((role, dept.code, 1), username),
                    full_name=name,
                    phone=phone_number,
                    title=f"{dept.name}{title}",
                    is_staff=True,
                    roles=[RoleSeed(role, department_code=dept.code)],
                )
            )


# --------------------------------------------------------------------------- people sync


def _in_bulk_by(model: type[M], field_name: str, keys: Iterable[Any]) -> dict[Any, M]:
    # in_bulk batches the IN list to the backend's parameter limit (999 on SQLite).
    return model._default_manager.in_bulk(list(keys), field_name=field_name)


def _seed_people(
    *,
    plan: list[PersonSeed],
    areas: dict[str, Area],
    departments: dict[str, Department],
    password: str,
    reset_passwords: bool,
    report: SeedReport,
) -> dict[str, Any]:
    user_model = get_user_model()
    existing = _in_bulk_by(user_model, "username", (p.username for p in plan))
    encoded: str | None = None

    def hashed() -> str:
        # One hash for every demo account: hashing thousands of passwords one by one would
        # take minutes, and a shared demo password gains nothing from distinct salts.
        nonlocal encoded
        if encoded is None:
            encoded = make_password(password)
        return encoded

    desired: dict[Any, dict[str, Any]] = {}
    for person in plan:
        desired[person.username] = {
            "username": person.username,
            "first_name": person.full_name[:150],
            "is_staff": person.is_staff,
            "is_superuser": person.is_superuser,
            "is_active": True,
        }
        if person.username not in existing or reset_passwords:
            desired[person.username]["password"] = hashed()
    count, users = _sync_rows(user_model, desired=desired, existing=existing)
    report.step("user").add(count)

    existing_profiles = _in_bulk_by(StaffProfile, "user_id", (u.pk for u in users.values()))
    profiles: dict[Any, dict[str, Any]] = {}
    for person in plan:
        user_id = users[person.username].pk
        profiles[user_id] = {
            "user_id": user_id,
            "full_name": person.full_name,
            "phone": person.phone,
            "title": person.title,
            "is_party_member": person.is_party_member,
        }
    count, _profiles = _sync_rows(StaffProfile, desired=profiles, existing=existing_profiles)
    report.step("staff_profile").add(count)

    # Every role in the demo territory or departments (one query, no long IN list of users).
    in_demo = Q(area__code__startswith=demo_data.CITY.code) | Q(
        department_id__in=[d.pk for d in departments.values()]
    )
    existing_roles = {
        (r.user_id, r.role, r.area_id, r.department_id): r for r in RoleAssignment.objects.filter(in_demo)
    }
    roles: dict[Any, dict[str, Any]] = {}
    for person in plan:
        user_id = users[person.username].pk
        for seed in person.roles:
            area_id = areas[seed.area_code].pk if seed.area_code else None
            department_id = departments[seed.department_code].pk if seed.department_code else None
            key = (user_id, seed.role, area_id, department_id)
            roles[key] = {
                "user_id": user_id,
                "role": seed.role,
                "area_id": area_id,
                "department_id": department_id,
                "service_kind": seed.service_kind,
                "is_active": True,
            }
    count, _roles = _sync_rows(RoleAssignment, desired=roles, existing=existing_roles)
    report.step("role_assignment").add(count)
    return users


NAMED_LOGINS: tuple[tuple[str, StrOrPromise], ...] = (
    ("admin", _("超级管理员")),
    ("orgdept", Role.DISTRICT_ORG.label),
    ("street", Role.STREET_STAFF.label),
    ("community", Role.COMMUNITY_STAFF.label),
    ("chief", Role.CHIEF.label),
    ("dept", Role.DEPT_CONTACT.label),
)


def _named_logins(plan: list[PersonSeed], *, password: str) -> list[DemoLogin]:
    by_username = {p.username: p for p in plan}
    area_names = {node.code: node.name for node in demo_data.iter_areas(demo_data.CITY)}
    encoded_by_username = dict(
        get_user_model()
        ._default_manager.filter(username__in=[u for u, _ in NAMED_LOGINS])
        .values_list("username", "password")
    )
    # Demo accounts share one hash, so this is usually a single (deliberately slow) check.
    # The module function, not User.check_password: that one may re-hash and save.
    verdicts: dict[str, bool] = {}
    logins: list[DemoLogin] = []
    for username, label in NAMED_LOGINS:
        person = by_username[username]
        places = [
            area_names[r.area_code] if r.area_code else demo_data.DEPARTMENTS_BY_CODE[r.department_code].name
            for r in person.roles
        ]
        encoded = encoded_by_username.get(username, "")
        if encoded not in verdicts:
            verdicts[encoded] = check_password(password, encoded)
        logins.append(
            DemoLogin(
                username=username,
                role_label=str(label),
                place="、".join(places) or demo_data.CITY_NAME,
                password_works=verdicts[encoded],
            )
        )
    return logins


# --------------------------------------------------------------------------- entry points


def seed_city(*, password: str = DEFAULT_PASSWORD, reset_passwords: bool = False) -> SeedReport:
    """Create or bring up to date the whole demo city; a second run writes nothing."""
    _check_tree(demo_data.CITY)
    report = SeedReport()
    plan = plan_people()
    with transaction.atomic():
        areas = _seed_areas(report)
        _seed_alley_profiles(areas, report)
        classes, types = _seed_categories(report)
        departments = _seed_departments(areas, report)
        _seed_duties(types, departments, report)
        _seed_deadline_policies(classes, report)
        _seed_order_settings(report)
        _seed_people(
            plan=plan,
            areas=areas,
            departments=departments,
            password=password,
            reset_passwords=reset_passwords,
            report=report,
        )
    report.logins = _named_logins(plan, password=password)
    return report


def _check_tree(root: AreaSeed) -> None:
    """Fail before writing anything if the seed tree breaks the code rules (cheap, pure Python)."""
    for node in demo_data.iter_areas(root):
        if len(node.code) != CODE_LENGTH[node.level] or not node.code.isdigit():
            raise ValueError(f"bad demo area code {node.code!r} for level {node.level}")
        for child in node.children:
            if not child.code.startswith(node.code):
                raise ValueError(f"demo area {child.code} is not under {node.code}")


def demo_counts() -> dict[str, int]:
    """How many rows of each demo kind the database holds now (for the summary)."""
    user_model = get_user_model()
    counts = {
        f"area_{level}": Area.objects.filter(level=level, code__startswith=demo_data.CITY.code).count()
        for level in LEVEL_ORDER
    }
    counts.update(
        {
            "alley_profile": AlleyProfile.objects.count(),
            "category_class": CategoryClass.objects.count(),
            "category_type": CategoryType.objects.count(),
            "department": Department.objects.count(),
            "duty": CategoryType.departments.through.objects.count(),
            "deadline_policy": DeadlinePolicy.objects.count(),
            "order_settings": OrderSettings.objects.count(),
            "user": user_model._default_manager.count(),
            "staff_profile": StaffProfile.objects.count(),
            "role_assignment": RoleAssignment.objects.count(),
        }
    )
    return counts
