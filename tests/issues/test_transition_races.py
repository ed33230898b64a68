"""A staff click that waits on the case's row lock while the sweep (or another click) changes the case.

The click must meet the new case and say so (a 409 in the API, a message on the staff
page), never a 500: under READ COMMITTED, PostgreSQL re-checks a row it waited for against
the whole query, so a lock that joins the holder's area lost the row when the escalation
moved it (issue 12, finding 4). These tests commit for real and need PostgreSQL's row locks;
each thread has its own connection.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from alleys.choices import AreaLevel
from issues.choices import CaseState, EventKind, OrderState
from issues.models import Case, CaseEvent, DispatchOrder, Feedback, ReturnVisit, Whistle
from issues.sweep import run_sweep
from issues.workflow import TransitionError, case_accept, case_dispatch, case_feedback, case_return_visit
from issues.workflow.orders import order_receive, order_reject
from tests.factories import MONDAY, World, at, build_world, make_case
from tests.faults import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

TUESDAY = at("2026-03-03 12:30")  # MONDAY's cases are overdue for acceptance by then
CHANGED = "案件刚刚发生了变化（例如已超时上报或被他人处理），本次操作未执行。请刷新后查看最新进展。"
ORDER_CHANGED_STATE = "派单当前状态为“退单待处理”，不能签收。请刷新后查看。"
ORDER_CHANGED = "派单刚刚发生了变化，本次操作未执行。请刷新后查看最新进展。"


@pytest.fixture
def live_world(transactional_db: None) -> World:
    return build_world()


def the_sweep_escalates() -> None:
    assert run_sweep(now=TUESDAY).escalated == 1


def assert_escalated_and_not_accepted(pk: int) -> None:
    case = Case.objects.get(pk=pk)
    assert (case.state, case.tier) == (CaseState.SUBMITTED, AreaLevel.COMMUNITY)
    assert Whistle.objects.filter(case_id=pk).count() == 1
    assert not CaseEvent.objects.filter(case_id=pk, kind=EventKind.ACCEPTED).exists()
    assert case.accepted_at is None


def test_a_click_waiting_while_the_sweep_escalates_meets_the_new_case(live_world: World) -> None:
    pk = make_case(live_world, now=MONDAY).pk
    result, error = race(
        the_sweep_escalates, lambda: case_accept(case=pk, actor=live_world.chief_x, now=TUESDAY)
    )
    assert result is None
    assert isinstance(error, TransitionError), repr(error)
    assert error.message == CHANGED
    assert error.status_code == 409
    assert_escalated_and_not_accepted(pk)


def test_the_api_answers_409_with_the_message(live_world: World) -> None:
    pk = make_case(live_world, now=MONDAY).pk
    token, _created = Token.objects.get_or_create(user=live_world.chief_x)

    def click() -> Any:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client.post(f"/api/v1/cases/{pk}/accept/", {"note": "马上去看"}, format="json")

    response, error = race(the_sweep_escalates, click)
    assert error is None
    assert response.status_code == 409
    assert response.json() == {"error": {"code": "conflict", "message": CHANGED, "fields": {}}}
    assert_escalated_and_not_accepted(pk)


def test_the_staff_page_shows_the_message(live_world: World) -> None:
    pk = make_case(live_world, now=MONDAY).pk
    client = Client()
    client.force_login(live_world.chief_x)

    def click() -> Any:
        return client.post(f"/staff/cases/{pk}/accept/", {"note": "马上去看"}, follow=True)

    response, error = race(the_sweep_escalates, click)
    assert error is None
    assert response.status_code == 200
    assert response.redirect_chain == [(f"/staff/cases/{pk}/", 302)]
    assert CHANGED in response.content.decode()
    assert_escalated_and_not_accepted(pk)


# --- department orders: dispatch/orders.py locks its rows the same way ------------------------------


def dispatched(world: World) -> DispatchOrder:
    case = make_case(world, tier=AreaLevel.DISTRICT, now=MONDAY)
    case_dispatch(
        case=case,
        actor=world.district_officer,
        lead=world.dept_lead,
        cooperating=[],
        instructions="请处理",
        now=MONDAY,
    )
    return DispatchOrder.objects.get(case=case)


def test_an_order_click_waiting_while_the_sweep_flags_it_overdue_still_receives(live_world: World) -> None:
    """The sweep flags the order's report overdue (no state change): the department's click goes through."""
    order = dispatched(live_world)
    late = at("2026-03-20 12:00")  # past the five working days to report

    def sweep() -> None:
        assert run_sweep(now=late).report_overdue == 1

    _result, error = race(
        sweep, lambda: order_receive(order=order.pk, actor=live_world.lead_contact, now=late)
    )
    assert error is None, repr(error)
    order.refresh_from_db()
    assert order.state == OrderState.RECEIVED
    assert order.report_overdue_at == late


def test_an_order_click_waiting_on_a_rejection_says_the_state_changed(live_world: World) -> None:
    order = dispatched(live_world)
    token, _created = Token.objects.get_or_create(user=live_world.lead_contact)

    def reject() -> None:
        order_reject(order=order.pk, actor=live_world.lead_contact, reason="不属于本部门职责", now=MONDAY)

    def click() -> Any:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
        return client.post(f"/api/v1/orders/{order.pk}/receive/", {}, format="json")

    response, error = race(reject, click)
    assert error is None
    assert response.status_code == 409
    assert response.json()["error"]["message"] == ORDER_CHANGED_STATE
    order.refresh_from_db()
    assert order.state == OrderState.REJECTED


def test_an_order_click_waiting_while_a_joined_key_moves_says_the_order_changed(live_world: World) -> None:
    """No transition moves an order's department today; if one ever does, a waiting click still gets a 409."""
    order = dispatched(live_world)

    def move() -> None:
        DispatchOrder.objects.filter(pk=order.pk).update(department=live_world.dept_coop)

    _result, error = race(
        move, lambda: order_receive(order=order.pk, actor=live_world.lead_contact, now=MONDAY)
    )
    assert isinstance(error, TransitionError), repr(error)
    assert (error.message, error.status_code) == (ORDER_CHANGED, 409)
    order.refresh_from_db()
    assert order.state == OrderState.DISPATCHED


# --- the resident's answer and the community's return visit at the same moment (issue 15) --------------


def waiting_for_its_second_attempt(world: World) -> int:
    case = make_case(world, state=CaseState.AWAITING_RETURN_VISIT, now=MONDAY)
    case_return_visit(case=case, actor=world.community_worker_x, channel="phone", reached=False, now=TUESDAY)
    return case.pk


def test_a_resident_answering_while_the_last_attempt_is_written_meets_the_closed_case(
    live_world: World,
) -> None:
    pk = waiting_for_its_second_attempt(live_world)
    _result, error = race(
        lambda: case_return_visit(
            case=pk, actor=live_world.community_worker_x, channel="phone", reached=False, now=TUESDAY
        ),
        lambda: case_feedback(case=pk, solved="solved", satisfaction="satisfied", now=TUESDAY),
    )
    # One of the two: the visit committed first and closed the case unrated; the answer is refused.
    assert isinstance(error, TransitionError) and error.status_code == 409, repr(error)
    case = Case.objects.get(pk=pk)
    assert case.state == CaseState.CLOSED and not Feedback.objects.filter(case_id=pk).exists()
    assert case.events.filter(kind=EventKind.CLOSED).count() == 1


def test_an_attempt_written_while_the_resident_answers_meets_the_rated_case(live_world: World) -> None:
    pk = waiting_for_its_second_attempt(live_world)
    _result, error = race(
        lambda: case_feedback(case=pk, solved="solved", satisfaction="satisfied", now=TUESDAY),
        lambda: case_return_visit(
            case=pk, actor=live_world.community_worker_x, channel="phone", reached=False, now=TUESDAY
        ),
    )
    # The resident's answer committed first and wins: the case is closed rated, the attempt refused.
    assert isinstance(error, TransitionError) and error.status_code == 409, repr(error)
    case = Case.objects.get(pk=pk)
    assert case.state == CaseState.CLOSED
    assert Feedback.objects.get(case_id=pk).channel == "resident"
    assert ReturnVisit.objects.filter(case_id=pk).count() == 1
