"""Buildings (楼栋): the tree's optional level below an alley, its codes, its heads and its admin page."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from alleys.choices import (
    AREA_LEVEL_ORDER,
    CODE_LENGTH,
    LEVEL_ORDER,
    TIER_CHOICES,
    AreaLevel,
    Role,
    level_above,
    level_below,
    tier_above,
)
from alleys.models import Area, RoleAssignment, ancestor_codes
from alleys.scoping import scope_for
from dispatch.chain import TIER_ORDER, next_tier
from tests.factories import BuildingFactory, UserFactory, World, build_buildings

pytestmark = pytest.mark.django_db


def test_a_building_is_a_level_of_the_tree_but_no_tier() -> None:
    assert (*LEVEL_ORDER, AreaLevel.BUILDING) == AREA_LEVEL_ORDER
    assert AreaLevel.BUILDING not in LEVEL_ORDER
    assert AreaLevel.BUILDING not in TIER_ORDER
    assert AreaLevel.BUILDING not in dict(TIER_CHOICES)
    assert CODE_LENGTH[AreaLevel.BUILDING] == 18
    assert level_below(AreaLevel.ALLEY) == AreaLevel.BUILDING
    assert level_above(AreaLevel.BUILDING) == AreaLevel.ALLEY
    # The chain stops at the alley, both ways.
    assert tier_above(AreaLevel.ALLEY) == AreaLevel.COMMUNITY
    assert next_tier(AreaLevel.ALLEY) == AreaLevel.COMMUNITY
    assert next_tier(AreaLevel.CITY) is None


def test_a_building_has_the_alleys_code_and_three_digits(world: World) -> None:
    building = BuildingFactory(parent=world.alley_x, code=f"{world.alley_x.code}007", name="7号楼")
    assert building.code_at(AreaLevel.ALLEY) == world.alley_x.code
    assert building.ancestor(AreaLevel.COMMUNITY) == world.community_x
    assert ancestor_codes(building.code)[-1] == world.alley_x.code
    assert building.full_name.endswith("金鱼巷 / 7号楼")


@pytest.mark.parametrize(
    ("code", "parent", "field", "message"),
    [
        ("35050200100100101", "alley_x", "code", "18 位"),  # 17 digits
        ("350502001002001001", "alley_x", "code", "上级区域的编码开头"),  # another alley's prefix
        ("3505020010010010AB", "alley_x", "code", "数字"),
        ("350502001001001", "community_x", "code", "18 位"),  # an alley-wide code
    ],
)
def test_a_building_is_checked_like_any_area(
    world: World, code: str, parent: str, field: str, message: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        Area(code=code, name="坏楼", level=AreaLevel.BUILDING, parent=getattr(world, parent)).save()
    assert field in refused.value.message_dict
    assert message in " ".join(refused.value.message_dict[field])


def test_a_building_belongs_under_an_alley(world: World) -> None:
    with pytest.raises(ValidationError) as refused:
        Area(code="350502001001001001", name="楼", level=AreaLevel.BUILDING, parent=world.community_x).save()
    assert "层级不对" in " ".join(refused.value.message_dict["parent"])


def test_nothing_goes_under_a_building(world: World) -> None:
    building = BuildingFactory(parent=world.alley_x)
    with pytest.raises(ValidationError):
        Area(code=f"{building.code}001", name="单元", level=AreaLevel.ALLEY, parent=building).save()


def test_a_building_head_is_appointed_on_a_building_only(world: World) -> None:
    building = BuildingFactory(parent=world.alley_x)
    user = UserFactory()
    RoleAssignment(user=user, role=Role.BUILDING_HEAD, area=building).full_clean()
    with pytest.raises(ValidationError) as refused:
        RoleAssignment(user=user, role=Role.BUILDING_HEAD, area=world.alley_x).full_clean()
    assert "楼栋" in " ".join(refused.value.message_dict["area"])
    with pytest.raises(ValidationError):
        RoleAssignment(user=user, role=Role.CHIEF, area=building).full_clean()


def test_a_building_heads_scope_is_their_building(world: World) -> None:
    b = build_buildings(world)
    scope = scope_for(b.head_one)
    assert scope.area_prefixes == (b.one.code,)
    assert scope.covers_code(b.one.code)
    # A building's code prefixes nothing but itself: not the alley, not the neighbouring building.
    assert not scope.covers_code(world.alley_x.code)
    assert not scope.covers_code(b.two.code)
    # The alley's team covers its buildings.
    assert scope_for(world.chief_x).covers_code(b.two.code)
    assert set(Area.objects.visible_to(world.chief_x)) == {world.alley_x, b.one, b.two}


def test_the_community_manages_buildings_on_their_own_admin_page(client: Client, world: World) -> None:
    b = build_buildings(world)
    client.force_login(world.community_worker_x)
    listing = client.get(reverse("admin:alleys_building_changelist"))
    assert listing.status_code == 200
    html = listing.content.decode()
    assert b.one.code in html and b.two.code in html
    assert b.other_alley.code not in html  # another community's
    response = client.post(
        reverse("admin:alleys_building_add"),
        {"parent": world.alley_x.pk, "code": f"{world.alley_x.code}003", "name": "3号楼", "is_active": "on"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    three = Area.objects.get(code=f"{world.alley_x.code}003")
    assert three.level == AreaLevel.BUILDING and three.parent == world.alley_x
    # Another community's alley is not offered.
    refused = client.post(
        reverse("admin:alleys_building_add"),
        {"parent": world.alley_y.pk, "code": f"{world.alley_y.code}009", "name": "9号楼", "is_active": "on"},
    )
    assert refused.status_code == 200
    assert not Area.objects.filter(code=f"{world.alley_y.code}009").exists()
    # The building's page appoints its head.
    page = client.get(reverse("admin:alleys_building_change", args=[three.pk]))
    assert page.status_code == 200
    assert "楼栋长" in page.content.decode()
    assert f"/a/{three.code}/qr.svg" in page.content.decode()


def test_the_alleys_team_does_not_get_the_buildings_module(client: Client, world: World) -> None:
    build_buildings(world)
    client.force_login(world.chief_x)
    assert client.get(reverse("admin:alleys_building_changelist")).status_code == 403


def test_a_buildings_qr_code_is_served(client: Client, world: World) -> None:
    b = build_buildings(world)
    response = client.get(reverse("alley-qr", kwargs={"code": b.one.code}))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
