"""evaluation/api: one whistle one evaluation, and the rates for any filter (the one definition in evaluation.rates)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from alleys.choices import AreaLevel
from evaluation import rates
from evaluation.models import DepartmentEvaluation
from issues.models import Case, DispatchOrder
from issues.workflow import case_accept, case_dispatch, case_feedback, case_resolve, case_verify
from issues.workflow.orders import order_complete, order_receive
from tests.factories import MONDAY, make_case, report_in_person

pytestmark = pytest.mark.django_db

Api = Callable[[str], APIClient]
EVALUATIONS = "/api/v1/evaluations/"


def completed_order(world: Any, *, verify: bool = True) -> DispatchOrder:
    """A district order on a case of community X, completed by the lead department (and verified)."""
    case = make_case(world, tier=AreaLevel.DISTRICT, now=timezone.now())
    case_dispatch(case=case, actor=world.district_officer, lead=world.dept_lead)
    order = DispatchOrder.objects.get(case=case)
    order_receive(order=order, actor=world.lead_contact)
    report_in_person(order, actor=world.lead_contact, community=world.community_worker_x)
    order_complete(order=order, actor=world.lead_contact, note="完成")
    if verify:
        case_verify(case=case, actor=world.community_worker_x, passed=True)
    order.refresh_from_db()
    return order


def evaluation_input(order: DispatchOrder, **extra: Any) -> dict[str, Any]:
    return {
        "order": order.pk,
        "plan_quality": 5,
        "work_quality": 4,
        "cooperation": 4,
        "overall_score": 88,
        "opinion": "报到及时，整改到位。",
        **extra,
    }


def test_the_community_evaluates_once(world: Any, api_as: Api) -> None:
    order = completed_order(world)
    response = api_as("community_worker_x").post(EVALUATIONS, evaluation_input(order), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["department"], body["community"], body["overall_score"]) == (
        world.dept_lead.pk,
        world.community_x.code,
        88,
    )
    assert body["report_timeliness"] == body["report_timeliness_auto"] == "on_time"
    again = api_as("community_worker_x").post(EVALUATIONS, evaluation_input(order), format="json")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "conflict"
    assert DepartmentEvaluation.objects.count() == 1


@pytest.mark.parametrize(
    ("actor", "change", "status"),
    [
        ("chief_x", {}, 403),
        ("street_worker", {}, 403),
        ("lead_contact", {}, 403),
        ("community_worker_y", {}, 400),  # the order does not exist for them
        ("anonymous", {}, 401),
        ("community_worker_x", {"plan_quality": 9}, 400),
        ("community_worker_x", {"overall_score": 101}, 400),
        ("community_worker_x", {"opinion": ""}, 400),
        ("community_worker_x", {"report_timeliness": "late"}, 400),  # a correction needs a reason
    ],
)
def test_evaluation_refusals(
    world: Any, api_as: Api, actor: str, change: dict[str, Any], status: int
) -> None:
    order = completed_order(world)
    response = api_as(actor).post(EVALUATIONS, evaluation_input(order, **change), format="json")
    assert response.status_code == status, response.content
    assert not DepartmentEvaluation.objects.exists()


def test_no_evaluation_before_verification(world: Any, api_as: Api) -> None:
    order = completed_order(world, verify=False)
    response = api_as("community_worker_x").post(EVALUATIONS, evaluation_input(order), format="json")
    assert response.status_code == 409
    assert "核实" in response.json()["error"]["message"]


def test_evaluations_are_scoped(world: Any, api_as: Api) -> None:
    order = completed_order(world)
    api_as("community_worker_x").post(EVALUATIONS, evaluation_input(order), format="json")
    for actor, count in [
        ("community_worker_x", 1),
        ("street_worker", 1),
        ("lead_contact", 1),
        ("coop_contact", 0),
        ("community_worker_y", 0),
        ("district_officer_far", 0),
    ]:
        assert api_as(actor).get(EVALUATIONS).json()["count"] == count, actor
    assert api_as("lead_contact").get(EVALUATIONS, {"department": world.dept_lead.pk}).json()["count"] == 1
    assert api_as("lead_contact").get(EVALUATIONS, {"department": world.dept_coop.pk}).json()["count"] == 0


# --- rates -------------------------------------------------------------------------------------------------

RATES = "/api/v1/rates/"


@pytest.fixture
def history(world: Any) -> list[Case]:
    """A few cases of March 2026 in both communities, in various states."""
    made = []
    for i, alley in enumerate([world.alley_x, world.alley_x, world.alley_y, world.alley_x]):
        at = MONDAY + dt.timedelta(hours=i)
        case = make_case(world, alley=alley, now=at)
        made.append(case)
    case_accept(case=made[0], actor=world.chief_x, now=MONDAY + dt.timedelta(hours=1))
    case_resolve(case=made[0], actor=world.chief_x, note="修好", now=MONDAY + dt.timedelta(hours=3))
    case_verify(case=made[0], actor=world.community_worker_x, passed=True, now=MONDAY + dt.timedelta(hours=5))
    case_feedback(case=made[0], solved="solved", satisfaction="satisfied", now=MONDAY + dt.timedelta(hours=6))
    case_accept(case=made[2], actor=world.chief_y, now=MONDAY + dt.timedelta(days=2))
    return made


def expected(queryset: Any) -> dict[str, Any]:
    result = rates.rates_for_cases(queryset, weights=rates.Weights.current())
    return {
        "counts": {k: float(v) for k, v in result.counts.as_dict().items()},
        "response_rate": result.response_rate,
        "satisfaction_rate": result.satisfaction_rate,
        "on_time_rate": result.on_time_rate,
        "composite": result.composite,
    }


def subset(body: dict[str, Any]) -> dict[str, Any]:
    return {k: body[k] for k in ("counts", "response_rate", "satisfaction_rate", "on_time_rate", "composite")}


@pytest.mark.parametrize(
    ("actor", "params"),
    [
        ("street_worker", {}),
        ("street_worker", {"area": "350502001001"}),
        ("community_worker_x", {}),
        ("community_worker_x", {"state": "closed"}),
        ("district_officer", {"created_after": "2026-03-02T11:30:00+08:00"}),
        ("chief_y", {}),
    ],
)
def test_rates_are_the_one_definition_over_the_scoped_filter(
    world: Any, api_as: Api, history: list[Case], actor: str, params: dict[str, str]
) -> None:
    from django.http import QueryDict
    from django.utils.http import urlencode

    from issues.filters import CaseFilter

    body = api_as(actor).get(RATES, params).json()
    assert body["mode"] == "direct"
    visible = Case.objects.visible_to(world.actor(actor))
    filtered = CaseFilter(QueryDict(urlencode(params)), queryset=visible)
    assert filtered.is_valid()
    assert subset(body) == expected(filtered.qs)


def test_rates_figures_by_hand(world: Any, api_as: Api, history: list[Case]) -> None:
    body = api_as("street_worker").get(RATES).json()
    counts = body["counts"]
    assert (counts["submitted"], counts["cases"], counts["resolved"], counts["answers"]) == (4, 4, 1, 1)
    assert body["satisfaction_rate"] == 1.0
    x_only = api_as("street_worker").get(RATES, {"area": world.community_x.code}).json()
    assert x_only["counts"]["cases"] == 3


def test_rollup_mode_matches_direct(world: Any, api_as: Api, history: list[Case]) -> None:
    from evaluation.rollups import refresh_rollups

    refresh_rollups(full=True)
    client = api_as("street_worker")
    rollup = client.get(RATES, {"area": world.street.code, "period": "2026-03"}).json()
    direct = client.get(
        RATES,
        {
            "area": world.street.code,
            "created_after": "2026-03-01T00:00:00+08:00",
            "created_before": "2026-04-01T00:00:00+08:00",
        },
    ).json()
    assert rollup["mode"] == "rollup" and rollup["as_of"] is not None
    assert subset(rollup) == subset(direct)
    empty = client.get(RATES, {"area": world.street.code, "period": "2026-Q2"}).json()
    assert empty["counts"]["cases"] == 0 and empty["response_rate"] is None


@pytest.mark.parametrize(
    ("actor", "params", "status"),
    [
        ("street_worker", {"period": "2026-03"}, 400),
        ("street_worker", {"period": "2026-03", "area": "350502001", "state": "closed"}, 400),
        ("street_worker", {"period": "March", "area": "350502001"}, 400),
        ("street_worker", {"period": "2026-03", "area": "350503"}, 404),
        ("street_worker", {"state": "nonsense"}, 400),
        ("anonymous", {}, 401),
    ],
)
def test_rates_refusals(world: Any, api_as: Api, actor: str, params: dict[str, str], status: int) -> None:
    response = api_as(actor).get(RATES, params)
    assert response.status_code == status, response.content
    if status != 401:
        assert response.json()["error"]["code"] in ("invalid", "not_found")


def test_direct_rates_are_capped(
    world: Any, api_as: Api, history: list[Case], monkeypatch: pytest.MonkeyPatch
) -> None:
    from evaluation.api import views

    monkeypatch.setattr(views, "MAX_DIRECT", 3)
    assert api_as("street_worker").get(RATES).status_code == 400
    assert api_as("street_worker").get(RATES, {"area": world.community_y.code}).status_code == 200


@pytest.mark.parametrize("size", [5, 50])
def test_rates_query_count_does_not_grow(world: Any, api_as: Api, size: int) -> None:
    for _ in range(size):
        make_case(world)
    client = api_as("street_worker")
    with CaptureQueriesContext(connection) as captured:
        assert client.get(RATES).status_code == 200
    # token, scope, weights, count, ids, then four reads per 2,000 cases
    assert len(captured) <= 10


def test_department_rates(world: Any, api_as: Api) -> None:
    order = completed_order(world)
    api_as("community_worker_x").post(EVALUATIONS, evaluation_input(order), format="json")
    body = (
        api_as("district_officer")
        .get("/api/v1/rates/departments/", {"department": world.dept_lead.pk})
        .json()
    )
    result = rates.rates_for_orders(DispatchOrder.objects.filter(department=world.dept_lead))
    assert body["counts"] == {k: float(v) for k, v in dataclasses.asdict(result.counts).items()}
    assert (body["report_rate"], body["avg_evaluation"]) == (1.0, 88.0)
    assert api_as("coop_contact").get("/api/v1/rates/departments/").json()["counts"]["orders"] == 0
