"""demo/buildings.py: one community of the demo city uses buildings, with a ``building`` login that works."""

from __future__ import annotations

import pytest
from django.http import HttpRequest
from django.test import Client

from alleys.choices import AreaLevel, Role
from alleys.models import Area, RoleAssignment
from demo import city as demo
from demo.buildings import BUILDINGS, seed_building_cases, seed_buildings
from issues.models import Case
from tests.factories import at

pytestmark = pytest.mark.django_db

NOW = at("2026-06-15 10:00")


def test_the_demo_buildings_their_heads_cases_and_login(client: Client) -> None:
    demo.seed_city(password=demo.DEFAULT_PASSWORD, reset_passwords=False)
    logins = seed_buildings(password=demo.DEFAULT_PASSWORD)
    assert [(x.username, x.password_works) for x in logins] == [("building", True)]
    buildings = Area.objects.filter(level=AreaLevel.BUILDING)
    assert buildings.count() == sum(len(names) for names in BUILDINGS)
    community = demo.demo_anchors().community.code
    assert all(b.code.startswith(community) and len(b.code) == 18 for b in buildings)
    assert RoleAssignment.objects.filter(role=Role.BUILDING_HEAD).count() == buildings.count()
    assert seed_building_cases(now=NOW) == 4
    assert seed_building_cases(now=NOW) == 0  # once
    assert seed_buildings(password=demo.DEFAULT_PASSWORD)[0].password_works  # a second run keeps it
    assert client.login(request=HttpRequest(), username="building", password=demo.DEFAULT_PASSWORD)
    page = client.get("/staff/cases/")
    assert page.status_code == 200
    mine = Case.objects.visible_to(RoleAssignment.objects.get(user__username="building").user)
    assert mine.count() == 3  # 1号楼's three cases
    assert all(c.tracking_code in page.content.decode() for c in mine)
