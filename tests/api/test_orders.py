"""dispatch/api: orders, their actions, extensions and common issues, per role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from alleys.choices import AreaLevel, DepartmentKind
from issues.choices import ExtensionState, OrderRole, OrderState
from issues.models import Case, CaseEvent, DispatchOrder, ExtensionRequest
from issues.workflow import case_dispatch
from issues.workflow.orders import (
    common_issue_create,
    extension_request,
    order_receive,
    order_reject,
    order_report,
)
from tests.factories import DepartmentFactory, make_case

pytestmark = pytest.mark.django_db

Api = Callable[[str], APIClient]
ORDERS = "/api/v1/orders/"
EXTENSIONS = "/api/v1/extensions/"


@pytest.fixture
def dispatched(world: Any) -> Case:
    case = make_case(world, tier=AreaLevel.DISTRICT, now=timezone.now())
    return case_dispatch(
        case=case, actor=world.district_officer, lead=world.dept_lead, cooperating=[world.dept_coop]
    )


def order_of(case: Case, role: str) -> DispatchOrder:
    return DispatchOrder.objects.get(case=case, role=role)


def state_of(order: DispatchOrder) -> tuple[Any, ...]:
    order.refresh_from_db()
    return (order.state, order.received_at, order.reported_at, order.completed_at, order.complete_due)


@pytest.mark.parametrize(
    ("actor", "roles"),
    [
        ("lead_contact", {"lead"}),
        ("coop_contact", {"cooperating"}),
        ("far_contact", set()),
        ("district_officer", {"lead", "cooperating"}),
        ("district_officer_far", set()),
        ("community_worker_x", {"lead", "cooperating"}),
        ("community_worker_y", set()),
        ("chief_x", {"lead", "cooperating"}),
        ("city_officer", {"lead", "cooperating"}),
    ],
)
def test_orders_are_scoped(world: Any, api_as: Api, dispatched: Case, actor: str, roles: set[str]) -> None:
    response = api_as(actor).get(ORDERS)
    assert response.status_code == 200
    assert {row["role"] for row in response.json()["results"]} == roles
    for order in DispatchOrder.objects.all():
        status = api_as(actor).get(f"{ORDERS}{order.pk}/").status_code
        assert status == (200 if order.role in roles else 404)


def test_order_detail_fields(world: Any, api_as: Api, dispatched: Case) -> None:
    body = api_as("lead_contact").get(f"{ORDERS}{order_of(dispatched, 'lead').pk}/").json()
    assert body["case"] == dispatched.pk
    assert body["case_tracking_code"] == dispatched.tracking_code
    assert body["department_name"] == world.dept_lead.name
    assert body["dispatcher_area"] == world.district.code
    assert body["state"] == "dispatched"
    assert body["extensions"] == []


def test_order_filters(world: Any, api_as: Api, dispatched: Case) -> None:
    client = api_as("district_officer")

    def roles(**params: Any) -> set[str]:
        return {r["role"] for r in client.get(ORDERS, params).json()["results"]}

    assert roles(role="lead") == {"lead"}
    assert roles(department=world.dept_coop.pk) == {"cooperating"}
    assert roles(case=dispatched.pk) == {"lead", "cooperating"}
    assert roles(state="received") == set()
    assert roles(active="true") == {"lead", "cooperating"}
    assert roles(overdue="true") == set()
    assert roles(dispatcher_area=world.district.code) == {"lead", "cooperating"}
    assert client.get(ORDERS, {"state": "nonsense"}).status_code == 400


def test_the_department_runs_its_order_to_completion(world: Any, api_as: Api, dispatched: Case) -> None:
    lead = order_of(dispatched, OrderRole.LEAD)
    client = api_as("lead_contact")
    url = f"{ORDERS}{lead.pk}/"
    assert client.post(f"{url}receive/").json()["state"] == "received"
    assert client.post(f"{url}receive/").status_code == 409
    missing = client.post(f"{url}report/", {"leader_name": "王局"}, format="json")
    assert missing.status_code == 400
    assert set(missing.json()["error"]["fields"]) == {
        "contact_name",
        "contact_phone",
        "work_plan",
        "visit_at",
        "visitors",
    }
    report = {
        "leader_name": "王局",
        "contact_name": "李科",
        "contact_phone": "0595-1234567",
        "work_plan": "三日内整改",
        "visit_at": (timezone.now() + dt.timedelta(days=1)).isoformat(),
        "visitors": ["王局", "李科"],
    }
    body = client.post(f"{url}report/", report, format="json").json()
    # Filed, not yet attended: the report counts once the community confirms the visit.
    assert (body["state"], body["leader_name"], body["report_on_time"], body["report_outcome"]) == (
        "reported",
        "王局",
        None,
        "pending",
    )
    assert [a["state"] for a in body["attendances"]] == ["planned"]
    dispatched.refresh_from_db()
    assert dispatched.state == "in_progress"
    assert client.post(f"{url}progress/", {"note": "已进场施工"}, format="json").status_code == 200
    assert client.post(f"{url}progress/", {"note": ""}, format="json").status_code == 400
    done = client.post(f"{url}complete/", {"note": "整改完成"}, format="json")
    assert done.status_code == 200, done.content
    assert done.json()["state"] == "completed"
    dispatched.refresh_from_db()
    assert dispatched.state == "awaiting_verification"
    kinds = list(CaseEvent.objects.filter(case=dispatched).values_list("kind", flat=True))
    assert [k for k in kinds if k.startswith("order_") or k == "resolved"] == [
        "order_received",
        "order_reported",
        "order_progress",
        "order_completed",
        "resolved",
    ]


@pytest.mark.parametrize(
    ("actor", "action", "payload", "status"),
    [
        ("coop_contact", "receive", {}, 404),  # the lead's order is not theirs to see
        ("far_contact", "receive", {}, 404),
        ("district_officer", "receive", {}, 403),
        ("chief_x", "receive", {}, 403),
        ("anonymous", "receive", {}, 401),
        ("lead_contact", "complete", {"note": "x"}, 409),  # not reported yet
        ("lead_contact", "redispatch", {"department": "dept_lead"}, 403),  # only the org department decides
        ("lead_contact", "redispatch", {"department": "dept_coop"}, 400),  # a department it cannot see
        ("lead_contact", "insist", {"note": "x"}, 403),
        ("district_officer", "insist", {"note": "x"}, 409),  # nothing was rejected
        (
            "lead_contact",
            "extension",
            {"reason": "x", "new_due": "2020-01-01T00:00:00+08:00"},
            409,
        ),  # not received
        ("lead_contact", "reject", {"reason": ""}, 400),
    ],
)
def test_order_refusals_write_nothing(
    world: Any, api_as: Api, dispatched: Case, actor: str, action: str, payload: dict[str, Any], status: int
) -> None:
    lead = order_of(dispatched, OrderRole.LEAD)
    if "department" in payload:
        payload = {**payload, "department": getattr(world, payload["department"]).pk}
    before, events = state_of(lead), CaseEvent.objects.count()
    response = api_as(actor).post(f"{ORDERS}{lead.pk}/{action}/", payload, format="json")
    assert response.status_code == status, response.content
    assert state_of(lead) == before
    assert CaseEvent.objects.count() == events
    assert not ExtensionRequest.objects.exists()


def test_reject_then_redispatch_or_insist(world: Any, api_as: Api, dispatched: Case) -> None:
    coop = order_of(dispatched, OrderRole.COOPERATING)
    url = f"{ORDERS}{coop.pk}/"
    rejected = api_as("coop_contact").post(f"{url}reject/", {"reason": "不属本局职责"}, format="json")
    assert rejected.json()["state"] == "rejected"
    # The department cannot decide on its own rejection; the organisation department does.
    assert api_as("coop_contact").post(f"{url}insist/", {"note": "x"}, format="json").status_code == 403
    same = api_as("district_officer").post(
        f"{url}redispatch/", {"department": world.dept_coop.pk}, format="json"
    )
    assert same.status_code == 400
    far = api_as("district_officer").post(
        f"{url}redispatch/", {"department": world.dept_far.pk}, format="json"
    )
    assert far.status_code == 400  # not a department the district may see
    # A city government department takes orders only from the city organisation department…
    city_gov = api_as("district_officer").post(
        f"{url}redispatch/", {"department": world.dept_city.pk}, format="json"
    )
    assert city_gov.status_code == 400
    # …but a city-wide public-service company serves the district too.
    water = DepartmentFactory(
        code="QZ-GS",
        name="泉州市自来水有限公司",
        area=world.dept_city.area,
        kind=DepartmentKind.PUBLIC_SERVICE,
    )
    new = api_as("district_officer").post(f"{url}redispatch/", {"department": water.pk}, format="json")
    assert new.status_code == 200, new.content
    assert new.json()["department"] == water.pk and new.json()["id"] != coop.pk
    coop.refresh_from_db()
    assert coop.state == OrderState.WITHDRAWN

    lead = order_of(dispatched, OrderRole.LEAD)
    order_reject(order=lead, actor=world.lead_contact, reason="不是我们的")
    kept = api_as("district_officer").post(
        f"{ORDERS}{lead.pk}/insist/", {"note": "属城管职责"}, format="json"
    )
    assert kept.json()["state"] == "dispatched"


@pytest.fixture
def reported(world: Any, dispatched: Case) -> DispatchOrder:
    lead = order_of(dispatched, OrderRole.LEAD)
    order_receive(order=lead, actor=world.lead_contact)
    order_report(
        order=lead,
        actor=world.lead_contact,
        leader_name="王",
        contact_name="李",
        contact_phone="1",
        work_plan="p",
        visit_at=timezone.now() + dt.timedelta(days=1),
        visitors=["王"],
    )
    lead.refresh_from_db()
    return lead


def test_extension_community_then_org(world: Any, api_as: Api, reported: DispatchOrder) -> None:
    new_due = reported.complete_due + dt.timedelta(days=30)
    url = f"{ORDERS}{reported.pk}/extension/"
    early = api_as("lead_contact").post(
        url, {"reason": "材料未到", "new_due": reported.complete_due.isoformat()}, format="json"
    )
    assert early.status_code == 400
    response = api_as("lead_contact").post(
        url, {"reason": "材料未到", "new_due": new_due.isoformat()}, format="json"
    )
    assert response.status_code == 201, response.content
    ext = response.json()
    assert ext["state"] == "pending_community"
    again = api_as("lead_contact").post(
        url, {"reason": "再申请", "new_due": new_due.isoformat()}, format="json"
    )
    assert again.status_code == 409
    ext_url = f"{EXTENSIONS}{ext['id']}/"
    assert (
        api_as("community_worker_y")
        .post(f"{ext_url}community-decision/", {"agree": True}, format="json")
        .status_code
        == 404
    )
    assert (
        api_as("chief_x").post(f"{ext_url}community-decision/", {"agree": True}, format="json").status_code
        == 403
    )
    assert (
        api_as("district_officer")
        .post(f"{ext_url}org-decision/", {"approve": True}, format="json")
        .status_code
        == 409
    )
    assert (
        api_as("community_worker_x").post(f"{ext_url}community-decision/", {}, format="json").status_code
        == 400
    )
    agreed = api_as("community_worker_x").post(
        f"{ext_url}community-decision/", {"agree": True}, format="json"
    )
    assert agreed.json()["state"] == "pending_org"
    assert (
        api_as("lead_contact").post(f"{ext_url}org-decision/", {"approve": True}, format="json").status_code
        == 403
    )
    refused_without_reason = api_as("district_officer").post(
        f"{ext_url}org-decision/", {"approve": False}, format="json"
    )
    assert refused_without_reason.status_code == 400
    approved = api_as("district_officer").post(f"{ext_url}org-decision/", {"approve": True}, format="json")
    assert approved.json()["state"] == ExtensionState.APPROVED
    reported.refresh_from_db()
    assert reported.complete_due == new_due
    listed = api_as("lead_contact").get(EXTENSIONS, {"state": "approved"}).json()["results"]
    assert [e["id"] for e in listed] == [ext["id"]]
    assert api_as("far_contact").get(ext_url).status_code == 404
    assert api_as("lead_contact").get(f"{ORDERS}{reported.pk}/").json()["extensions"][0]["id"] == ext["id"]


def test_extension_visibility(world: Any, api_as: Api, reported: DispatchOrder) -> None:
    ext = extension_request(
        order=reported,
        actor=world.lead_contact,
        reason="r",
        new_due=reported.complete_due + dt.timedelta(days=9),
    )
    for actor, visible in [
        ("lead_contact", True),
        ("coop_contact", False),
        ("community_worker_x", True),
        ("community_worker_y", False),
        ("district_officer", True),
        ("far_contact", False),
    ]:
        assert api_as(actor).get(f"{EXTENSIONS}{ext.pk}/").status_code == (200 if visible else 404), actor


def test_common_issues(world: Any, api_as: Api) -> None:
    now = timezone.now()
    a = make_case(world, alley=world.alley_x, now=now)
    b = make_case(world, alley=world.alley_y, now=now)
    issue = common_issue_create(actor=world.district_officer, title="背街小巷路灯老化", cases=[a, b])
    for actor, visible in [
        ("district_officer", True),
        ("community_worker_x", True),
        ("street_worker", True),
        ("district_officer_far", False),
        ("lead_contact", False),
    ]:
        rows = api_as(actor).get("/api/v1/common-issues/").json()["results"]
        assert [r["id"] for r in rows] == ([issue.pk] if visible else []), actor
    body = api_as("district_officer").get(f"/api/v1/common-issues/{issue.pk}/").json()
    assert sorted(body["cases"]) == sorted([a.pk, b.pk])
    assert body["coordinator_area"] == world.district.code
