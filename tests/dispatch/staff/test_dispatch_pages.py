"""Dispatching a case (派单) and common issues (共性问题) on the staff site."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from alleys.choices import AreaLevel
from issues.choices import CaseState, OrderRole
from issues.models import Case, CommonIssue, DispatchOrder
from issues.workflow import case_whistle
from tests.factories import DepartmentFactory, World, make_case
from tests.issues.staff.helpers import text

pytestmark = pytest.mark.django_db


def district_case(world: World, **kwargs: Any) -> Case:
    return make_case(world, category=world.cat_d, tier=AreaLevel.DISTRICT, **kwargs)


def test_dispatch_form_offers_the_district_departments_and_the_whistle_suggestion(
    world: World, login: Callable[[str], Client]
) -> None:
    case = make_case(world, category=world.cat_c, tier=AreaLevel.STREET)
    case_whistle(
        case=case.pk,
        actor=world.street_worker,
        reason="占道经营屡禁不止",
        departments=[world.dept_coop, world.dept_lead],
    )
    response = login("district_officer").get(f"/staff/dispatch/{case.pk}/")
    assert response.status_code == 200
    form = response.context["form"]
    offered = set(form.fields["lead"].queryset)
    assert offered == {world.dept_lead, world.dept_coop}
    assert form.initial["lead"] == world.dept_coop.pk
    assert form.initial["cooperating"] == [world.dept_lead.pk]
    assert "占道经营屡禁不止" in text(response)


def test_dispatch_choices_follow_the_dispatch_level(world: World, login: Callable[[str], Client]) -> None:
    from alleys.choices import DepartmentKind

    power = DepartmentFactory(
        code="QZ-GD", name="国网泉州供电公司", area=world.city, kind=DepartmentKind.PUBLIC_SERVICE
    )
    case = district_case(world)
    offered = set(
        login("district_officer").get(f"/staff/dispatch/{case.pk}/").context["form"].fields["lead"].queryset
    )
    # Its own district's departments and the city-wide companies; not city government departments.
    assert offered == {world.dept_lead, world.dept_coop, power}


def test_dispatch(world: World, login: Callable[[str], Client]) -> None:
    case = district_case(world)
    client = login("district_officer")
    response = client.post(
        f"/staff/dispatch/{case.pk}/",
        {
            "lead": world.dept_lead.pk,
            "cooperating": [world.dept_coop.pk],
            "instructions": "一周内报到",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/staff/cases/{case.pk}/"
    orders = {o.role: o.department for o in DispatchOrder.objects.filter(case=case)}
    assert orders == {
        OrderRole.LEAD: world.dept_lead,
        OrderRole.COOPERATING: world.dept_coop,
    }
    case.refresh_from_db()
    assert (case.state, case.lead_department) == (CaseState.ACCEPTED, world.dept_lead)
    again = client.post(
        f"/staff/dispatch/{case.pk}/", {"lead": world.dept_coop.pk, "instructions": ""}, follow=True
    )
    assert "该案件已有在办派单，如需调整请使用改派。" in text(again)
    assert DispatchOrder.objects.filter(case=case).count() == 2


def test_dispatch_needs_a_lead_and_keeps_the_input(world: World, login: Callable[[str], Client]) -> None:
    case = district_case(world)
    response = login("district_officer").post(f"/staff/dispatch/{case.pk}/", {"instructions": "尽快"})
    assert response.status_code == 400
    assert "尽快" in text(response)
    assert not DispatchOrder.objects.exists()


def test_only_the_holding_org_dispatches(world: World, login: Callable[[str], Client]) -> None:
    case = district_case(world)
    street = login("street_worker")
    page = street.get(f"/staff/dispatch/{case.pk}/")
    assert page.status_code == 200
    assert "您现在不能对该案件派单" in text(page)
    assert '<form method="post" class="stack card"' not in text(page)
    refused = street.post(f"/staff/dispatch/{case.pk}/", {"lead": world.dept_lead.pk})
    assert refused.status_code == 403
    assert "您没有权限对该案件执行“派单”" in text(refused)
    assert login("district_officer_far").get(f"/staff/dispatch/{case.pk}/").status_code == 404
    assert not DispatchOrder.objects.exists()


def test_dispatch_page_queries(
    world: World, login: Callable[[str], Client], django_assert_max_num_queries: Any
) -> None:
    case = district_case(world)
    client = login("district_officer")
    # 14, and the consultations before dispatch: their table and the form's list of departments.
    with django_assert_max_num_queries(16):
        assert client.get(f"/staff/dispatch/{case.pk}/").status_code == 200


# --- common issues ---------------------------------------------------------------------------------


def test_org_creates_and_dispatches_a_common_issue(world: World, login: Callable[[str], Client]) -> None:
    x = make_case(world)
    y = make_case(world, alley=world.alley_y)
    client = login("district_officer")
    missing = client.post(
        "/staff/common-issues/", {"title": "老旧小区路灯", "codes": f"{x.tracking_code} NOSUCH99"}
    )
    assert missing.status_code == 400
    assert "找不到这些查询码的案件：NOSUCH99" in text(missing)
    assert "老旧小区路灯" in text(missing)
    response = client.post(
        "/staff/common-issues/",
        {
            "title": "老旧小区路灯",
            "codes": f"{x.tracking_code}，{y.tracking_code.lower()}",
            "is_long_term": "on",
        },
    )
    assert response.status_code == 302
    issue = CommonIssue.objects.get()
    assert set(issue.cases.all()) == {x, y}
    assert issue.is_long_term
    listing = client.get("/staff/common-issues/")
    assert listing.context["issues"][0].n_cases == 2
    detail = client.get(f"/staff/common-issues/{issue.pk}/")
    assert detail.context["form"] is not None
    dispatched = client.post(
        f"/staff/common-issues/{issue.pk}/",
        {"lead": world.dept_lead.pk, "cooperating": [world.dept_coop.pk]},
    )
    assert dispatched.status_code == 302
    assert DispatchOrder.objects.filter(common_issue=issue).count() == 2
    assert client.get(f"/staff/common-issues/{issue.pk}/").context["form"] is None
    again = client.post(f"/staff/common-issues/{issue.pk}/", {"lead": world.dept_lead.pk}, follow=True)
    assert "该共性问题已有在办派单。" in text(again)


def test_only_org_departments_create_common_issues(world: World, login: Callable[[str], Client]) -> None:
    case = make_case(world)
    chief = login("chief_x")
    assert "设立共性问题" not in text(chief.get("/staff/common-issues/"))
    refused = chief.post("/staff/common-issues/", {"title": "路灯", "codes": case.tracking_code})
    assert refused.status_code == 403
    assert "只有区、市委组织部可以设立共性问题。" in text(refused)
    assert not CommonIssue.objects.exists()


def test_common_issues_are_scoped(world: World, login: Callable[[str], Client]) -> None:
    x = make_case(world)
    login("district_officer").post("/staff/common-issues/", {"title": "路灯", "codes": x.tracking_code})
    issue = CommonIssue.objects.get()
    assert login("community_worker_x").get(f"/staff/common-issues/{issue.pk}/").status_code == 200
    assert login("community_worker_far").get(f"/staff/common-issues/{issue.pk}/").status_code == 404
    assert login("district_officer_far").get("/staff/common-issues/").context["issues"] == []


def test_common_issue_list_queries(
    world: World, login: Callable[[str], Client], django_assert_max_num_queries: Any
) -> None:
    client = login("district_officer")

    def add(n: int) -> None:
        for i in range(n):
            case = make_case(world)
            client.post("/staff/common-issues/", {"title": f"问题{i}", "codes": case.tracking_code})

    add(2)
    with django_assert_max_num_queries(10):
        assert client.get("/staff/common-issues/").status_code == 200
    add(20)
    with django_assert_max_num_queries(10):
        assert client.get("/staff/common-issues/").status_code == 200
