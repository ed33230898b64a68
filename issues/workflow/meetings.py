"""Joint meetings (联席会议): the proposed agenda, editing it, holding the meeting, one decision per item.

Ma'anshan: a community's hard items are studied each quarter at its Party-building joint
meeting, then sent to the street; the street reviews them, names the departments and whistles;
what district departments cannot solve goes to the city after the district's meeting. Quanzhou
runs street–community two-level joint meetings. Here:

- ``hard_items`` is the rule of what a meeting should study (its docstring says what "hard" is);
  ``meeting_plan`` proposes it as the agenda, which the unit edits (``meeting_agenda_add``,
  ``meeting_agenda_remove``) until it holds the meeting (``meeting_hold``: who came, minutes).
- ``agenda_item_decide`` records the one decision on an item: settle here (who does what),
  whistle up naming departments, or make a standing mechanism. **Recording "whistle up"
  performs the whistle**, through ``case_whistle`` in the same transaction, with the decision
  as its warrant: the meeting is where the unit reviews the item and names the departments
  (Ma'anshan's street "审核…明确责任部门后…启动吹哨程序"), so a decision that only enabled a
  whistle could be taken and never carried out, and the unit would type the same departments
  twice. It is also why a district's whistle to the city — which needs this decision
  (``rules.whistle_decision``) — happens only through its meeting. A community meeting's
  decision on a case still with one of its alleys' teams brings it up through the community
  (the community acts for its alleys' teams) to the street.
- The public timeline of a case gets one neutral line when the meeting that studied it is held
  (经…联席会议研究: no minutes, no names); the decision is a staff-only line (and the whistle's
  own public line says only that the meeting decided it).

The checks are the table's (``rules.MEETING_TRANSITIONS``); each service locks its row first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from alleys.choices import AreaLevel
from alleys.models import Area, Department
from alleys.people import Member
from alleys.scoping import scope_for
from dispatch.chain import next_tier, tier_index

from ..choices import (
    OPEN_STATES,
    AgendaGround,
    Decision,
    EventKind,
    MeetingState,
)
from ..deadline_state import case_due, overdue_q
from ..models import (
    MEETING_LEVELS,
    AgendaItem,
    Case,
    CaseEvent,
    CommonIssue,
    JointMeeting,
    MeetingAttachment,
)
from .cases import case_whistle
from .events import lock_case, lock_for_transition, moment, notify_after_commit, record_event, stored
from .mechanisms import MechanismDraft, mechanism_create
from .rules import (
    MEETING_TRANSITIONS,
    TransitionError,
    TransitionForbidden,
    TransitionInvalid,
    check,
    may_receive_orders_from,
)

# Classes whose cases may climb above the street by themselves (``CategoryClass.top_tier``: C to
# the district, D to the city in the shipped taxonomy): what the street cannot settle, hence hard.
HARD_TOP_TIERS: tuple[str, ...] = (AreaLevel.DISTRICT, AreaLevel.CITY)


@dataclass(frozen=True)
class Proposal:
    """One proposed agenda item: a case or a common issue, and why it is hard."""

    case: Case | None
    common_issue: CommonIssue | None
    grounds: tuple[str, ...]


def hard_items(area: Area, *, now: dt.datetime) -> list[Proposal]:
    """What the joint meeting of ``area`` should study: its open hard items, most pressing first.

    A **community**'s hard items (its quarterly Party-building joint meeting):

    - open cases of the hard classes (C and D: classes whose cases climb above the street,
      ``HARD_TOP_TIERS``) in its territory that have not left it (held by one of its alleys'
      teams or by the community itself);
    - open cases the community holds that are supervised (督办) or overdue (the accept or
      resolve deadline has passed), of any class;
    - open common issues touching it (one of their open cases lies in its territory).

    A **street**, **district** or **city** meeting studies the open cases its unit holds at its
    own tier — whatever reached the street has already been found hard below it — and the open
    common issues touching its territory (or coordinated by its organisation department).

    Order: supervised, then overdue, then the rest; oldest first within each.
    """
    level = str(area.level)
    cases = (
        Case.objects.open()
        .filter(alley__code__startswith=area.code)
        .select_related("category__category_class")
    )
    held_here = Q(tier=level, holder_area=area)
    if level == AreaLevel.COMMUNITY:
        hard = Q(
            category__category_class__top_tier__in=HARD_TOP_TIERS,
            tier__in=[AreaLevel.ALLEY, AreaLevel.COMMUNITY],
        )
        cases = cases.filter(hard | (held_here & (Q(supervised=True) | overdue_q(now))))
    else:
        cases = cases.filter(held_here)
    proposals: list[tuple[tuple[int, dt.datetime, int], Proposal]] = []
    for case in cases.order_by("created_at", "pk"):
        grounds: list[str] = []
        here = case.tier == level and case.holder_area_id == area.pk
        if here and case.supervised:
            grounds.append(AgendaGround.SUPERVISED)
        due = case_due(case, now)
        if here and due is not None and due.is_overdue:
            grounds.append(AgendaGround.OVERDUE)
        if case.category.category_class.top_tier in HARD_TOP_TIERS:
            grounds.append(AgendaGround.HARD_CLASS)
        if level != AreaLevel.COMMUNITY:
            grounds.append(AgendaGround.HELD_HERE)
        rank = 0 if AgendaGround.SUPERVISED in grounds else 1 if AgendaGround.OVERDUE in grounds else 2
        proposals.append(((rank, case.created_at, case.pk), Proposal(case, None, tuple(grounds))))
    proposals.sort(key=lambda pair: pair[0])
    items = [proposal for _key, proposal in proposals]
    for issue in common_issues_touching(area):
        items.append(Proposal(None, issue, (AgendaGround.COMMON_ISSUE,)))
    return items


def common_issues_touching(area: Area) -> list[CommonIssue]:
    """Open common issues (one of their cases still open) with a case in ``area``'s territory, or
    coordinated by its organisation department."""
    touching = Q(cases__alley__code__startswith=area.code, cases__state__in=sorted(OPEN_STATES))
    if area.level in (AreaLevel.DISTRICT, AreaLevel.CITY):
        touching |= Q(coordinator_area=area, cases__state__in=sorted(OPEN_STATES))
    ids = CommonIssue.objects.filter(touching).values("pk")
    return list(CommonIssue.objects.filter(pk__in=ids).order_by("created_at", "pk"))


def meeting_unit_name(area: Area) -> str:
    """The convening unit as the public reads it: the community or street, the district's or city's committee."""
    if area.level in (AreaLevel.DISTRICT, AreaLevel.CITY):
        return stored(gettext_noop("%(area)s委"), area=area.name)
    return str(area.name)


def default_title(area: Area, date: dt.date) -> str:
    """2026年第1季度新华社区联席会议 (the quarter the meeting studies)."""
    quarter = (date.month - 1) // 3 + 1
    with translation.override(settings.LANGUAGE_CODE):
        return _("%(year)d年第%(quarter)d季度%(unit)s联席会议") % {
            "year": date.year,
            "quarter": quarter,
            "unit": meeting_unit_name(area),
        }


def lock_meeting(meeting: JointMeeting | int) -> JointMeeting:
    """Lock the meeting row for a change, with its area."""
    return lock_for_transition(
        JointMeeting.objects.select_related("area"),
        meeting if isinstance(meeting, int) else meeting.pk,
        changed=_("会议刚刚发生了变化，本次操作未执行。请刷新后查看。"),
    )


def lock_item(item: AgendaItem | int) -> AgendaItem:
    """Lock an agenda item for its decision, with its meeting, area and subject."""
    return lock_for_transition(
        AgendaItem.objects.select_related(
            "meeting", "meeting__area", "case", "case__alley", "case__holder_area", "common_issue"
        ),
        item if isinstance(item, int) else item.pk,
        changed=_("议题刚刚发生了变化，本次操作未执行。请刷新后查看。"),
    )


# --- planning the agenda ----------------------------------------------------------------------------


def meeting_plan(
    *,
    actor: Member,
    area: Area,
    date: dt.date,
    title: str = "",
    now: dt.datetime | None = None,
) -> JointMeeting:
    """A new joint meeting of ``area`` with its agenda proposed from the unit's hard items (``hard_items``)."""
    now = moment(now)
    if area.level not in MEETING_LEVELS:
        raise TransitionInvalid(_("只有社区、街道、区、市召开联席会议。"), field="area")
    if actor is None or not scope_for(actor).holds_tier(area.level, area.code):
        raise TransitionForbidden(_("只有%(unit)s的工作人员可以拟定本单位的联席会议。") % {"unit": area.name})
    if not isinstance(date, dt.date):
        raise TransitionInvalid(_("请填写会议日期。"), field="date")
    title = (title or "").strip() or default_title(area, date)
    with transaction.atomic():
        meeting = JointMeeting.objects.create(
            area=area, title=title[:200], date=date, created_by=actor, created_at=now
        )
        AgendaItem.objects.bulk_create(
            AgendaItem(
                meeting=meeting,
                position=position,
                case=proposal.case,
                common_issue=proposal.common_issue,
                grounds=list(proposal.grounds),
            )
            for position, proposal in enumerate(hard_items(area, now=now), start=1)
        )
    return meeting


def _touches(area: Area, *, case: Case | None, issue: CommonIssue | None) -> bool:
    if case is not None:
        return str(case.alley.code).startswith(area.code)
    assert issue is not None
    if issue.coordinator_area_id == area.pk:
        return True
    return issue.cases.filter(alley__code__startswith=area.code).exists()


def meeting_agenda_add(
    *,
    meeting: JointMeeting | int,
    actor: Member,
    case: Case | None = None,
    common_issue: CommonIssue | None = None,
    now: dt.datetime | None = None,
) -> AgendaItem:
    """Put one more open case, or common issue, of the unit's territory on a planned meeting's agenda."""
    if (case is None) == (common_issue is None):
        raise TransitionInvalid(_("请选择一个案件或一个共性问题。"), field="case")
    with transaction.atomic():
        meeting = lock_meeting(meeting)
        check(MEETING_TRANSITIONS["agenda-add"], meeting, actor)
        if not _touches(meeting.area, case=case, issue=common_issue):
            raise TransitionInvalid(
                _("只能添加%(unit)s辖区内的案件或共性问题。") % {"unit": meeting.area.name},
                field="case" if case is not None else "common_issue",
            )
        if case is not None and case.state not in OPEN_STATES:
            raise TransitionInvalid(
                _("案件 %(code)s 已办结或关闭，不需要上会研究。") % {"code": case.tracking_code}, field="case"
            )
        position = (meeting.items.aggregate(n=Max("position"))["n"] or 0) + 1
        try:
            with transaction.atomic():
                return AgendaItem.objects.create(
                    meeting=meeting,
                    position=position,
                    case=case,
                    common_issue=common_issue,
                    grounds=[AgendaGround.ADDED],
                )
        except IntegrityError:
            raise TransitionInvalid(
                _("该事项已在本次会议的议题中。"), field="case" if case is not None else "common_issue"
            ) from None


def meeting_agenda_remove(*, meeting: JointMeeting | int, actor: Member, item: AgendaItem | int) -> None:
    """Take an item off a planned meeting's agenda (a proposal the unit does not need to study)."""
    with transaction.atomic():
        meeting = lock_meeting(meeting)
        check(MEETING_TRANSITIONS["agenda-remove"], meeting, actor)
        deleted, _by_model = AgendaItem.objects.filter(
            meeting=meeting, pk=item if isinstance(item, int) else item.pk
        ).delete()
        if not deleted:
            raise TransitionInvalid(_("该议题不在本次会议的议程中。"), field="item")


# --- holding the meeting ------------------------------------------------------------------------------


def _item_cases(item: AgendaItem, area: Area) -> list[Case]:
    """The cases an item is about: its case, or its common issue's cases in the unit's territory."""
    if item.case_id:
        return [item.case] if item.case is not None else []
    assert item.common_issue is not None
    return list(
        item.common_issue.cases.filter(alley__code__startswith=area.code)
        .select_related("alley", "holder_area")
        .order_by("pk")
    )


def meeting_hold(
    *,
    meeting: JointMeeting | int,
    actor: Member,
    present_departments: Sequence[Department] = (),
    present_areas: Sequence[Area] = (),
    attendees: str = "",
    minutes: str = "",
    now: dt.datetime | None = None,
) -> JointMeeting:
    """The meeting took place: who came, the minutes; every case studied gets a neutral public line."""
    now = moment(now)
    attendees = (attendees or "").strip()
    with transaction.atomic():
        meeting = lock_meeting(meeting)
        transition = check(MEETING_TRANSITIONS["hold"], meeting, actor)
        if not (present_departments or present_areas or attendees):
            raise TransitionInvalid(_("请登记出席会议的部门、单位或人员。"), field="present_departments")
        for department in present_departments:
            if not department.is_active:
                raise TransitionInvalid(
                    _("部门“%(name)s”已停用。") % {"name": department.name}, field="present_departments"
                )
        meeting.state = transition.next_state
        meeting.attendees = attendees
        meeting.minutes = (minutes or "").strip()
        meeting.held_by = actor
        meeting.held_at = now
        meeting.save()
        meeting.present_departments.set(present_departments)
        meeting.present_areas.set(present_areas)
        unit = meeting_unit_name(meeting.area)
        note = stored(gettext_noop("经%(unit)s联席会议研究。"), unit=unit)
        items = meeting.items.select_related("case", "case__alley", "case__holder_area", "common_issue")
        for item in items:
            for case in _item_cases(item, meeting.area):
                # Public and neutral: the resident learns the meeting studied the case, nothing of it.
                record_event(
                    case,
                    EventKind.MEETING_HELD,
                    actor=actor,
                    now=now,
                    note=note,
                    label=unit,
                    data={"meeting_id": meeting.pk, "item_id": item.pk, "level": meeting.area.level},
                )
    return meeting


def meeting_record_update(
    *, meeting: JointMeeting | int, actor: Member, minutes: str, attendees: str
) -> JointMeeting:
    """Correct a held meeting's minutes or free-text attendees (the unit only; the decisions stand)."""
    with transaction.atomic():
        meeting = lock_meeting(meeting)
        if actor is None or not scope_for(actor).holds_tier(meeting.area.level, meeting.area.code):
            raise TransitionForbidden(_("只有召开会议的单位可以修改会议纪要。"))
        if meeting.state != MeetingState.HELD:
            raise TransitionError(_("会议尚未召开：纪要在登记召开时填写。"))
        meeting.minutes = (minutes or "").strip()
        meeting.attendees = (attendees or "").strip()
        meeting.save(update_fields=["minutes", "attendees"])
    return meeting


def meeting_attach(
    *, meeting: JointMeeting | int, actor: Member, upload: IO[bytes], now: dt.datetime | None = None
) -> MeetingAttachment:
    """Attach a file to a meeting (signed minutes, sign-in sheet, photos), checked by its content."""
    from ..documents import clean_document

    now = moment(now)
    try:
        document = clean_document(upload)
    except ValidationError as exc:
        raise TransitionInvalid(" ".join(exc.messages), field="file") from exc
    with transaction.atomic():
        meeting = lock_meeting(meeting)
        if actor is None or not scope_for(actor).holds_tier(meeting.area.level, meeting.area.code):
            raise TransitionForbidden(_("只有召开会议的单位可以上传会议附件。"))
        attachment = MeetingAttachment(
            meeting=meeting,
            name=document.name,
            content_type=document.content_type,
            size=document.size,
            uploaded_by=actor,
            uploaded_at=now,
        )
        attachment.file.save(document.content.name or "upload", document.content, save=False)
        attachment.save()
    return attachment


# --- the decision -----------------------------------------------------------------------------------


def _named(departments: Sequence[Department]) -> str:
    return "、".join(d.name for d in departments)


def _decision_note(
    decision: str,
    *,
    assignments: str,
    departments: Sequence[Department],
    note: str,
    target: str | None,
    mechanism_title: str,
) -> str:
    parts: list[str] = []
    if decision == Decision.SETTLE:
        parts.append(stored(gettext_noop("决定：就地解决。分工：%(who)s"), who=assignments))
    elif decision == Decision.WHISTLE_UP:
        parts.append(
            stored(
                gettext_noop("决定：吹哨上报至%(tier)s。"),
                tier=str(AreaLevel(target).label if target else ""),
            )
        )
    else:
        parts.append(stored(gettext_noop("决定：形成长效机制“%(title)s”。"), title=mechanism_title))
    if departments:
        parts.append(stored(gettext_noop("点名部门：%(names)s。"), names=_named(departments)))
    if note:
        parts.append(note)
    return "\n".join(parts)


def _check_whistle_up(item: AgendaItem, meeting: JointMeeting, departments: Sequence[Department]) -> str:
    """What a whistle-up decision needs before anything is written; the tier it sends the case to."""
    level = meeting.area.level
    if item.case is None:
        raise TransitionInvalid(
            _("共性问题由组织部统筹协调派单，不能吹哨上报；请选择就地解决或形成长效机制。"), field="decision"
        )
    target = next_tier(level)
    if target is None:
        raise TransitionInvalid(_("市级联席会议是最高一级，不能再吹哨上报。"), field="decision")
    case = item.case
    below_ok = level == AreaLevel.COMMUNITY and case.tier == AreaLevel.ALLEY
    here = case.tier == level and case.holder_area_id == meeting.area_id
    if case.state not in OPEN_STATES:
        raise TransitionError(_("案件 %(code)s 已办结或关闭，不能再上报。") % {"code": case.tracking_code})
    if not (here or (below_ok and str(case.alley.code).startswith(meeting.area.code))):
        raise TransitionError(
            _("案件 %(code)s 现在由%(tier)s办理，不在本次会议的层级，不能由本次会议吹哨上报。")
            % {"code": case.tracking_code, "tier": case.get_tier_display()}
        )
    if level in (AreaLevel.STREET, AreaLevel.DISTRICT):
        if not departments:
            raise TransitionInvalid(_("吹哨上报时请点名责任部门。"), field="departments")
        org_area = Area.objects.get(code=meeting.area.code_at(target))
        for department in departments:
            if not may_receive_orders_from(department, org_area):
                raise TransitionInvalid(
                    _("“%(name)s”不属于%(org)s委组织部的派单范围。")
                    % {"name": department.name, "org": org_area.name},
                    field="departments",
                )
    return target


def agenda_item_decide(
    *,
    item: AgendaItem | int,
    actor: Member,
    decision: str,
    assignments: str = "",
    departments: Sequence[Department] = (),
    note: str = "",
    mechanism: MechanismDraft | None = None,
    now: dt.datetime | None = None,
) -> AgendaItem:
    """Record the meeting's one decision on an item; a whistle-up decision whistles the case now.

    - settle here (就地解决): ``assignments`` says who does what; named ``departments`` are told.
    - whistle up (吹哨上报): the case goes one tier above the meeting's, through ``case_whistle``
      with this decision (a street or district meeting names the departments, which the next
      tier's organisation department dispatches to); refused for a common issue, from the city,
      and for a case no longer held at the meeting's tier.
    - make a standing mechanism (形成长效机制): ``mechanism`` describes it; it is created and
      linked to this decision, the item's case or common issue, and gets its first review date.
    """
    now = moment(now)
    if decision not in Decision.values:
        raise TransitionInvalid(_("请选择会议的决定。"), field="decision")
    departments = list(dict.fromkeys(departments))
    assignments = (assignments or "").strip()
    note = (note or "").strip()
    with transaction.atomic():
        item = lock_item(item)
        transition = check(MEETING_TRANSITIONS["decide"], item, actor)
        meeting = item.meeting
        if meeting.state != MeetingState.HELD:
            raise TransitionError(_("会议尚未召开：请先登记会议召开情况（出席单位和人员），再记录决定。"))
        for department in departments:
            if not department.is_active:
                raise TransitionInvalid(
                    _("部门“%(name)s”已停用。") % {"name": department.name}, field="departments"
                )
        target: str | None = None
        if decision == Decision.SETTLE and not assignments:
            raise TransitionInvalid(_("就地解决时请写明分工：由谁负责做什么。"), field="assignments")
        if decision == Decision.WHISTLE_UP:
            target = _check_whistle_up(item, meeting, departments)
        if decision == Decision.MECHANISM and mechanism is None:
            raise TransitionInvalid(_("请填写长效机制的名称、牵头责任部门和复核日期。"), field="mechanism")
        item.state = transition.next_state
        item.decision = decision
        item.assignments = assignments
        item.note = note
        item.decided_by = actor
        item.decided_at = now
        item.save()
        item.departments.set(departments)
        made = None
        if decision == Decision.MECHANISM:
            assert mechanism is not None
            made = mechanism_create(item=item, draft=mechanism, actor=actor, now=now)
        unit = meeting_unit_name(meeting.area)
        text = _decision_note(
            decision,
            assignments=assignments,
            departments=departments,
            note=note,
            target=target,
            mechanism_title=made.title if made is not None else "",
        )
        data: dict[str, Any] = {
            "meeting_id": meeting.pk,
            "item_id": item.pk,
            "level": meeting.area.level,
            "decision": decision,
            "department_ids": [d.pk for d in departments],
            **({"mechanism_id": made.pk} if made is not None else {}),
        }
        events: list[CaseEvent] = [
            record_event(
                case,
                EventKind.MEETING_DECIDED,
                actor=actor,
                now=now,
                note=text,
                public=False,
                label=unit,
                data=data,
            )
            for case in _item_cases(item, meeting.area)
        ]
        notify_after_commit(*events)
        if target is not None:
            _whistle_up(item, actor=actor, departments=departments, target=target, unit=unit, now=now)
    return item


def _whistle_up(
    item: AgendaItem,
    *,
    actor: Member,
    departments: Sequence[Department],
    target: str,
    unit: str,
    now: dt.datetime,
) -> None:
    """Carry out a whistle-up decision: one whistle per tier until the case is above the meeting's tier.

    Each is ``case_whistle`` with the decision (its checks, its Whistle row, its public line,
    which says only that the meeting decided it). Only the step into ``target`` names departments.
    """
    assert item.case is not None
    reason = stored(gettext_noop("经%(unit)s联席会议研究，决定吹哨上报。"), unit=unit)
    for _step in range(len(MEETING_LEVELS)):
        case = lock_case(item.case.pk)
        step_to = next_tier(case.tier)
        if step_to is None or tier_index(case.tier) >= tier_index(target):
            return
        case_whistle(
            case=case.pk,
            actor=actor,
            reason=reason,
            departments=departments if step_to == target else (),
            decision=item,
            now=now,
        )
