"""alleys/scoping.py and the ``visible_to`` querysets: what each role may see, and may not.

One named actor per role on the small tree (see conftest.Actors). Every "may" comes
with a "may not" next to it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from alleys.choices import AreaLevel, Role
from alleys.models import Area, Department, RoleAssignment
from alleys.scoping import forget_scope, scope_for
from tests.factories import CityFactory, RoleAssignmentFactory, Tree, UserFactory, make_actor

from .conftest import Actors

pytestmark = pytest.mark.django_db


def area_codes(user: Any) -> set[str]:
    return set(Area.objects.visible_to(user).values_list("code", flat=True))


def department_codes(user: Any) -> set[str]:
    return set(Department.objects.visible_to(user).values_list("code", flat=True))


def assignment_holders(user: Any) -> set[str]:
    return set(RoleAssignment.objects.visible_to(user).values_list("user__username", flat=True))


# --- alley team: their alley only ------------------------------------------------------------


@pytest.mark.parametrize("name", ["chief", "deputy", "supervisor"])
def test_alley_team_sees_their_alley_only(actors: Actors, tree: Tree, name: str) -> None:
    user = getattr(actors, name)
    assert area_codes(user) == tree.codes("d1s1c1a1")
    # Not the sibling alley, not the community above.
    assert tree["d1s1c1a2"].code not in area_codes(user)
    assert tree["d1s1c1"].code not in area_codes(user)


def test_service_team_member_sees_their_alley(actors: Actors, tree: Tree) -> None:
    assert area_codes(actors.service) == tree.codes("d1s1c1a2")


def test_grid_worker_sees_their_grid(actors: Actors, tree: Tree) -> None:
    assert area_codes(actors.grid) == tree.codes("d1s1c2a1")
    assert tree["d1s1c1a1"].code not in area_codes(actors.grid)


def test_alley_team_sees_the_departments_of_their_district_and_city(actors: Actors) -> None:
    assert department_codes(actors.chief) == {"D1-CG", "C-GD"}
    assert "D2-CG" not in department_codes(actors.chief)


def test_alley_team_sees_their_alleys_people(actors: Actors) -> None:
    assert assignment_holders(actors.chief) == {"chief", "deputy", "supervisor"}
    assert "police" not in assignment_holders(actors.chief)  # the other alley's team


def test_holder_roles_hold_the_alley_tier_but_supervisors_only_watch(actors: Actors, tree: Tree) -> None:
    alley = tree["d1s1c1a1"].code
    assert scope_for(actors.chief).holds_tier(AreaLevel.ALLEY, alley)
    assert scope_for(actors.deputy).holds_tier(AreaLevel.ALLEY, alley)
    assert not scope_for(actors.supervisor).holds_tier(AreaLevel.ALLEY, alley)
    assert not scope_for(actors.chief).holds_tier(AreaLevel.ALLEY, tree["d1s1c1a2"].code)
    assert not scope_for(actors.chief).holds_tier(AreaLevel.COMMUNITY, tree["d1s1c1"].code)
    assert scope_for(actors.service).holds_tier(AreaLevel.ALLEY, tree["d1s1c1a2"].code)
    assert scope_for(actors.grid).holds_tier(AreaLevel.ALLEY, tree["d1s1c2a1"].code)


# --- community, street, district, city ---------------------------------------------------------


def test_community_staff_see_their_community(actors: Actors, tree: Tree) -> None:
    assert area_codes(actors.community) == tree.under("d1s1c1")
    assert tree["d1s1c2a1"].code not in area_codes(actors.community)
    assert tree["d1s1"].code not in area_codes(actors.community)


def test_community_staff_see_their_communitys_people(actors: Actors) -> None:
    assert assignment_holders(actors.community) == {"chief", "deputy", "supervisor", "police", "community"}
    assert {"grid", "otherchief", "street"}.isdisjoint(assignment_holders(actors.community))


def test_community_staff_hold_the_community_tier(actors: Actors, tree: Tree) -> None:
    scope = scope_for(actors.community)
    assert scope.holds_tier(AreaLevel.COMMUNITY, tree["d1s1c1"].code)
    assert not scope.holds_tier(AreaLevel.COMMUNITY, tree["d1s1c2"].code)
    assert scope.has_role_over(frozenset({Role.COMMUNITY_STAFF}), tree["d1s1c1a2"].code)
    assert not scope.has_role_over(frozenset({Role.COMMUNITY_STAFF}), tree["d1s1c2a2"].code)


def test_street_staff_see_their_street(actors: Actors, tree: Tree) -> None:
    assert area_codes(actors.street) == tree.under("d1s1")
    assert tree["d1s2"].code not in area_codes(actors.street)
    assert tree["d1"].code not in area_codes(actors.street)


def test_street_staff_see_every_team_of_the_street(actors: Actors) -> None:
    holders = assignment_holders(actors.street)
    assert {"chief", "police", "grid", "community", "otherchief", "street"} <= holders
    assert {"farchief", "orgdept", "dept"}.isdisjoint(holders)


def test_district_org_sees_their_district(actors: Actors, tree: Tree) -> None:
    assert area_codes(actors.district_org) == tree.under("d1")
    assert tree["d2"].code not in area_codes(actors.district_org)
    assert tree.city.code not in area_codes(actors.district_org)


def test_district_org_sees_the_districts_and_the_citys_departments(actors: Actors) -> None:
    assert department_codes(actors.district_org) == {"D1-CG", "C-GD"}


def test_district_org_sees_its_districts_department_people(actors: Actors) -> None:
    # RoleAssignment.visible_to is territorial, plus the user's own departments, plus — for an
    # organisation department — the people of the departments of its district.
    holders = assignment_holders(actors.district_org)
    assert {"chief", "street", "orgdept", "dept"} <= holders
    # "leader" serves a department of the other district.
    assert {"farchief", "cityorg", "leader"}.isdisjoint(holders)


def test_city_org_sees_the_whole_city(actors: Actors, tree: Tree) -> None:
    assert area_codes(actors.city_org) == tree.all_codes
    assert department_codes(actors.city_org) == {"D1-CG", "D2-CG", "C-GD"}
    other_city = CityFactory(code="3506", name="漳州市")
    assert other_city.code not in area_codes(actors.city_org)


# --- departments ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "own", "other"), [("dept_contact", "D1-CG", "D2-CG"), ("dept_leader", "D2-CG", "D1-CG")]
)
def test_department_people_see_their_department_only(actors: Actors, name: str, own: str, other: str) -> None:
    user = getattr(actors, name)
    assert department_codes(user) == {own}
    assert other not in department_codes(user)
    assert area_codes(user) == set()
    scope = scope_for(user)
    assert scope.in_department(Department.objects.get(code=own).pk)
    assert not scope.in_department(Department.objects.get(code=other).pk)


def test_department_contact_sees_their_departments_people(actors: Actors) -> None:
    assert assignment_holders(actors.dept_contact) == {"dept"}


# --- superuser, several roles, inactive, anonymous ---------------------------------------------------


def test_superuser_sees_everything(actors: Actors, tree: Tree) -> None:
    scope = scope_for(actors.superuser)
    assert scope.is_global
    assert area_codes(actors.superuser) == tree.all_codes
    assert department_codes(actors.superuser) == {"D1-CG", "D2-CG", "C-GD"}
    assert RoleAssignment.objects.visible_to(actors.superuser).count() == RoleAssignment.objects.count()
    assert scope.covers_code("9999") and scope.holds_tier(AreaLevel.CITY, "9999")


def test_two_roles_add_up(tree: Tree) -> None:
    user = make_actor(Role.CHIEF, area=tree["d1s1c1a1"])
    RoleAssignmentFactory(user=user, role=Role.DEPT_CONTACT, area=None, department=tree.dep("dep_d2"))
    RoleAssignmentFactory(user=user, role=Role.GRID_WORKER, area=tree["d2s2c1a1"])
    forget_scope(user)
    assert area_codes(user) == tree.codes("d1s1c1a1", "d2s2c1a1")
    assert "D2-CG" in department_codes(user)
    scope = scope_for(user)
    assert scope.roles == {Role.CHIEF, Role.DEPT_CONTACT, Role.GRID_WORKER}
    assert not scope.covers_code(tree["d1s1c1a2"].code)


def test_nested_roles_keep_only_the_widest_prefix(tree: Tree) -> None:
    user = make_actor(Role.STREET_STAFF, area=tree["d1s1"])
    RoleAssignmentFactory(user=user, role=Role.CHIEF, area=tree["d1s1c1a1"])
    forget_scope(user)
    assert scope_for(user).area_prefixes == (tree["d1s1"].code,)


def test_an_inactive_assignment_grants_nothing(tree: Tree) -> None:
    user = make_actor(Role.COMMUNITY_STAFF, area=tree["d1s1c1"], is_active=False)
    scope = scope_for(user)
    assert scope.is_empty
    assert area_codes(user) == set()
    assert department_codes(user) == set()
    assert assignment_holders(user) == set()


def test_an_inactive_login_sees_nothing(tree: Tree) -> None:
    user = make_actor(Role.CITY_ORG, area=tree.city)
    user.is_active = False
    forget_scope(user)
    assert area_codes(user) == set()


def test_a_staff_login_without_roles_sees_nothing(tree: Tree) -> None:
    user = UserFactory()
    assert scope_for(user).is_empty
    assert area_codes(user) == set() and department_codes(user) == set()


def test_anonymous_sees_nothing(tree: Tree) -> None:
    anonymous = AnonymousUser()
    assert scope_for(anonymous).is_empty
    assert area_codes(anonymous) == set()
    assert department_codes(anonymous) == set()
    assert assignment_holders(anonymous) == set()
    assert scope_for(None).is_empty


# --- the cache -------------------------------------------------------------------------------------


def test_scope_is_computed_once_per_user_object(actors: Actors, django_assert_num_queries: Any) -> None:
    user = type(actors.street).objects.get(pk=actors.street.pk)
    with django_assert_num_queries(1):
        scope_for(user)
        scope_for(user)
    RoleAssignmentFactory(user=user, role=Role.CHIEF, area=actors.tree["d2s1c1a1"])
    assert not scope_for(user).covers_code(actors.tree["d2s1c1a1"].code)  # still cached
    forget_scope(user)
    assert scope_for(user).covers_code(actors.tree["d2s1c1a1"].code)
