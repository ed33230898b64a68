"""The suite's one set of factory_boy factories, its one clock, and its two named worlds.

One factory per model and one name per object. Codes follow the fixed widths (city 4,
district 6, street 9, community 12, alley 15): a child's code is its parent's plus the next
free number, so factories never collide within a test however many they make.

Two named shapes are built from these factories:

- ``build_world()``: the casework world (cases, orders, evaluations, staff pages, API). One
  city with two districts; district 350502 has one street with communities X and Y, each
  with one alley; district 350503 has a street, community and alley of its own. Each named
  actor holds one role, so a permission table can say "the chief of alley X may, the chief
  of alley Y may not".
- ``build_tree()``: the territory tests' regular tree, 2 districts × 2 streets × 2
  communities × 2 alleys, for scoping tables that need siblings at every level.

Time: every factory that needs a moment defaults to ``MONDAY``; pass ``now=`` (or freeze
the clock) for anything else.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone
from factory.django import DjangoModelFactory

from alleys.choices import CODE_LENGTH, AreaLevel, DepartmentKind, Role, ServiceKind
from alleys.models import AlleyProfile, Area, Department, RoleAssignment, StaffProfile
from alleys.scoping import forget_scope
from dispatch.deadlines import verification_due
from dispatch.models import CategoryClass, CategoryType
from evaluation.models import Survey, SurveyAnswer, SurveyInvite
from issues.choices import (
    AWAITING_ANSWER_STATES,
    AgendaState,
    CaseSource,
    CaseState,
    Decision,
    EventKind,
    FeedbackChannel,
    MeetingState,
    OrderRole,
    OrderState,
)
from issues.models import (
    AgendaItem,
    Case,
    CaseEvent,
    DispatchOrder,
    Feedback,
    JointMeeting,
    MechanismReview,
    StandingMechanism,
    Whistle,
)
from issues.workflow.placement import place_at_tier

User = get_user_model()
TZ = ZoneInfo("Asia/Shanghai")
DEMO_PASSWORD = "pw-for-tests"
PHONE = "13900001234"
MASKED = "139****1234"


def at(text: str) -> dt.datetime:
    """An aware moment in the project's time zone from 'YYYY-MM-DD HH:MM'."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


# The suite's one default clock: a Monday in an ordinary working week (no holiday near it).
MONDAY = at("2026-03-02 10:00")


# --- territory ---------------------------------------------------------------------------


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
    """An area; the level subclasses below build the parents they need."""

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
    """A street (街道) in a new district unless ``parent`` is given."""

    level = AreaLevel.STREET
    parent = factory.SubFactory(DistrictFactory)


class CommunityFactory(AreaFactory):
    """A community (社区) in a new street unless ``parent`` is given."""

    level = AreaLevel.COMMUNITY
    parent = factory.SubFactory(StreetFactory)


class AlleyFactory(AreaFactory):
    """An alley or grid (the bottom unit), with its community, street, district and city unless ``parent`` is given."""

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


# --- people ------------------------------------------------------------------------------


class UserFactory(DjangoModelFactory):
    """A staff login with the tests' password, fetched again when the username exists.

    ``is_staff=False`` for a plain login, ``superuser=True`` for a superuser.
    """

    class Meta:
        model = User
        django_get_or_create = ("username",)

    class Params:
        superuser = factory.Trait(is_staff=True, is_superuser=True)

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(DEMO_PASSWORD)
    is_staff = True


class StaffProfileFactory(DjangoModelFactory):
    """Name and phone of a staff user."""

    class Meta:
        model = StaffProfile

    user = factory.SubFactory(UserFactory)
    full_name = factory.Sequence(lambda n: f"张{n}")
    phone = "13800000000"


class RoleAssignmentFactory(DjangoModelFactory):
    """A role on an area (alley chief by default) or, with ``department``, in a department."""

    class Meta:
        model = RoleAssignment

    user = factory.SubFactory(UserFactory)
    role = Role.CHIEF
    area = factory.Maybe("department", yes_declaration=None, no_declaration=factory.SubFactory(AlleyFactory))
    department = None
    service_kind = factory.LazyAttribute(lambda o: ServiceKind.POLICE if o.role == Role.SERVICE_TEAM else "")
    is_active = True


def grant(
    user: Any, role: str, *, area: Area | None = None, department: Department | None = None, **assignment: Any
) -> Any:
    """Give ``user`` one more role, effective at once (its cached scope is dropped), and return the user."""
    RoleAssignmentFactory(user=user, role=role, area=area, department=department, **assignment)
    forget_scope(user)
    return user


def make_actor(
    role: str,
    *,
    area: Area | None = None,
    department: Department | None = None,
    username: str | None = None,
    full_name: str | None = None,
    phone: str | None = None,
    is_active: bool = True,
    **assignment: Any,
) -> Any:
    """A staff user with a profile and one role (more roles: ``grant``)."""
    user = UserFactory(**({"username": username} if username else {}))
    profile = {"phone": phone} if phone is not None else {}
    StaffProfileFactory(user=user, full_name=full_name or f"{Role(role).label}{user.pk}", **profile)
    RoleAssignmentFactory(
        user=user, role=role, area=area, department=department, is_active=is_active, **assignment
    )
    return user


# --- categories and cases ----------------------------------------------------------------


class CategoryClassFactory(DjangoModelFactory):
    """A category class with its start tier, fetched again when the code exists."""

    class Meta:
        model = CategoryClass
        django_get_or_create = ("code",)

    code = "A"
    name = factory.LazyAttribute(lambda o: f"{o.code}类")
    top_tier = AreaLevel.COMMUNITY


class CategoryTypeFactory(DjangoModelFactory):
    """A category type of class A; no fix photo needed unless asked."""

    class Meta:
        model = CategoryType

    code = factory.Sequence(lambda n: f"T{n:03d}")
    name = factory.Sequence(lambda n: f"事项{n}")
    category_class = factory.SubFactory(CategoryClassFactory, code="A")
    fix_photo_required = False


class CaseFactory(DjangoModelFactory):
    """A resident's case as filed (not placed at a tier: use ``make_case`` for that)."""

    class Meta:
        model = Case

    source = CaseSource.RESIDENT_FORM
    category = factory.SubFactory(CategoryTypeFactory)
    alley = factory.SubFactory(AlleyFactory)
    description = "巷口路灯坏了三天"
    reporter_name = "张三"
    reporter_phone = PHONE
    state = CaseState.SUBMITTED
    created_at = MONDAY


class CaseEventFactory(DjangoModelFactory):
    """One line of a case's timeline."""

    class Meta:
        model = CaseEvent

    case = factory.SubFactory(CaseFactory)
    kind = EventKind.NOTE
    at = MONDAY


class FeedbackFactory(DjangoModelFactory):
    """A resident's answer to the return visit."""

    class Meta:
        model = Feedback

    case = factory.SubFactory(CaseFactory)
    round = 1
    channel = FeedbackChannel.RESIDENT
    created_at = factory.LazyAttribute(lambda o: o.case.created_at)


class WhistleFactory(DjangoModelFactory):
    """The sweep's automatic escalation from the alley to the community."""

    class Meta:
        model = Whistle

    case = factory.SubFactory(CaseFactory)
    from_tier = AreaLevel.ALLEY
    to_tier = AreaLevel.COMMUNITY
    reason = "超时"
    automatic = True
    at = MONDAY


class DispatchOrderFactory(DjangoModelFactory):
    """A lead order, dispatched; pass the dispatcher area and the dates a rate test needs."""

    class Meta:
        model = DispatchOrder

    case = factory.SubFactory(CaseFactory)
    department = factory.SubFactory(DepartmentFactory)
    role = OrderRole.LEAD
    state = OrderState.DISPATCHED
    dispatcher_area = factory.LazyAttribute(lambda o: o.department.area)
    dispatched_at = MONDAY
    report_due = factory.LazyAttribute(lambda o: o.dispatched_at + dt.timedelta(days=7))
    complete_due = factory.LazyAttribute(lambda o: o.dispatched_at + dt.timedelta(days=90))


class JointMeetingFactory(DjangoModelFactory):
    """A joint meeting of a community (pass ``area`` for another unit), planned unless told."""

    class Meta:
        model = JointMeeting

    area = factory.SubFactory(CommunityFactory)
    title = factory.LazyAttribute(lambda o: f"{o.area.name}联席会议")
    date = MONDAY.date()
    state = MeetingState.PLANNED
    created_at = MONDAY


class AgendaItemFactory(DjangoModelFactory):
    """An item of a meeting's agenda about a case, pending unless told."""

    class Meta:
        model = AgendaItem

    meeting = factory.SubFactory(JointMeetingFactory)
    case = factory.SubFactory(CaseFactory)
    common_issue = None
    position = factory.Sequence(lambda n: n + 1)
    state = AgendaState.PENDING
    decision = ""


class StandingMechanismFactory(DjangoModelFactory):
    """A standing mechanism of an area for a category class (pass the owner department)."""

    class Meta:
        model = StandingMechanism

    title = factory.Sequence(lambda n: f"长效机制{n}")
    area = factory.SubFactory(CommunityFactory)
    category_class = factory.SubFactory(CategoryClassFactory, code="C")
    owner_department = factory.SubFactory(DepartmentFactory)
    created_at = MONDAY


class MechanismReviewFactory(DjangoModelFactory):
    """A review date of a standing mechanism."""

    class Meta:
        model = MechanismReview

    mechanism = factory.SubFactory(StandingMechanismFactory)
    due_on = MONDAY.date()


def decided_to_whistle_up(case: Case, *, area: Area, when: dt.datetime = MONDAY) -> AgendaItem:
    """A held joint meeting of ``area`` that decided to whistle ``case`` up (rows written directly,
    for tests of what the decision allows; the meeting's service is tested on its own)."""
    meeting = JointMeetingFactory(area=area, state=MeetingState.HELD, held_at=when, date=when.date())
    return AgendaItemFactory(
        meeting=meeting, case=case, state=AgendaState.DECIDED, decision=Decision.WHISTLE_UP, decided_at=when
    )


class SurveyFactory(DjangoModelFactory):
    """A satisfaction survey on a case."""

    class Meta:
        model = Survey

    case = factory.SubFactory(CaseFactory)
    community = factory.LazyAttribute(lambda o: o.case.alley.parent)
    title = "调查"


class SurveyInviteFactory(DjangoModelFactory):
    """One used invitation to a survey."""

    class Meta:
        model = SurveyInvite

    survey = factory.SubFactory(SurveyFactory)
    code = factory.Sequence(lambda n: f"CODE{n:04d}")
    used_at = factory.LazyAttribute(lambda o: o.survey.case.created_at)


class SurveyAnswerFactory(DjangoModelFactory):
    """A resident's answer through one invitation."""

    class Meta:
        model = SurveyAnswer

    invite = factory.SubFactory(SurveyInviteFactory)
    survey = factory.LazyAttribute(lambda o: o.invite.survey)
    respondent_kind = "resident"


# --- the casework world ------------------------------------------------------------------


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
    "grid_x": (Role.GRID_WORKER, "alley_x"),
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
    """Create the small named world (about eighty rows).

    Actors have no profile (pages show their login name unless a test gives them one);
    "admin" is a superuser and "nobody" a staff login without any role.
    """
    city = CityFactory(code="3505", name="泉州市")
    district = DistrictFactory(code="350502", name="鲤城区", parent=city)
    street = StreetFactory(code="350502001", name="开元街道", parent=district)
    community_x = CommunityFactory(code="350502001001", name="新华社区", parent=street)
    community_y = CommunityFactory(code="350502001002", name="西街社区", parent=street)
    other_district = DistrictFactory(code="350503", name="丰泽区", parent=city)
    other_street = StreetFactory(code="350503001", name="东湖街道", parent=other_district)
    other_community = CommunityFactory(code="350503001001", name="东湖社区", parent=other_street)
    world = World(
        city=city,
        district=district,
        street=street,
        community_x=community_x,
        community_y=community_y,
        alley_x=AlleyFactory(code="350502001001001", name="金鱼巷", parent=community_x),
        alley_y=AlleyFactory(code="350502001002001", name="井亭巷", parent=community_y),
        other_district=other_district,
        other_street=other_street,
        other_community=other_community,
        other_alley=AlleyFactory(code="350503001001001", name="东湖巷", parent=other_community),
        dept_lead=DepartmentFactory(code="LC-CG", name="鲤城区城管局", area=district, role_key="cg"),
        dept_coop=DepartmentFactory(code="LC-ZJ", name="鲤城区住建局", area=district, role_key="zj"),
        dept_far=DepartmentFactory(code="FZ-CG", name="丰泽区城管局", area=other_district, role_key="cg"),
        dept_city=DepartmentFactory(code="QZ-CG", name="泉州市城管局", area=city, role_key="cg"),
        cat_a=CategoryTypeFactory(
            code="A01", name="路灯不亮", category_class=CategoryClassFactory(code="A", top_tier="community")
        ),
        cat_b=CategoryTypeFactory(
            code="B01",
            name="邻里纠纷",
            category_class=CategoryClassFactory(code="B", top_tier="street"),
        ),
        cat_c=CategoryTypeFactory(
            code="C01", name="占道经营", category_class=CategoryClassFactory(code="C", top_tier="district")
        ),
        cat_d=CategoryTypeFactory(
            code="D01",
            name="危房隐患",
            category_class=CategoryClassFactory(code="D", top_tier="city"),
        ),
    )
    for name, (role, where) in ACTORS.items():
        target = getattr(world, where)
        place = {"department": target} if isinstance(target, Department) else {"area": target}
        world.actors[name] = grant(UserFactory(username=name), role, **place)
    world.actors["admin"] = UserFactory(username="admin", superuser=True)
    world.actors["nobody"] = UserFactory(username="nobody")
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
    """A case placed directly in a state and tier (for permission tables), with fresh deadlines from ``now``."""
    case = CaseFactory.build(
        category=category or world.cat_a, alley=alley or world.alley_x, state=state, created_at=now, **fields
    )
    place_at_tier(case, tier, now=now)
    if state not in (CaseState.SUBMITTED, CaseState.REOPENED):
        case.accepted_at = now
        case.escalation_due = case.resolve_due
    if state in (CaseState.AWAITING_VERIFICATION, *AWAITING_ANSWER_STATES):
        case.escalation_due = None
        case.warn_at = None
        case.resolved_at = now
        case.resolved_tier = tier
    if state == CaseState.AWAITING_VERIFICATION:
        case.verify_due = verification_due(start=now)
    if state in AWAITING_ANSWER_STATES:
        case.verified_at = now
    case.save()
    return case


REPORT: dict[str, Any] = {
    "leader_name": "王副局长",
    "contact_name": "李科长",
    "contact_phone": "0595-22000000",
    "work_plan": "三日内完成清理并设置警示",
}


def report_in_person(
    order: DispatchOrder,
    *,
    actor: Any,
    community: Any,
    now: dt.datetime | None = None,
    attended_at: dt.datetime | None = None,
    **report: Any,
) -> DispatchOrder:
    """The department reports (报到) and the whistling community confirms that it came.

    Its visit is announced for ``now`` and made at ``attended_at`` (default: ``now``); the
    report deadline counts only the confirmed attendance.
    """
    from issues.workflow.attendance import attendance_confirm
    from issues.workflow.orders import order_report

    moment = now or timezone.now()
    values = {**REPORT, **report}
    values.setdefault("visitors", [values["leader_name"], values["contact_name"]])
    order_report(order=order, actor=actor, visit_at=moment, now=moment, **values)
    came = attended_at or moment
    attendance_confirm(
        order=order, actor=community, attended_at=came, present=values["visitors"], now=max(came, moment)
    )
    return DispatchOrder.objects.get(pk=order.pk)


def case_at(
    world: World,
    *,
    created: dt.datetime,
    state: str = CaseState.SUBMITTED,
    alley: Area | None = None,
    source: str = CaseSource.RESIDENT_FORM,
    tier: str = AreaLevel.ALLEY,
    **fields: Any,
) -> Case:
    """A case created at ``created`` in ``state``, with the given timestamps and deadlines written as-is.

    Rate tests need exact timestamps, so this writes the fields directly instead of driving the workflow.
    """
    case = make_case(world, alley=alley, state=CaseState.SUBMITTED, tier=tier, now=created)
    values: dict[str, Any] = {
        "state": state,
        "source": source,
        "created_at": created,
        "accepted_at": None,
        "resolved_at": None,
        "verified_at": None,
        "resolved_tier": "",
        **fields,
    }
    Case.objects.filter(pk=case.pk).update(**values)
    case.refresh_from_db()
    return case


def escalated(case: Case, *, when: dt.datetime, from_state: str = CaseState.SUBMITTED) -> CaseEvent:
    """The sweep's automatic escalation as the timeline records it."""
    WhistleFactory(case=case, at=when)
    return CaseEventFactory(
        case=case, kind=EventKind.ESCALATED, at=when, from_state=from_state, to_state=CaseState.SUBMITTED
    )


def survey_with_answers(
    case: Case, *, opened_by: Any, answers: list[tuple[str, str]], community: Area
) -> Survey:
    """A survey on ``case`` with one used invite per (solved, satisfaction) answer."""
    survey = SurveyFactory(case=case, community=community, opened_by=opened_by)
    for solved, satisfaction in answers:
        SurveyAnswerFactory(invite__survey=survey, solved=solved, satisfaction=satisfaction)
    return survey


# --- the territory tests' tree -----------------------------------------------------------


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


# --- supervision list (群众监督清单, participation/supervision.py) ------------------------------------


class CommitmentFactory(DjangoModelFactory):
    class Meta:
        model = "participation.Commitment"

    alley = factory.SubFactory(AlleyFactory)
    text = factory.Sequence(lambda n: f"承诺事项{n}：门前三包落实到户")
    source = "convention"
    position = factory.Sequence(lambda n: 10 * (n + 1))


def verified_client(client: Any, phone: str, *, minutes: int = 30) -> Any:
    """``client`` with ``phone`` verified in its session, as ``participation.phones.remember`` leaves it."""
    from django.utils import timezone as tz

    from participation.phones import SESSION_KEY

    session = client.session
    session[SESSION_KEY] = {"phone": phone, "until": (tz.now() + dt.timedelta(minutes=minutes)).timestamp()}
    session.save()
    return client


# --- in-service Party members (双报到, members/) -----------------------------------------------
# Imported here, at the end, to keep this section apart for merging.
from members.models import PartyOrganization, Registration, ServiceNeed  # noqa: E402


class PartyOrganizationFactory(DjangoModelFactory):
    """A work unit's Party organisation."""

    class Meta:
        model = PartyOrganization
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"单位{n}党支部")


class RegistrationFactory(DjangoModelFactory):
    """A member's registration at a community (pass ``community``), confirmed unless told."""

    class Meta:
        model = Registration

    full_name = factory.Sequence(lambda n: f"党员{n}")
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    organization = factory.SubFactory(PartyOrganizationFactory)
    community = factory.SubFactory(CommunityFactory)
    state = "confirmed"
    consent_at = factory.LazyFunction(timezone.now)
    registered_at = factory.LazyFunction(timezone.now)
    entered_by = factory.SubFactory(UserFactory)


class ServiceNeedFactory(DjangoModelFactory):
    """An open service need of a community (pass ``community``)."""

    class Meta:
        model = ServiceNeed

    community = factory.SubFactory(CommunityFactory)
    kind = "service"
    title = factory.Sequence(lambda n: f"服务需求{n}")
    places = 1
    posted_by = factory.SubFactory(UserFactory)
    posted_at = factory.LazyFunction(timezone.now)


# --- buildings (楼栋) and building heads (楼栋长) ---------------------------------------------------


class BuildingFactory(AreaFactory):
    """A building (楼栋) under an alley (18-digit code: the alley's and three digits)."""

    level = AreaLevel.BUILDING
    parent = factory.SubFactory(AlleyFactory)
    name = factory.Sequence(lambda n: f"{n + 1}号楼")


@dataclass
class Buildings:
    """Two buildings of the world's alley_x, one of alley_y, and a building head for each."""

    one: Area
    two: Area
    other_alley: Area
    head_one: Any
    head_two: Any
    head_other_alley: Any


def build_buildings(world: World) -> Buildings:
    """Give ``world`` buildings: 1号楼 and 2号楼 in alley_x (金鱼巷), 1号楼 in alley_y, each with a head."""
    one = BuildingFactory(parent=world.alley_x, code=f"{world.alley_x.code}001", name="1号楼")
    two = BuildingFactory(parent=world.alley_x, code=f"{world.alley_x.code}002", name="2号楼")
    other = BuildingFactory(parent=world.alley_y, code=f"{world.alley_y.code}001", name="1号楼")
    heads = [
        grant(UserFactory(username=name), Role.BUILDING_HEAD, area=area)
        for name, area in (("head_one", one), ("head_two", two), ("head_other_alley", other))
    ]
    world.actors.update(head_one=heads[0], head_two=heads[1], head_other_alley=heads[2])
    return Buildings(one, two, other, *heads)
