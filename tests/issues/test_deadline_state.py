"""issues/deadline_state.py: one meaning of each deadline state (issue 16, defect 1).

A case resolved before its deadline and waiting for the community's verification used to show
as "已超期" on the officer's list, blamed on the alley team, because the readers looked at the
resolve deadline whatever the state; verification had no deadline at all.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dispatch.deadlines import verification_due
from dispatch.models import OrderSettings
from issues.choices import CaseState, OrderRole, OrderState
from issues.deadline_state import (
    DueKind,
    DueStatus,
    answerable_unit,
    case_due,
    governing_due,
    near_q,
    order_dues,
    order_overdue_q,
    overdue_q,
    status_q,
)
from issues.models import Case, DispatchOrder
from issues.workflow import case_accept, case_resolve, case_submit
from tests.factories import MONDAY, DispatchOrderFactory, make_case

pytestmark = pytest.mark.django_db
S = CaseState


def later(days: float) -> dt.datetime:
    return MONDAY + dt.timedelta(days=days)


def test_a_fix_reported_in_time_is_not_overdue_while_the_community_verifies(world: Any) -> None:
    OrderSettings.objects.update_or_create(pk=1, defaults={"verify_days": 5})
    case = case_submit(
        actor=world.chief_x, alley=world.alley_x, category=world.cat_a, description="路灯不亮", now=MONDAY
    )
    case_accept(case=case, actor=world.chief_x, now=MONDAY + dt.timedelta(minutes=30))
    case = case_resolve(case=case, actor=world.chief_x, note="已更换灯泡", now=MONDAY + dt.timedelta(hours=2))
    assert case.state == S.AWAITING_VERIFICATION
    assert case.verify_due == verification_due(start=MONDAY + dt.timedelta(hours=2))

    # Long after the alley's resolve deadline, but before the community's verification deadline.
    assert case.resolve_due is not None and case.resolve_due < case.verify_due
    between = case.resolve_due + (case.verify_due - case.resolve_due) / 2
    due = case_due(case, between)
    assert due is not None and due.kind == DueKind.VERIFY and not due.is_overdue
    assert not Case.objects.filter(pk=case.pk).filter(overdue_q(between)).exists()

    # Once the verification deadline passes it is the community's, not the alley team's.
    after = case.verify_due + dt.timedelta(minutes=1)
    assert case_due(case, after).is_overdue  # type: ignore[union-attr]
    assert Case.objects.filter(overdue_q(after)).get() == case
    case = Case.objects.select_related("holder_area", "lead_department", "alley__parent").get(pk=case.pk)
    assert answerable_unit(case) == world.community_x.name


@pytest.mark.parametrize(
    ("state", "kind"),
    [
        (S.SUBMITTED, DueKind.ACCEPT),
        (S.REOPENED, DueKind.ACCEPT),
        (S.ACCEPTED, DueKind.RESOLVE),
        (S.IN_PROGRESS, DueKind.RESOLVE),
        (S.AWAITING_VERIFICATION, DueKind.VERIFY),
        (S.AWAITING_FEEDBACK, None),
        (S.AWAITING_RETURN_VISIT, None),
        (S.CLOSED, None),
    ],
)
def test_the_governing_deadline_by_state(world: Any, state: str, kind: str | None) -> None:
    case = make_case(world, state=state, now=MONDAY)
    due = case_due(case, MONDAY)
    assert (due.kind if due else None) == kind
    annotated = Case.objects.annotate(due=governing_due()).get(pk=case.pk)
    assert annotated.due == (due.due if due else None)
    assert case.current_due == (due.due if due else None)


def test_the_status_filters_partition_the_cases_and_agree_with_one_case(world: Any) -> None:
    states = [S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.AWAITING_VERIFICATION, S.AWAITING_FEEDBACK, S.CLOSED]
    for i, state in enumerate(states):
        make_case(world, state=state, now=MONDAY - dt.timedelta(days=3 * i))
    everything = Case.objects.count()
    for now in (MONDAY, later(1), later(5), later(40)):
        counts = {status: Case.objects.filter(status_q(status, now)).count() for status in DueStatus.values}
        assert sum(counts.values()) == everything, (now, counts)
        for case in Case.objects.all():
            due = case_due(case, now)
            expected = due.status if due else DueStatus.NONE
            assert Case.objects.filter(pk=case.pk).filter(status_q(expected, now)).exists(), (case.state, now)
        assert Case.objects.filter(near_q(now)).count() == counts[DueStatus.NEAR]
        assert Case.objects.overdue(now).count() == counts[DueStatus.OVERDUE]


def test_supervised_at_the_top_is_still_overdue_by_its_resolve_deadline(world: Any) -> None:
    case = make_case(world, state=S.IN_PROGRESS, now=MONDAY)
    Case.objects.filter(pk=case.pk).update(escalation_due=None, supervised=True)
    assert Case.objects.filter(overdue_q(later(60))).filter(pk=case.pk).exists()


def test_an_order_reports_until_attended_and_completes_while_active(world: Any) -> None:
    case = make_case(world, state=S.ACCEPTED, now=MONDAY)
    order = DispatchOrderFactory(
        case=case,
        department=world.dept_lead,
        role=OrderRole.LEAD,
        state=OrderState.RECEIVED,
        dispatched_at=MONDAY,
        report_due=later(7),
        complete_due=later(90),
    )
    kinds = {due.kind: due.status for due in order_dues(order, later(8))}
    assert kinds == {DueKind.REPORT: DueStatus.OVERDUE, DueKind.COMPLETE: DueStatus.OK}
    assert DispatchOrder.objects.filter(order_overdue_q(later(8))).get() == order

    order.attended_at = later(6)
    order.save(update_fields=["attended_at"])
    assert [due.kind for due in order_dues(order, later(8))] == [DueKind.COMPLETE]
    assert not DispatchOrder.objects.filter(order_overdue_q(later(8))).exists()
    assert DispatchOrder.objects.filter(order_overdue_q(later(91))).exists()

    order.state = OrderState.COMPLETED
    order.save(update_fields=["state"])
    assert order_dues(order, later(91)) == []
    assert not DispatchOrder.objects.filter(order_overdue_q(later(91))).exists()
