"""alleys/api and the rest of issues/api: areas, alleys with teams, departments, categories, patrol logs."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from alleys.choices import Role
from issues.models import PatrolLog
from tests.factories import AlleyProfileFactory, StaffProfileFactory, grant, make_case

pytestmark = pytest.mark.django_db

Api = Callable[[str], APIClient]


def codes(response: Any, key: str = "code") -> list[Any]:
    assert response.status_code == 200, response.content
    return [row[key] for row in response.json()["results"]]


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("chief_x", ["350502001001001"]),
        ("community_worker_x", ["350502001001", "350502001001001"]),
        (
            "street_worker",
            ["350502001", "350502001001", "350502001001001", "350502001002", "350502001002001"],
        ),
        ("lead_contact", []),
    ],
)
def test_areas_are_scoped(world: Any, api_as: Api, actor: str, expected: list[str]) -> None:
    assert codes(api_as(actor).get("/api/v1/areas/")) == expected


def test_area_tree_fields_and_filters(world: Any, api_as: Api) -> None:
    client = api_as("admin")
    body = client.get(f"/api/v1/areas/{world.alley_x.code}/").json()
    assert body == {
        "code": "350502001001001",
        "name": "金鱼巷",
        "level": "alley",
        "level_label": "街巷/网格",
        "parent": "350502001001",
        "is_active": True,
    }
    assert client.get(f"/api/v1/areas/{world.city.code}/").json()["parent"] is None
    assert codes(client.get("/api/v1/areas/", {"under": world.street.code, "level": "community"})) == [
        world.community_x.code,
        world.community_y.code,
    ]
    assert api_as("chief_x").get(f"/api/v1/areas/{world.alley_y.code}/").status_code == 404
    assert client.get("/api/v1/areas/", {"level": "galaxy"}).status_code == 400


def test_alleys_with_their_team_role_and_name_only(world: Any, api_as: Api) -> None:
    AlleyProfileFactory(
        area=world.alley_x, households=88, shops=0, resident_units=0, board_contact_phone="0595-22223333"
    )
    StaffProfileFactory(user=world.chief_x, full_name="陈巷长", phone="13811112222")
    grant(world.supervision_x, Role.SUPERVISION_TEAM, area=world.alley_y)
    body = api_as("community_worker_x").get(f"/api/v1/alleys/{world.alley_x.code}/").json()
    assert body["households"] == 88
    assert body["board_contact_phone"] == "0595-22223333"
    team = {(m["role"], m["name"]) for m in body["team"]}
    assert team == {
        ("chief", "陈巷长"),
        ("service_team", "service_x"),
        ("grid_worker", "grid_x"),
        ("supervision_team", "supervision_x"),
    }
    for member in body["team"]:
        assert set(member) == {"role", "role_label", "service_kind", "service_kind_label", "name"}
    assert "13811112222" not in str(body)
    listed = codes(api_as("street_worker").get("/api/v1/alleys/"))
    assert listed == [world.alley_x.code, world.alley_y.code]
    assert api_as("chief_y").get(f"/api/v1/alleys/{world.alley_x.code}/").status_code == 404
    # An area that is not an alley is not in /alleys/.
    assert api_as("admin").get(f"/api/v1/alleys/{world.community_x.code}/").status_code == 404


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("district_officer", {"LC-CG", "LC-ZJ", "QZ-CG"}),
        ("street_worker", {"LC-CG", "LC-ZJ", "QZ-CG"}),
        ("street_worker_far", {"FZ-CG", "QZ-CG"}),
        ("lead_contact", {"LC-CG"}),
        ("city_officer", {"LC-CG", "LC-ZJ", "FZ-CG", "QZ-CG"}),
    ],
)
def test_departments_are_scoped(world: Any, api_as: Api, actor: str, expected: set[str]) -> None:
    assert set(codes(api_as(actor).get("/api/v1/departments/"))) == expected


def test_department_filters(world: Any, api_as: Api) -> None:
    client = api_as("admin")
    assert set(codes(client.get("/api/v1/departments/", {"area": world.district.code}))) == {"LC-CG", "LC-ZJ"}
    assert set(codes(client.get("/api/v1/departments/", {"role_key": "cg"}))) == {"LC-CG", "FZ-CG", "QZ-CG"}
    body = client.get(f"/api/v1/departments/{world.dept_lead.pk}/").json()
    assert (body["code"], body["area"]) == ("LC-CG", world.district.code)


def test_categories_are_the_same_for_everyone(world: Any, api_as: Api) -> None:
    for actor in ("chief_x", "lead_contact", "city_officer"):
        assert codes(api_as(actor).get("/api/v1/categories/")) == ["A01", "B01", "C01", "D01"]
    body = api_as("chief_x").get("/api/v1/categories/C01/").json()
    assert (body["category_class"], body["highest_tier"], body["top_tier"]) == ("C", "district", "")
    assert codes(api_as("chief_x").get("/api/v1/categories/", {"category_class": "B"})) == ["B01"]
    assert codes(api_as("chief_x").get("/api/v1/category-classes/")) == ["A", "B", "C", "D"]
    assert api_as("chief_x").get("/api/v1/category-classes/D/").json()["top_tier"] == "city"
    assert api_as("anonymous").get("/api/v1/categories/").status_code == 401


# --- patrol logs -----------------------------------------------------------------------------------------

PATROLS = "/api/v1/patrols/"


def patrol(world: Any, **extra: Any) -> dict[str, Any]:
    return {
        "kind": "patrol",
        "alley": world.alley_x.code,
        "date": "2026-03-04",
        "checked": ["路灯", "井盖"],
        "notes": "一切正常",
        "expense_yuan": "12.50",
        **extra,
    }


def test_chief_logs_a_patrol_of_their_alley(world: Any, api_as: Api) -> None:
    response = api_as("chief_x").post(PATROLS, patrol(world), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["alley"], body["chief_id"], body["checked"], body["case_count"]) == (
        world.alley_x.code,
        world.chief_x.pk,
        ["路灯", "井盖"],
        0,
    )
    log = PatrolLog.objects.get()
    assert (log.chief, log.alley, str(log.expense_yuan)) == (world.chief_x, world.alley_x, "12.50")


def test_a_visit_is_recorded_on_its_weeks_monday(world: Any, api_as: Api) -> None:
    response = api_as("chief_x").post(PATROLS, patrol(world, kind="visit", date="2026-03-05"), format="json")
    assert response.json()["date"] == "2026-03-02"
    again = api_as("chief_x").post(PATROLS, patrol(world, kind="visit", date="2026-03-06"), format="json")
    assert again.status_code == 400
    assert PatrolLog.objects.count() == 1


@pytest.mark.parametrize(
    ("actor", "change", "status"),
    [
        ("chief_y", {}, 400),  # alley_x does not exist for them
        ("community_worker_x", {}, 403),  # sees the alley, is not on its team (tests/issues/test_patrols.py)
        ("street_worker", {}, 403),
        ("lead_contact", {}, 400),
        ("anonymous", {}, 401),
        ("chief_x", {"date": "2099-01-01"}, 400),
        ("chief_x", {"kind": "stroll"}, 400),
        ("chief_x", {"expense_yuan": "-3"}, 400),
    ],
)
def test_patrol_refusals(world: Any, api_as: Api, actor: str, change: dict[str, Any], status: int) -> None:
    response = api_as(actor).post(PATROLS, patrol(world, **change), format="json")
    assert response.status_code == status, response.content
    assert not PatrolLog.objects.exists()


def test_same_patrol_twice_is_refused(world: Any, api_as: Api) -> None:
    assert api_as("chief_x").post(PATROLS, patrol(world), format="json").status_code == 201
    second = api_as("chief_x").post(PATROLS, patrol(world), format="json")
    assert second.status_code == 400
    assert second.json()["error"]["code"] == "invalid"


def test_patrol_logs_are_scoped_and_filtered(world: Any, api_as: Api) -> None:
    x = PatrolLog.objects.create(chief=world.chief_x, alley=world.alley_x, date=dt.date(2026, 3, 2))
    y = PatrolLog.objects.create(
        chief=world.chief_y, alley=world.alley_y, date=dt.date(2026, 3, 3), kind="visit"
    )
    case = make_case(world, now=timezone.now())
    case.patrol = x
    case.save()

    def ids(actor: str, **params: Any) -> list[int]:
        return codes(api_as(actor).get(PATROLS, params), "id")

    assert ids("chief_x") == [x.pk]
    assert ids("community_worker_x") == [x.pk]
    assert ids("street_worker") == [y.pk, x.pk]
    assert ids("lead_contact") == []
    assert ids("street_worker", kind="visit") == [y.pk]
    assert ids("street_worker", area=world.community_x.code) == [x.pk]
    assert ids("street_worker", date_after="2026-03-03") == [y.pk]
    assert ids("chief_x", mine="true") == [x.pk]
    assert api_as("street_worker").get(f"{PATROLS}{x.pk}/").json()["case_count"] == 1
    assert api_as("chief_y").get(f"{PATROLS}{x.pk}/").status_code == 404


def test_patrols_are_read_and_create_only(world: Any, api_as: Api) -> None:
    log = PatrolLog.objects.create(chief=world.chief_x, alley=world.alley_x, date=dt.date(2026, 3, 2))
    assert api_as("chief_x").delete(f"{PATROLS}{log.pk}/").status_code == 405
    assert api_as("chief_x").patch(f"{PATROLS}{log.pk}/", {"notes": "x"}, format="json").status_code == 405
