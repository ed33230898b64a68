"""Rates with buildings (楼栋): a building's cases count in its alley, community, street, district and
city like any case of the alley, and the dashboard breaks an alley down by building."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django.urls import reverse

from evaluation.models import AreaMonthStat
from evaluation.periods import Period
from evaluation.rates import CaseCounts, Weights
from evaluation.rollups import refresh_rollups
from evaluation.selectors import drilldown
from evaluation.windows import CURRENT, building_case_counts
from issues.choices import CaseState
from tests.factories import at, build_buildings, case_at

pytestmark = pytest.mark.django_db

NOW = at("2025-10-20 12:00")
SEPTEMBER = Period.month(at("2025-09-15 12:00").date())


def submitted(code: str) -> int:
    return CaseCounts.total(
        AreaMonthStat.objects.filter(area_code=code, month="2025-09-01").values()
    ).submitted


def seed(world: Any) -> Any:
    b = build_buildings(world)
    for building, n in ((b.one, 3), (b.two, 1), (None, 2)):
        for day in range(n):
            case_at(
                world, created=at(f"2025-09-{10 + day} 09:00"), state=CaseState.SUBMITTED, building=building
            )
    case_at(world, created=at("2025-09-12 09:00"), alley=world.alley_y, building=b.other_alley)
    return b


def test_a_buildings_cases_roll_up_into_its_alley_and_every_area_above(world: Any) -> None:
    b = seed(world)
    refresh_rollups(now=NOW, full=True)
    by_building = {
        code: c.submitted
        for (code, bucket), c in building_case_counts(world.alley_x.code, SEPTEMBER).items()
        if bucket == CURRENT
    }
    assert by_building == {b.one.code: 3, b.two.code: 1, "": 2}
    # The buildings and the cases naming none add up to the alley; the alley's count climbs as before.
    assert sum(by_building.values()) == submitted(world.alley_x.code) == 6
    assert submitted(world.community_x.code) == 6
    assert submitted(world.street.code) == 7  # alley_y's building case too
    assert submitted(world.district.code) == 7
    assert submitted(world.city.code) == 7
    # Buildings are no rollup level: nothing is stored under an 18-digit code.
    assert not AreaMonthStat.objects.filter(area_code__in=[b.one.code, b.two.code]).exists()


def test_the_alleys_drilldown_ranks_its_buildings(world: Any) -> None:
    b = seed(world)
    refresh_rollups(now=NOW, full=True)
    table = drilldown(world.alley_x, SEPTEMBER, sort="composite", weights=Weights.current())
    rows = {r["name"]: r for r in table.rows}
    assert {r["code"] for r in table.rows[:2]} == {b.one.code, b.two.code}
    assert rows["1号楼"]["cases"] == 3 and rows["2号楼"]["cases"] == 1
    assert rows["1号楼"]["open_now"] == 3
    assert rows["未指定楼栋"]["cases"] == 2 and rows["未指定楼栋"]["rank"] is None
    assert "楼栋" in str(table.title)
    # The community's ranking lets one drill into an alley with buildings, not into one without.
    community = {
        r["code"]: r
        for r in drilldown(world.community_x, SEPTEMBER, sort="composite", weights=Weights.current()).rows
    }
    assert community[world.alley_x.code]["drill"] is True


def test_an_alley_without_buildings_is_still_the_smallest_unit(world: Any) -> None:
    with pytest.raises(PermissionDenied):
        drilldown(world.alley_x, SEPTEMBER, sort="composite", weights=Weights.current())


def test_the_dashboard_page_of_an_alley_with_buildings(client: Client, world: Any) -> None:
    b = seed(world)
    refresh_rollups(now=NOW, full=True)
    client.force_login(world.community_worker_x)
    query = {"area": world.alley_x.code, "period": "2025-09"}
    overview = client.get(reverse("dashboard:overview"), query)
    assert overview.status_code == 200
    assert "查看下级楼栋排名" in overview.content.decode()
    page = client.get(reverse("dashboard:drill"), query)
    assert page.status_code == 200
    html = page.content.decode()
    assert "1号楼" in html and "2号楼" in html and b.one.code in html
