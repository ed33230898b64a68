"""The "already reported?" rule (issues/duplicates.py): same alley, same type, open, within the window."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pytest_django import DjangoAssertNumQueries, Settings

from issues.choices import CaseState
from issues.duplicates import candidates, distance_m
from issues.models import Case
from tests.factories import MONDAY, World, make_case

pytestmark = pytest.mark.django_db

NOW = MONDAY + dt.timedelta(days=20)


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def test_open_cases_of_the_same_type_in_the_same_alley_within_14_days_are_candidates(world: World) -> None:
    newer = make_case(world, now=days_ago(1))
    older = make_case(world, now=days_ago(13.9), state=CaseState.IN_PROGRESS)
    verifying = make_case(world, now=days_ago(2), state=CaseState.AWAITING_VERIFICATION)
    reopened = make_case(world, now=days_ago(3), state=CaseState.REOPENED)

    found = candidates(world.alley_x, world.cat_a, NOW)

    assert found == [newer, verifying, reopened, older]  # newest first


def test_other_alleys_other_types_closed_and_older_cases_are_not(world: World) -> None:
    make_case(world, alley=world.alley_y, now=days_ago(1))
    make_case(world, alley=world.other_alley, now=days_ago(1))
    make_case(world, category=world.cat_b, now=days_ago(1))
    for state in (
        CaseState.CLOSED,
        CaseState.REJECTED,
        CaseState.AWAITING_FEEDBACK,
        CaseState.AWAITING_RETURN_VISIT,
    ):
        make_case(world, state=state, now=days_ago(1))
    make_case(world, now=days_ago(14.1))
    make_case(world, now=NOW + dt.timedelta(hours=1))  # not yet submitted at ``now``

    assert candidates(world.alley_x, world.cat_a, NOW) == []


def test_a_merged_case_is_not_a_candidate(world: World) -> None:
    target = make_case(world, now=days_ago(2))
    make_case(world, now=days_ago(1), state=CaseState.MERGED, merged_into=target)

    assert candidates(world.alley_x, world.cat_a, NOW) == [target]


def test_the_window_is_a_setting(world: World, settings: Settings) -> None:
    case = make_case(world, now=days_ago(20))
    assert candidates(world.alley_x, world.cat_a, NOW) == []

    settings.JXT_DUPLICATE_DAYS = 30

    assert candidates(world.alley_x, world.cat_a, NOW) == [case]


def test_exclude_and_within_narrow_the_cases(world: World) -> None:
    one = make_case(world, now=days_ago(1))
    two = make_case(world, now=days_ago(2))

    assert candidates(world.alley_x, world.cat_a, NOW, exclude=one) == [two]
    within = Case.objects.filter(pk=one.pk)
    assert candidates(world.alley_x, world.cat_a, NOW, within=within) == [one]


def test_one_query_however_many_candidates(
    world: World, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    for day in range(1, 8):
        make_case(world, now=days_ago(day))

    with django_assert_num_queries(1):
        found = candidates(world.alley_x, world.cat_a, NOW)
        shown = [(c.category.name, c.alley.name, c.light, c.public_state, c.created_at) for c in found]

    assert len(shown) == 7


# --- within 100 m when a location is given -------------------------------------------------------

HERE = (Decimal("24.912345"), Decimal("118.587654"))  # 鲤城, 泉州
# 0.0009° of latitude ≈ 100 m: 0.0006° ≈ 67 m, 0.0013° ≈ 145 m.
NEAR = (Decimal("24.912945"), Decimal("118.587654"))
FAR = (Decimal("24.913645"), Decimal("118.587654"))
# Inside the bounding box but outside the circle: 0.00075° north and east ≈ 83 m and 76 m → ~113 m.
CORNER = (Decimal("24.913095"), Decimal("118.588404"))


def at(world: World, point: tuple[Decimal, Decimal], **fields: object) -> Case:
    return make_case(
        world, alley=world.alley_y, now=days_ago(1), latitude=point[0], longitude=point[1], **fields
    )


def test_a_located_report_finds_open_cases_of_its_type_within_100_m_in_other_alleys(world: World) -> None:
    near = at(world, NEAR)
    at(world, FAR)
    at(world, CORNER)
    at(world, NEAR, category=world.cat_b)
    unlocated = make_case(world, alley=world.alley_y, now=days_ago(1))

    assert distance_m(HERE, NEAR) == pytest.approx(67, abs=2)
    assert distance_m(HERE, CORNER) > 100
    assert candidates(world.alley_x, world.cat_a, NOW, near=HERE) == [near]
    assert unlocated not in candidates(world.alley_x, world.cat_a, NOW, near=HERE)
    assert candidates(world.alley_x, world.cat_a, NOW) == []  # no location: the alley only


def test_the_radius_is_a_setting(world: World, settings: Settings) -> None:
    far = at(world, FAR)
    settings.JXT_DUPLICATE_METERS = 200
    assert candidates(world.alley_x, world.cat_a, NOW, near=HERE) == [far]


def test_the_same_alley_still_counts_without_a_location_on_either_side(world: World) -> None:
    same = make_case(world, now=days_ago(1))
    assert candidates(world.alley_x, world.cat_a, NOW, near=HERE) == [same]


def test_staff_never_learn_of_a_neighbouring_communitys_case_they_cannot_open(world: World) -> None:
    # alley_y is community_y's; the community_x worker's scope does not reach it.
    neighbour = at(world, NEAR)
    mine = make_case(world, now=days_ago(1), latitude=HERE[0], longitude=HERE[1])
    scoped = Case.objects.visible_to(world.community_worker_x)
    assert candidates(world.alley_x, world.cat_a, NOW, near=HERE, exclude=mine, within=scoped) == []
    street = Case.objects.visible_to(world.street_worker)
    assert candidates(world.alley_x, world.cat_a, NOW, near=HERE, exclude=mine, within=street) == [neighbour]


def test_one_query_with_neighbours(world: World, django_assert_num_queries: DjangoAssertNumQueries) -> None:
    for _ in range(3):
        at(world, NEAR)
    with django_assert_num_queries(1):
        found = candidates(world.alley_x, world.cat_a, NOW, near=HERE)
        assert [c.alley.name for c in found] == [world.alley_y.name] * 3
