"""alleys/permissions.py: who may edit which area, department, role and login."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission

from alleys.choices import Role
from alleys.models import Area, Department, RoleAssignment
from alleys.permissions import (
    can_manage_area,
    can_manage_assignment,
    can_manage_department,
    can_manage_user,
    department_area_choice_q,
    manageable_area_q,
    manageable_department_q,
    parent_choice_q,
    visible_assignments,
    visible_users,
)
from alleys.scoping import scope_for
from tests.factories import RoleAssignmentFactory, Tree, UserFactory, make_actor

from .conftest import Actors

pytestmark = pytest.mark.django_db


def manageable(user: Any) -> set[str]:
    return set(Area.objects.filter(manageable_area_q(scope_for(user))).values_list("code", flat=True))


def test_community_staff_manage_their_alleys_not_their_community(actors: Actors, tree: Tree) -> None:
    scope = scope_for(actors.community)
    assert can_manage_area(scope, tree["d1s1c1a1"].code)
    assert not can_manage_area(scope, tree["d1s1c1"].code)
    assert not can_manage_area(scope, tree["d1s1c2a1"].code)
    assert manageable(actors.community) == tree.codes("d1s1c1a1", "d1s1c1a2")


def test_street_staff_manage_communities_and_alleys_of_their_street(actors: Actors, tree: Tree) -> None:
    assert manageable(actors.street) == tree.under("d1s1") - tree.codes("d1s1")
    assert not can_manage_area(scope_for(actors.street), tree["d1s2c1"].code)


def test_district_org_manage_below_their_district(actors: Actors, tree: Tree) -> None:
    assert manageable(actors.district_org) == tree.under("d1") - tree.codes("d1")


def test_city_org_manage_everything_below_the_city(actors: Actors, tree: Tree) -> None:
    assert manageable(actors.city_org) == tree.all_codes - {tree.city.code}


@pytest.mark.parametrize(
    "name", ["chief", "deputy", "service", "supervisor", "grid", "dept_contact", "dept_leader"]
)
def test_alley_teams_and_departments_manage_no_area(actors: Actors, name: str) -> None:
    assert manageable(getattr(actors, name)) == set()


def test_superuser_manages_everything(actors: Actors, tree: Tree) -> None:
    assert manageable(actors.superuser) == tree.all_codes
    assert can_manage_area(scope_for(actors.superuser), tree.city.code)


def test_parent_choices_are_the_managed_area_and_non_alleys_below(actors: Actors, tree: Tree) -> None:
    def parents(user: Any) -> set[str]:
        return set(Area.objects.filter(parent_choice_q(scope_for(user))).values_list("code", flat=True))

    assert parents(actors.community) == tree.codes("d1s1c1")
    assert parents(actors.street) == tree.codes("d1s1", "d1s1c1", "d1s1c2")
    assert parents(actors.chief) == set()


def test_org_departments_manage_their_departments(actors: Actors, tree: Tree) -> None:
    def codes(user: Any) -> set[str]:
        q = manageable_department_q(scope_for(user))
        return set(Department.objects.filter(q).values_list("code", flat=True))

    assert codes(actors.district_org) == {"D1-CG"}
    assert codes(actors.city_org) == {"D1-CG", "D2-CG", "C-GD"}
    assert codes(actors.street) == set()
    assert codes(actors.dept_contact) == set()  # a contact edits contact fields only (admin), not the record
    assert can_manage_department(scope_for(actors.district_org), tree.dep("dep_d1"))
    assert not can_manage_department(scope_for(actors.district_org), tree.dep("dep_city"))
    assert not can_manage_department(scope_for(actors.dept_contact), tree.dep("dep_d1"))
    district_areas = set(Area.objects.filter(department_area_choice_q(scope_for(actors.district_org))))
    assert district_areas == {tree["d1"]}


def test_role_assignments_are_managed_from_the_level_above(actors: Actors, tree: Tree) -> None:
    chiefs = RoleAssignment.objects.get(user=actors.chief)
    community = RoleAssignment.objects.get(user=actors.community)
    contact = RoleAssignment.objects.get(user=actors.dept_contact)
    assert can_manage_assignment(scope_for(actors.community), chiefs)
    assert not can_manage_assignment(scope_for(actors.community), community)  # their own level
    assert can_manage_assignment(scope_for(actors.street), community)
    assert not can_manage_assignment(scope_for(actors.street), contact)
    assert can_manage_assignment(scope_for(actors.district_org), contact)
    assert not can_manage_assignment(scope_for(actors.chief), chiefs)


def test_visible_users_follow_visible_assignments(actors: Actors) -> None:
    def names(user: Any) -> set[str]:
        return set(visible_users(user).values_list("username", flat=True))

    assert names(actors.community) == {"chief", "deputy", "supervisor", "police", "community"}
    assert "otherchief" in names(actors.street) and "farchief" not in names(actors.street)
    assert names(actors.dept_contact) == {"dept"}
    assert "root" in names(actors.superuser)


def test_a_user_is_editable_only_when_all_their_roles_are(actors: Actors, tree: Tree) -> None:
    community = scope_for(actors.community)
    assert can_manage_user(community, actors.chief)
    assert not can_manage_user(community, actors.community)  # not themselves
    assert not can_manage_user(community, actors.other_chief)  # another community's chief
    # The chief also serves in another community: the street above both decides.
    RoleAssignmentFactory(user=actors.chief, role=Role.GRID_WORKER, area=tree["d1s1c2a1"])
    assert not can_manage_user(community, actors.chief)
    assert can_manage_user(scope_for(actors.street), actors.chief)


def test_superusers_and_permission_holders_are_not_editable_by_managers(actors: Actors, tree: Tree) -> None:
    root_with_role = UserFactory(superuser=True)
    RoleAssignmentFactory(user=root_with_role, role=Role.CHIEF, area=tree["d1s1c1a1"])
    assert not can_manage_user(scope_for(actors.city_org), root_with_role)
    person = make_actor(Role.CHIEF, area=tree["d1s1c1a2"])
    person.user_permissions.add(Permission.objects.get(codename="change_area"))
    assert not can_manage_user(scope_for(actors.community), person)
    assert can_manage_user(scope_for(actors.superuser), person)


def test_org_departments_see_the_people_of_the_departments_they_manage(actors: Actors) -> None:
    def holders(user: Any) -> set[str]:
        return set(visible_assignments(user).values_list("user__username", flat=True))

    assert "dept" in holders(actors.district_org) and "leader" not in holders(actors.district_org)
    assert {"dept", "leader"} <= holders(actors.city_org)
    assert {"dept", "leader"}.isdisjoint(holders(actors.street))
    assert holders(actors.community) == {"chief", "deputy", "supervisor", "police", "community"}
