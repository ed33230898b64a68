"""The sweep's every-minute "anything due?" check: right for each kind of work, and indexed on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection

from alleys.choices import AreaLevel
from issues import sweep
from issues.choices import CaseState, OrderRole, OrderState
from issues.models import Case, DispatchOrder
from tests.factories import MONDAY, World, build_world, make_case

NOW = MONDAY + dt.timedelta(days=2)
PAST, FUTURE = NOW - dt.timedelta(hours=1), NOW + dt.timedelta(hours=1)
CUTOFF = NOW - dt.timedelta(days=1)


@pytest.fixture
def world(db: None) -> World:
    return build_world()


def quiet_case(world: World, **fields: Any) -> Case:
    """An open case with every clock in the future, then ``fields`` written as given."""
    case = make_case(world, state=CaseState.IN_PROGRESS, tier=AreaLevel.COMMUNITY)
    Case.objects.filter(pk=case.pk).update(**{"escalation_due": FUTURE, "warn_at": None, **fields})
    return case


def order(world: World, **fields: Any) -> DispatchOrder:
    case = quiet_case(world)
    values: dict[str, Any] = {
        "case": case,
        "department": world.dept_lead,
        "role": OrderRole.LEAD,
        "dispatcher_area": world.district,
        "dispatched_at": MONDAY,
        "report_due": FUTURE,
        "complete_due": FUTURE,
        "state": OrderState.DISPATCHED,
    }
    return DispatchOrder.objects.create(**{**values, **fields})


def due(cutoff: dt.datetime | None = CUTOFF) -> bool:
    return sweep._anything_due(NOW, cutoff)


def test_nothing_pending_is_nothing_due(world: World) -> None:
    quiet_case(world)
    order(world)
    quiet_case(world, state=CaseState.AWAITING_FEEDBACK, escalation_due=None, verified_at=NOW)
    assert due() is False


@pytest.mark.parametrize(
    ("state", "expected"),
    [(CaseState.SUBMITTED, True), (CaseState.IN_PROGRESS, True), (CaseState.CLOSED, False)],
)
def test_a_missed_escalation_deadline_of_an_open_case(world: World, state: str, expected: bool) -> None:
    quiet_case(world, state=state, escalation_due=PAST)
    assert due() is expected


def test_a_warning_due(world: World) -> None:
    quiet_case(world, warn_at=PAST)
    assert due() is True


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"report_due": PAST}, True),
        ({"report_due": PAST, "reported_at": MONDAY}, True),  # filed, but nobody confirmed the visit
        ({"report_due": PAST, "attended_at": MONDAY}, False),
        ({"report_due": PAST, "report_overdue_at": MONDAY}, False),  # flagged once already
        ({"complete_due": PAST}, True),
        ({"complete_due": PAST, "completed_at": MONDAY}, False),
        ({"complete_due": PAST, "complete_overdue_at": MONDAY}, False),
        # A withdrawn order (its case ended, or it was redispatched) is never due again.
        ({"report_due": PAST, "complete_due": PAST, "state": OrderState.WITHDRAWN}, False),
        ({"report_due": PAST, "state": OrderState.REJECTED}, True),  # still the org department's to settle
    ],
)
def test_an_order_past_its_report_or_completion_deadline(
    world: World, fields: dict[str, Any], expected: bool
) -> None:
    order(world, **fields)
    assert due() is expected


def test_a_case_past_its_feedback_window(world: World) -> None:
    quiet_case(
        world,
        state=CaseState.AWAITING_FEEDBACK,
        escalation_due=None,
        verified_at=CUTOFF - dt.timedelta(hours=1),
    )
    assert due() is True
    # In a year the calendar does not know there is no cutoff: closing can wait.
    assert due(cutoff=None) is False


def test_a_case_awaiting_its_return_visit_is_no_work(world: World) -> None:
    # The return visit adds no clock: the community's attempts close the case, not time. A case
    # whose window passed has left the partial index of cases awaiting feedback.
    quiet_case(
        world,
        state=CaseState.AWAITING_RETURN_VISIT,
        escalation_due=None,
        verified_at=CUTOFF - dt.timedelta(days=30),
    )
    assert due() is False


def test_an_untold_outbox_row_or_an_unsent_delivery_is_due_at_its_time(world: World) -> None:
    from issues.choices import ChannelKind, DeliveryState
    from issues.models import NotificationChannel, NotificationDelivery, NotificationOutbox

    quiet_case(world)
    row = NotificationOutbox.objects.create(event_ids=[1], next_attempt_at=FUTURE)
    assert due() is False
    NotificationOutbox.objects.filter(pk=row.pk).update(next_attempt_at=PAST)
    assert due() is True
    row.delete()
    channel = NotificationChannel.objects.create(
        area=world.community_x, kind=ChannelKind.EMAIL, target="sq@example.org"
    )
    delivery = NotificationDelivery.objects.create(
        channel=channel, kind="whistled", title="t", state=DeliveryState.SENT, next_attempt_at=None
    )
    assert due() is False
    NotificationDelivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.FAILED, next_attempt_at=PAST
    )
    assert due() is True


@pytest.mark.postgres
def test_its_plan_reads_only_the_partial_indexes(world: World) -> None:
    """The check's plan for its own parameters: each sub-query is one partial index's first entry.

    A parameter inside a sub-query (``state IN ($1, …)``) would keep the planner from matching
    the partial indexes: a scan of the whole table, about a second a minute on a million cases.
    """
    quiet_case(world)
    sql, times = sweep._anything_due_sql(connection.alias, True)
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, [adapt(NOW)] * times + [adapt(CUTOFF)])
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Seq Scan" not in plan, plan
    for index in (
        "case_escalation_due_open",
        "case_warn_at_pending",
        "case_awaiting_feedback",
        "outbox_due",
        "delivery_retry_due",
    ):
        assert index in plan


@pytest.mark.postgres
def test_nothing_is_prepared(world: World) -> None:
    """Django's psycopg default (no automatic preparing): no statement runs on a generic plan.

    PostgreSQL may keep a generic plan of a prepared statement after five runs, and a generic
    plan of the ORM's parameterised filters cannot use the partial indexes.
    """
    case = quiet_case(world)
    for _ in range(10):
        assert due() is False
        assert Case.objects.filter(pk=case.pk, state__in=[CaseState.IN_PROGRESS]).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        assert cursor.fetchone()[0] == 0
