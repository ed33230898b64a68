"""The chiefs' patrol and visit log: list, new, duplicates, the link to intake, expenses."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from issues.models import PatrolLog
from tests.factories import World, make_case

from .helpers import text, visible_text

pytestmark = pytest.mark.django_db


def data(world: World, **overrides: Any) -> dict[str, Any]:
    values = {
        "kind": "patrol",
        "alley": world.alley_x.pk,
        "date": timezone.localdate().isoformat(),
        "checked": ["下水道", "消防通道"],
        "households_visited": 3,
        "notes": "12号门口电动车充电",
        "expense_yuan": "12.50",
    }
    values.update(overrides)
    return values


def test_new_patrol(world: World, login: Callable[[str], Client]) -> None:
    client = login("chief_x")
    page = client.get("/staff/patrols/new/")
    assert page.status_code == 200
    assert page.context["form"].initial["date"] == timezone.localdate()
    assert "独居老人" in text(page)
    response = client.post("/staff/patrols/new/", data(world))
    assert response.status_code == 302
    log = PatrolLog.objects.get()
    assert response["Location"] == f"/staff/patrols/{log.pk}/"
    assert (log.chief, log.alley, log.checked, log.expense_yuan) == (
        world.chief_x,
        world.alley_x,
        ["下水道", "消防通道"],
        Decimal("12.50"),
    )
    detail = client.get(response["Location"])
    assert f"/staff/cases/new/?patrol={log.pk}" in text(detail)
    assert "✓ 下水道" in visible_text(detail)


def test_one_patrol_per_day_and_alley(world: World, login: Callable[[str], Client]) -> None:
    client = login("chief_x")
    assert client.post("/staff/patrols/new/", data(world)).status_code == 302
    again = client.post("/staff/patrols/new/", data(world, notes="第二次"))
    assert again.status_code == 400
    assert "这一天已经记录过该街巷的巡查" in text(again)
    assert "第二次" in text(again)
    assert PatrolLog.objects.count() == 1


def test_a_visit_is_dated_the_monday_of_its_week(world: World, login: Callable[[str], Client]) -> None:
    today = timezone.localdate()
    client = login("chief_x")
    assert client.post("/staff/patrols/new/", data(world, kind="visit")).status_code == 302
    log = PatrolLog.objects.get()
    assert log.date == today - dt.timedelta(days=today.weekday())
    again = client.post("/staff/patrols/new/", data(world, kind="visit"))
    assert "本周已经记录过该街巷的走访" in text(again)


def test_not_in_the_future_nor_on_another_alley(world: World, login: Callable[[str], Client]) -> None:
    client = login("chief_x")
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    assert "不能记录未来的巡查。" in text(client.post("/staff/patrols/new/", data(world, date=tomorrow)))
    assert client.post("/staff/patrols/new/", data(world, alley=world.alley_y.pk)).status_code == 400
    assert not PatrolLog.objects.exists()


def test_only_the_alley_team_logs_patrols(world: World, login: Callable[[str], Client]) -> None:
    for actor in ("community_worker_x", "street_worker", "lead_contact"):
        response = login(actor).get("/staff/patrols/new/")
        assert response.status_code == 403
        assert "只有街巷长" in text(response)


def test_list_shows_the_territory_with_found_cases_and_my_expense(
    world: World, login: Callable[[str], Client]
) -> None:
    today = timezone.localdate()
    mine = PatrolLog.objects.create(
        chief=world.chief_x,
        alley=world.alley_x,
        date=today,
        expense_yuan=Decimal("8"),
        households_visited=5,
    )
    PatrolLog.objects.create(chief=world.chief_y, alley=world.alley_y, date=today)
    make_case(world, patrol=mine)
    make_case(world, patrol=mine)
    response = login("chief_x").get("/staff/patrols/")
    assert [log.pk for log in response.context["logs"]] == [mine.pk]
    assert response.context["logs"][0].n_cases == 2
    assert "工作经费 8.00 元" in visible_text(response)
    street = login("street_worker").get("/staff/patrols/")
    assert len(street.context["logs"]) == 2
    assert login("community_worker_y").get(f"/staff/patrols/{mine.pk}/").status_code == 404
    detail = login("community_worker_x").get(f"/staff/patrols/{mine.pk}/")
    assert detail.status_code == 200
    assert "/staff/cases/new/?patrol=" not in text(detail)  # only the chief registers from their own log


def test_patrol_list_queries(
    world: World, login: Callable[[str], Client], django_assert_max_num_queries: Any
) -> None:
    today = timezone.localdate()
    client = login("street_worker")

    def add(n: int, start: int) -> None:
        for i in range(start, start + n):
            log = PatrolLog.objects.create(
                chief=world.chief_x, alley=world.alley_x, date=today - dt.timedelta(days=i)
            )
            make_case(world, patrol=log)

    add(2, 0)
    with django_assert_max_num_queries(9):
        assert client.get("/staff/patrols/").status_code == 200
    add(30, 2)
    with django_assert_max_num_queries(9):
        assert client.get("/staff/patrols/").status_code == 200
