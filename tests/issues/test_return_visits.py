"""issues/workflow/return_visits.py: the return visit before closing (issue 15; Jilin's 橘灯 "处理完结等待回访").

When the feedback window passes without the resident's answer, the sweep no longer closes the
case: it becomes due for a return visit and the community is told. The community records each
attempt; a reached attempt's answer is the round's feedback ("not solved" reopens), and the case
closes unrated only when ``JXT_RETURN_VISIT_ATTEMPTS`` attempts of the round failed. The
resident's own answer is heard meanwhile. Time is passed explicitly (``now=``); the window is
counted in working days of the business calendar.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from pytest_django import Settings

from alleys.choices import AreaLevel
from issues import sweep
from issues.choices import (
    CaseState,
    EventKind,
    FeedbackChannel,
    FeedbackSolved,
    OrderRole,
    OrderState,
    ReturnVisitChannel,
    Satisfaction,
)
from issues.models import Case, CaseEvent, DispatchOrder, Feedback, Notification, ReturnVisit
from issues.sweep import run_sweep
from issues.workflow import (
    TransitionError,
    TransitionInvalid,
    allowed_transitions,
    case_accept,
    case_dispatch,
    case_feedback,
    case_resolve,
    case_return_visit,
    case_return_visit_due,
    case_verify,
    feedback_cutoff,
)
from issues.workflow.orders import order_complete, order_receive, order_report
from tests.factories import MONDAY, World, at, make_case

pytestmark = pytest.mark.django_db
S = CaseState
PHONE = ReturnVisitChannel.PHONE
IN_PERSON = ReturnVisitChannel.IN_PERSON
# make_case(state=AWAITING_FEEDBACK) is verified MONDAY (2026-03-02 10:00): five working days
# later, Monday 9 March, its window has passed.
LAST_DAY = at("2026-03-06 23:00")
DUE = at("2026-03-09 08:00")
VISIT = at("2026-03-09 10:00")
LATER = at("2026-03-10 15:00")


def fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def waiting(world: World, **fields: Any) -> Case:
    """A case verified on MONDAY whose window passed unanswered: due for its return visit (by the sweep)."""
    case = make_case(world, state=S.AWAITING_FEEDBACK, **fields)
    assert run_sweep(now=DUE).return_visit_due == 1
    case = fresh(case)
    assert case.state == S.AWAITING_RETURN_VISIT
    return case


def visit(world: World, case: Case, *, reached: bool, now: dt.datetime = VISIT, **answer: Any) -> Case:
    return case_return_visit(
        case=case,
        actor=answer.pop("actor", world.community_worker_x),
        channel=answer.pop("channel", PHONE),
        reached=reached,
        now=now,
        **answer,
    )


def dispatched_and_verified(world: World) -> tuple[Case, DispatchOrder, DispatchOrder]:
    """A district case: the lead department completed, the cooperating one still reported; verified MONDAY."""
    case = make_case(world, state=S.ACCEPTED, tier=AreaLevel.DISTRICT)
    case_dispatch(
        case=case,
        actor=world.district_officer,
        lead=world.dept_lead,
        cooperating=[world.dept_coop],
        now=MONDAY,
    )
    lead = case.orders.get(role=OrderRole.LEAD)
    coop = case.orders.get(role=OrderRole.COOPERATING)
    for order, contact in ((lead, world.lead_contact), (coop, world.coop_contact)):
        order_receive(order=order, actor=contact, now=MONDAY)
        order_report(
            order=order,
            actor=contact,
            leader_name="王副局长",
            contact_name="李科长",
            contact_phone="0595-22000000",
            work_plan="三日内完成清理",
            visit_at=MONDAY,
            visitors=["李科长"],
            now=MONDAY,
        )
    order_complete(order=lead, actor=world.lead_contact, note="已清理", now=MONDAY)
    case_verify(case=case, actor=world.community_worker_x, passed=True, now=MONDAY)
    return fresh(case), lead, coop


# --- the window passes: due for a return visit, never closed by the sweep -------------------------


def test_the_sweep_asks_for_a_return_visit_instead_of_closing(world: World) -> None:
    case = make_case(world, state=S.AWAITING_FEEDBACK)
    assert run_sweep(now=LAST_DAY).return_visit_due == 0
    assert fresh(case).state == S.AWAITING_FEEDBACK
    result = run_sweep(now=DUE)
    assert result.return_visit_due == 1
    case = fresh(case)
    assert (case.state, case.closed_at) == (S.AWAITING_RETURN_VISIT, None)
    event = case.events.get(kind=EventKind.RETURN_VISIT_DUE)
    assert (event.from_state, event.to_state, event.actor_label, event.public) == (
        S.AWAITING_FEEDBACK,
        S.AWAITING_RETURN_VISIT,
        "系统",
        True,
    )
    assert "5 个工作日内未收到反映人评价" in event.note and "回访" in event.note
    # However long nobody visits, the sweep closes nothing: the community's attempts decide.
    much_later = run_sweep(now=at("2026-06-01 10:00"))
    assert much_later.return_visit_due == 0
    assert fresh(case).state == S.AWAITING_RETURN_VISIT
    assert not case.events.filter(kind=EventKind.CLOSED).exists()


def test_the_community_is_told_and_nobody_else(world: World, django_capture_on_commit_callbacks: Any) -> None:
    case = make_case(world, state=S.AWAITING_FEEDBACK)
    with django_capture_on_commit_callbacks(execute=True):
        run_sweep(now=DUE)
    told = set(Notification.objects.filter(case=case).values_list("recipient__username", flat=True))
    assert told == {"community_worker_x"}
    message = Notification.objects.get(case=case)
    assert "转入回访" in message.title and case.tracking_code in message.title
    assert "张三" not in message.title + message.body and "13900001234" not in message.title + message.body


def test_the_window_counts_working_days_of_the_calendar(world: World) -> None:
    # Verified Wednesday 29 April 2026; 1-5 May are the May Day holidays, Saturday 9 May a
    # make-up working day: the fifth working day after is 9 May (Apr 30, May 6, 7, 8, 9).
    case = make_case(world, state=S.AWAITING_FEEDBACK, now=at("2026-04-29 10:00"))
    for before in (at("2026-05-06 10:00"), at("2026-05-08 23:00")):
        assert case_return_visit_due(case=case, now=before) is None
        assert run_sweep(now=before).return_visit_due == 0
    assert feedback_cutoff(at("2026-05-09 08:00")) == at("2026-04-29 23:59:59")
    assert run_sweep(now=at("2026-05-09 08:00")).return_visit_due == 1
    assert fresh(case).state == S.AWAITING_RETURN_VISIT


def test_one_case_through_the_sweeps_writer(world: World) -> None:
    case = make_case(world, state=S.AWAITING_FEEDBACK)
    assert case_return_visit_due(case=case, now=LAST_DAY) is None
    moved = case_return_visit_due(case=case, now=DUE)
    assert moved is not None and moved.state == S.AWAITING_RETURN_VISIT
    assert case_return_visit_due(case=case, now=DUE) is None  # once
    assert case.events.filter(kind=EventKind.RETURN_VISIT_DUE).count() == 1


def test_a_case_awaiting_its_return_visit_is_no_work_for_the_idle_check(world: World) -> None:
    # No new clock: the case left the partial index of cases awaiting feedback.
    waiting(world)
    assert sweep._anything_due(at("2026-06-01 10:00"), feedback_cutoff(at("2026-06-01 10:00"))) is False


def test_a_dry_run_says_which_cases_are_due_and_moves_none(world: World) -> None:
    case = make_case(world, state=S.AWAITING_FEEDBACK)
    lines: list[str] = []
    result = run_sweep(now=DUE, dry_run=True, log=lines.append)
    assert result.return_visit_due == 1 and any(case.tracking_code in line for line in lines)
    assert fresh(case).state == S.AWAITING_FEEDBACK


# --- a reached visit: the answer is the round's feedback -------------------------------------------


def test_a_reached_visit_with_solved_closes_the_case_rated(world: World) -> None:
    case = waiting(world)
    visit(
        world,
        case,
        reached=True,
        solved=FeedbackSolved.SOLVED,
        satisfaction=Satisfaction.BASIC,
        words="灯修好了，就是晚了两天。",
        visited_at=at("2026-03-09 09:30"),
    )
    case = fresh(case)
    assert (case.state, case.closed_at) == (S.CLOSED, VISIT)
    [record] = ReturnVisit.objects.filter(case=case)
    feedback = Feedback.objects.get(case=case)
    assert (record.channel, record.reached, record.round, record.recorded_by, record.feedback) == (
        PHONE,
        True,
        1,
        world.community_worker_x,
        feedback,
    )
    assert (feedback.solved, feedback.satisfaction, feedback.channel, feedback.recorded_by) == (
        FeedbackSolved.SOLVED,
        Satisfaction.BASIC,
        FeedbackChannel.RETURN_CALL,
        world.community_worker_x,
    )
    assert feedback.comment == "灯修好了，就是晚了两天。" and feedback.created_at == at("2026-03-09 09:30")
    kinds = list(case.events.order_by("at", "id").values_list("kind", flat=True))
    assert kinds[-3:] == [EventKind.RETURN_VISIT_DUE, EventKind.RETURN_VISIT, EventKind.CLOSED]


def test_the_visits_timeline_line_names_the_unit_and_the_person_but_not_the_words(world: World) -> None:
    case = waiting(world)
    visit(world, case, reached=False, channel=IN_PERSON, note="家中无人")
    visit(
        world,
        case,
        reached=True,
        solved=FeedbackSolved.SOLVED,
        satisfaction=Satisfaction.SATISFIED,
        words="谢谢社区",
        now=LATER,
    )
    first, second = case.events.filter(kind=EventKind.RETURN_VISIT).order_by("at", "id")
    assert (first.actor_label, first.actor, first.public) == ("新华社区", world.community_worker_x, True)
    assert first.note == "社区已上门回访，未见到反映人（第 1 次）。"
    assert second.note == "社区已电话回访。"
    for event in (first, second):
        assert "谢谢社区" not in event.note and "家中无人" not in event.note
    # The staff pages show everything (the staff note and the data).
    assert "家中无人" in first.data["staff_note"] and "上门" in first.data["staff_note"]
    assert "谢谢社区" in second.data["staff_note"] and "满意" in second.data["staff_note"]
    assert (second.data["reached"], second.data["attempt"], second.data["solved"]) == (True, 2, "solved")


def test_a_visit_in_person_is_its_own_feedback_channel(world: World) -> None:
    case = waiting(world)
    visit(world, case, reached=True, channel=IN_PERSON, solved=FeedbackSolved.PARTLY, satisfaction="basic")
    assert Feedback.objects.get(case=case).channel == FeedbackChannel.RETURN_VISIT


def test_a_reached_visit_with_not_solved_reopens_like_the_residents_answer(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = waiting(world)
    with django_capture_on_commit_callbacks(execute=True):
        visit(world, case, reached=True, solved=FeedbackSolved.NOT_SOLVED, satisfaction="dissatisfied")
    case = fresh(case)
    assert (case.state, case.reopen_count, case.feedback_round, case.closed_at) == (S.REOPENED, 1, 2, None)
    assert case.escalation_due == case.accept_due > VISIT  # a fresh clock at its tier
    reopened = case.events.get(kind=EventKind.REOPENED)
    assert (reopened.from_state, reopened.to_state, reopened.actor_label) == (
        S.AWAITING_RETURN_VISIT,
        S.REOPENED,
        "新华社区",
    )
    assert "回访" in reopened.note and "未解决" in reopened.note
    # The holder of the case is told, as when the resident says "not solved".
    assert Notification.objects.filter(case=case, kind=EventKind.REOPENED, recipient=world.chief_x).exists()


def test_not_solved_sends_a_dispatched_case_back_to_its_lead_department(world: World) -> None:
    case, lead, coop = dispatched_and_verified(world)
    run_sweep(now=DUE)
    visit(world, case, reached=True, solved=FeedbackSolved.NOT_SOLVED, satisfaction="dissatisfied")
    case, lead, coop = (
        fresh(case),
        DispatchOrder.objects.get(pk=lead.pk),
        DispatchOrder.objects.get(pk=coop.pk),
    )
    assert case.state == S.IN_PROGRESS
    assert (lead.state, lead.completed_at) == (OrderState.REPORTED, None)
    assert coop.state == OrderState.REPORTED


def test_after_a_reopening_the_next_round_counts_its_own_attempts(world: World) -> None:
    case = waiting(world)
    visit(world, case, reached=False)
    visit(world, case, reached=True, solved=FeedbackSolved.NOT_SOLVED, satisfaction="dissatisfied", now=LATER)
    again = at("2026-03-11 10:00")
    case_accept(case=case, actor=world.chief_x, now=again)
    case_resolve(case=case, actor=world.chief_x, note="重新修好", now=again)
    case_verify(case=case, actor=world.community_worker_x, passed=True, now=again)
    assert run_sweep(now=at("2026-03-18 08:00")).return_visit_due == 1
    # One failed attempt of round 1 and one of round 2: not two of one round.
    visit(world, case, reached=False, now=at("2026-03-18 10:00"))
    case = fresh(case)
    assert case.state == S.AWAITING_RETURN_VISIT
    assert list(ReturnVisit.objects.filter(case=case).values_list("round", "reached")) == [
        (1, False),
        (1, True),
        (2, False),
    ]


# --- failed attempts: closed unrated only after JXT_RETURN_VISIT_ATTEMPTS ---------------------------


def test_two_failed_attempts_close_the_case_unrated_and_settle_its_orders(world: World) -> None:
    case, lead, coop = dispatched_and_verified(world)
    run_sweep(now=DUE)
    visit(world, case, reached=False, note="无人接听")
    case = fresh(case)
    assert (case.state, case.closed_at) == (S.AWAITING_RETURN_VISIT, None)
    assert case.updated_at >= VISIT  # integrations polling updated_after see the attempt
    assert DispatchOrder.objects.get(pk=coop.pk).state == OrderState.REPORTED
    visit(world, case, reached=False, channel=IN_PERSON, note="家中无人", now=LATER)
    case = fresh(case)
    assert (case.state, case.closed_at) == (S.CLOSED, LATER)
    assert not Feedback.objects.filter(case=case).exists()
    closed = case.events.get(kind=EventKind.CLOSED)
    assert (closed.from_state, closed.actor_label, closed.actor) == (
        S.AWAITING_RETURN_VISIT,
        "新华社区",
        world.community_worker_x,
    )
    assert "2 次回访均未联系上反映人" in closed.note and "未评价" in closed.note
    # Closing settles the orders still open (the cooperating one), as every end of a case does.
    coop = DispatchOrder.objects.get(pk=coop.pk)
    assert (coop.state, coop.withdrawn_at) == (OrderState.WITHDRAWN, LATER)
    assert DispatchOrder.objects.get(pk=lead.pk).state == OrderState.COMPLETED
    assert case.events.filter(kind=EventKind.ORDER_WITHDRAWN, data__order_id=coop.pk).exists()


def test_the_number_of_attempts_is_a_setting(world: World, settings: Settings) -> None:
    settings.JXT_RETURN_VISIT_ATTEMPTS = 3
    case = waiting(world)
    for hours in (0, 1):
        visit(world, case, reached=False, now=VISIT + dt.timedelta(hours=hours))
    assert fresh(case).state == S.AWAITING_RETURN_VISIT
    visit(world, case, reached=False, now=VISIT + dt.timedelta(hours=2))
    assert fresh(case).state == S.CLOSED
    assert "3 次回访均未联系上" in case.events.get(kind=EventKind.CLOSED).note


def test_a_reached_attempt_after_a_failed_one_takes_the_answer(world: World) -> None:
    case = waiting(world)
    visit(world, case, reached=False)
    visit(world, case, reached=True, solved=FeedbackSolved.SOLVED, satisfaction="satisfied", now=LATER)
    case = fresh(case)
    assert case.state == S.CLOSED and Feedback.objects.get(case=case).solved == FeedbackSolved.SOLVED


# --- the resident is heard meanwhile -------------------------------------------------------------------


def test_the_residents_own_answer_while_a_visit_is_due_wins(world: World) -> None:
    case = waiting(world)
    visit(world, case, reached=False)
    case_feedback(
        case=case,
        solved=FeedbackSolved.SOLVED,
        satisfaction=Satisfaction.SATISFIED,
        comment="好了",
        now=LATER,
    )
    case = fresh(case)
    assert case.state == S.CLOSED
    assert Feedback.objects.get(case=case).channel == FeedbackChannel.RESIDENT
    with pytest.raises(TransitionError, match="已关闭") as exc:
        visit(world, case, reached=False, now=LATER)
    assert exc.value.status_code == 409
    assert ReturnVisit.objects.filter(case=case).count() == 1


def test_staff_record_a_visit_not_a_plain_return_call_once_it_is_due(world: World) -> None:
    case = waiting(world)
    names = {t.name for t in allowed_transitions(case, world.community_worker_x)}
    assert "return-visit" in names and "feedback" not in names
    with pytest.raises(TransitionError, match="回访") as exc:
        case_feedback(
            case=case,
            actor=world.community_worker_x,
            solved=FeedbackSolved.SOLVED,
            satisfaction=Satisfaction.SATISFIED,
            channel=FeedbackChannel.RETURN_CALL,
            now=VISIT,
        )
    assert exc.value.status_code == 409
    assert fresh(case).state == S.AWAITING_RETURN_VISIT and not Feedback.objects.exists()


def test_no_return_visit_before_the_window_passed(world: World) -> None:
    case = make_case(world, state=S.AWAITING_FEEDBACK)
    assert "return-visit" not in {t.name for t in allowed_transitions(case, world.community_worker_x)}
    with pytest.raises(TransitionError, match="不能回访") as exc:
        visit(world, case, reached=False, now=MONDAY + dt.timedelta(hours=2))
    assert exc.value.status_code == 409
    assert not ReturnVisit.objects.exists()


# --- what an attempt must say ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ({"reached": True, "satisfaction": "satisfied"}, "solved"),
        ({"reached": True, "solved": "solved"}, "satisfaction"),
        ({"reached": False, "solved": "solved", "satisfaction": "satisfied"}, "reached"),
        ({"reached": False, "words": "说了什么"}, "reached"),
        ({"reached": False, "channel": "letter"}, "channel"),
        ({"reached": False, "visited_at": VISIT + dt.timedelta(hours=1)}, "visited_at"),
        ({"reached": False, "visited_at": MONDAY - dt.timedelta(hours=1)}, "visited_at"),
    ],
    ids=[
        "reached-without-solved",
        "reached-without-satisfaction",
        "answers-without-reaching",
        "words-without-reaching",
        "unknown-channel",
        "in-the-future",
        "before-verification",
    ],
)
def test_an_attempt_that_says_too_little_or_too_much_is_refused(
    world: World, answer: dict[str, Any], field: str
) -> None:
    case = waiting(world)
    before = (Case.objects.filter(pk=case.pk).values().get(), CaseEvent.objects.filter(case=case).count())
    with pytest.raises(TransitionInvalid) as exc:
        visit(world, case, **answer)
    assert exc.value.field == field and exc.value.status_code == 400
    assert (
        Case.objects.filter(pk=case.pk).values().get(),
        CaseEvent.objects.filter(case=case).count(),
    ) == before
    assert not ReturnVisit.objects.exists() and not Feedback.objects.exists()
