"""alleys/models.py: the area tree's queries and code rules, profiles, departments, role assignments."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from alleys.choices import AreaLevel, Role, ServiceKind
from alleys.models import Area, Department, RoleAssignment, ancestor_codes
from tests.factories import (
    AlleyFactory,
    AlleyProfileFactory,
    CityFactory,
    CommunityFactory,
    DepartmentFactory,
    DistrictFactory,
    StreetFactory,
    Tree,
    UserFactory,
)

pytestmark = pytest.mark.django_db


# --- tree queries ---------------------------------------------------------------------------


def test_under_returns_the_subtree_in_one_query(tree: Tree, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        codes = set(Area.objects.under(tree["d1s1c1"]).values_list("code", flat=True))
    assert codes == tree.codes("d1s1c1", "d1s1c1a1", "d1s1c1a2")


def test_under_without_self_and_by_code(tree: Tree) -> None:
    codes = set(Area.objects.under(tree["d1s1"].code, include_self=False).values_list("code", flat=True))
    assert codes == tree.under("d1s1") - {tree["d1s1"].code}
    assert tree["d1s2"].code not in codes


def test_under_the_city_is_everything(tree: Tree) -> None:
    assert Area.objects.under(tree.city).count() == 31


def test_under_does_not_confuse_siblings_sharing_digits(tree: Tree) -> None:
    # d1s1c1 = …001001 and d1s1c1a1 = …001001001: prefix queries must stop at the subtree.
    assert not Area.objects.under(tree["d1s1c1a1"], include_self=False).exists()
    assert set(Area.objects.under(tree["d1s1c2"]).values_list("code", flat=True)).isdisjoint(
        tree.under("d1s1c1")
    )


def test_chain_above_is_top_down_in_one_query(tree: Tree, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        chain = list(Area.objects.chain_above(tree["d2s1c2a1"]))
    assert [a.level for a in chain] == [
        AreaLevel.CITY,
        AreaLevel.DISTRICT,
        AreaLevel.STREET,
        AreaLevel.COMMUNITY,
        AreaLevel.ALLEY,
    ]
    assert [a.code for a in chain] == [
        tree.city.code,
        tree["d2"].code,
        tree["d2s1"].code,
        tree["d2s1c2"].code,
        tree["d2s1c2a1"].code,
    ]


def test_chain_above_without_self(tree: Tree) -> None:
    chain = list(Area.objects.chain_above(tree["d1s2"], include_self=False).values_list("code", flat=True))
    assert chain == [tree.city.code, tree["d1"].code]
    assert list(Area.objects.chain_above(tree.city, include_self=False)) == []


def test_ancestor_codes_and_code_at_need_no_query(tree: Tree, django_assert_num_queries: Any) -> None:
    alley = tree["d1s2c1a2"]
    with django_assert_num_queries(0):
        assert ancestor_codes(alley.code) == [
            tree.city.code,
            tree["d1"].code,
            tree["d1s2"].code,
            tree["d1s2c1"].code,
        ]
        assert alley.code_at(AreaLevel.STREET) == tree["d1s2"].code
        assert alley.code_at(AreaLevel.ALLEY) == alley.code


def test_ancestor_loads_the_area_at_a_level(tree: Tree) -> None:
    alley = tree["d1s2c1a2"]
    assert alley.ancestor(AreaLevel.DISTRICT) == tree["d1"]
    assert alley.ancestor(AreaLevel.ALLEY) == alley
    assert tree["d1"].ancestor(AreaLevel.STREET) is None


def test_full_name_joins_the_chain(tree: Tree) -> None:
    assert tree["d1s1c1a1"].full_name == "泉州市 / 区1 / 区1街道1 / 区1街道1社区1 / 区1街道1社区1巷1"


def test_at_level(tree: Tree) -> None:
    assert Area.objects.at_level(AreaLevel.STREET).count() == 4


# --- code rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("level", "bad_code"),
    [
        (AreaLevel.CITY, "350"),
        (AreaLevel.CITY, "35050"),
        (AreaLevel.DISTRICT, "35051"),
        (AreaLevel.STREET, "3505010011"),
        (AreaLevel.COMMUNITY, "35050100100"),
        (AreaLevel.ALLEY, "3505010010010011"),
    ],
)
def test_code_of_the_wrong_length_is_refused(tree: Tree, level: str, bad_code: str) -> None:
    parents = {
        AreaLevel.DISTRICT: tree.city,
        AreaLevel.STREET: tree["d1"],
        AreaLevel.COMMUNITY: tree["d1s1"],
        AreaLevel.ALLEY: tree["d1s1c1"],
    }
    area = Area(code=bad_code, name="新区域", level=level, parent=parents.get(level))
    with pytest.raises(ValidationError) as excinfo:
        area.save()
    assert "code" in excinfo.value.message_dict
    assert not Area.objects.filter(code=bad_code).exists()


def test_code_must_start_with_the_parents(tree: Tree) -> None:
    # Right length, parent is c1 of d1s1, but the digits belong to d2.
    area = Area(code=tree["d2s1c1"].code + "009", name="错巷", level=AreaLevel.ALLEY, parent=tree["d1s1c1"])
    with pytest.raises(ValidationError) as excinfo:
        area.save()
    assert excinfo.value.message_dict["code"] == ["编码必须以上级区域的编码开头。"]


def test_parent_must_be_one_level_up(tree: Tree) -> None:
    # An alley hung directly under a street.
    area = Area(code=tree["d1s1"].code + "009009", name="跳级巷", level=AreaLevel.ALLEY, parent=tree["d1s1"])
    with pytest.raises(ValidationError) as excinfo:
        area.save()
    assert "parent" in excinfo.value.message_dict


def test_below_the_city_a_parent_is_required(db: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Area(code="350501", name="孤区", level=AreaLevel.DISTRICT).save()
    assert "parent" in excinfo.value.message_dict


def test_a_city_has_no_parent(tree: Tree) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Area(code="3506", name="二市", level=AreaLevel.CITY, parent=tree.city).save()
    assert "parent" in excinfo.value.message_dict


def test_codes_are_digits_only(db: Any) -> None:
    with pytest.raises(ValidationError) as excinfo:
        Area(code="35ab", name="字母市", level=AreaLevel.CITY).full_clean()
    assert "code" in excinfo.value.message_dict


def test_codes_are_unique(tree: Tree) -> None:
    duplicate = Area(code=tree["d1s1"].code, name="另一个街道", level=AreaLevel.STREET, parent=tree["d1"])
    with pytest.raises(ValidationError) as excinfo:
        duplicate.full_clean()
    assert "code" in excinfo.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()


def test_names_are_unique_within_a_parent_only(tree: Tree) -> None:
    same_name = Area(
        code=tree["d1s1"].code + "009", name="区1街道1社区1", level=AreaLevel.COMMUNITY, parent=tree["d1s1"]
    )
    with pytest.raises(ValidationError):
        same_name.full_clean()
    # The same name under another street is fine.
    elsewhere = Area(
        code=tree["d1s2"].code + "009", name="区1街道1社区1", level=AreaLevel.COMMUNITY, parent=tree["d1s2"]
    )
    elsewhere.full_clean()
    elsewhere.save()


def test_level_factories_chain_valid_codes(db: Any) -> None:
    alley = AlleyFactory()
    community = alley.parent
    assert len(alley.code) == 15 and alley.code.startswith(community.code)
    assert Area.objects.chain_above(alley).first().level == AreaLevel.CITY
    second = AlleyFactory(parent=community)
    assert second.code != alley.code and second.parent == community
    assert CityFactory().code != CityFactory().code
    street = StreetFactory(parent=DistrictFactory())
    assert CommunityFactory(parent=street).code.startswith(street.code)


# --- profiles, departments, roles -------------------------------------------------------------


def test_report_url_is_the_resident_forms_absolute_url(tree: Tree, settings: Any) -> None:
    settings.ROOT_URLCONF = "tests.alleys.resident_urls"
    settings.SITE_URL = "https://jxt.example.cn"
    profile = AlleyProfileFactory(area=tree["d1s1c1a1"])
    assert profile.report_url == f"https://jxt.example.cn/r/{tree['d1s1c1a1'].code}/"


def test_department_belongs_to_a_district_or_city(tree: Tree) -> None:
    department = DepartmentFactory(area=tree["d1s1"])
    with pytest.raises(ValidationError) as excinfo:
        department.full_clean()
    assert "area" in excinfo.value.message_dict
    assert Department(code="X", name="市部门", area=tree.city).level == AreaLevel.CITY


@pytest.mark.parametrize(
    ("role", "area_name", "error_field"),
    [
        (Role.CHIEF, "d1s1c1", "area"),  # a chief belongs on an alley
        (Role.COMMUNITY_STAFF, "d1s1c1a1", "area"),
        (Role.STREET_STAFF, "d1", "area"),
        (Role.DISTRICT_ORG, "city", "area"),
        (Role.DEPT_CONTACT, "d1", "department"),  # a department role needs a department
    ],
)
def test_role_must_sit_at_its_level(tree: Tree, role: str, area_name: str, error_field: str) -> None:
    assignment = RoleAssignment(user=UserFactory(), role=role, area=tree[area_name])
    with pytest.raises(ValidationError) as excinfo:
        assignment.full_clean()
    assert error_field in excinfo.value.message_dict


def test_service_team_needs_a_speciality(tree: Tree) -> None:
    user = UserFactory()
    assignment = RoleAssignment(user=user, role=Role.SERVICE_TEAM, area=tree["d1s1c1a1"])
    with pytest.raises(ValidationError) as excinfo:
        assignment.full_clean()
    assert "service_kind" in excinfo.value.message_dict
    assignment.service_kind = ServiceKind.LAWYER
    assignment.full_clean()


def test_role_is_on_an_area_or_a_department_not_both(tree: Tree) -> None:
    user = UserFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(
            user=user, role=Role.DEPT_CONTACT, area=tree["d1"], department=tree.dep("dep_d1")
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=user, role=Role.CHIEF)


def test_one_person_may_hold_several_roles_but_each_once(tree: Tree) -> None:
    user = UserFactory()
    RoleAssignment.objects.create(user=user, role=Role.CHIEF, area=tree["d1s1c1a1"])
    RoleAssignment.objects.create(user=user, role=Role.GRID_WORKER, area=tree["d1s1c1a1"])
    RoleAssignment.objects.create(user=user, role=Role.CHIEF, area=tree["d1s1c1a2"])
    assert user.roles.count() == 3
    with pytest.raises(IntegrityError), transaction.atomic():
        RoleAssignment.objects.create(user=user, role=Role.CHIEF, area=tree["d1s1c1a1"])
