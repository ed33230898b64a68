"""The case list: filters, ordering, pagination, masking, and a constant number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from alleys.choices import AreaLevel
from issues.choices import CaseSource, CaseState
from issues.models import Case
from tests.factories import MONDAY, PHONE, World, make_case

from .helpers import text

pytestmark = pytest.mark.django_db


def codes(response: Any) -> set[str]:
    return {c.tracking_code for c in response.context["cases"]}


def test_filters(world: World, login: Callable[[str], Client]) -> None:
    now = timezone.now()  # the page judges "overdue" by the real clock
    x = make_case(world, now=now)
    y = make_case(world, alley=world.alley_y, category=world.cat_b, tier=AreaLevel.COMMUNITY, now=now)
    started = make_case(
        world, state=CaseState.IN_PROGRESS, source=CaseSource.PATROL, supervised=True, now=now
    )
    late = make_case(world, now=now - dt.timedelta(days=30))
    client = login("street_worker")
    everything = codes(client.get("/staff/cases/"))
    assert {x.tracking_code, y.tracking_code, started.tracking_code, late.tracking_code} <= everything

    assert codes(client.get("/staff/cases/", {"area": world.community_y.code})) == {y.tracking_code}
    assert codes(client.get("/staff/cases/", {"state": "in_progress"})) == {started.tracking_code}
    assert codes(client.get("/staff/cases/", {"tier": "community"})) == {y.tracking_code}
    b_class = world.cat_b.category_class_id
    assert codes(client.get("/staff/cases/", {"category_class": b_class})) == {y.tracking_code}
    assert codes(client.get("/staff/cases/", {"category": world.cat_b.pk})) == {y.tracking_code}
    assert codes(client.get("/staff/cases/", {"source": "patrol"})) == {started.tracking_code}
    assert codes(client.get("/staff/cases/", {"supervised": "on"})) == {started.tracking_code}
    assert codes(client.get("/staff/cases/", {"overdue": "on"})) == {late.tracking_code}
    assert codes(client.get("/staff/cases/", {"q": y.tracking_code.lower()})) == {y.tracking_code}
    assert y.tracking_code in codes(client.get("/staff/cases/", {"q": "路灯坏了"}))


def test_the_list_shows_the_orange_light_and_filters_cases_awaiting_a_return_visit(
    world: World, login: Callable[[str], Client]
) -> None:
    due = make_case(world, state=CaseState.AWAITING_RETURN_VISIT)
    rated = make_case(world, state=CaseState.AWAITING_FEEDBACK)
    client = login("community_worker_x")
    response = client.get("/staff/cases/", {"state": "awaiting_return_visit"})
    assert codes(response) == {due.tracking_code}
    body = text(response)
    assert 'class="light light-orange"' in body and "橘灯 · 待回访" in body
    assert "橘灯 · 已办结待评价" in text(client.get("/staff/cases/", {"q": rated.tracking_code}))


def test_an_area_filter_cannot_widen_the_scope(world: World, login: Callable[[str], Client]) -> None:
    make_case(world, alley=world.alley_y)
    response = login("chief_x").get("/staff/cases/", {"area": "3505"})
    assert response.status_code == 200
    assert codes(response) == set()


def test_bad_filters_are_ignored_not_fatal(world: World, login: Callable[[str], Client]) -> None:
    case = make_case(world)
    response = login("chief_x").get("/staff/cases/", {"area": "x'; drop", "state": "nonsense", "page": "zz"})
    assert response.status_code == 200
    assert case.tracking_code in codes(response)
    assert "部分筛选条件无效" in text(response)


def test_ordering_and_pagination(world: World, login: Callable[[str], Client]) -> None:
    # A fixed moment: the deadlines follow the working-day calendar, so the wall clock's time of day
    # (reports made at night share the next morning's deadline) must not decide the order.
    now = MONDAY
    made = [make_case(world, now=now - dt.timedelta(hours=i)) for i in range(53)]
    client = login("chief_x")
    # By default the governing deadline orders the list: the oldest submission is due first.
    first = client.get("/staff/cases/")
    assert [c.pk for c in first.context["cases"]][:2] == [made[-1].pk, made[-2].pk]
    newest_first = client.get("/staff/cases/", {"ordering": "-created"})
    assert [c.pk for c in newest_first.context["cases"]][:2] == [made[0].pk, made[1].pk]
    assert len(first.context["cases"]) == 50
    second = client.get("/staff/cases/", {"page": 2})
    assert len(second.context["cases"]) == 3
    oldest_first = client.get("/staff/cases/", {"ordering": "created"})
    assert oldest_first.context["cases"][0].pk == made[-1].pk
    # The page links keep the filters.
    filtered = client.get("/staff/cases/", {"state": "submitted"})
    assert "state=submitted&amp;page=2" in text(filtered)


def test_rows_show_light_deadline_holder_and_masked_phone(
    world: World, login: Callable[[str], Client]
) -> None:
    make_case(world, state=CaseState.IN_PROGRESS)
    body = text(login("chief_x").get("/staff/cases/"))
    assert "light-yellow" in body
    assert "金鱼巷街巷服务团队" in body
    assert "139****1234" in body
    assert PHONE not in body


def _bulk(world: World, n: int) -> None:
    for i in range(n):
        make_case(
            world,
            alley=world.alley_x if i % 2 else world.alley_y,
            state=CaseState.AWAITING_RETURN_VISIT
            if i % 5 == 4
            else CaseState.IN_PROGRESS
            if i % 3
            else CaseState.SUBMITTED,
            supervised=i % 4 == 0,
        )


@pytest.mark.parametrize(
    "actor", ["chief_x", "community_worker_x", "street_worker", "district_officer", "lead_contact", "admin"]
)
def test_case_list_queries_do_not_grow_with_the_data(
    world: World, login: Callable[[str], Client], django_assert_max_num_queries: Any, actor: str
) -> None:
    client = login(actor)
    _bulk(world, 3)
    with django_assert_max_num_queries(12):
        assert client.get("/staff/cases/", {"state": "in_progress"}).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get("/staff/cases/", {"state": "awaiting_return_visit"}).status_code == 200
    _bulk(world, 60)
    assert Case.objects.count() == 63
    # The page's saved views and the bulk form's colleagues are one query each, whatever their number.
    with django_assert_max_num_queries(12):
        assert client.get("/staff/cases/", {"state": "in_progress"}).status_code == 200
    with django_assert_max_num_queries(12):
        assert client.get("/staff/cases/", {"state": "awaiting_return_visit"}).status_code == 200
