"""可能重复 on the staff case page: the "already reported?" rule among the cases the user may see."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from issues.choices import CaseState
from issues.models import Case
from tests.factories import World, make_case

from .helpers import dispatched_case, text

pytestmark = pytest.mark.django_db


def recent(world: World, *, days: float = 1, **fields: object) -> Case:
    return make_case(world, now=timezone.now() - dt.timedelta(days=days), **fields)  # type: ignore[arg-type]


def listed(client: Client, case: Case) -> list[str]:
    """The case pages the 可能重复 list links to."""
    html = text(client.get(f"/staff/cases/{case.pk}/"))
    block = re.search(r'<div class="duplicates"[^>]*>(.*?)</div>', html, re.S)
    return re.findall(r'href="/staff/cases/(\d+)/"', block.group(1)) if block else []


def test_the_chief_sees_open_cases_of_the_type_in_the_alley_and_not_the_case_itself(
    world: World, login: Callable[[str], Client]
) -> None:
    case = recent(world)
    twin = recent(world, days=2, state=CaseState.IN_PROGRESS)
    recent(world, days=15)  # too old
    recent(world, state=CaseState.CLOSED)
    recent(world, category=world.cat_b)
    recent(world, alley=world.alley_y)

    client = login("chief_x")
    assert listed(client, case) == [str(twin.pk)]
    html = text(client.get(f"/staff/cases/{case.pk}/"))
    assert "可能重复" in html and twin.tracking_code in html


def test_no_list_without_candidates_or_on_a_finished_case(
    world: World, login: Callable[[str], Client]
) -> None:
    alone = recent(world)
    client = login("chief_x")
    assert "可能重复" not in text(client.get(f"/staff/cases/{alone.pk}/"))

    closed = recent(world, state=CaseState.CLOSED)
    assert listed(client, closed) == []


def test_a_department_sees_only_the_candidates_dispatched_to_it(
    world: World, login: Callable[[str], Client]
) -> None:
    now = timezone.now()
    ours = dispatched_case(world, now=now - dt.timedelta(days=1))
    also_ours = dispatched_case(world, now=now - dt.timedelta(days=2))
    not_ours = recent(world, category=world.cat_d, days=3)

    assert listed(login("lead_contact"), ours) == [str(also_ours.pk)]
    # The community sees all three in its alley.
    assert set(listed(login("community_worker_x"), ours)) == {str(also_ours.pk), str(not_ours.pk)}


def test_the_list_costs_one_query_however_long(
    world: World, login: Callable[[str], Client], django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    case = recent(world)
    recent(world, days=2)
    client = login("chief_x")
    client.get(f"/staff/cases/{case.pk}/")
    with CaptureQueriesContext(connection) as one:
        client.get(f"/staff/cases/{case.pk}/")
    for day in range(3, 9):
        recent(world, days=day)
    with django_assert_num_queries(len(one.captured_queries)):
        assert len(listed(client, case)) == 7
