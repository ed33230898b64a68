"""``manage.py seed_demo``: the demo city's shape, its people and logins, and idempotency.

The city is seeded once for the module (a few seconds) inside a transaction that is rolled
back at the end; each test runs in a savepoint on top of it, so tests that change rows
(passwords, a deleted user) leave the seeded city as it was for the next one.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.http import HttpRequest
from django.test import Client
from django.test.utils import CaptureQueriesContext

from alleys.choices import AreaLevel, Role, ServiceKind
from alleys.models import AlleyProfile, Area, Department, RoleAssignment, StaffProfile
from demo import city as demo
from demo import data as demo_data
from dispatch.models import CategoryClass, CategoryType, DeadlinePolicy, OrderSettings

pytestmark = pytest.mark.django_db

User = get_user_model()
NAMED = ("admin", "orgdept", "street", "community", "chief", "dept")


def run_seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, "--skip-history", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    with django_db_blocker.unblock(), transaction.atomic():
        output = run_seed()
        yield output
        transaction.set_rollback(True)


def checksum() -> str:
    """A digest of every seeded row's key fields, passwords included."""
    digest = hashlib.sha256()
    querysets = [
        Area.objects.values_list("pk", "code", "name", "level", "parent_id", "is_active"),
        AlleyProfile.objects.values_list(
            "pk", "area_id", "households", "shops", "resident_units", "features", "convention",
            "office_hours", "board_contact_phone",
        ),
        CategoryClass.objects.values_list("pk", "code", "name", "description", "top_tier"),
        CategoryType.objects.values_list(
            "pk", "code", "name", "category_class_id", "default_department_role", "service_kind",
            "needs_contact", "fix_photo_required", "common", "icon", "keywords", "sort_order",
        ),
        CategoryType.departments.through.objects.values_list("pk", "categorytype_id", "department_id"),
        Department.objects.values_list(
            "pk", "code", "name", "kind", "area_id", "role_key", "leader_name", "leader_phone",
            "contact_name", "contact_phone",
        ),
        DeadlinePolicy.objects.values_list(
            "pk", "category_class_id", "tier", "accept_value", "accept_unit", "resolve_value", "resolve_unit"
        ),
        OrderSettings.objects.values_list("pk", "report_days", "complete_days", "verify_days"),
        User.objects.values_list("pk", "username", "password", "first_name", "is_staff", "is_superuser", "is_active"),
        StaffProfile.objects.values_list("pk", "user_id", "full_name", "phone", "title", "is_party_member"),
        RoleAssignment.objects.values_list("pk", "user_id", "role", "area_id", "department_id", "service_kind"),
    ]  # fmt: skip
    for qs in querysets:
        for row in qs.order_by("pk"):
            digest.update(repr(row).encode())
    return digest.hexdigest()


# --------------------------------------------------------------------------- shape


def test_area_tree_has_the_issue_shape(seeded: str) -> None:
    counts = Counter(Area.objects.values_list("level", flat=True))
    assert counts[AreaLevel.CITY] == 1
    assert counts[AreaLevel.DISTRICT] == 2
    children = Counter(Area.objects.exclude(parent=None).values_list("parent__code", flat=True))
    for area in Area.objects.exclude(level=AreaLevel.ALLEY):
        n = children[area.code]
        if area.level == AreaLevel.DISTRICT:
            assert 3 <= n <= 4, area
        elif area.level == AreaLevel.STREET:
            assert 4 <= n <= 6, area
        elif area.level == AreaLevel.COMMUNITY:
            assert 6 <= n <= 10, area
    assert counts[AreaLevel.ALLEY] == AlleyProfile.objects.count()
    # Codes follow the tree (the checks Area.save() would have run).
    for area in Area.objects.exclude(parent=None).select_related("parent"):
        assert area.code.startswith(area.parent.code)


def test_alley_profile_carries_the_board(seeded: str) -> None:
    profile = AlleyProfile.objects.select_related("area").get(area__name="金鱼巷")
    assert profile.convention.startswith("金鱼巷街巷公约")
    assert "小事不出巷" in profile.convention
    assert profile.office_hours in demo_data.OFFICE_HOURS_CHOICES
    assert profile.board_contact_phone.startswith("0595-")
    assert profile.households > 0


def test_every_alley_has_its_whole_team(seeded: str) -> None:
    per_alley: dict[str, Counter[str]] = {}
    kinds: dict[str, set[str]] = {}
    for code, role, kind in RoleAssignment.objects.filter(area__level=AreaLevel.ALLEY).values_list(
        "area__code", "role", "service_kind"
    ):
        per_alley.setdefault(code, Counter())[role] += 1
        if role == Role.SERVICE_TEAM:
            kinds.setdefault(code, set()).add(kind)
    alleys = list(Area.objects.filter(level=AreaLevel.ALLEY).values_list("code", flat=True))
    assert set(per_alley) == set(alleys)
    for code in alleys:
        roles = per_alley[code]
        assert roles[Role.CHIEF] == 1, code
        assert 1 <= roles[Role.DEPUTY_CHIEF] <= 2, code
        assert 3 <= roles[Role.SERVICE_TEAM] <= 5, code
        assert 1 <= roles[Role.SUPERVISION_TEAM] <= 2, code
        assert roles[Role.GRID_WORKER] == 1, code
        assert ServiceKind.POLICE in kinds[code]
        assert kinds[code] <= {k.value for k in ServiceKind}


def test_who_may_use_the_admin(seeded: str) -> None:
    staff_flags: dict[str, set[bool]] = {}
    for role, is_staff in RoleAssignment.objects.values_list("role", "user__is_staff"):
        staff_flags.setdefault(role, set()).add(is_staff)
    assert staff_flags.pop(Role.SUPERVISION_TEAM) == {False}
    assert all(flags == {True} for flags in staff_flags.values()), staff_flags
    # Every seeded account has a profile with a name and (except admin) a phone.
    assert StaffProfile.objects.count() == User.objects.count()
    assert not StaffProfile.objects.exclude(user__username="admin").filter(phone="").exists()


def test_territory_staff_and_department_people(seeded: str) -> None:
    def per_area(role: str, level: str) -> set[int]:
        counts = Counter(RoleAssignment.objects.filter(role=role).values_list("area__code", flat=True))
        assert set(counts) == set(Area.objects.filter(level=level).values_list("code", flat=True))
        return set(counts.values())

    assert per_area(Role.COMMUNITY_STAFF, AreaLevel.COMMUNITY) == {2}
    assert per_area(Role.STREET_STAFF, AreaLevel.STREET) == {2}
    assert per_area(Role.DISTRICT_ORG, AreaLevel.DISTRICT) == {2}
    assert per_area(Role.CITY_ORG, AreaLevel.CITY) == {2}
    for dept in Department.objects.all():
        contact = RoleAssignment.objects.select_related("user__staff_profile").get(
            department=dept, role=Role.DEPT_CONTACT
        )
        leader = RoleAssignment.objects.select_related("user__staff_profile").get(
            department=dept, role=Role.DEPT_LEADER
        )
        assert contact.user.staff_profile.full_name == dept.contact_name
        assert contact.user.staff_profile.phone == dept.contact_phone
        assert leader.user.staff_profile.full_name == dept.leader_name


def test_departments_categories_and_deadlines(seeded: str) -> None:
    assert 45 <= Department.objects.count() <= 55
    assert {d.area.level for d in Department.objects.select_related("area")} == {
        AreaLevel.DISTRICT,
        AreaLevel.CITY,
    }
    assert CategoryType.objects.count() >= 60
    assert set(CategoryType.objects.values_list("category_class__code", flat=True)) == {"A", "B", "C", "D"}
    names = set(CategoryType.objects.values_list("name", flat=True))
    assert {"路灯不亮", "下水道堵塞", "占道经营", "消防隐患", "邻里纠纷"} <= names

    lamp = CategoryType.objects.get(name="路灯不亮")
    assert lamp.default_department_role == "cg"
    assert lamp.service_kind == ServiceKind.CITY_MANAGEMENT
    assert "路灯" in lamp.keywords.split()
    assert set(lamp.departments.values_list("code", flat=True)) == {
        d.code for d in demo_data.DEPARTMENTS if "A01" in d.category_codes
    }
    assert {"LC-CG", "FZ-CG"} <= set(lamp.departments.values_list("code", flat=True))

    assert DeadlinePolicy.objects.count() == 4 * 5
    a_alley = DeadlinePolicy.objects.get(category_class__code="A", tier=AreaLevel.ALLEY)
    assert (a_alley.accept_value, a_alley.accept_unit, a_alley.resolve_value, a_alley.resolve_unit) == (
        4,
        "hours",
        3,
        "days",
    )
    for policy in DeadlinePolicy.objects.filter(tier__in=[AreaLevel.DISTRICT, AreaLevel.CITY]):
        assert (policy.resolve_value, policy.resolve_unit) == (60, "days")
    settings_row = OrderSettings.current()
    assert (settings_row.report_days, settings_row.complete_days) == (5, 60)


# --------------------------------------------------------------------------- logins


def test_named_logins_hold_the_right_roles(seeded: str) -> None:
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff

    def only_role(username: str) -> RoleAssignment:
        (assignment,) = RoleAssignment.objects.filter(user__username=username).select_related(
            "area", "department"
        )
        return assignment

    orgdept = only_role("orgdept")
    assert (orgdept.role, orgdept.area.code, orgdept.area.name) == (Role.DISTRICT_ORG, "350502", "鲤城区")
    street = only_role("street")
    assert (street.role, street.area.name) == (Role.STREET_STAFF, "开元街道")
    community = only_role("community")
    assert community.role == Role.COMMUNITY_STAFF
    assert community.area == Area.objects.filter(parent=street.area).order_by("code").first()
    chief = only_role("chief")
    assert chief.role == Role.CHIEF
    assert chief.area == Area.objects.filter(parent=community.area).order_by("code").first()
    # ``chief`` *is* that alley's chief, not a second one beside a generated account.
    assert list(RoleAssignment.objects.filter(area=chief.area, role=Role.CHIEF)) == [chief]
    dept = only_role("dept")
    assert (dept.role, dept.department.code, dept.department.name) == (
        Role.DEPT_CONTACT,
        "LC-CG",
        "鲤城区城市管理局",
    )
    assert User.objects.get(username="dept").staff_profile.full_name == dept.department.contact_name

    for username in NAMED:
        assert username in seeded


# Client.login calls authenticate() without a request unless given one; django-axes needs it.
def test_named_logins_can_log_in(seeded: str) -> None:
    for username in NAMED:
        assert Client().login(request=HttpRequest(), username=username, password="demo12345"), username
    # The generated accounts share the demo password too.
    assert Client().login(request=HttpRequest(), username="grid_350503001001001", password="demo12345")


def test_usernames_are_stable_and_unique() -> None:
    first = demo.plan_people()
    second = demo.plan_people()
    assert [(p.username, p.full_name, p.phone) for p in first] == [
        (p.username, p.full_name, p.phone) for p in second
    ]
    usernames = [p.username for p in first]
    assert len(usernames) == len(set(usernames))
    assert set(NAMED) <= set(usernames)
    assert "chief_350502001001001" in usernames


# --------------------------------------------------------------------------- idempotency


def test_second_run_writes_nothing(seeded: str, django_assert_max_num_queries: Any) -> None:
    before = checksum()
    with CaptureQueriesContext(connection) as queries, django_assert_max_num_queries(40):
        output = run_seed()
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]
    assert writes == []
    assert checksum() == before
    assert "没有改动" in output
    # The logins are still printed with the password that works for them.
    for username in NAMED:
        line = next(line for line in output.splitlines() if line.startswith(f"{username} "))
        assert "demo12345" in line


def test_existing_password_is_kept_unless_reset(seeded: str) -> None:
    chief = User.objects.get(username="chief")
    chief.set_password("my-own-secret-1")
    chief.save()

    output = run_seed()
    assert Client().login(request=HttpRequest(), username="chief", password="my-own-secret-1")
    chief_line = next(line for line in output.splitlines() if line.startswith("chief "))
    assert "demo12345" not in chief_line
    assert "--reset-passwords" in output

    run_seed("--reset-passwords", "--password", "another-demo-9")
    assert Client().login(request=HttpRequest(), username="chief", password="another-demo-9")
    assert Client().login(request=HttpRequest(), username="admin", password="another-demo-9")


def test_demo_password_from_environment(seeded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    User.objects.get(username="street").delete()
    monkeypatch.setenv("DEMO_PASSWORD", "from-the-env-7")

    output = run_seed()

    assert Client().login(request=HttpRequest(), username="street", password="from-the-env-7")
    assert RoleAssignment.objects.get(user__username="street").area.name == "开元街道"
    assert "from-the-env-7" not in output  # an operator's own password is not echoed


def test_seed_demo_runs_the_history(seeded: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from demo.management.commands import seed_demo

    def seed_history(*, stdout: Any) -> int:
        stdout.write("案件历史已生成")
        return 0

    monkeypatch.setattr(seed_demo, "seed_history", seed_history)
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "案件历史已生成" in out.getvalue()
    assert "案件历史已生成" not in run_seed()


def test_the_history_has_return_visits(seeded: str) -> None:
    """Residents who do not answer get the community's return visits: reached (solved, or not
    solved and worked on again), failed twice and closed unrated; the community login's own
    alley has a case still waiting for its second attempt (issue 15)."""
    from demo.history import seed_history
    from issues.choices import CaseState, EventKind
    from issues.models import Case, CaseEvent, ReturnVisit
    from tests.factories import at

    # Every scenario played, none refused by the rules (a city government department is no district's
    # to dispatch to), and the return-visit showcase: 301 cases.
    assert seed_history(stdout=StringIO(), cases=300, now=at("2026-06-15 10:00")) == 301
    reached = ReturnVisit.objects.filter(reached=True)
    assert reached.filter(feedback__solved="solved").exists()
    assert reached.filter(feedback__solved="not_solved").exists()
    assert CaseEvent.objects.filter(kind=EventKind.REOPENED, note__contains="回访").exists()
    unrated = CaseEvent.objects.filter(kind=EventKind.CLOSED, data__unrated=True)
    assert unrated.exists()
    for event in unrated:
        assert ReturnVisit.objects.filter(case_id=event.case_id, reached=False).count() >= 2
    waiting = Case.objects.filter(
        state=CaseState.AWAITING_RETURN_VISIT, alley__code=demo.demo_anchors().alley.code
    )
    assert waiting.count() == 1 and waiting.get().return_visits.count() == 1
