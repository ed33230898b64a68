"""Named actors on the tree for the notices and deliberation tests."""

from __future__ import annotations

from typing import Any

import pytest

from alleys.choices import Role
from tests.factories import Tree, UserFactory, make_actor


class People:
    """Who publishes and runs topics where: each one's territory is what they may touch."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.superuser: Any = UserFactory(username="root", superuser=True)
        self.chief = make_actor(Role.CHIEF, area=tree["d1s1c1a1"], username="chief")
        self.deputy = make_actor(Role.DEPUTY_CHIEF, area=tree["d1s1c1a1"], username="deputy")
        self.other_chief = make_actor(Role.CHIEF, area=tree["d1s1c1a2"], username="otherchief")
        self.community = make_actor(Role.COMMUNITY_STAFF, area=tree["d1s1c1"], username="community")
        self.other_community = make_actor(Role.COMMUNITY_STAFF, area=tree["d1s1c2"], username="community2")
        self.street = make_actor(Role.STREET_STAFF, area=tree["d1s1"], username="street")
        self.far_street = make_actor(Role.STREET_STAFF, area=tree["d2s1"], username="farstreet")
        self.dept = make_actor(Role.DEPT_CONTACT, department=tree.dep("dep_d1"), username="dept")


@pytest.fixture
def people(tree: Tree) -> People:
    return People(tree)
