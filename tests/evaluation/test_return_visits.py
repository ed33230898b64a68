"""The return visit in evaluation (issue 15): its answer counts like the resident's own feedback.

A reached return visit writes the round's feedback, so the resolution and satisfaction rates and
the roll-ups count it; attempts that all failed leave the case without an answer (neither
solved nor unsolved). A case awaiting its return visit is verified: resolved for the on-time
rate, and its departments are due their one-whistle-one-evaluation.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from evaluation import services
from evaluation.models import CaseFact
from evaluation.rates import rates_for_cases
from evaluation.rollups import refresh_rollups
from evaluation.selectors import pending_evaluations
from issues.choices import CaseState, FeedbackSolved, Satisfaction
from issues.models import Case
from issues.sweep import run_sweep
from issues.workflow import case_feedback, case_return_visit
from tests.factories import make_case

from .test_services import T0, dispatched_case

pytestmark = pytest.mark.django_db


def due(world: Any, n: int) -> list[Case]:
    return [make_case(world, state=CaseState.AWAITING_RETURN_VISIT, now=T0) for _ in range(n)]


def test_a_reached_visits_answer_counts_like_the_residents_own(world: Any) -> None:
    reached_solved, reached_unhappy, unreached, resident = due(world, 4)
    visit = {"actor": world.community_worker_x, "channel": "phone", "now": T0 + dt.timedelta(days=8)}
    case_return_visit(
        case=reached_solved,
        reached=True,
        solved=FeedbackSolved.SOLVED,
        satisfaction=Satisfaction.SATISFIED,
        **visit,
    )
    case_return_visit(
        case=reached_unhappy,
        reached=True,
        solved=FeedbackSolved.PARTLY,
        satisfaction=Satisfaction.DISSATISFIED,
        **visit,
    )
    for _attempt in range(2):
        case_return_visit(case=unreached, reached=False, **visit)
    case_feedback(
        case=resident, solved=FeedbackSolved.SOLVED, satisfaction=Satisfaction.BASIC, now=visit["now"]
    )
    assert {c.state for c in Case.objects.all()} == {CaseState.CLOSED}

    counts = rates_for_cases(Case.objects.all(), now=T0 + dt.timedelta(days=9)).counts
    # Three answers (two by return visit, one the resident's); the unreached case has none.
    assert (counts.fb_cases, counts.fb_solved, counts.answers, counts.satisfied) == (3, 2, 3, 2)
    assert (counts.resolved, counts.cases) == (4, 4)


def test_the_rollups_count_the_visit_when_it_is_recorded(world: Any) -> None:
    [case] = due(world, 1)
    refresh_rollups(now=timezone.now(), full=True)
    case_return_visit(
        case=case,
        actor=world.community_worker_x,
        channel="in_person",
        reached=True,
        solved=FeedbackSolved.SOLVED,
        satisfaction=Satisfaction.BASIC,
        now=T0 + dt.timedelta(days=8),
    )
    refresh_rollups(now=timezone.now())
    fact = CaseFact.objects.get(case_id=case.pk)
    assert (fact.fb_cases, fact.fb_solved, fact.answers) == (1, 1, 1)


def test_a_case_awaiting_its_visit_is_verified_for_the_evaluation_of_its_departments(world: Any) -> None:
    case, lead, coop = dispatched_case(world)
    run_sweep(now=case.verified_at + dt.timedelta(days=10))
    case.refresh_from_db()
    assert case.state == CaseState.AWAITING_RETURN_VISIT
    assert {p.order.pk for p in pending_evaluations(world.community_worker_x)} == {lead.pk, coop.pk}
    # And a satisfaction survey may still be opened on it.
    assert services.survey_open(case=case, actor=world.community_worker_x).case == case
