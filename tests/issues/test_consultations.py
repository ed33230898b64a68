"""issues/workflow/consultations.py: the organisation department asks the proposed departments before it dispatches.

Ma'anshan: "派单前，也将充分征求拟报到部门的意见建议". Each department asked answers within a
working day (OrderSettings.consult_days); the dispatch waits until then and not after; the
answers stay with the case and go onto the orders.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from alleys.choices import AreaLevel
from dispatch.models import OrderSettings
from issues.choices import CaseState, ConsultationOpinion, ConsultationState, EventKind, OrderRole
from issues.models import Case, Consultation, Notification
from issues.workflow import (
    TransitionError,
    TransitionForbidden,
    TransitionInvalid,
    case_consult,
    case_dispatch,
)
from issues.workflow.consultations import consultation_answer
from tests.factories import ACTORS, MONDAY, World, at, make_case

pytestmark = pytest.mark.django_db
CS = ConsultationState
OP = ConsultationOpinion
EVERYONE = (*ACTORS, "admin", "anonymous")
DUE = at("2026-03-03 17:00")  # one working day after Monday 10:00


def at_district(world: World, **kwargs: Any) -> Case:
    return make_case(world, state=CaseState.ACCEPTED, tier=AreaLevel.DISTRICT, **kwargs)


def ask(world: World, case: Case, *, now: dt.datetime = MONDAY, **kwargs: Any) -> list[Consultation]:
    departments = kwargs.pop("departments", [world.dept_lead, world.dept_coop])
    return case_consult(
        case=case, actor=world.district_officer, departments=departments, question="拟由城管局牵头", now=now
    )


def answer(world: World, row: Consultation, *, now: dt.datetime = MONDAY, **kwargs: Any) -> Any:
    kwargs.setdefault("opinion", OP.AGREE)
    kwargs.setdefault("actor", world.lead_contact)
    return consultation_answer(consultation=row, now=now, **kwargs)


# --- asking ------------------------------------------------------------------------------------------------

ORG = {"district_officer", "admin"}


def test_only_the_organisation_department_holding_the_case_may_ask(world: World) -> None:
    outcomes: dict[str, str] = {}
    for name in EVERYONE:
        case = at_district(world)
        try:
            case_consult(case=case, actor=world.actor(name), departments=[world.dept_lead], now=MONDAY)
            outcomes[name] = "may"
        except TransitionForbidden:
            outcomes[name] = "forbidden"
            assert not case.consultations.exists()
    assert outcomes == {a: "may" if a in ORG else "forbidden" for a in EVERYONE}


def test_asking_writes_one_request_per_department_with_a_working_day_to_answer(world: World) -> None:
    case = at_district(world)
    rows = ask(world, case)
    assert [(r.department, r.state, r.answer_due, r.asker_area) for r in rows] == [
        (world.dept_lead, CS.PENDING, DUE, world.district),
        (world.dept_coop, CS.PENDING, DUE, world.district),
    ]
    event = case.events.get(kind=EventKind.CONSULTED)
    assert not event.public and event.actor == world.district_officer
    assert "鲤城区城管局、鲤城区住建局" in event.note and "2026-03-03 17:00" in event.note


def test_the_answer_deadline_is_working_days_from_the_settings(world: World) -> None:
    # Thursday before May Day: the next working day is Wednesday 6 May.
    assert ask(world, at_district(world), now=at("2026-04-30 10:00"))[0].answer_due == at("2026-05-06 17:00")
    settings_row = OrderSettings.current()
    settings_row.consult_days = 2
    settings_row.save()
    assert ask(world, at_district(world), now=MONDAY)[0].answer_due == at("2026-03-04 17:00")


def test_asking_is_for_a_case_at_district_or_city_not_yet_dispatched(world: World) -> None:
    street_case = make_case(world, state=CaseState.ACCEPTED, tier=AreaLevel.STREET)
    with pytest.raises(TransitionForbidden):  # the street holds it, not the organisation department
        ask(world, street_case)
    case = at_district(world)
    case_dispatch(case=case, actor=world.district_officer, lead=world.dept_lead, now=MONDAY)
    with pytest.raises(TransitionError, match="已派单"):
        ask(world, case)


@pytest.mark.parametrize("who", ["dept_far", "nobody"])
def test_departments_outside_the_dispatch_level_cannot_be_asked(world: World, who: str) -> None:
    departments = [world.dept_far] if who == "dept_far" else []
    with pytest.raises(TransitionInvalid) as refused:
        ask(world, at_district(world), departments=departments)
    assert refused.value.field == "departments"


def test_a_department_is_not_asked_twice_while_its_answer_is_due(world: World) -> None:
    case = at_district(world)
    ask(world, case, departments=[world.dept_lead])
    with pytest.raises(TransitionError, match="尚待答复"):
        ask(world, case, departments=[world.dept_lead, world.dept_coop])
    assert case.consultations.count() == 1


# --- answering -------------------------------------------------------------------------------------------


def test_only_the_department_asked_may_answer(world: World) -> None:
    may = {"lead_contact", "admin"}
    outcomes: dict[str, str] = {}
    for name in EVERYONE:
        [row] = ask(world, at_district(world), departments=[world.dept_lead])
        try:
            answer(world, row, actor=world.actor(name))
            outcomes[name] = "may"
        except TransitionForbidden:
            outcomes[name] = "forbidden"
            row.refresh_from_db()
            assert row.state == CS.PENDING
    assert outcomes == {a: "may" if a in may else "forbidden" for a in EVERYONE}


def test_an_answer_is_kept_with_the_case(world: World) -> None:
    case = at_district(world)
    lead, coop = ask(world, case)
    answer(world, lead, text="同意牵头，一周内到社区报到", now=at("2026-03-02 15:00"))
    answer(
        world,
        coop,
        actor=world.coop_contact,
        opinion=OP.OTHER_DEPARTMENT,
        suggested_department=world.dept_lead,
        text="属城管职责",
        now=at("2026-03-03 18:00"),
    )
    lead.refresh_from_db()
    coop.refresh_from_db()
    assert (lead.state, lead.opinion, lead.answer, lead.answered_by) == (
        CS.ANSWERED,
        OP.AGREE,
        "同意牵头，一周内到社区报到",
        world.lead_contact,
    )
    assert (coop.suggested_department, coop.answered_late) == (world.dept_lead, True)
    events = list(case.events.filter(kind=EventKind.CONSULTATION_ANSWERED).order_by("at"))
    assert [(e.actor_label, e.public) for e in events] == [("鲤城区城管局", False), ("鲤城区住建局", False)]
    assert events[1].note == "（逾期答复）建议改由其他部门承办：鲤城区城管局。属城管职责"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"opinion": "maybe"}, "opinion"),
        ({"opinion": OP.OTHER_DEPARTMENT, "text": "不归我们"}, "suggested_department"),
        (
            {"opinion": OP.OTHER_DEPARTMENT, "suggested_department": "self", "text": "x"},
            "suggested_department",
        ),
        ({"opinion": OP.OTHER_DEPARTMENT, "suggested_department": "coop"}, "text"),
        ({"opinion": OP.OTHER}, "text"),
    ],
)
def test_an_answer_without_what_it_needs_is_refused(world: World, kwargs: dict[str, Any], field: str) -> None:
    [row] = ask(world, at_district(world), departments=[world.dept_lead])
    chosen = {"self": world.dept_lead, "coop": world.dept_coop}
    if "suggested_department" in kwargs:
        kwargs["suggested_department"] = chosen[kwargs["suggested_department"]]
    with pytest.raises(TransitionInvalid) as refused:
        answer(world, row, **kwargs)
    assert refused.value.field == field


def test_the_organisation_department_hears_the_answer_and_the_department_the_question(
    world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = at_district(world)
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        [row] = ask(world, case, departments=[world.dept_lead])
    assert list(Notification.objects.values_list("recipient__username", flat=True)) == ["lead_contact"]
    Notification.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        answer(world, row, opinion=OP.OTHER, text="需住建局配合")
    message = Notification.objects.get()
    assert (message.recipient, message.body) == (world.district_officer, "其他意见。需住建局配合")


# --- dispatching after asking ---------------------------------------------------------------------------


def dispatch(world: World, case: Case, now: dt.datetime) -> Case:
    return case_dispatch(
        case=case, actor=world.district_officer, lead=world.dept_lead, cooperating=[world.dept_coop], now=now
    )


def test_the_dispatch_waits_for_the_answers_until_their_deadline(world: World) -> None:
    case = at_district(world)
    lead, _coop = ask(world, case)
    answer(world, lead)
    with pytest.raises(TransitionError, match=r"鲤城区住建局.*2026-03-03 17:00"):
        dispatch(world, case, DUE - dt.timedelta(minutes=1))
    assert not case.orders.exists()
    dispatch(world, case, DUE + dt.timedelta(minutes=1))  # unanswered after its deadline: no longer waits
    assert case.orders.count() == 2


def test_all_answered_the_dispatch_need_not_wait(world: World) -> None:
    case = at_district(world)
    for row, actor in zip(ask(world, case), (world.lead_contact, world.coop_contact), strict=True):
        answer(world, row, actor=actor)
    dispatch(world, case, at("2026-03-02 11:00"))
    assert case.orders.count() == 2


def test_the_answers_go_onto_the_orders_and_the_unanswered_lapse(world: World) -> None:
    case = at_district(world)
    lead, coop = ask(world, case)
    answer(world, lead, text="同意")
    dispatch(world, case, DUE + dt.timedelta(hours=1))
    lead_order = case.orders.get(role=OrderRole.LEAD)
    coop_order = case.orders.get(role=OrderRole.COOPERATING)
    assert list(lead_order.consultations.values_list("opinion", "state")) == [(OP.AGREE, CS.ANSWERED)]
    assert list(coop_order.consultations.values_list("state", flat=True)) == [CS.LAPSED]
    dispatched_event = case.events.get(kind=EventKind.DISPATCHED)
    assert sorted(dispatched_event.data["consultation_ids"]) == sorted([lead.pk, coop.pk])
    with pytest.raises(TransitionError, match="未答复"):  # lapsed: nothing to answer any more
        answer(world, coop, actor=world.coop_contact, now=DUE + dt.timedelta(hours=2))
