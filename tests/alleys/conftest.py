"""Fixtures for the territory tests: one actor per role on the tree (the ``tree`` fixture is suite-wide)."""

from __future__ import annotations

import pytest

from alleys.choices import Role, ServiceKind
from tests.factories import Tree, UserFactory, make_actor


class Actors:
    """Named logins on the tree: who they are is what they may see."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.superuser = UserFactory(username="root", superuser=True)
        self.chief = make_actor(Role.CHIEF, area=tree["d1s1c1a1"], username="chief")
        self.deputy = make_actor(Role.DEPUTY_CHIEF, area=tree["d1s1c1a1"], username="deputy")
        self.service = make_actor(
            Role.SERVICE_TEAM, area=tree["d1s1c1a2"], username="police", service_kind=ServiceKind.POLICE
        )
        self.supervisor = make_actor(Role.SUPERVISION_TEAM, area=tree["d1s1c1a1"], username="supervisor")
        self.grid = make_actor(Role.GRID_WORKER, area=tree["d1s1c2a1"], username="grid")
        self.community = make_actor(Role.COMMUNITY_STAFF, area=tree["d1s1c1"], username="community")
        self.street = make_actor(Role.STREET_STAFF, area=tree["d1s1"], username="street")
        self.district_org = make_actor(Role.DISTRICT_ORG, area=tree["d1"], username="orgdept")
        self.city_org = make_actor(Role.CITY_ORG, area=tree.city, username="cityorg")
        self.dept_contact = make_actor(Role.DEPT_CONTACT, department=tree.dep("dep_d1"), username="dept")
        self.dept_leader = make_actor(Role.DEPT_LEADER, department=tree.dep("dep_d2"), username="leader")
        # Chief of an alley in c2 of the same street: visible to the street, not to community c1.
        self.other_chief = make_actor(Role.CHIEF, area=tree["d1s1c2a2"], username="otherchief")
        self.far_chief = make_actor(Role.CHIEF, area=tree["d2s2c2a2"], username="farchief")


@pytest.fixture
def actors(tree: Tree) -> Actors:
    return Actors(tree)
