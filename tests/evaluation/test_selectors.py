"""evaluation/selectors.py: the department ranking's red and black lists (issue 15, defect 4).

The lists are decided by thresholds on the composite score (settings, shown with the table),
not by position: equal scores get the same rank and the same list, and a department with fewer
orders in the period than the minimum is listed as "样本不足" and not ranked.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django import Settings

from evaluation.models import DepartmentMonthStat
from evaluation.periods import Period
from evaluation.rates import Weights
from evaluation.selectors import department_ranking, viewer_for
from issues.choices import OrderRole
from tests.factories import DepartmentFactory, World

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def every_rate_shown(settings: Settings) -> None:
    """These departments have three to five orders: the lists' rules are tested here, the
    minimum sample of a rate (JXT_RATE_MIN_SAMPLE) in tests/evaluation/test_samples.py."""
    settings.JXT_RATE_MIN_SAMPLE = 1


MONTH = dt.date(2025, 9, 1)
PERIOD = "2025-09"


def stat(world: World, name: str, *, orders: int, good: int, late: int = 0) -> Any:
    """A department of the district with ``orders`` orders this month: ``good`` of them on time,
    solved and satisfied, ``late`` unreported past the deadline and unsolved (the rest not due yet)."""
    department = DepartmentFactory(name=name, area=world.district)
    DepartmentMonthStat.objects.create(
        department=department,
        role=OrderRole.LEAD,
        month=MONTH,
        area_code=world.community_x.code,
        orders=orders,
        report_on_time=good,
        report_late=late,
        fb_cases=good + late,
        fb_solved=good,
        answers=good + late,
        satisfied=good,
    )
    return department


@pytest.fixture
def ranked(world: World) -> World:
    stat(world, "甲局", orders=3, good=3)  # 100.0
    stat(world, "乙局", orders=5, good=5)  # 100.0: tied with 甲局
    stat(world, "丙局", orders=4, good=3, late=1)  # 75.0: on neither list
    stat(world, "丁局", orders=4, good=2, late=2)  # 50.0: black
    stat(world, "戊局", orders=1, good=0, late=1)  # 0.0, but one order: too few to rank
    return world


def ranking(world: World, *, sort: str = "composite") -> dict[str, dict[str, Any]]:
    period = Period.parse(PERIOD, today=dt.date(2025, 10, 15))
    table = department_ranking(
        viewer_for(world.district_officer), world.district, period, role="", sort=sort, weights=Weights()
    )
    return {row["name"]: row for row in table.rows}


def test_equal_scores_are_equal_on_the_red_list(ranked: World) -> None:
    rows = ranking(ranked)
    assert (rows["甲局"]["composite"], rows["乙局"]["composite"]) == (100.0, 100.0)
    assert (rows["甲局"]["rank"], rows["乙局"]["rank"]) == (1, 1)
    assert (rows["甲局"]["mark"], rows["乙局"]["mark"]) == ("红榜", "红榜")


def test_two_departments_tied_at_the_top_are_not_split(world: World) -> None:
    """The reported case: the only two departments, both at 100.0, came out one red and one black."""
    stat(world, "甲局", orders=3, good=3)
    stat(world, "乙局", orders=3, good=3)
    rows = ranking(world)
    assert [(r["rank"], r["mark"]) for r in rows.values()] == [(1, "红榜"), (1, "红榜")]


def test_the_lists_are_thresholds_not_positions(ranked: World) -> None:
    rows = ranking(ranked)
    assert (rows["丙局"]["rank"], rows["丙局"]["mark"]) == (3, "")
    assert (rows["丁局"]["rank"], rows["丁局"]["mark"], rows["丁局"]["highlight"]) == (4, "黑榜", "black")


def test_too_few_orders_is_not_ranked_but_said(ranked: World) -> None:
    rows = ranking(ranked)
    assert (rows["戊局"]["rank"], rows["戊局"]["mark"], rows["戊局"]["highlight"]) == (None, "样本不足", "")
    # Whatever the table is sorted by.
    for sort in ("overdue", "avg_evaluation"):
        again = ranking(ranked, sort=sort)
        assert (again["戊局"]["rank"], again["戊局"]["mark"]) == (None, "样本不足")
        assert again["甲局"]["mark"] == again["乙局"]["mark"] == "红榜"


def test_the_thresholds_are_settings(ranked: World, settings: Settings) -> None:
    settings.JXT_RED_LIST_MIN_SCORE = 75.0
    settings.JXT_BLACK_LIST_MAX_SCORE = 40.0
    settings.JXT_RANKING_MIN_ORDERS = 1
    rows = ranking(ranked)
    assert rows["丙局"]["mark"] == "红榜"
    assert rows["丁局"]["mark"] == ""
    assert (rows["戊局"]["rank"], rows["戊局"]["mark"]) == (5, "黑榜")


def _login(client: Client, world: World) -> Client:
    client.force_login(world.district_officer)
    return client


def test_the_page_and_the_wall_state_the_thresholds(client: Client, ranked: World) -> None:
    _login(client, ranked)
    query = f"?area={ranked.district.code}&period={PERIOD}"
    page = client.get(reverse("dashboard:departments") + query).content.decode()
    for text in ("综合得分 ≥ 90.0", "综合得分 ≤ 60.0", "派单少于 3 件", "样本不足"):
        assert text in page
    wall = client.get(reverse("dashboard:wall") + query).content.decode()
    assert "综合得分 ≥ 90.0" in wall and "综合得分 ≤ 60.0" in wall
    red = wall[wall.index('<h3 class="red">') : wall.index('<h3 class="black">')]
    assert "甲局" in red and "乙局" in red


def test_the_export_states_the_thresholds_and_the_unranked(client: Client, ranked: World) -> None:
    _login(client, ranked)
    query = f"?area={ranked.district.code}&period={PERIOD}&fmt=csv"
    body = client.get(reverse("dashboard:export", args=["departments"]) + query).content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    preamble = {r[0]: r[1] for r in rows if len(r) == 2}
    assert preamble["红榜"] == "综合得分 ≥ 90.0" and preamble["黑榜"] == "综合得分 ≤ 60.0"
    assert "3" in preamble["样本不足"]
    header = next(r for r in rows if r and r[0] == "排名")
    by_name = {r[1]: r for r in rows[rows.index(header) + 1 :] if len(r) > 1}
    mark = header.index("红黑榜")
    assert (by_name["甲局"][0], by_name["乙局"][0]) == ("1", "1")
    assert (by_name["戊局"][0], by_name["戊局"][mark]) == ("", "样本不足")
