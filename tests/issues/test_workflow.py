"""issues/workflow/: who may make each transition (and who may not), and what each one writes.

The permission tables name every actor of the small world (tests/factories.py)
and say who may; everyone else must be refused with TransitionForbidden and the case
left exactly as it was. ``allowed_transitions`` (the buttons) must agree with the calls.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from alleys.choices import AreaLevel
from issues.choices import CaseSource, CaseState, EventKind, FeedbackChannel, FeedbackSolved, Satisfaction
from issues.models import Case, CaseEvent, Feedback, Whistle
from issues.workflow import (
    TRANSITIONS,
    TransitionError,
    TransitionForbidden,
    TransitionInvalid,
    allowed_transitions,
    case_accept,
    case_chase,
    case_dispatch,
    case_escalate,
    case_feedback,
    case_merge,
    case_reject,
    case_resolve,
    case_return_visit,
    case_start,
    case_submit,
    case_supervise,
    case_verify,
    case_whistle,
)
from tests.factories import ACTORS, MONDAY, World, decided_to_whistle_up, make_case

pytestmark = pytest.mark.django_db

EVERYONE: tuple[str, ...] = (*ACTORS, "admin", "anonymous")
S = CaseState
T = AreaLevel

# The holder of a case at each tier (the community staff also act for their alleys' teams).
HOLDERS: dict[str, set[str]] = {
    T.ALLEY: {"chief_x", "service_x", "grid_x", "community_worker_x", "admin"},
    T.COMMUNITY: {"community_worker_x", "admin"},
    T.STREET: {"street_worker", "admin"},
    T.DISTRICT: {"district_officer", "admin"},
    T.CITY: {"city_officer", "admin"},
}
COMMUNITY_OF_X = {"community_worker_x", "admin"}
SUPERVISORS = {"street_worker", "district_officer", "city_officer", "admin"}


def snapshot(case: Case) -> tuple[Any, ...]:
    """Everything a refused call must leave alone: the row, its timeline and its whistles."""
    return (
        Case.objects.filter(pk=case.pk).values().get(),
        CaseEvent.objects.filter(case=case).count(),
        Whistle.objects.filter(case=case).count(),
    )


def attempt(call: Callable[[], Any], case: Case) -> str:
    """'may' if the call went through, 'forbidden' if refused for the actor (and nothing changed)."""
    before = snapshot(case)
    try:
        call()
    except TransitionForbidden:
        assert snapshot(case) == before, "a refused call changed the case"
        return "forbidden"
    except TransitionError as exc:
        assert snapshot(case) == before, "a refused call changed the case"
        return f"error: {exc.message}"
    return "may"


# (transition, tier) -> (state to set up, call(world, case, actor), who may)
Caller = Callable[[World, Case, Any], Any]


def _merge(world: World, case: Case, actor: Any) -> Any:
    target = make_case(world, tier=case.tier, alley=case.alley)
    return case_merge(case=case, actor=actor, into=target, now=MONDAY)


def _feedback(world: World, case: Case, actor: Any) -> Any:
    channel = FeedbackChannel.RESIDENT if actor is None else FeedbackChannel.RETURN_CALL
    return case_feedback(
        case=case,
        actor=actor,
        solved=FeedbackSolved.SOLVED,
        satisfaction=Satisfaction.SATISFIED,
        channel=channel,
        now=MONDAY,
    )


def _whistle(world: World, case: Case, actor: Any) -> Any:
    if case.tier == T.DISTRICT:  # the district whistles to the city as its joint meeting decided
        decided_to_whistle_up(case, area=world.district)
    return case_whistle(
        case=case, actor=actor, reason="本级无法解决", departments=[world.dept_lead], now=MONDAY
    )


def _dispatch(world: World, case: Case, actor: Any) -> Any:
    lead = world.dept_city if case.tier == T.CITY else world.dept_lead
    return case_dispatch(case=case, actor=actor, lead=lead, instructions="三日内现场查看", now=MONDAY)


CALLS: dict[str, tuple[str, Caller]] = {
    "accept": (S.SUBMITTED, lambda w, c, a: case_accept(case=c, actor=a, now=MONDAY)),
    "start": (S.ACCEPTED, lambda w, c, a: case_start(case=c, actor=a, now=MONDAY)),
    "whistle": (S.ACCEPTED, lambda w, c, a: _whistle(w, c, a)),
    "resolve": (S.IN_PROGRESS, lambda w, c, a: case_resolve(case=c, actor=a, note="已修好", now=MONDAY)),
    "reject": (S.SUBMITTED, lambda w, c, a: case_reject(case=c, actor=a, reason="属私人物业", now=MONDAY)),
    "merge": (S.SUBMITTED, _merge),
    "dispatch": (S.ACCEPTED, _dispatch),
    "verify": (
        S.AWAITING_VERIFICATION,
        lambda w, c, a: case_verify(case=c, actor=a, passed=True, now=MONDAY),
    ),
    "feedback": (S.AWAITING_FEEDBACK, _feedback),
    "return-visit": (
        S.AWAITING_RETURN_VISIT,
        lambda w, c, a: case_return_visit(case=c, actor=a, channel="phone", reached=False, now=MONDAY),
    ),
    "supervise": (S.ACCEPTED, lambda w, c, a: case_supervise(case=c, actor=a, now=MONDAY)),
    "chase": (S.ACCEPTED, lambda w, c, a: case_chase(case=c, actor=a, now=MONDAY)),
}

TABLE: list[tuple[str, str, set[str]]] = [
    *[("accept", tier, HOLDERS[tier]) for tier in HOLDERS],
    *[("start", tier, HOLDERS[tier]) for tier in HOLDERS],
    *[("whistle", tier, HOLDERS[tier]) for tier in HOLDERS if tier != T.CITY],
    *[("resolve", tier, HOLDERS[tier]) for tier in (T.ALLEY, T.COMMUNITY, T.STREET)],
    *[("reject", tier, HOLDERS[tier]) for tier in (T.ALLEY, T.COMMUNITY, T.DISTRICT)],
    *[("merge", tier, HOLDERS[tier]) for tier in (T.ALLEY, T.STREET)],
    ("dispatch", T.DISTRICT, HOLDERS[T.DISTRICT]),
    ("dispatch", T.CITY, HOLDERS[T.CITY]),
    # The community of the alley verifies and evaluates, whichever tier fixed it.
    ("verify", T.ALLEY, COMMUNITY_OF_X),
    ("verify", T.STREET, COMMUNITY_OF_X),
    # The resident (no login) answers for themself; staff record return calls.
    ("feedback", T.ALLEY, COMMUNITY_OF_X | {"anonymous"}),
    # Once the window passed, only the community records return visits (whichever tier fixed it).
    ("return-visit", T.ALLEY, COMMUNITY_OF_X),
    ("return-visit", T.DISTRICT, COMMUNITY_OF_X),
    ("supervise", T.ALLEY, SUPERVISORS),
    ("supervise", T.DISTRICT, SUPERVISORS),
    # Anyone above the holder chases: the community for its alleys, the street and the org departments.
    ("chase", T.ALLEY, SUPERVISORS | {"community_worker_x"}),
    ("chase", T.COMMUNITY, SUPERVISORS),
]


@pytest.mark.parametrize(("name", "tier", "may"), TABLE, ids=[f"{name}-{tier}" for name, tier, _may in TABLE])
def test_who_may_make_each_transition(world: World, name: str, tier: str, may: set[str]) -> None:
    """Every named actor tries; the table says who may. The buttons (allowed_transitions) agree."""
    state, call = CALLS[name]
    outcomes: dict[str, str] = {}
    offered: dict[str, bool] = {}
    case = make_case(world, state=state, tier=tier)
    for actor_name in EVERYONE:
        actor = world.actor(actor_name)
        if actor is not None:  # residents act through their own pages, not staff buttons
            offered[actor_name] = name in {t.name for t in allowed_transitions(case, actor)}
        outcomes[actor_name] = attempt(lambda c=case, a=actor: call(world, c, a), case)
        if outcomes[actor_name] == "may":  # a refused call left the case as it was; this one moved it
            case = make_case(world, state=state, tier=tier)
    assert outcomes == {a: "may" if a in may else "forbidden" for a in EVERYONE}
    assert offered == {a: a in may for a in offered}


def test_an_anonymous_user_object_is_refused_like_nobody(world: World) -> None:
    case = make_case(world)
    before = snapshot(case)
    with pytest.raises(TransitionForbidden, match="没有权限"):
        case_accept(case=case, actor=AnonymousUser(), now=MONDAY)
    assert snapshot(case) == before
    assert allowed_transitions(case, AnonymousUser()) == []


def test_an_inactive_chief_is_refused(world: World) -> None:
    case = make_case(world)
    world.chief_x.is_active = False
    world.chief_x.save()
    from alleys.scoping import forget_scope

    forget_scope(world.chief_x)
    with pytest.raises(TransitionForbidden):
        case_accept(case=case, actor=world.chief_x, now=MONDAY)


def test_nobody_may_escalate_by_hand(world: World) -> None:
    case = make_case(world)
    names = {a: "escalate" in {t.name for t in allowed_transitions(case, world.actor(a))} for a in ACTORS}
    assert not any(names.values())
    assert TRANSITIONS["escalate"].who.__name__ == "_nobody"


# --- intake -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("category", ["cat_a", "cat_b", "cat_c", "cat_d"])
def test_a_new_case_starts_with_the_alley_team_whatever_its_class(world: World, category: str) -> None:
    """Issue 15, defect 1: a resident's D-class report (危房隐患) used to land with the district."""
    tier = T.ALLEY
    case = case_submit(
        category=getattr(world, category), alley=world.alley_x, description="  井盖松动  ", now=MONDAY
    )
    case.refresh_from_db()
    assert (case.state, case.tier) == (S.SUBMITTED, tier)
    assert case.holder_area.code == world.alley_x.code_at(tier)
    assert case.description == "井盖松动"
    assert case.escalation_due == case.accept_due > MONDAY
    assert case.resolve_due > case.accept_due
    [event] = case.events.all()
    assert (event.kind, event.actor_label, event.data) == (
        EventKind.SUBMITTED,
        "群众",
        {"source": "resident_form"},
    )


def test_staff_may_start_a_case_at_their_own_tier_up_to_the_class_ceiling(world: World) -> None:
    kept = case_submit(
        category=world.cat_c,
        alley=world.alley_x,
        description="占道",
        actor=world.community_worker_x,
        start_tier=T.COMMUNITY,
        now=MONDAY,
    )
    assert (kept.tier, kept.holder_area, kept.source) == (T.COMMUNITY, world.community_x, CaseSource.HOTLINE)
    with pytest.raises(TransitionInvalid, match="吹哨"):  # A climbs to the community at most
        case_submit(
            category=world.cat_a,
            alley=world.alley_x,
            description="x",
            actor=world.street_worker,
            start_tier=T.STREET,
            now=MONDAY,
        )
    with pytest.raises(TransitionForbidden):  # not the community worker's tier
        case_submit(
            category=world.cat_c,
            alley=world.alley_x,
            description="x",
            actor=world.community_worker_x,
            start_tier=T.STREET,
            now=MONDAY,
        )
    with pytest.raises(TransitionForbidden):  # residents cannot choose
        case_submit(
            category=world.cat_c, alley=world.alley_x, description="x", start_tier=T.STREET, now=MONDAY
        )


@pytest.mark.parametrize(
    ("actor_name", "may"),
    [
        ("anonymous", True),
        ("chief_x", True),
        ("community_worker_x", True),
        ("street_worker", True),
        ("chief_y", False),
        ("community_worker_y", False),
        ("street_worker_far", False),
        ("lead_contact", False),
    ],
)
def test_staff_register_cases_only_in_their_territory(world: World, actor_name: str, may: bool) -> None:
    def submit() -> Case:
        return case_submit(
            category=world.cat_a,
            alley=world.alley_x,
            description="路灯不亮",
            source=CaseSource.PATROL if actor_name != "anonymous" else CaseSource.RESIDENT_FORM,
            actor=world.actor(actor_name),
            now=MONDAY,
        )

    if may:
        assert submit().state == S.SUBMITTED
    else:
        with pytest.raises(TransitionForbidden):
            submit()
        assert not Case.objects.exists()


def test_intake_refuses_what_it_needs_and_writes_nothing(world: World) -> None:
    world.cat_b.needs_contact = True
    world.cat_b.save()
    with pytest.raises(TransitionInvalid) as exc:
        case_submit(category=world.cat_a, alley=world.alley_x, description="   ", now=MONDAY)
    assert exc.value.field == "description"
    with pytest.raises(TransitionInvalid) as exc:
        case_submit(category=world.cat_a, alley=world.community_x, description="x", now=MONDAY)
    assert exc.value.field == "alley"
    with pytest.raises(TransitionInvalid) as exc:
        case_submit(category=world.cat_b, alley=world.alley_x, description="x", now=MONDAY)
    assert exc.value.field == "reporter_phone"
    with pytest.raises(TransitionInvalid, match="电话号码格式不对") as exc:
        case_submit(
            category=world.cat_a, alley=world.alley_x, description="x", reporter_phone="12345", now=MONDAY
        )
    assert exc.value.field == "reporter_phone"
    assert not Case.objects.exists()


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("+86 138-1234-5678", "13812345678"),
        ("１３８１２３４５６７８", "13812345678"),  # full-width digits, as some phone keyboards type them
        ("0595-2218 1234", "059522181234"),
        ("  ", ""),
    ],
)
def test_every_way_in_keeps_the_reporters_number_in_one_form(world: World, typed: str, kept: str) -> None:
    """The service normalises, so staff intake and the APIs file the number a resident verifies later."""
    case = case_submit(
        category=world.cat_a,
        alley=world.alley_x,
        description="路灯不亮",
        reporter_phone=typed,
        sms_opt_in=True,
        now=MONDAY,
    )
    assert case.reporter_phone == kept
    assert case.sms_opt_in is kept.startswith("1")


# --- the holder's transitions -----------------------------------------------------------------------


def test_the_closed_loop_at_the_alley(world: World) -> None:
    case = case_submit(category=world.cat_a, alley=world.alley_x, description="路灯不亮", now=MONDAY)
    later = MONDAY + dt.timedelta(hours=1)
    case_accept(case=case, actor=world.chief_x, now=later)
    case.refresh_from_db()
    assert (case.state, case.accepted_at, case.escalation_due) == (S.ACCEPTED, later, case.resolve_due)
    case_start(case=case, actor=world.chief_x, now=later)
    case_resolve(case=case, actor=world.chief_x, note="已更换灯泡", now=later)
    case.refresh_from_db()
    assert (case.state, case.resolved_tier, case.escalation_due, case.warn_at) == (
        S.AWAITING_VERIFICATION,
        T.ALLEY,
        None,
        None,
    )
    case_verify(case=case, actor=world.community_worker_x, passed=True, now=later)
    case_feedback(case=case, solved=FeedbackSolved.SOLVED, satisfaction=Satisfaction.SATISFIED, now=later)
    case.refresh_from_db()
    assert (case.state, case.closed_at) == (S.CLOSED, later)
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds == [
        EventKind.SUBMITTED,
        EventKind.ACCEPTED,
        EventKind.STARTED,
        EventKind.RESOLVED,
        EventKind.VERIFIED,
        EventKind.FEEDBACK,
        EventKind.CLOSED,
    ]
    # The public timeline names units, never a person.
    assert not case.events.filter(actor_label__contains="chief").exists()


def test_an_illegal_transition_is_refused_with_a_clear_message(world: World) -> None:
    case = make_case(world, state=S.CLOSED, closed_at=MONDAY)
    before = snapshot(case)
    with pytest.raises(TransitionError, match=r"已关闭.*不能受理.*刷新") as exc:
        case_accept(case=case, actor=world.chief_x, now=MONDAY)
    assert type(exc.value) is TransitionError and exc.value.status_code == 409
    assert snapshot(case) == before


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda w, c: case_whistle(case=c, actor=w.chief_x, reason=" ", now=MONDAY), "reason"),
        (lambda w, c: case_reject(case=c, actor=w.chief_x, reason="", now=MONDAY), "reason"),
        (lambda w, c: case_resolve(case=c, actor=w.chief_x, note="", now=MONDAY), "note"),
        (lambda w, c: case_merge(case=c, actor=w.chief_x, into=c, now=MONDAY), "into"),
        (
            lambda w, c: case_whistle(case=c, actor=w.chief_x, reason="x", urgency="panic", now=MONDAY),
            "urgency",
        ),
    ],
    ids=[
        "whistle-without-reason",
        "reject-without-reason",
        "resolve-without-note",
        "merge-into-self",
        "bad-urgency",
    ],
)
def test_a_missing_requirement_is_invalid_and_changes_nothing(world: World, call: Any, field: str) -> None:
    case = make_case(world, state=S.ACCEPTED)
    before = snapshot(case)
    with pytest.raises(TransitionInvalid) as exc:
        call(world, case)
    assert exc.value.field == field and exc.value.status_code == 400
    assert snapshot(case) == before


def test_the_street_names_a_department_when_it_whistles(world: World) -> None:
    case = make_case(world, state=S.ACCEPTED, tier=T.STREET)
    with pytest.raises(TransitionInvalid, match="责任部门"):
        case_whistle(case=case, actor=world.street_worker, reason="需区级部门", now=MONDAY)
    case_whistle(
        case=case,
        actor=world.street_worker,
        reason="需区级部门",
        departments=[world.dept_lead, world.dept_coop],
        urgency="urgent",
        now=MONDAY,
    )
    case.refresh_from_db()
    assert (case.tier, case.state, case.urgency, case.holder_area) == (
        T.DISTRICT,
        S.SUBMITTED,
        "urgent",
        world.district,
    )
    whistle = Whistle.objects.get(case=case)
    assert set(whistle.departments.all()) == {world.dept_lead, world.dept_coop}
    assert (whistle.from_tier, whistle.to_tier, whistle.automatic, whistle.actor) == (
        T.STREET,
        T.DISTRICT,
        False,
        world.street_worker,
    )


def test_the_city_cannot_whistle_further(world: World) -> None:
    case = make_case(world, state=S.ACCEPTED, tier=T.CITY)
    before = snapshot(case)
    with pytest.raises(TransitionError, match="市级"):
        case_whistle(case=case, actor=world.city_officer, reason="x", now=MONDAY)
    assert snapshot(case) == before


def test_a_fix_photo_is_required_when_the_category_says_so(world: World) -> None:
    world.cat_a.fix_photo_required = True
    world.cat_a.save()
    case = make_case(world, state=S.IN_PROGRESS)
    with pytest.raises(TransitionInvalid) as exc:
        case_resolve(case=case, actor=world.chief_x, note="已修好", now=MONDAY)
    assert exc.value.field == "photos"
    from .test_photos import jpeg_bytes

    case_resolve(case=case, actor=world.chief_x, note="已修好", photos=[jpeg_bytes()], now=MONDAY)
    assert case.photos.get().kind == "fix"


def test_a_quarantined_fix_photo_does_not_count_as_the_fix_photo(world: World) -> None:
    from issues.choices import PhotoState
    from issues.models import CasePhoto

    world.cat_a.fix_photo_required = True
    world.cat_a.save()
    case = make_case(world, state=S.IN_PROGRESS)
    CasePhoto.objects.create(case=case, kind="fix", state=PhotoState.QUARANTINED)
    with pytest.raises(TransitionInvalid) as exc:
        case_resolve(case=case, actor=world.chief_x, note="已修好", now=MONDAY)
    assert exc.value.field == "photos"
    CasePhoto.objects.create(case=case, kind="fix", state=PhotoState.PENDING)  # being processed: counts
    case_resolve(case=case, actor=world.chief_x, note="已修好", now=MONDAY)
    case.refresh_from_db()
    assert case.state == S.AWAITING_VERIFICATION


def test_verification_failure_sends_the_case_back_to_work_with_a_fresh_clock(world: World) -> None:
    case = make_case(world, state=S.AWAITING_VERIFICATION)
    later = MONDAY + dt.timedelta(days=2)
    with pytest.raises(TransitionInvalid):
        case_verify(case=case, actor=world.community_worker_x, passed=False, now=later)
    case_verify(case=case, actor=world.community_worker_x, passed=False, note="灯仍不亮", now=later)
    case.refresh_from_db()
    assert (case.state, case.reopen_count, case.feedback_round) == (S.IN_PROGRESS, 1, 2)
    assert case.escalation_due == case.resolve_due and case.resolve_due > later
    # The warning is for the deadline that governs (resolve), not the tier's accept deadline.
    assert case.accept_due < case.warn_at < case.resolve_due


def test_not_solved_feedback_reopens_and_a_round_is_rated_once(world: World) -> None:
    case = make_case(world, state=S.AWAITING_FEEDBACK)
    case_feedback(
        case=case, solved=FeedbackSolved.NOT_SOLVED, satisfaction=Satisfaction.DISSATISFIED, now=MONDAY
    )
    case.refresh_from_db()
    assert (case.state, case.reopen_count, case.feedback_round) == (S.REOPENED, 1, 2)
    assert case.escalation_due == case.accept_due
    # A second answer for the same round (now round 1 is done) is refused.
    Case.objects.filter(pk=case.pk).update(state=S.AWAITING_FEEDBACK, feedback_round=1)
    with pytest.raises(TransitionError, match="已经评价"):
        case_feedback(
            case=case, solved=FeedbackSolved.SOLVED, satisfaction=Satisfaction.SATISFIED, now=MONDAY
        )
    assert Feedback.objects.filter(case=case).count() == 1


def test_a_return_call_needs_staff(world: World) -> None:
    case = make_case(world, state=S.AWAITING_FEEDBACK)
    with pytest.raises(TransitionForbidden, match="电话回访"):
        case_feedback(
            case=case,
            solved=FeedbackSolved.SOLVED,
            satisfaction=Satisfaction.SATISFIED,
            channel=FeedbackChannel.RETURN_CALL,
            now=MONDAY,
        )


def test_merge_needs_a_visible_open_master(world: World) -> None:
    case = make_case(world)
    elsewhere = make_case(world, alley=world.alley_y)
    with pytest.raises(TransitionInvalid, match="找不到"):
        case_merge(case=case, actor=world.chief_x, into=elsewhere, now=MONDAY)
    master = make_case(world)
    merged = make_case(world)
    case_merge(case=merged, actor=world.chief_x, into=master, now=MONDAY)
    with pytest.raises(TransitionInvalid, match="已被合并"):
        case_merge(case=case, actor=world.chief_x, into=merged, now=MONDAY)
    case_merge(case=case, actor=world.chief_x, into=master, now=MONDAY)
    case.refresh_from_db()
    assert (case.state, case.merged_into, case.closed_at, case.escalation_due) == (
        S.MERGED,
        master,
        MONDAY,
        None,
    )


def test_supervision_once_and_chasing_counts(world: World) -> None:
    case = make_case(world, state=S.ACCEPTED)
    case_supervise(case=case, actor=world.street_worker, now=MONDAY)
    with pytest.raises(TransitionError, match="已在督办"):
        case_supervise(case=case, actor=world.district_officer, now=MONDAY)
    case_chase(case=case, actor=world.street_worker, now=MONDAY)
    case_chase(case=case, actor=world.community_worker_x, now=MONDAY)
    case.refresh_from_db()
    assert (case.supervised, case.chase_count) == (True, 2)
    assert case.events.get(kind=EventKind.SUPERVISED).actor_label == "开元街道"


def test_dispatch_only_at_district_or_city_and_only_once(world: World) -> None:
    low = make_case(world, state=S.ACCEPTED, tier=T.STREET)
    with pytest.raises(TransitionError):
        case_dispatch(case=low, actor=world.street_worker, lead=world.dept_lead, now=MONDAY)
    case = make_case(world, state=S.SUBMITTED, tier=T.DISTRICT)
    with pytest.raises(TransitionInvalid, match="不属于本级"):
        case_dispatch(case=case, actor=world.district_officer, lead=world.dept_far, now=MONDAY)
    case_dispatch(
        case=case,
        actor=world.district_officer,
        lead=world.dept_lead,
        cooperating=[world.dept_coop],
        now=MONDAY,
    )
    case.refresh_from_db()
    assert (case.state, case.lead_department, case.escalation_due, case.warn_at) == (
        S.ACCEPTED,
        world.dept_lead,
        None,
        None,
    )
    lead = case.orders.get(role="lead")
    assert case.resolve_due == lead.complete_due
    assert case.orders.get(role="cooperating").department == world.dept_coop
    with pytest.raises(TransitionError, match="在办派单"):
        case_dispatch(case=case, actor=world.district_officer, lead=world.dept_coop, now=MONDAY)
    # The holder no longer resolves a dispatched case: the lead department completes its order.
    case_mark = Case.objects.get(pk=case.pk)
    case_mark.state = S.IN_PROGRESS
    case_mark.save()
    with pytest.raises(TransitionError, match="牵头部门"):
        case_resolve(case=case, actor=world.district_officer, note="x", now=MONDAY)
    assert "resolve" not in {t.name for t in allowed_transitions(case_mark, world.district_officer)}


def test_a_dispatch_of_what_the_street_reviewed_is_no_supervision(world: World) -> None:
    """Ma'anshan: the street reviews, names the departments, whistles; the district dispatches."""
    case = make_case(world, state=S.ACCEPTED, tier=T.STREET)
    case_whistle(
        case=case, actor=world.street_worker, reason="需区级部门", departments=[world.dept_lead], now=MONDAY
    )
    case_dispatch(case=case, actor=world.district_officer, lead=world.dept_lead, now=MONDAY)
    case.refresh_from_db()
    assert case.supervised is False
    assert not case.events.filter(kind=EventKind.SUPERVISED).exists()
    assert case.events.get(kind=EventKind.DISPATCHED).data["own_supervision"] is False


@pytest.mark.parametrize("how", ["escalated", "registered"])
def test_a_dispatch_nobody_below_reviewed_is_the_org_departments_own_supervision(
    world: World, how: str
) -> None:
    """Issue 15, defect 1: what a street did not review and name departments for, the organisation
    department takes up itself, and that is recorded as its own supervision (督办)."""
    case = make_case(world, state=S.ACCEPTED, tier=T.STREET, category=world.cat_c)
    if how == "escalated":  # the street let its deadline pass: the sweep whistled it up, naming nobody
        case_escalate(case=case, now=case.escalation_due + dt.timedelta(minutes=1))
    else:
        case = make_case(world, state=S.SUBMITTED, tier=T.DISTRICT, category=world.cat_c)
    case_dispatch(case=case, actor=world.district_officer, lead=world.dept_lead, now=MONDAY)
    case.refresh_from_db()
    assert case.tier == T.DISTRICT and case.supervised is True
    [event] = case.events.filter(kind=EventKind.SUPERVISED)
    assert "直接派单" in event.note and event.actor == world.district_officer
    assert case.events.get(kind=EventKind.DISPATCHED).data["own_supervision"] is True


def test_a_district_dispatches_to_its_own_departments_not_the_citys(world: World) -> None:
    case = make_case(world, state=S.ACCEPTED, tier=T.DISTRICT)
    with pytest.raises(TransitionInvalid, match="不属于本级"):
        case_dispatch(case=case, actor=world.district_officer, lead=world.dept_city, now=MONDAY)


def test_case_escalate_moves_once_per_tier(world: World) -> None:
    case = make_case(world)
    assert case.escalation_due is not None
    late = case.escalation_due + dt.timedelta(minutes=1)
    assert case_escalate(case=case, now=case.escalation_due - dt.timedelta(minutes=1)) is None
    moved = case_escalate(case=case, now=late)
    assert moved is not None and moved.tier == T.COMMUNITY
    # Run again at once: the new tier's clock has not run out, nothing happens.
    assert case_escalate(case=case, now=late) is None
    assert Whistle.objects.filter(case=case).count() == 1
    event = case.events.get(kind=EventKind.ESCALATED)
    assert (event.from_tier, event.to_tier, event.actor_label) == (T.ALLEY, T.COMMUNITY, "系统")
    assert "超过受理期限" in event.note


def test_reopened_dispatched_case_returns_to_its_lead_department(world: World) -> None:
    from issues.workflow.orders import order_complete, order_report

    case = make_case(world, state=S.ACCEPTED, tier=T.DISTRICT)
    case_dispatch(case=case, actor=world.district_officer, lead=world.dept_lead, now=MONDAY)
    order = case.orders.get()
    order_report(
        order=order,
        actor=world.lead_contact,
        leader_name="王局",
        contact_name="李科",
        contact_phone="0595-1",
        work_plan="清理",
        visit_at=MONDAY,
        visitors=["王局"],
        now=MONDAY,
    )
    order_complete(order=order, actor=world.lead_contact, note="已清理", now=MONDAY)
    case_verify(case=case, actor=world.community_worker_x, passed=True, now=MONDAY)
    case_feedback(
        case=case, solved=FeedbackSolved.NOT_SOLVED, satisfaction=Satisfaction.DISSATISFIED, now=MONDAY
    )
    case.refresh_from_db()
    order.refresh_from_db()
    assert (case.state, order.state, order.completed_at) == (S.IN_PROGRESS, "reported", None)
    assert (case.escalation_due, case.resolve_due) == (None, order.complete_due)


# --- the buttons offer only what the call would accept ------------------------------------------------


def offered(case: Case, actor: Any) -> set[str]:
    return {t.name for t in allowed_transitions(Case.objects.get(pk=case.pk), actor)}


def test_no_dispatch_button_on_a_case_with_active_orders(world: World) -> None:
    case = make_case(world, state=S.ACCEPTED, tier=T.DISTRICT)
    assert "dispatch" in offered(case, world.district_officer)
    case_dispatch(case=case, actor=world.district_officer, lead=world.dept_lead, now=MONDAY)
    assert "dispatch" not in offered(case, world.district_officer)


def test_no_supervise_button_on_a_supervised_case(world: World) -> None:
    case = make_case(world, state=S.ACCEPTED)
    case_supervise(case=case, actor=world.street_worker, now=MONDAY)
    assert "supervise" not in offered(case, world.district_officer)


# --- photos through the transitions ---------------------------------------------------------------------


def test_a_bad_photo_refuses_the_whole_report(world: World) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from .test_photos import jpeg_bytes

    fake = SimpleUploadedFile("lamp.jpg", b"not a picture at all" * 20)
    with pytest.raises(TransitionInvalid) as exc:
        case_submit(
            category=world.cat_a,
            alley=world.alley_x,
            description="路灯",
            photos=[jpeg_bytes(), fake],
            now=MONDAY,
        )
    assert exc.value.field == "photos" and "图片" in exc.value.message
    assert not Case.objects.exists()


def test_report_photos_are_stored_cleaned_and_private(
    world: World, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from PIL import Image

    from .test_photos import jpeg_bytes

    # After commit each photo's processing task runs (eager in the tests).
    with django_capture_on_commit_callbacks(execute=True):
        case = case_submit(
            category=world.cat_a,
            alley=world.alley_x,
            description="路灯",
            photos=[jpeg_bytes(gps=True), jpeg_bytes()],
            now=MONDAY,
        )
    photos = list(case.photos.all())
    assert {p.state for p in photos} == {"ready"}
    assert [(p.kind, p.is_public, p.event.kind) for p in photos] == [
        ("report", False, EventKind.SUBMITTED)
    ] * 2
    with photos[0].image.open("rb") as stored:
        assert dict(Image.open(stored).getexif()) == {}
    settings.JXT_MAX_PHOTOS = 1
    with pytest.raises(TransitionInvalid, match="最多上传 1 张"):
        case_submit(
            category=world.cat_a,
            alley=world.alley_x,
            description="路灯",
            photos=[jpeg_bytes(), jpeg_bytes()],
            now=MONDAY,
        )
