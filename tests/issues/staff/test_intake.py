"""Staff intake: hotline and window registration, patrol findings, keeping a case at a lower tier."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from alleys.choices import AreaLevel
from issues.choices import CaseSource, CaseState
from issues.models import Case, PatrolLog
from tests.factories import World

from .helpers import png, text

pytestmark = pytest.mark.django_db


def form(world: World, **overrides: Any) -> dict[str, Any]:
    data = {
        "source": CaseSource.HOTLINE,
        "alley": world.alley_x.pk,
        "category": world.cat_b.pk,
        "description": "楼上漏水，邻居不开门",
        "address_detail": "金鱼巷12号",
        "urgency": "normal",
        "reporter_name": "赵六",
        "reporter_phone": "13700001111",
        "consent": "on",
        "start_tier": "",
    }
    data.update(overrides)
    return data


def test_hotline_registration(world: World, login: Callable[[str], Client]) -> None:
    response = login("community_worker_x").post("/staff/cases/new/", form(world, photos=[png()]))
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == f"/staff/cases/{case.pk}/"
    assert (case.source, case.tier, case.state) == (
        CaseSource.HOTLINE,
        AreaLevel.ALLEY,  # with the alley's team, like every report
        CaseState.SUBMITTED,
    )
    assert case.created_by == world.community_worker_x
    assert case.reporter_phone == "13700001111"
    assert case.consent_at is not None
    assert case.photos.count() == 1


def test_staff_may_start_a_case_at_their_own_tier(world: World, login: Callable[[str], Client]) -> None:
    response = login("community_worker_x").post("/staff/cases/new/", form(world, start_tier="community"))
    assert response.status_code == 302
    assert Case.objects.get().tier == AreaLevel.COMMUNITY


def test_cannot_register_above_the_highest_tier_of_the_class(
    world: World, login: Callable[[str], Client]
) -> None:
    response = login("community_worker_x").post(
        "/staff/cases/new/", form(world, category=world.cat_a.pk, start_tier="street")
    )
    assert response.status_code == 400
    assert "该类事项最高由社区层级办理" in text(response)
    assert "楼上漏水，邻居不开门" in text(response)
    assert not Case.objects.exists()


def test_the_service_message_shows_when_the_description_is_missing(
    world: World, login: Callable[[str], Client]
) -> None:
    response = login("community_worker_x").post("/staff/cases/new/", form(world, description=" "))
    assert response.status_code == 400
    assert "请描述遇到的问题。" in text(response)
    assert "赵六" in text(response)


def test_a_number_that_is_no_phone_number_is_refused_and_the_rest_kept(
    world: World, login: Callable[[str], Client]
) -> None:
    client = login("community_worker_x")
    response = client.post("/staff/cases/new/", form(world, reporter_phone="1370000111"))
    assert response.status_code == 400
    assert "电话号码格式不对" in text(response)
    assert "楼上漏水，邻居不开门" in text(response)
    assert not Case.objects.exists()
    assert client.post("/staff/cases/new/", form(world, reporter_phone="137 0000 1111")).status_code == 302
    assert Case.objects.get().reporter_phone == "13700001111"


def test_only_alleys_of_the_territory_are_offered(world: World, login: Callable[[str], Client]) -> None:
    client = login("chief_x")
    page = text(client.get("/staff/cases/new/"))
    assert "金鱼巷" in page
    assert "井亭巷" not in page
    response = client.post("/staff/cases/new/", form(world, alley=world.alley_y.pk))
    assert response.status_code == 400
    assert not Case.objects.exists()


def test_departments_do_not_register_cases(world: World, login: Callable[[str], Client]) -> None:
    response = login("lead_contact").get("/staff/cases/new/")
    assert response.status_code == 403
    assert "您的辖区内没有街巷" in text(response)


def test_found_on_patrol_is_prefilled_and_linked(world: World, login: Callable[[str], Client]) -> None:
    log = PatrolLog.objects.create(
        chief=world.chief_x, alley=world.alley_x, kind="visit", date=timezone.localdate()
    )
    client = login("chief_x")
    page = client.get(f"/staff/cases/new/?patrol={log.pk}")
    assert page.status_code == 200
    initial = page.context["form"].initial
    assert (initial["source"], initial["alley"], initial["patrol"]) == (
        CaseSource.VISIT,
        world.alley_x.pk,
        log.pk,
    )
    response = client.post(
        f"/staff/cases/new/?patrol={log.pk}",
        form(world, source=CaseSource.VISIT, patrol=log.pk, category=world.cat_a.pk),
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.patrol == log
    assert case.source == CaseSource.VISIT
    # Someone else's patrol cannot be used to prefill or link.
    other = login("grid_x").get(f"/staff/cases/new/?patrol={log.pk}")
    assert other.context["patrol"] is None


def test_default_source_follows_the_role(world: World, login: Callable[[str], Client]) -> None:
    assert (
        login("grid_x").get("/staff/cases/new/").context["form"].initial["source"] == CaseSource.GRID_WORKER
    )
    assert login("chief_x").get("/staff/cases/new/").context["form"].initial["source"] == CaseSource.PATROL
    assert (
        login("community_worker_x").get("/staff/cases/new/").context["form"].initial["source"]
        == CaseSource.HOTLINE
    )


def test_intake_page_queries(
    world: World, login: Callable[[str], Client], django_assert_max_num_queries: Any
) -> None:
    client = login("street_worker")
    with django_assert_max_num_queries(12):
        assert client.get("/staff/cases/new/").status_code == 200
