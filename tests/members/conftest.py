"""Fixtures for 双报到: named actors on the suite's tree, two work units, members in community c1."""

from __future__ import annotations

import pytest

from alleys.choices import Role
from tests.factories import (
    PartyOrganizationFactory,
    RegistrationFactory,
    Tree,
    UserFactory,
    make_actor,
)


class People:
    """Who they are is what they may do: c1's community, c2's, the street, the district, work units."""

    def __init__(self, tree: Tree) -> None:
        self.tree = tree
        self.c1 = tree["d1s1c1"]
        self.c2 = tree["d1s1c2"]
        self.superuser = UserFactory(username="root", superuser=True)
        self.community = make_actor(Role.COMMUNITY_STAFF, area=self.c1, username="community")
        self.other_community = make_actor(Role.COMMUNITY_STAFF, area=self.c2, username="othercommunity")
        self.street = make_actor(Role.STREET_STAFF, area=tree["d1s1"], username="street")
        self.district_org = make_actor(Role.DISTRICT_ORG, area=tree["d1"], username="orgdept")
        self.far_org = make_actor(Role.DISTRICT_ORG, area=tree["d2"], username="farorg")
        self.chief = make_actor(Role.CHIEF, area=tree["d1s1c1a1"], username="chief")
        self.tax = PartyOrganizationFactory(name="区税务局党支部", department=tree.dep("dep_d1"))
        self.bank = PartyOrganizationFactory(name="某银行支行党支部")
        self.tax_contact = UserFactory(username="taxcontact", is_staff=False)
        self.tax.contacts.add(self.tax_contact)
        self.bank_contact = UserFactory(username="bankcontact", is_staff=False)
        self.bank.contacts.add(self.bank_contact)
        # A member with a login, of the tax office, living in c1; another of the bank without one.
        self.member_user = UserFactory(username="member", is_staff=False)
        self.member = RegistrationFactory(
            user=self.member_user,
            full_name="王党员",
            phone="13912345678",
            organization=self.tax,
            community=self.c1,
            alley=tree["d1s1c1a1"],
            entered_by=self.member_user,
        )
        self.banker = RegistrationFactory(
            full_name="李党员",
            phone="13787654321",
            organization=self.bank,
            community=self.c1,
            entered_by=self.community,
        )
        self.stranger = UserFactory(username="stranger", is_staff=False)


@pytest.fixture
def people(tree: Tree) -> People:
    return People(tree)
