"""The to-do page: each role's blocks and counts, and a constant number of queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from alleys.choices import AreaLevel
from issues.choices import CaseState
from issues.models import Case
from issues.workflow import case_consult
from issues.workflow.orders import extension_community_decide, extension_request, order_reject, order_report
from tests.factories import REPORT, World, make_case

from .helpers import dispatched_case, text

pytestmark = pytest.mark.django_db


def blocks(response: Any) -> dict[str, Any]:
    return {b["key"]: b for b in response.context["case_blocks"]}


def rows(response: Any, key: str) -> set[str]:
    return {c.tracking_code for c in blocks(response)[key]["rows"]}


def test_chief_sees_cases_to_accept_overdue_and_near(world: World, login: Callable[[str], Client]) -> None:
    now = timezone.now()  # the home page judges deadlines by the real clock
    fresh = make_case(world, now=now)
    overdue = make_case(world, state=CaseState.IN_PROGRESS, now=now - dt.timedelta(days=40))
    near = make_case(world, state=CaseState.IN_PROGRESS, now=now)
    near.escalation_due = near.resolve_due = now + dt.timedelta(hours=3)
    near.save()
    other_alley = make_case(world, alley=world.alley_y, now=now)
    response = login("chief_x").get("/staff/")
    assert response.status_code == 200
    assert rows(response, "awaiting_acceptance") == {fresh.tracking_code}
    assert rows(response, "overdue") == {overdue.tracking_code}
    assert rows(response, "near_deadline") == {near.tracking_code}
    counts = response.context["counts"]
    assert (counts["awaiting_acceptance"], counts["overdue"], counts["near_deadline"]) == (1, 1, 1)
    assert other_alley.tracking_code not in text(response)
    assert "已超期" in text(response)


def test_community_holds_its_alleys_and_verifies(world: World, login: Callable[[str], Client]) -> None:
    alley_case = make_case(world)
    community_case = make_case(world, category=world.cat_b, tier=AreaLevel.COMMUNITY)
    to_verify = make_case(world, state=CaseState.AWAITING_VERIFICATION)
    elsewhere = make_case(world, alley=world.alley_y, state=CaseState.AWAITING_VERIFICATION)
    response = login("community_worker_x").get("/staff/")
    assert rows(response, "awaiting_acceptance") == {alley_case.tracking_code, community_case.tracking_code}
    assert rows(response, "awaiting_verification") == {to_verify.tracking_code}
    assert elsewhere.tracking_code not in text(response)
    # The chief of the alley does not verify.
    assert blocks(login("chief_x").get("/staff/"))["awaiting_verification"]["shown"] is False


def test_the_community_sees_its_cases_awaiting_a_return_visit(
    world: World, login: Callable[[str], Client]
) -> None:
    due = make_case(world, state=CaseState.AWAITING_RETURN_VISIT)
    due_at_district = make_case(world, state=CaseState.AWAITING_RETURN_VISIT, tier=AreaLevel.DISTRICT)
    within_window = make_case(world, state=CaseState.AWAITING_FEEDBACK)
    elsewhere = make_case(world, alley=world.alley_y, state=CaseState.AWAITING_RETURN_VISIT)
    response = login("community_worker_x").get("/staff/")
    assert rows(response, "awaiting_return_visit") == {due.tracking_code, due_at_district.tracking_code}
    assert response.context["counts"]["awaiting_return_visit"] == 2
    body = text(response)
    assert (
        "待回访" in body and within_window.tracking_code not in body and elsewhere.tracking_code not in body
    )
    assert rows(login("community_worker_y").get("/staff/"), "awaiting_return_visit") == {
        elsewhere.tracking_code
    }
    # The alley's chief, the street and the departments have no return visits to make.
    for other in ("chief_x", "street_worker", "lead_contact"):
        assert blocks(login(other).get("/staff/"))["awaiting_return_visit"]["shown"] is False
    # The other blocks are for open cases only: a case awaiting its visit is nobody's overdue work.
    Case.objects.filter(pk=due.pk).update(supervised=True, resolve_due=timezone.now() - dt.timedelta(days=9))
    response = login("street_worker").get("/staff/")
    assert due.tracking_code not in rows(response, "supervised")


def test_supervised_cases(world: World, login: Callable[[str], Client]) -> None:
    case = make_case(world, supervised=True)
    assert rows(login("street_worker").get("/staff/"), "supervised") == {case.tracking_code}
    assert rows(login("chief_x").get("/staff/"), "supervised") == {case.tracking_code}
    assert rows(login("community_worker_y").get("/staff/"), "supervised") == set()


def test_department_sees_its_orders_with_deadlines(world: World, login: Callable[[str], Client]) -> None:
    case = dispatched_case(world)
    response = login("lead_contact").get("/staff/")
    queues = {b["key"]: b for b in response.context["order_blocks"]}
    assert [o.case_id for o in queues["to_receive"]["rows"]] == [case.pk]
    assert queues["to_receive"]["count"] == response.context["counts"]["department_orders"] == 1
    assert "报到期限" in text(response)
    assert not blocks(response)["awaiting_acceptance"]["shown"]
    late = login("coop_contact").get("/staff/")
    assert late.context["counts"]["department_orders"] == 1
    assert login("far_contact").get("/staff/").context["counts"]["department_orders"] == 0


def test_a_group_heading_only_over_rows(world: World, login: Callable[[str], Client]) -> None:
    """A group of queues is headed only when one of them has rows; its empty queues show their zeros above."""
    dispatched_case(world)
    for who in ("lead_contact", "far_contact", "chief_x"):
        response = login(who).get("/staff/")
        page = text(response)
        shown = [b for b in blocks(response).values() if b["shown"]]
        mine = [*[b for b in shown if b["group"] == "mine"], *response.context["order_blocks"]]
        unit = [b for b in shown if b["group"] == "unit"]
        assert ("等我处理" in page) == any(b["count"] for b in mine), who
        assert ("本单位在办" in page) == any(b["count"] for b in unit), who
    # The department with nothing: its unit's queues are there, empty, and headed by nothing.
    nothing = login("far_contact").get("/staff/")
    assert [b for b in blocks(nothing).values() if b["shown"] and b["group"] == "unit"]
    assert "本单位在办" not in text(nothing) and "等我处理" not in text(nothing)


def test_overdue_orders_are_marked(world: World, login: Callable[[str], Client]) -> None:
    case = dispatched_case(world)
    case.orders.update(report_due=timezone.now() - dt.timedelta(days=1))
    response = login("lead_contact").get("/staff/")
    assert response.context["counts"]["orders_overdue"] == 1
    assert "报到超期" in text(response)


def test_extensions_wait_for_the_community_then_the_org(world: World, login: Callable[[str], Client]) -> None:
    case = dispatched_case(world)
    order = case.orders.get(role="lead")
    order_report(
        order=order.pk,
        actor=world.lead_contact,
        leader_name="李局",
        contact_name="小陈",
        contact_phone="0595-1234567",
        work_plan="先排查后整治",
        visit_at=timezone.now() + dt.timedelta(days=1),
        visitors=["李局"],
    )
    ext = extension_request(
        order=order.pk,
        actor=world.lead_contact,
        reason="需协调产权单位",
        new_due=order.complete_due + dt.timedelta(days=30),
    )
    community = login("community_worker_x").get("/staff/")
    assert [e.pk for e in community.context["community_extensions"]] == [ext.pk]
    assert community.context["counts"]["community_extensions"] == 1
    assert login("community_worker_y").get("/staff/").context["community_extensions"] == []
    assert login("district_officer").get("/staff/").context["org_extensions"] == []
    extension_community_decide(extension=ext.pk, actor=world.community_worker_x, agree=True)
    org = login("district_officer").get("/staff/")
    assert [e.pk for e in org.context["org_extensions"]] == [ext.pk]
    assert login("district_officer_far").get("/staff/").context["org_extensions"] == []


def test_rejected_orders_wait_for_the_org(world: World, login: Callable[[str], Client]) -> None:
    case = dispatched_case(world)
    order = case.orders.get(role="cooperating")
    order_reject(order=order.pk, actor=world.coop_contact, reason="不属于住建职责")
    response = login("district_officer").get("/staff/")
    assert [o.pk for o in response.context["rejected_orders"]] == [order.pk]
    assert "不属于住建职责" in text(response)
    assert login("district_officer_far").get("/staff/").context["rejected_orders"] == []


def test_nothing_to_do(world: World, login: Callable[[str], Client]) -> None:
    assert "暂无待办事项。" in text(login("nobody").get("/staff/"))


def _bulk(world: World, n: int) -> None:
    now = timezone.now()
    for i in range(n):
        make_case(
            world, now=now - dt.timedelta(days=40 * (i % 2)), state=CaseState.IN_PROGRESS, supervised=True
        )
        make_case(world, state=CaseState.AWAITING_VERIFICATION)
        make_case(world, state=CaseState.AWAITING_RETURN_VISIT)
        make_case(world, alley=world.alley_y)
    for _ in range(max(1, n // 5)):
        case = dispatched_case(world)
        order = case.orders.get(role="cooperating")
        order_reject(order=order.pk, actor=world.coop_contact, reason="不属于本部门")
        # A visit for the community to confirm, and an opinion for the department to give.
        order_report(
            order=case.orders.get(role="lead").pk,
            actor=world.lead_contact,
            visit_at=timezone.now() + dt.timedelta(days=1),
            visitors=["李局"],
            **{**REPORT, "leader_name": "李局"},
        )
        case_consult(
            case=make_case(world, state=CaseState.ACCEPTED, tier=AreaLevel.DISTRICT),
            actor=world.district_officer,
            departments=[world.dept_lead],
        )


@pytest.mark.parametrize(
    "actor",
    ["chief_x", "community_worker_x", "street_worker", "district_officer", "lead_contact", "admin", "nobody"],
)
def test_home_queries_do_not_grow(
    world: World, login: Callable[[str], Client], django_assert_max_num_queries: Any, actor: str
) -> None:
    client = login(actor)
    # The administrator sees every block (the visits and consultations: a count and a list each;
    # the return visits due: one more).
    budget = 25 if actor == "admin" else 20
    _bulk(world, 2)
    with django_assert_max_num_queries(budget):
        assert client.get("/staff/").status_code == 200
    _bulk(world, 30)
    with django_assert_max_num_queries(budget):
        assert client.get("/staff/").status_code == 200
