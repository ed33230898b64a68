"""issues/workflow/meetings.py: the proposed agenda, holding a meeting, one decision per item, and the
whistle rule it carries (a district whistles to the city only as its joint meeting decided).

Permission tables name every actor of the small world (tests/factories.py): who may plan, edit,
hold and decide each level's meeting, and everyone else is refused with nothing changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from alleys.choices import AreaLevel
from issues.choices import AgendaGround, AgendaState, CaseState, Decision, EventKind, MeetingState
from issues.models import AgendaItem, CaseEvent, JointMeeting, StandingMechanism, Whistle
from issues.public.selectors import case_progress
from issues.sweep import run_sweep
from issues.workflow import (
    TransitionError,
    TransitionForbidden,
    TransitionInvalid,
    case_dispatch,
    case_supervise,
    case_whistle,
)
from issues.workflow.mechanisms import MechanismDraft
from issues.workflow.meetings import (
    agenda_item_decide,
    hard_items,
    meeting_agenda_add,
    meeting_agenda_remove,
    meeting_hold,
    meeting_plan,
)
from issues.workflow.orders import common_issue_create
from tests.factories import (
    ACTORS,
    MONDAY,
    World,
    decided_to_whistle_up,
    make_case,
)

pytestmark = pytest.mark.django_db

EVERYONE: tuple[str, ...] = (*ACTORS, "admin", "anonymous")
S = CaseState
T = AreaLevel
LATER = MONDAY + dt.timedelta(days=3)

# Who convenes each level's meeting of the world's named units.
CONVENERS: dict[str, tuple[str, set[str]]] = {
    T.COMMUNITY: ("community_x", {"community_worker_x", "admin"}),
    T.STREET: ("street", {"street_worker", "admin"}),
    T.DISTRICT: ("district", {"district_officer", "admin"}),
    T.CITY: ("city", {"city_officer", "admin"}),
}


def held(world: World, area: Any, *cases: Any, actor: Any = None, when: dt.datetime = MONDAY) -> JointMeeting:
    """A meeting of ``area`` with exactly ``cases`` on its agenda, held, through the services."""
    unit = actor or world.admin
    meeting = meeting_plan(actor=unit, area=area, date=when.date(), now=when)
    meeting.items.all().delete()
    for case in cases:
        meeting_agenda_add(meeting=meeting, actor=unit, case=case, now=when)
    return meeting_hold(
        meeting=meeting, actor=unit, attendees="社区书记、民警", minutes="研究了难点事项", now=when
    )


def item_of(meeting: JointMeeting, case: Any) -> AgendaItem:
    return meeting.items.get(case=case)


# --- the proposed agenda ----------------------------------------------------------------------------


def test_a_communitys_hard_items_are_its_open_c_d_cases_its_supervised_or_overdue_cases_and_common_issues(
    world: World,
) -> None:
    hard_at_alley = make_case(world, category=world.cat_c, state=S.ACCEPTED)
    hard_at_community = make_case(world, category=world.cat_d, tier=T.COMMUNITY)
    supervised = make_case(world, tier=T.COMMUNITY, state=S.ACCEPTED)
    case_supervise(case=supervised, actor=world.street_worker, now=MONDAY)
    overdue = make_case(world, tier=T.COMMUNITY, state=S.ACCEPTED, now=MONDAY - dt.timedelta(days=60))
    easy = make_case(world)  # an A case with the alley team, on time
    overdue_in_the_alley = make_case(world, state=S.ACCEPTED, now=MONDAY - dt.timedelta(days=60))
    left_for_the_street = make_case(world, category=world.cat_c, tier=T.STREET)
    elsewhere = make_case(world, category=world.cat_c, alley=world.alley_y)
    closed = make_case(world, category=world.cat_c, state=S.AWAITING_FEEDBACK)
    closed.state = S.CLOSED
    closed.save()
    issue = common_issue_create(
        actor=world.district_officer, title="占道经营", cases=[easy, elsewhere], now=MONDAY
    )
    other_issue = common_issue_create(
        actor=world.district_officer, title="别处", cases=[elsewhere], now=MONDAY
    )

    proposed = hard_items(world.community_x, now=MONDAY)

    cases = [p.case for p in proposed if p.case is not None]
    assert cases == [supervised, overdue, hard_at_alley, hard_at_community]  # the most pressing first
    grounds = {p.case.pk: set(p.grounds) for p in proposed if p.case is not None}
    assert grounds[supervised.pk] == {AgendaGround.SUPERVISED}
    assert grounds[overdue.pk] == {AgendaGround.OVERDUE}
    assert grounds[hard_at_alley.pk] == {AgendaGround.HARD_CLASS}
    assert [p.common_issue for p in proposed if p.common_issue is not None] == [issue]
    for absent in (easy, overdue_in_the_alley, left_for_the_street, elsewhere, closed):
        assert absent not in cases
    assert other_issue not in [p.common_issue for p in proposed]


def test_a_street_meeting_studies_what_the_street_holds(world: World) -> None:
    here = make_case(world, tier=T.STREET, state=S.ACCEPTED)
    below = make_case(world, category=world.cat_c, tier=T.COMMUNITY)
    other_street = make_case(world, category=world.cat_c, alley=world.other_alley, tier=T.STREET)
    proposed = hard_items(world.street, now=MONDAY)
    assert [p.case for p in proposed] == [here]
    assert proposed[0].grounds == (AgendaGround.HELD_HERE,)
    assert below and other_street


def test_planning_proposes_the_agenda_and_the_unit_edits_it(world: World) -> None:
    hard = make_case(world, category=world.cat_c, tier=T.COMMUNITY)
    easy = make_case(world)
    meeting = meeting_plan(
        actor=world.community_worker_x, area=world.community_x, date=MONDAY.date(), now=MONDAY
    )
    assert meeting.state == MeetingState.PLANNED
    assert meeting.title == "2026年第1季度新华社区联席会议"
    [item] = meeting.items.all()
    assert (item.case, item.grounds) == (hard, [AgendaGround.HARD_CLASS])
    added = meeting_agenda_add(meeting=meeting, actor=world.community_worker_x, case=easy, now=MONDAY)
    assert added.grounds == [AgendaGround.ADDED] and added.position == 2
    with pytest.raises(TransitionInvalid, match="已在本次会议"):
        meeting_agenda_add(meeting=meeting, actor=world.community_worker_x, case=easy, now=MONDAY)
    with pytest.raises(TransitionInvalid, match="辖区"):
        meeting_agenda_add(
            meeting=meeting, actor=world.community_worker_x, case=make_case(world, alley=world.alley_y)
        )
    meeting_agenda_remove(meeting=meeting, actor=world.community_worker_x, item=item)
    assert list(meeting.items.values_list("case", flat=True)) == [easy.pk]
    # Nothing reaches a case's timeline while the agenda is only a draft.
    assert not CaseEvent.objects.filter(kind__in=[EventKind.MEETING_HELD, EventKind.MEETING_DECIDED]).exists()


# --- who may ----------------------------------------------------------------------------------------

Step = Callable[[World, JointMeeting, Any], Any]


def _plan(world: World, meeting: JointMeeting, actor: Any) -> Any:
    return meeting_plan(actor=actor, area=meeting.area, date=MONDAY.date(), now=MONDAY)


def _add(world: World, meeting: JointMeeting, actor: Any) -> Any:
    case = make_case(world, tier=T.COMMUNITY if meeting.area.level == T.COMMUNITY else meeting.area.level)
    return meeting_agenda_add(meeting=meeting, actor=actor, case=case, now=MONDAY)


def _remove(world: World, meeting: JointMeeting, actor: Any) -> Any:
    return meeting_agenda_remove(meeting=meeting, actor=actor, item=meeting.items.first())


def _hold(world: World, meeting: JointMeeting, actor: Any) -> Any:
    return meeting_hold(meeting=meeting, actor=actor, attendees="书记", now=MONDAY)


def _decide(world: World, meeting: JointMeeting, actor: Any) -> Any:
    meeting_hold(meeting=meeting, actor=world.admin, attendees="书记", now=MONDAY)
    return agenda_item_decide(
        item=meeting.items.first(),
        actor=actor,
        decision=Decision.SETTLE,
        assignments="社区牵头清理",
        now=MONDAY,
    )


STEPS: dict[str, Step] = {
    "plan": _plan,
    "agenda-add": _add,
    "agenda-remove": _remove,
    "hold": _hold,
    "decide": _decide,
}


def fresh_meeting(world: World, level: str) -> JointMeeting:
    area = getattr(world, CONVENERS[level][0])
    meeting = meeting_plan(actor=world.admin, area=area, date=MONDAY.date(), now=MONDAY)
    tier = T.COMMUNITY if level == T.COMMUNITY else level
    meeting_agenda_add(meeting=meeting, actor=world.admin, case=make_case(world, tier=tier), now=MONDAY)
    return meeting


def state_of(meeting: JointMeeting) -> tuple[Any, ...]:
    return (
        JointMeeting.objects.filter(pk=meeting.pk).values().get(),
        list(AgendaItem.objects.filter(meeting=meeting).values()),
        JointMeeting.objects.filter(area=meeting.area).count(),
        CaseEvent.objects.count(),
    )


@pytest.mark.parametrize("level", list(CONVENERS))
@pytest.mark.parametrize("step", list(STEPS))
def test_only_the_units_staff_may_plan_edit_hold_and_decide(world: World, level: str, step: str) -> None:
    may = CONVENERS[level][1]
    outcomes = {}
    for name in EVERYONE:
        meeting = fresh_meeting(world, level)
        before = state_of(meeting)
        try:
            STEPS[step](world, meeting, world.actor(name))
        except TransitionForbidden:
            if step != "decide":  # deciding held it first (as admin) on purpose
                assert state_of(meeting) == before, f"{name}: a refused {step} changed something"
            outcomes[name] = "forbidden"
        else:
            outcomes[name] = "may"
    assert outcomes == {name: "may" if name in may else "forbidden" for name in EVERYONE}


def test_the_agenda_is_fixed_once_the_meeting_is_held_and_decisions_wait_for_it(world: World) -> None:
    case = make_case(world, tier=T.COMMUNITY)
    meeting = meeting_plan(
        actor=world.community_worker_x, area=world.community_x, date=MONDAY.date(), now=MONDAY
    )
    item = meeting_agenda_add(meeting=meeting, actor=world.community_worker_x, case=case, now=MONDAY)
    with pytest.raises(TransitionError, match="尚未召开"):
        agenda_item_decide(
            item=item, actor=world.community_worker_x, decision=Decision.SETTLE, assignments="x"
        )
    with pytest.raises(TransitionInvalid, match="出席"):
        meeting_hold(meeting=meeting, actor=world.community_worker_x, now=MONDAY)
    meeting_hold(meeting=meeting, actor=world.community_worker_x, attendees="书记", now=MONDAY)
    with pytest.raises(TransitionError, match="已召开"):
        meeting_agenda_add(meeting=meeting, actor=world.community_worker_x, case=make_case(world), now=MONDAY)
    with pytest.raises(TransitionError, match="已召开"):
        meeting_hold(meeting=meeting, actor=world.community_worker_x, attendees="书记", now=MONDAY)


def test_one_decision_per_item(world: World) -> None:
    case = make_case(world, tier=T.COMMUNITY)
    meeting = held(world, world.community_x, case, actor=world.community_worker_x)
    item = item_of(meeting, case)
    with pytest.raises(TransitionInvalid, match="分工") as missing:
        agenda_item_decide(item=item, actor=world.community_worker_x, decision=Decision.SETTLE, now=LATER)
    assert missing.value.field == "assignments"
    with pytest.raises(TransitionInvalid, match="决定"):
        agenda_item_decide(item=item, actor=world.community_worker_x, decision="postpone", now=LATER)
    agenda_item_decide(
        item=item,
        actor=world.community_worker_x,
        decision=Decision.SETTLE,
        assignments="巷长负责劝离，城管配合",
        departments=[world.dept_lead],
        now=LATER,
    )
    item.refresh_from_db()
    assert (item.state, item.decision, item.decided_by) == (
        AgendaState.DECIDED,
        Decision.SETTLE,
        world.community_worker_x,
    )
    with pytest.raises(TransitionError, match="只能作出一个决定"):
        agenda_item_decide(item=item, actor=world.community_worker_x, decision=Decision.WHISTLE_UP, now=LATER)
    case.refresh_from_db()
    assert (case.tier, case.state) == (T.COMMUNITY, S.SUBMITTED)  # settled here: the case stays


# --- the case timeline -------------------------------------------------------------------------------


def test_the_public_reads_a_neutral_line_staff_read_the_decision(world: World) -> None:
    case = make_case(world, tier=T.COMMUNITY)
    meeting = meeting_plan(
        actor=world.community_worker_x, area=world.community_x, date=MONDAY.date(), now=MONDAY
    )
    meeting_agenda_add(meeting=meeting, actor=world.community_worker_x, case=case, now=MONDAY)
    meeting_hold(
        meeting=meeting,
        actor=world.community_worker_x,
        attendees="王书记、李民警",
        minutes="王书记提出由巷长张三劝离摊贩",
        now=MONDAY,
    )
    agenda_item_decide(
        item=item_of(meeting, case),
        actor=world.community_worker_x,
        decision=Decision.SETTLE,
        assignments="巷长张三负责劝离摊贩",
        departments=[world.dept_lead],
        now=LATER,
    )
    studied = case.events.get(kind=EventKind.MEETING_HELD)
    decided = case.events.get(kind=EventKind.MEETING_DECIDED)
    assert (studied.public, studied.note, studied.actor_label) == (
        True,
        "经新华社区联席会议研究。",
        "新华社区",
    )
    assert decided.public is False
    assert "巷长张三负责劝离摊贩" in decided.note and "鲤城区城管局" in decided.note
    assert decided.data["department_ids"] == [world.dept_lead.pk]
    progress = case_progress(case)
    public = " ".join(f"{e.kind} {e.unit} {e.note}" for e in progress.events)
    assert "经新华社区联席会议研究" in public
    for private in ("张三", "王书记", "李民警", "劝离", "城管局"):
        assert private not in public


# --- whistling up ------------------------------------------------------------------------------------


def test_a_street_meetings_whistle_up_is_the_streets_whistle_naming_departments(world: World) -> None:
    case = make_case(world, category=world.cat_c, tier=T.STREET, state=S.ACCEPTED)
    meeting = held(world, world.street, case, actor=world.street_worker)
    item = item_of(meeting, case)
    with pytest.raises(TransitionInvalid, match="点名责任部门"):
        agenda_item_decide(item=item, actor=world.street_worker, decision=Decision.WHISTLE_UP, now=LATER)
    with pytest.raises(TransitionInvalid, match="派单范围"):
        agenda_item_decide(
            item=item, actor=world.street_worker, decision=Decision.WHISTLE_UP, departments=[world.dept_far]
        )
    agenda_item_decide(
        item=item,
        actor=world.street_worker,
        decision=Decision.WHISTLE_UP,
        departments=[world.dept_lead, world.dept_coop],
        note="占道严重，需城管执法",
        now=LATER,
    )
    case.refresh_from_db()
    assert (case.tier, case.state, case.holder_area) == (T.DISTRICT, S.SUBMITTED, world.district)
    whistle = Whistle.objects.get(case=case)
    assert (whistle.decision, whistle.actor, whistle.from_tier) == (item, world.street_worker, T.STREET)
    assert set(whistle.departments.all()) == {world.dept_lead, world.dept_coop}
    whistled = case.events.get(kind=EventKind.WHISTLED)
    assert whistled.public and whistled.note == "经开元街道联席会议研究，决定吹哨上报。"
    assert [e.kind for e in case.events.order_by("pk")][-3:] == [
        EventKind.MEETING_HELD,
        EventKind.MEETING_DECIDED,
        EventKind.WHISTLED,
    ]
    # The district dispatches what the street reviewed: no supervision of its own.
    case_dispatch(case=case, actor=world.district_officer, lead=world.dept_lead, now=LATER)
    case.refresh_from_db()
    assert case.supervised is False


def test_a_community_meeting_sends_an_alley_case_through_the_community_to_the_street(world: World) -> None:
    case = make_case(world, category=world.cat_c, state=S.ACCEPTED)  # with the alley team
    meeting = held(world, world.community_x, case, actor=world.community_worker_x)
    agenda_item_decide(
        item=item_of(meeting, case), actor=world.community_worker_x, decision=Decision.WHISTLE_UP, now=LATER
    )
    case.refresh_from_db()
    assert (case.tier, case.holder_area) == (T.STREET, world.street)
    steps = list(
        Whistle.objects.filter(case=case).order_by("pk").values_list("from_tier", "to_tier", "decision")
    )
    item = item_of(meeting, case)
    assert steps == [(T.ALLEY, T.COMMUNITY, item.pk), (T.COMMUNITY, T.STREET, item.pk)]


def test_a_meeting_cannot_whistle_up_what_it_does_not_hold(world: World) -> None:
    case = make_case(world, category=world.cat_c, tier=T.COMMUNITY)
    meeting = held(world, world.street, case, actor=world.street_worker)
    before = (case.events.count(), Whistle.objects.count())
    with pytest.raises(TransitionError, match="不在本次会议的层级"):
        agenda_item_decide(
            item=item_of(meeting, case),
            actor=world.street_worker,
            decision=Decision.WHISTLE_UP,
            departments=[world.dept_lead],
            now=LATER,
        )
    assert (case.events.count(), Whistle.objects.count()) == before
    assert item_of(meeting, case).state == AgendaState.PENDING  # nothing half-written


def test_the_district_whistles_to_the_city_only_as_its_joint_meeting_decided(world: World) -> None:
    case = make_case(world, category=world.cat_d, tier=T.DISTRICT, state=S.ACCEPTED)
    before = (case.events.count(), Whistle.objects.filter(case=case).count())
    with pytest.raises(TransitionInvalid) as refused:
        case_whistle(case=case, actor=world.district_officer, reason="区直部门无法解决", now=LATER)
    assert refused.value.field == "decision" and refused.value.status_code == 400
    assert "区委联席会议" in refused.value.message and "鲤城区委联席会议" in refused.value.message
    assert (case.events.count(), Whistle.objects.filter(case=case).count()) == before
    # Another district's meeting, or a street meeting, decides nothing for this district.
    decided_to_whistle_up(case, area=world.other_district)
    decided_to_whistle_up(case, area=world.street)
    with pytest.raises(TransitionInvalid, match="区委联席会议"):
        case_whistle(case=case, actor=world.district_officer, reason="x", now=LATER)

    meeting = held(world, world.district, case, actor=world.district_officer)
    agenda_item_decide(
        item=item_of(meeting, case),
        actor=world.district_officer,
        decision=Decision.WHISTLE_UP,
        departments=[world.dept_city],
        now=LATER,
    )
    case.refresh_from_db()
    assert (case.tier, case.holder_area) == (T.CITY, world.city)
    whistle = Whistle.objects.get(case=case, to_tier=T.CITY)
    assert whistle.decision == item_of(meeting, case)
    assert list(whistle.departments.all()) == [world.dept_city]


def test_a_district_decision_recorded_before_lets_the_holder_whistle(world: World) -> None:
    """The rule is the decision, whoever carries it out: a decision written by a data import or an
    older release, before the meeting performed its whistles, still warrants one."""
    case = make_case(world, category=world.cat_d, tier=T.DISTRICT, state=S.ACCEPTED)
    item = decided_to_whistle_up(case, area=world.district)
    case_whistle(case=case, actor=world.district_officer, reason="经区委联席会议研究", now=LATER)
    assert Whistle.objects.get(case=case, to_tier=T.CITY).decision == item


def test_the_sweeps_escalation_from_the_district_needs_no_meeting(world: World) -> None:
    """A missed deadline is not a decision to whistle: the class's highest tier is the city."""
    case = make_case(world, category=world.cat_d, tier=T.DISTRICT)
    run_sweep(now=case.escalation_due + dt.timedelta(minutes=1))
    case.refresh_from_db()
    assert case.tier == T.CITY
    assert Whistle.objects.get(case=case, to_tier=T.CITY).automatic is True


def test_a_common_issue_is_not_whistled_up(world: World) -> None:
    issue = common_issue_create(
        actor=world.district_officer, title="共性", cases=[make_case(world)], now=MONDAY
    )
    meeting = meeting_plan(
        actor=world.community_worker_x, area=world.community_x, date=MONDAY.date(), now=MONDAY
    )
    item = meeting.items.get(common_issue=issue)
    meeting_hold(meeting=meeting, actor=world.community_worker_x, attendees="书记", now=MONDAY)
    with pytest.raises(TransitionInvalid, match="共性问题"):
        agenda_item_decide(item=item, actor=world.community_worker_x, decision=Decision.WHISTLE_UP)


# --- standing mechanisms -----------------------------------------------------------------------------


def draft(world: World, **fields: Any) -> MechanismDraft:
    values: dict[str, Any] = {
        "title": "背街小巷占道经营常态化治理机制",
        "owner_department": world.dept_lead,
        "review_on": (LATER + dt.timedelta(days=180)).date(),
        "category_type": world.cat_c,
        "cooperating": (world.dept_coop,),
        "document_title": "关于建立背街小巷占道经营长效治理机制的通知",
        "document_number": "鲤城管〔2026〕3号",
    }
    values.update(fields)
    return MechanismDraft(**values)


def test_a_mechanism_decision_makes_the_mechanism_linked_to_where_it_came_from(world: World) -> None:
    cases = [
        make_case(world, category=world.cat_c),
        make_case(world, category=world.cat_c, alley=world.alley_y),
    ]
    issue = common_issue_create(actor=world.district_officer, title="占道经营反复", cases=cases, now=MONDAY)
    meeting = meeting_plan(actor=world.street_worker, area=world.street, date=MONDAY.date(), now=MONDAY)
    item = meeting.items.get(common_issue=issue)
    meeting_hold(
        meeting=meeting, actor=world.street_worker, present_departments=[world.dept_lead], now=MONDAY
    )
    for wrong, message in (
        ({"owner_department": None}, "牵头责任部门"),
        ({"category_class": world.cat_c.category_class}, "一类问题"),
        ({"category_type": None}, "一类问题"),
        ({"review_on": MONDAY.date()}, "复核日期"),
    ):
        with pytest.raises(TransitionInvalid, match=message):
            agenda_item_decide(
                item=item,
                actor=world.street_worker,
                decision=Decision.MECHANISM,
                mechanism=draft(world, **wrong),
            )
    assert not StandingMechanism.objects.exists()
    agenda_item_decide(
        item=item, actor=world.street_worker, decision=Decision.MECHANISM, mechanism=draft(world), now=LATER
    )
    mechanism = StandingMechanism.objects.get()
    assert (mechanism.decision, mechanism.common_issue, mechanism.area) == (item, issue, world.street)
    assert set(mechanism.cases.all()) == set(cases)
    assert list(mechanism.cooperating_departments.all()) == [world.dept_coop]
    assert list(mechanism.reviews.values_list("due_on", flat=True)) == [
        (LATER + dt.timedelta(days=180)).date()
    ]
    # Both cases of the street's territory get the lines; the decision names the mechanism.
    for case in cases:
        decided = case.events.get(kind=EventKind.MEETING_DECIDED)
        assert decided.data["mechanism_id"] == mechanism.pk and "长效机制" in decided.note


# --- two clerks at once (PostgreSQL's row locks, committed for real) ---------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clerks_deciding_one_item_at_once_record_one_decision(transactional_db: None) -> None:
    from tests.factories import build_world
    from tests.faults import race

    world = build_world()
    case = make_case(world, category=world.cat_c, tier=T.STREET, state=S.ACCEPTED)
    meeting = held(world, world.street, case, actor=world.street_worker)
    item = item_of(meeting, case).pk
    result, error = race(
        lambda: agenda_item_decide(
            item=item,
            actor=world.street_worker,
            decision=Decision.WHISTLE_UP,
            departments=[world.dept_lead],
            now=LATER,
        ),
        lambda: agenda_item_decide(item=item, actor=world.admin, decision=Decision.SETTLE, assignments="x"),
    )
    assert result is None
    assert isinstance(error, TransitionError) and "只能作出一个决定" in error.message
    assert AgendaItem.objects.get(pk=item).decision == Decision.WHISTLE_UP
    assert Whistle.objects.filter(case=case).count() == 1
    assert case.events.filter(kind=EventKind.MEETING_DECIDED).count() == 1
