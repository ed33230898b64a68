"""The "already reported?" rule (issues/duplicates.py): same alley, same type, open, within the window."""

from __future__ import annotations

import datetime as dt

import pytest
from pytest_django import DjangoAssertNumQueries, Settings

from issues.choices import CaseState
from issues.duplicates import candidates
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
