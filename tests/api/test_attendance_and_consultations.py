"""The API of 报到 in person (attendance-confirm, attendance-missed on an order) and of consultations before dispatch."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from alleys.choices import AreaLevel
from issues.models import Case, Consultation, DispatchOrder
from issues.workflow import case_consult, case_dispatch
from issues.workflow.orders import order_report
from tests.factories import REPORT, make_case

pytestmark = pytest.mark.django_db

Api = Callable[[str], APIClient]
ORDERS = "/api/v1/orders/"
CONSULTATIONS = "/api/v1/consultations/"


def minute(delta: dt.timedelta = dt.timedelta()) -> str:
    return (timezone.now() + delta).replace(second=0, microsecond=0).isoformat()


@pytest.fixture
def reported(world: Any) -> DispatchOrder:
    """A lead order whose department announced a visit a minute from now (visit and order ids differ)."""
    earlier = make_case(world, tier=AreaLevel.DISTRICT, now=timezone.now())
    case_dispatch(
        case=earlier, actor=world.district_officer, lead=world.dept_coop, cooperating=[world.dept_lead]
    )
    case = make_case(world, tier=AreaLevel.DISTRICT, now=timezone.now())
    case_dispatch(case=case, actor=world.district_officer, lead=world.dept_lead)
    order = DispatchOrder.objects.get(case=case)
    order_report(
        order=order,
        actor=world.lead_contact,
        visit_at=timezone.now() + dt.timedelta(minutes=1),
        visitors=["王副局长"],
        **REPORT,
    )
    return order


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("community_worker_x", 200),
        ("admin", 200),
        ("lead_contact", 403),  # the department does not confirm its own visit
        ("district_officer", 403),
        ("chief_x", 403),
        ("community_worker_y", 404),  # not its community's case: the order does not exist for it
        ("far_contact", 404),
        ("anonymous", 401),
    ],
)
def test_who_may_confirm_a_visit(api_as: Api, reported: DispatchOrder, actor: str, status: int) -> None:
    body = {"attended_at": minute(), "present": ["王副局长", "李科长"], "note": "已到现场"}
    response = api_as(actor).post(f"{ORDERS}{reported.pk}/attendance-confirm/", body, format="json")
    assert response.status_code == status, response.content
    if status == 200:
        data = response.json()
        assert (data["id"], data["report_on_time"], data["report_outcome"]) == (reported.pk, True, "on_time")
        assert [(a["state"], a["present"]) for a in data["attendances"]] == [
            ("confirmed", ["王副局长", "李科长"])
        ]


def test_confirming_needs_a_time_and_the_people(api_as: Api, reported: DispatchOrder) -> None:
    client = api_as("community_worker_x")
    missing = client.post(f"{ORDERS}{reported.pk}/attendance-confirm/", {}, format="json")
    assert missing.status_code == 400
    assert set(missing.json()["error"]["fields"]) == {"attended_at", "present"}
    future = {"attended_at": minute(dt.timedelta(hours=2)), "present": ["王副局长"]}
    refused = client.post(f"{ORDERS}{reported.pk}/attendance-confirm/", future, format="json")
    assert refused.status_code == 400
    assert "attended_at" in refused.json()["error"]["fields"]


def test_a_no_show_before_the_announced_time_is_refused_then_recorded(
    world: Any, api_as: Api, reported: DispatchOrder
) -> None:
    client = api_as("community_worker_x")
    early = client.post(f"{ORDERS}{reported.pk}/attendance-missed/", {}, format="json")
    assert early.status_code == 409
    from issues.models import Attendance

    Attendance.objects.filter(order=reported).update(planned_at=timezone.now() - dt.timedelta(hours=1))
    done = client.post(f"{ORDERS}{reported.pk}/attendance-missed/", {"note": "无人到场"}, format="json")
    assert done.status_code == 200, done.content
    data = done.json()
    assert (data["id"], data["state"], data["report_outcome"]) == (reported.pk, "received", "missed")
    assert [a["state"] for a in data["attendances"]] == ["missed"]
    assert client.post(f"{ORDERS}{reported.pk}/attendance-missed/", {}, format="json").status_code == 409


def test_orders_filter_by_confirmed_attendance(world: Any, api_as: Api, reported: DispatchOrder) -> None:
    client = api_as("district_officer")
    unattended = {o["id"] for o in client.get(ORDERS, {"attended": "false"}).json()["results"]}
    assert unattended == set(DispatchOrder.objects.values_list("pk", flat=True))
    assert client.get(ORDERS, {"attended": "true"}).json()["results"] == []


# --- consultations -----------------------------------------------------------------------------------------


@pytest.fixture
def at_district(world: Any) -> Case:
    return make_case(world, tier=AreaLevel.DISTRICT, now=timezone.now())


@pytest.mark.parametrize(
    ("actor", "status"),
    [
        ("district_officer", 200),
        ("admin", 200),
        ("street_worker", 403),
        ("lead_contact", 404),
        ("chief_x", 403),
    ],
)
def test_who_may_consult_through_the_case(
    world: Any, api_as: Api, at_district: Case, actor: str, status: int
) -> None:
    body = {"departments": [world.dept_lead.pk, world.dept_coop.pk], "question": "拟由城管局牵头"}
    response = api_as(actor).post(f"/api/v1/cases/{at_district.pk}/consult/", body, format="json")
    assert response.status_code == status, response.content
    assert Consultation.objects.count() == (2 if status == 200 else 0)


def test_the_case_offers_consult_before_dispatch(api_as: Api, at_district: Case) -> None:
    actions = api_as("district_officer").get(f"/api/v1/cases/{at_district.pk}/").json()["allowed_actions"]
    assert {"consult", "dispatch"} <= set(actions)


@pytest.fixture
def asked(world: Any, at_district: Case) -> list[Consultation]:
    return case_consult(
        case=at_district, actor=world.district_officer, departments=[world.dept_lead, world.dept_coop]
    )


@pytest.mark.parametrize(
    ("actor", "seen"),
    [
        ("lead_contact", {"鲤城区城管局"}),
        ("coop_contact", {"鲤城区住建局"}),
        ("far_contact", set()),
        ("district_officer", {"鲤城区城管局", "鲤城区住建局"}),
        ("district_officer_far", set()),
        ("community_worker_x", {"鲤城区城管局", "鲤城区住建局"}),
        ("community_worker_y", set()),
    ],
)
def test_consultations_are_scoped(api_as: Api, asked: list[Consultation], actor: str, seen: set[str]) -> None:
    rows = api_as(actor).get(CONSULTATIONS).json()["results"]
    assert {r["department_name"] for r in rows} == seen


def test_the_department_answers(world: Any, api_as: Api, asked: list[Consultation]) -> None:
    lead, _coop = asked
    url = f"{CONSULTATIONS}{lead.pk}/answer/"
    incomplete = api_as("lead_contact").post(url, {"opinion": "other_department"}, format="json")
    assert incomplete.status_code == 400
    assert api_as("coop_contact").post(url, {"opinion": "agree"}, format="json").status_code == 404
    assert api_as("district_officer").post(url, {"opinion": "agree"}, format="json").status_code == 403
    body = {"opinion": "other_department", "suggested_department": world.dept_coop.pk, "text": "属住建职责"}
    answered = api_as("lead_contact").post(url, body, format="json")
    assert answered.status_code == 200, answered.content
    data = answered.json()
    assert (data["state"], data["opinion"], data["suggested_department"], data["answer"]) == (
        "answered",
        "other_department",
        world.dept_coop.pk,
        "属住建职责",
    )
    assert api_as("lead_contact").post(url, {"opinion": "agree"}, format="json").status_code == 409


def test_dispatch_waits_for_the_answers_and_carries_them(
    world: Any, api_as: Api, asked: list[Consultation]
) -> None:
    lead, coop = asked
    case_id = lead.case_id
    dispatch = {"lead": world.dept_lead.pk, "cooperating": [world.dept_coop.pk]}
    client = api_as("district_officer")
    waiting = client.post(f"/api/v1/cases/{case_id}/dispatch/", dispatch, format="json")
    assert waiting.status_code == 409
    assert "期限过后未答复的不影响派单" in waiting.json()["error"]["message"]
    for row, actor in ((lead, "lead_contact"), (coop, "coop_contact")):
        api_as(actor).post(f"{CONSULTATIONS}{row.pk}/answer/", {"opinion": "agree"}, format="json")
    assert client.post(f"/api/v1/cases/{case_id}/dispatch/", dispatch, format="json").status_code == 200
    order = DispatchOrder.objects.get(case_id=case_id, department=world.dept_lead)
    carried = api_as("lead_contact").get(f"{ORDERS}{order.pk}/").json()["consultations"]
    assert [(c["opinion"], c["order"]) for c in carried] == [("agree", order.pk)]


def test_the_consultation_list_reads_a_constant_number_of_queries(world: Any, api_as: Api) -> None:
    client = api_as("district_officer")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(CONSULTATIONS).status_code == 200
        return len(queries)

    case_consult(
        case=make_case(world, tier=AreaLevel.DISTRICT, now=timezone.now()),
        actor=world.district_officer,
        departments=[world.dept_lead],
    )
    few = count()
    for _ in range(6):
        case_consult(
            case=make_case(world, tier=AreaLevel.DISTRICT, now=timezone.now()),
            actor=world.district_officer,
            departments=[world.dept_lead, world.dept_coop],
        )
    assert count() == few
