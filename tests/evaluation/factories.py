"""Helpers that put cases, feedback, orders and surveys straight into the state a test needs.

Built on the casework tests' named world (tests/issues/factories.py): rate fixtures need
exact timestamps, so these write the fields directly instead of driving the workflow.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from alleys.choices import AreaLevel
from alleys.models import Area, Department
from evaluation.models import Survey, SurveyAnswer, SurveyInvite
from issues.choices import CaseSource, CaseState, EventKind, FeedbackChannel, OrderRole, OrderState
from issues.models import Case, CaseEvent, DispatchOrder, Feedback, Whistle
from tests.issues.factories import TZ, World, at, make_case

__all__ = ["TZ", "at", "case_at", "escalated", "feedback", "order_for", "survey_with_answers"]


def case_at(
    world: World,
    *,
    created: dt.datetime,
    state: str = CaseState.SUBMITTED,
    alley: Area | None = None,
    source: str = CaseSource.RESIDENT_FORM,
    tier: str = AreaLevel.ALLEY,
    **fields: Any,
) -> Case:
    """A case created at ``created`` in ``state``, with the given timestamps and deadlines written as-is."""
    case = make_case(world, alley=alley, state=CaseState.SUBMITTED, tier=tier, now=created)
    values: dict[str, Any] = {
        "state": state,
        "source": source,
        "created_at": created,
        "accepted_at": None,
        "resolved_at": None,
        "verified_at": None,
        "resolved_tier": "",
        **fields,
    }
    Case.objects.filter(pk=case.pk).update(**values)
    case.refresh_from_db()
    return case


def feedback(
    case: Case, *, round: int = 1, solved: str, satisfaction: str, when: dt.datetime | None = None
) -> Feedback:
    return Feedback.objects.create(
        case=case,
        round=round,
        solved=solved,
        satisfaction=satisfaction,
        channel=FeedbackChannel.RESIDENT,
        created_at=when or case.created_at,
    )


def escalated(case: Case, *, when: dt.datetime, from_state: str = CaseState.SUBMITTED) -> CaseEvent:
    """The sweep's automatic escalation as the timeline records it."""
    Whistle.objects.create(
        case=case, from_tier="alley", to_tier="community", reason="超时", automatic=True, at=when
    )
    return CaseEvent.objects.create(
        case=case, kind=EventKind.ESCALATED, at=when, from_state=from_state, to_state=CaseState.SUBMITTED
    )


def order_for(
    case: Case,
    department: Department,
    *,
    dispatcher: Area,
    dispatched: dt.datetime,
    report_due: dt.datetime,
    complete_due: dt.datetime,
    role: str = OrderRole.LEAD,
    state: str = OrderState.DISPATCHED,
    **fields: Any,
) -> DispatchOrder:
    return DispatchOrder.objects.create(
        case=case,
        department=department,
        role=role,
        dispatcher_area=dispatcher,
        dispatched_at=dispatched,
        report_due=report_due,
        complete_due=complete_due,
        state=state,
        **fields,
    )


def survey_with_answers(
    case: Case, *, opened_by: Any, answers: list[tuple[str, str]], community: Area
) -> Survey:
    """A survey on ``case`` with one used invite per (solved, satisfaction) answer."""
    survey = Survey.objects.create(case=case, community=community, title="调查", opened_by=opened_by)
    for index, (solved, satisfaction) in enumerate(answers):
        invite = SurveyInvite.objects.create(survey=survey, code=f"CODE{index:04d}", used_at=case.created_at)
        SurveyAnswer.objects.create(
            survey=survey, invite=invite, respondent_kind="resident", solved=solved, satisfaction=satisfaction
        )
    return survey
