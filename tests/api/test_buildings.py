"""The API names a case's building (楼栋) and scopes a building head to their building's cases."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from issues.workflow import case_submit
from tests.factories import MONDAY, World, build_buildings

pytestmark = pytest.mark.django_db

CASES = "/api/v1/cases/"


def test_a_case_names_its_building_and_a_building_head_lists_only_theirs(
    world: World, api_as: Callable[[str], APIClient]
) -> None:
    b = build_buildings(world)
    mine = case_submit(
        category=world.cat_a, alley=world.alley_x, building=b.one, description="楼道灯坏。", now=MONDAY
    )
    plain = case_submit(category=world.cat_a, alley=world.alley_x, description="路灯坏。", now=MONDAY)
    rows = {r["id"]: r for r in api_as("chief_x").get(CASES).json()["results"]}
    assert rows[mine.pk]["building"] == b.one.code
    assert rows[plain.pk]["building"] is None
    listed = api_as("head_one").get(CASES).json()["results"]
    assert [r["id"] for r in listed] == [mine.pk]
    assert api_as("head_one").get(f"{CASES}{plain.pk}/").status_code == 404
