"""alleys/locate.py: the alley an address names, within a client's area (Open311's address_string)."""

from __future__ import annotations

from typing import Any

import pytest

from alleys.locate import alley_in_address
from tests.factories import AlleyFactory, World

pytestmark = pytest.mark.django_db


def test_the_one_alley_named_in_the_address(world: World, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        located = alley_in_address("鲤城区金鱼巷 12 号旁", within=world.district.code)
    assert located.alley == world.alley_x
    assert located.named == 1
    assert alley_in_address("井亭巷口", within=world.street.code).alley == world.alley_y


def test_only_alleys_within_the_area_count(world: World) -> None:
    assert alley_in_address("东湖巷 3 号", within=world.district.code).alley is None
    assert alley_in_address("东湖巷 3 号", within=world.other_district.code).alley == world.other_alley
    # The area may be an alley itself (a client of one alley).
    assert alley_in_address("金鱼巷 12 号", within=world.alley_y.code).alley is None


def test_an_inactive_alley_is_not_named(world: World) -> None:
    world.alley_x.is_active = False
    world.alley_x.save()
    located = alley_in_address("金鱼巷 12 号", within=world.district.code)
    assert (located.alley, located.named) == (None, 0)


def test_no_alley_named(world: World) -> None:
    located = alley_in_address("开元街道新华社区附近", within=world.district.code)
    assert (located.alley, located.named) == (None, 0)
    assert alley_in_address("", within=world.district.code).alley is None


def test_a_name_inside_a_longer_name_does_not_count(world: World) -> None:
    small = AlleyFactory(code="350502001002002", name="小金鱼巷", parent=world.community_y)
    assert alley_in_address("小金鱼巷 3 号", within=world.district.code).alley == small
    assert alley_in_address("金鱼巷 3 号", within=world.district.code).alley == world.alley_x
    # Both named, each on its own: which one is meant is not for us to guess.
    both = alley_in_address("金鱼巷与小金鱼巷交界处", within=world.district.code)
    assert (both.alley, both.named) == (None, 2)


def test_the_same_name_in_two_communities_needs_the_community(world: World) -> None:
    twin = AlleyFactory(code="350502001001002", name="井亭巷", parent=world.community_x)
    ambiguous = alley_in_address("井亭巷 5 号", within=world.district.code)
    assert (ambiguous.alley, ambiguous.named) == (None, 2)
    assert alley_in_address("新华社区井亭巷 5 号", within=world.district.code).alley == twin
    assert alley_in_address("西街社区 井亭巷 5 号", within=world.district.code).alley == world.alley_y
    # A client of one community has one 井亭巷.
    assert alley_in_address("井亭巷 5 号", within=world.community_x.code).alley == twin


def test_pattern_characters_in_names_and_addresses_are_plain_text(world: World) -> None:
    AlleyFactory(code="350502001001003", name="100%巷", parent=world.community_x)
    AlleyFactory(code="350502001001004", name="A_1巷", parent=world.community_x)
    assert alley_in_address("100巷", within=world.district.code).alley is None
    assert alley_in_address("AB1巷", within=world.district.code).alley is None
    assert alley_in_address("%_%", within=world.district.code).alley is None
    assert alley_in_address("a_1巷 2 号", within=world.district.code).alley.name == "A_1巷"  # type: ignore[union-attr]
