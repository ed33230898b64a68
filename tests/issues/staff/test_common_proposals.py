"""共性问题提议 (issues/common_proposals.py): same-type open cases from several communities of one street,
shown to the street and the organisation department, turned into a common issue with one click."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from issues.choices import CaseState
from issues.common_proposals import proposals
from issues.models import Case, CommonIssue
from issues.workflow.orders import common_issue_create
from tests.factories import World, make_case

from .helpers import text

pytestmark = pytest.mark.django_db

PAGE = reverse("staff:common-issue-proposals")


def three_across(world: World, now: dt.datetime | None = None, **fields: Any) -> list[Case]:
    """Two cases in community X's alley and one in community Y's, all of one type, in one street."""
    now = now or timezone.now()
    return [
        make_case(world, alley=world.alley_x, now=now - dt.timedelta(days=3), **fields),
        make_case(world, alley=world.alley_x, now=now - dt.timedelta(days=2), **fields),
        make_case(world, alley=world.alley_y, now=now - dt.timedelta(days=1), **fields),
    ]


def test_three_cases_across_two_communities_are_proposed(world: World) -> None:
    cases = three_across(world)
    make_case(world, alley=world.alley_y, category=world.cat_b)  # another type: not counted
    found = proposals(world.district_officer, timezone.now())
    assert len(found) == 1
    proposal = found[0]
    assert (proposal.street, proposal.category) == (world.street, world.cat_a)
    assert {c.pk for c in proposal.cases} == {c.pk for c in cases}
    assert proposal.communities == sorted([world.community_x, world.community_y], key=lambda a: a.code)
    # The street sees it too.
    assert len(proposals(world.street_worker, timezone.now())) == 1


def test_two_cases_are_not_enough(world: World) -> None:
    now = timezone.now()
    make_case(world, alley=world.alley_x, now=now)
    make_case(world, alley=world.alley_y, now=now)
    assert proposals(world.district_officer, now) == []


def test_three_cases_of_one_community_are_not_across_communities(world: World) -> None:
    now = timezone.now()
    for _ in range(3):
        make_case(world, alley=world.alley_x, now=now)
    assert proposals(world.district_officer, now) == []


def test_cases_in_different_streets_are_not_proposed(world: World) -> None:
    now = timezone.now()
    make_case(world, alley=world.alley_x, now=now)
    make_case(world, alley=world.alley_y, now=now)
    make_case(world, alley=world.other_alley, now=now)
    assert proposals(world.city_officer, now) == []


def test_old_closed_and_grouped_cases_do_not_count(world: World) -> None:
    now = timezone.now()
    cases = three_across(world, now)
    # Older than the window (30 days), or closed: the remaining two are not enough.
    Case.objects.filter(pk=cases[0].pk).update(created_at=now - dt.timedelta(days=31))
    assert proposals(world.district_officer, now) == []
    Case.objects.filter(pk=cases[0].pk).update(created_at=now)
    assert len(proposals(world.district_officer, now)) == 1
    Case.objects.filter(pk=cases[0].pk).update(state=CaseState.CLOSED)
    assert proposals(world.district_officer, now) == []
    Case.objects.filter(pk=cases[0].pk).update(state=CaseState.SUBMITTED)
    # Already in a common issue: not proposed again.
    common_issue_create(actor=world.district_officer, title="占道经营", cases=[cases[0]])
    assert proposals(world.district_officer, now) == []


def test_the_threshold_and_window_are_settings(world: World, settings: Any) -> None:
    now = timezone.now()
    make_case(world, alley=world.alley_x, now=now - dt.timedelta(days=10))
    make_case(world, alley=world.alley_y, now=now)
    settings.JXT_COMMON_ISSUE_MIN_CASES = 2
    assert len(proposals(world.district_officer, now)) == 1
    settings.JXT_COMMON_ISSUE_DAYS = 5
    assert proposals(world.district_officer, now) == []


def test_staff_of_another_street_and_communities_do_not_see_it(
    world: World, login: Callable[[str], Client]
) -> None:
    three_across(world)
    assert proposals(world.street_worker_far, timezone.now()) == []
    assert proposals(world.district_officer_far, timezone.now()) == []
    home = login("street_worker_far").get("/staff/")
    assert home.context["common_proposals"] == []
    assert login("street_worker_far").get(PAGE).context["proposals"] == []
    # Community staff and chiefs are not shown proposals at all.
    assert login("community_worker_x").get(PAGE).status_code == 404
    assert "common_proposals" not in text(login("community_worker_x").get("/staff/"))


def test_the_to_do_page_shows_the_proposal_to_the_street_and_the_org(
    world: World, login: Callable[[str], Client]
) -> None:
    three_across(world)
    for actor in ("street_worker", "district_officer"):
        home = login(actor).get("/staff/")
        assert home.context["counts"]["common_proposals"] == 1
        [row] = home.context["common_proposals"]
        assert (row["street_id"], row["category_id"], row["count"], row["communities"]) == (
            world.street.pk,
            world.cat_a.pk,
            3,
            2,
        )
        assert "共性问题提议" in text(home) and PAGE in home.content.decode()


def test_the_org_sets_it_up_with_one_click_and_a_second_click_is_harmless(
    world: World, login: Callable[[str], Client]
) -> None:
    cases = three_across(world)
    client = login("district_officer")
    page = client.get(PAGE)
    assert "将这些案件设立为共性问题" in text(page)
    data = {"street": world.street.pk, "category": world.cat_a.pk}
    done = client.post(PAGE, data)
    issue = CommonIssue.objects.get()
    assert done.status_code == 302 and done["Location"] == reverse(
        "staff:common-issue-detail", args=[issue.pk]
    )
    assert {c.pk for c in issue.cases.all()} == {c.pk for c in cases}
    assert issue.coordinator_area == world.district and issue.created_by == world.district_officer
    again = client.post(PAGE, data, follow=True)
    assert CommonIssue.objects.count() == 1
    assert "该提议已不存在" in text(again)
    assert proposals(world.district_officer, timezone.now()) == []


def test_the_street_sees_but_may_not_set_up(world: World, login: Callable[[str], Client]) -> None:
    three_across(world)
    client = login("street_worker")
    page = client.get(PAGE)
    assert "共性问题由区委组织部设立" in text(page) and "将这些案件设立为共性问题" not in text(page)
    refused = client.post(PAGE, {"street": world.street.pk, "category": world.cat_a.pk})
    assert refused.status_code == 403 and "组织部" in text(refused)
    assert not CommonIssue.objects.exists()


def test_a_tampered_post_creates_nothing(world: World, login: Callable[[str], Client]) -> None:
    three_across(world)
    client = login("district_officer")
    for data in ({"street": world.other_street.pk, "category": world.cat_a.pk}, {"street": "x"}, {}):
        assert client.post(PAGE, data).status_code == 302
    assert not CommonIssue.objects.exists()


@pytest.mark.parametrize("actor", ["street_worker", "district_officer", "admin"])
def test_proposal_queries_do_not_grow(
    world: World, login: Callable[[str], Client], django_assert_max_num_queries: Any, actor: str
) -> None:
    client = login(actor)
    three_across(world)
    with django_assert_max_num_queries(20) as home_small:
        assert client.get("/staff/").status_code == 200
    with django_assert_max_num_queries(12) as page_small:
        assert client.get(PAGE).status_code == 200
    for category in (world.cat_a, world.cat_b, world.cat_c):
        for _ in range(4):
            three_across(world, category=category)
    with django_assert_max_num_queries(len(home_small.captured_queries)):
        assert client.get("/staff/").status_code == 200
    with django_assert_max_num_queries(len(page_small.captured_queries)):
        page = client.get(PAGE)
    assert len(page.context["proposals"]) == 3


def test_the_demo_proposal_is_seeded_once(db: None) -> None:
    from io import StringIO

    from django.contrib.auth import get_user_model

    from demo import city as demo
    from demo.common_proposals import CASES, seed_common_proposal

    demo.seed_city(password="demo-pass-12345", reset_passwords=False)
    assert seed_common_proposal(stdout=StringIO()) == len(CASES)
    assert seed_common_proposal(stdout=StringIO()) == 0
    users = get_user_model().objects
    for login in ("street", "orgdept"):
        [proposal] = proposals(users.get(username=login), timezone.now())
        assert len(proposal.cases) == 3 and len(proposal.communities) == 2
