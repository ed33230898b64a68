"""The state machine's rules: errors, who may act, and the transition table everyone reads.

``TRANSITIONS`` (cases) and ``ORDER_TRANSITIONS`` (department orders and their extension
requests) declare each transition once: the states it leaves, who may make it, what it
needs, the states it leads to, which faces offer it and which service makes it. The
services call ``check`` and set a fixed next state from the row; the staff pages, the API
and docs/transitions.md (``manage.py transitions_doc``) are keyed by the rows' names.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.utils.translation import gettext_lazy

from alleys.choices import AreaLevel, Role
from alleys.people import Actor
from alleys.scoping import Scope, scope_for
from core.errors import ActionForbidden, ActionInvalid, ActionRefused
from dispatch.chain import BUILDING_CLASSES

from ..choices import (
    ACTIVE_ORDER_STATES,
    AgendaState,
    AttendanceState,
    CaseState,
    ConsultationOpinion,
    ConsultationState,
    Decision,
    ExtensionState,
    MeetingState,
    OrderState,
)
from ..models import AgendaItem, Case

S = CaseState
OS = OrderState
ES = ExtensionState
AS = AttendanceState
CS = ConsultationState


class TransitionError(ActionRefused):
    """A transition that is not allowed now; the message is for the user."""


class TransitionForbidden(TransitionError, ActionForbidden):
    """The actor may not make this transition on this case (or order)."""

    status_code = 403


class TransitionInvalid(TransitionError, ActionInvalid):
    """Something the transition needs is missing or wrong."""

    status_code = 400


# Who may use a transition, besides the check in its service: the faces that offer it.
STAFF = "staff"  # a form on the staff site
API = "api"  # an action of the REST API
RESIDENT = "resident"  # the residents' pages (no login)
SYSTEM = "system"  # the sweep, or another service as a consequence of its own transition
WORK = (
    "work"  # the case page's work panel (templates/issues/staff/_case_work.html) and the list's bulk actions
)

# What a transition acts on.
CASE = "case"
ORDER = "order"
EXTENSION = "extension"
ATTENDANCE = "attendance"  # a visit the department announced in its report (报到到场)
CONSULTATION = "consultation"  # one department asked its opinion before dispatch (征求意见)
MEETING = "meeting"
AGENDA = "agenda_item"

# In ``Transition.to``: the subject keeps the state it had.
SAME = ""


class Need(NamedTuple):
    """Something a transition needs: the service's keyword argument, and when (empty: always)."""

    field: str
    when: str = ""


@dataclass(frozen=True)
class Transition:
    """One row of the transition table: what it acts on, from which states, who, what it needs, and where it goes.

    ``to`` lists the states the subject may end in; when it holds exactly one state the
    service sets that state from here (``next_state``), otherwise the service chooses
    among them by its input (a failed verification, a "not solved" answer). An empty
    ``to`` leaves the state as it is (a chase, a progress note).
    """

    name: str
    label: Any
    sources: frozenset[str]
    who: Callable[[Scope, Any], bool]
    who_label: Any
    to: tuple[str, ...] = ()
    needs: tuple[Need, ...] = ()
    via: frozenset[str] = frozenset({STAFF, API})
    service: str = ""
    subject: str = CASE
    note: str = ""  # for docs/transitions.md: what else it does, in a few words
    verb: Any = None  # the words of the "cannot …" message, when not the label
    refused: Any = None  # the wrong-state message (params: state, action)
    forbidden: Any = None  # the not-yours message (params: action, who, name)
    who_first: bool = False  # check who before the state (the order services always have)

    @property
    def next_state(self) -> str:
        """The one state this transition leads to (for the transitions where it is fixed)."""
        if len(self.to) != 1 or self.to[0] == SAME:
            raise ValueError(f"transition {self.name!r} has no single next state: {self.to!r}")
        return self.to[0]


_CASE_REFUSED = gettext_lazy("案件当前状态为“%(state)s”，不能%(action)s。请刷新后查看最新进展。")
_CASE_FORBIDDEN = gettext_lazy("您没有权限对该案件执行“%(action)s”（需要：%(who)s）。")
_ORDER_REFUSED = gettext_lazy("派单当前状态为“%(state)s”，不能%(action)s。请刷新后查看。")


def check(transition: Transition, subject: Any, actor: Any, *, system: bool = False) -> Transition:
    """The one check of every transition: ``subject`` is in a source state and ``actor`` may act.

    Raises ``TransitionError`` (wrong state, 409) or ``TransitionForbidden`` (403) with the
    table's message; ``system=True`` skips the actor (the sweep, a resident's own answer,
    a lead department's completion). Returns the transition, for its ``next_state``.
    """
    if transition.who_first:
        _check_who(transition, subject, actor, system=system)
    if subject.state not in transition.sources:
        raise TransitionError(
            str(transition.refused or _CASE_REFUSED)
            % {"state": subject.get_state_display(), "action": transition.verb or transition.label}
        )
    if not transition.who_first:
        _check_who(transition, subject, actor, system=system)
    return transition


def _check_who(transition: Transition, subject: Any, actor: Any, *, system: bool) -> None:
    if system:
        return
    if actor is None or not transition.who(scope_for(actor), subject):
        name = subject.department.name if transition.subject == ORDER else ""
        raise TransitionForbidden(
            str(transition.forbidden or _CASE_FORBIDDEN)
            % {"action": transition.label, "who": transition.who_label, "name": name}
        )


def is_holder(scope: Scope, case: Case) -> bool:
    """The unit holding the case now, or the community staff supervising their alleys' teams."""
    if scope.holds_tier(case.tier, case.holder_area.code):
        return True
    return case.tier == AreaLevel.ALLEY and scope.has_role_over(
        frozenset({Role.COMMUNITY_STAFF}), case.alley.code
    )


def is_building_head_of(scope: Scope, case: Case) -> bool:
    """The building head of the case's building, for an A-class case while the alley's team holds it.

    Jilin's "网格长、楼栋长、单元长" and Quanzhou's building chiefs: beside the alley's team, never
    a tier of their own (a whistle or a missed deadline takes the case to the community as before).
    """
    if Role.BUILDING_HEAD not in scope.roles or case.building_id is None or case.tier != AreaLevel.ALLEY:
        return False
    if case.category.category_class.code not in BUILDING_CLASSES:
        return False
    code = case.building.code if case.building is not None else ""
    return any(role == Role.BUILDING_HEAD and mine == code for role, mine, _dept in scope.assignments)


def is_holder_or_building_head(scope: Scope, case: Case) -> bool:
    """The holding unit (``is_holder``), or the building head for their building's A-class case."""
    return is_holder(scope, case) or is_building_head_of(scope, case)


def is_community_of(scope: Scope, case: Case) -> bool:
    """Staff of the community the case's alley belongs to (they verify and evaluate)."""
    return scope.has_role_over(frozenset({Role.COMMUNITY_STAFF}), case.alley.code)


def is_supervisor(scope: Scope, case: Case) -> bool:
    """Street staff and organisation departments over the case's area (督办)."""
    return scope.has_role_over(
        frozenset({Role.STREET_STAFF, Role.DISTRICT_ORG, Role.CITY_ORG}), case.alley.code
    )


def is_above_holder(scope: Scope, case: Case) -> bool:
    """Anyone at a tier above the holder in the case's territory may chase (催办)."""
    return is_supervisor(scope, case) or (case.tier == AreaLevel.ALLEY and is_community_of(scope, case))


def is_case_department(scope: Scope, case: Case) -> bool:
    """A department with an active order on the case."""
    if not scope.department_ids:
        return False
    return case.orders.filter(
        department_id__in=scope.department_ids, state__in=active_order_states()
    ).exists()


def sees_case(scope: Scope, case: Case) -> bool:
    """Whoever sees the case (its territory, or a department with an order on it): the rule of
    ``Case.objects.visible_to``, for one loaded case."""
    if scope.covers_code(case.alley.code):
        return True
    # Only a building head's scope names buildings: nobody else pays for loading the case's building.
    building = case.building if scope.building_codes and case.building_id is not None else None
    if building is not None and scope.covers_code(building.code):
        return True
    if not scope.department_ids:
        return False
    return case.orders.filter(department_id__in=scope.department_ids).exists()


def is_holder_or_lead(scope: Scope, case: Case) -> bool:
    """The holding unit, or the lead department once the case is dispatched (progress updates)."""
    if is_holder_or_building_head(scope, case):
        return True
    return bool(case.lead_department_id and case.lead_department_id in scope.department_ids)


def active_order_states() -> list[str]:
    return sorted(ACTIVE_ORDER_STATES)


def _nobody(scope: Scope, case: Case) -> bool:
    return scope.is_global


OPEN = frozenset({S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS, S.REOPENED})


def _case(
    name: str,
    label: Any,
    sources: frozenset[str],
    who: Callable[[Scope, Case], bool],
    who_label: Any,
    *,
    to: tuple[str, ...],
    needs: tuple[Need, ...] = (),
    via: frozenset[str] = frozenset({STAFF, API}),
    note: str = "",
    service: str = "",
) -> Transition:
    service = service or f"issues.workflow.case_{name.replace('-', '_')}"
    return Transition(
        name, label, sources, who, who_label, to=to, needs=needs, via=via, service=service, note=note
    )


_NOTE = Need("note", "optional")

TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _case(
            "accept",
            gettext_lazy("受理"),
            frozenset({S.SUBMITTED, S.REOPENED}),
            is_holder_or_building_head,
            gettext_lazy("当前责任单位；楼栋长：本楼栋在街巷办理的A类事项"),
            to=(S.ACCEPTED,),
            needs=(_NOTE,),
            note="the resolve deadline governs from now",
        ),
        _case(
            "start",
            gettext_lazy("开始办理"),
            frozenset({S.ACCEPTED}),
            is_holder_or_building_head,
            gettext_lazy("当前责任单位；楼栋长：本楼栋在街巷办理的A类事项"),
            to=(S.IN_PROGRESS,),
            needs=(_NOTE,),
        ),
        _case(
            "whistle",
            gettext_lazy("吹哨上报"),
            OPEN,
            is_holder,
            gettext_lazy("当前责任单位"),
            to=(S.SUBMITTED,),
            needs=(
                Need("reason"),
                Need("departments", "when the street whistles"),
                Need("urgency", "optional"),
                Need("decision", "from the district: its joint meeting's whistle-up decision"),
            ),
            note="one tier up (not from the city); writes a Whistle; from the district only as a "
            "district joint meeting decided (whistle_decision)",
        ),
        _case(
            "escalate",
            gettext_lazy("超时自动上报"),
            OPEN,
            _nobody,
            gettext_lazy("系统（超时扫描）"),
            to=(S.SUBMITTED,),
            via=frozenset({SYSTEM}),
            note="the sweep, once per case and tier, when the deadline passed (batch: cases_escalate_claimed)",
        ),
        _case(
            "consult",
            gettext_lazy("派单前征求意见"),
            OPEN,
            is_holder,
            gettext_lazy("区/市委组织部"),
            to=(),
            needs=(Need("departments"), Need("question", "optional")),
            note="district or city tier, before dispatch; each department asked has "
            "OrderSettings.consult_days working days to answer (consult-answer); "
            "dispatch waits for the answers until then, never after",
        ),
        _case(
            "dispatch",
            gettext_lazy("派单"),
            OPEN,
            is_holder,
            gettext_lazy("区/市委组织部"),
            to=(S.ACCEPTED, SAME),
            needs=(Need("lead"), Need("cooperating", "optional")),
            note="district or city tier, once; refused while a consultation awaits an answer within "
            "its deadline; the answers go onto the orders (unanswered ones lapse); accepted if not yet; writes the orders; without the street's review naming departments (or the district's whistle to the city) it is the org department's own supervision",
        ),
        _case(
            "resolve",
            gettext_lazy("办结待核实"),
            frozenset({S.ACCEPTED, S.IN_PROGRESS}),
            is_holder_or_building_head,
            gettext_lazy("当前责任单位或牵头部门；楼栋长：本楼栋在街巷办理的A类事项"),
            to=(S.AWAITING_VERIFICATION,),
            needs=(Need("note"), Need("photos", "if the category requires a photo of the fix")),
            via=frozenset({STAFF, API, SYSTEM}),
            note="not once dispatched: then the lead department's order completion resolves it (system)",
        ),
        _case(
            "verify",
            gettext_lazy("核实"),
            frozenset({S.AWAITING_VERIFICATION}),
            is_community_of,
            gettext_lazy("所在社区"),
            to=(S.AWAITING_FEEDBACK, S.IN_PROGRESS),
            needs=(Need("passed"), Need("note", "if it failed")),
            note="failed: back to work at the same tier, the lead's order reopened",
        ),
        _case(
            "feedback",
            gettext_lazy("评价"),
            frozenset({S.AWAITING_FEEDBACK, S.AWAITING_RETURN_VISIT}),
            is_community_of,
            gettext_lazy("反映人本人，或评价期内社区电话回访"),
            to=(S.CLOSED, S.REOPENED, S.IN_PROGRESS),
            needs=(Need("solved"), Need("satisfaction")),
            via=frozenset({STAFF, API, RESIDENT}),
            note="not solved: reopened (in progress when dispatched); once per round; closed: open orders "
            "withdrawn; the resident is heard while a return visit is due too (their answer wins), "
            "staff then record a return-visit instead",
        ),
        _case(
            "return-visit-due",
            gettext_lazy("转入回访"),
            frozenset({S.AWAITING_FEEDBACK}),
            _nobody,
            gettext_lazy("系统（评价期满）"),
            to=(S.AWAITING_RETURN_VISIT,),
            via=frozenset({SYSTEM}),
            note="the sweep, once JXT_FEEDBACK_WINDOW_DAYS working days passed without the resident's "
            "answer; the community is told (batch: cases_return_visit_due_claimed)",
        ),
        _case(
            "return-visit",
            gettext_lazy("回访"),
            frozenset({S.AWAITING_RETURN_VISIT}),
            is_community_of,
            gettext_lazy("所在社区"),
            to=(SAME, S.CLOSED, S.REOPENED, S.IN_PROGRESS),
            needs=(
                Need("channel"),
                Need("reached"),
                Need("visited_at", "optional: now"),
                Need("solved", "when reached"),
                Need("satisfaction", "when reached"),
                Need("words", "optional"),
                Need("note", "optional"),
            ),
            note="one attempt, by phone or in person; reached: the answer is the round's feedback "
            "(not solved reopens as feedback does); the JXT_RETURN_VISIT_ATTEMPTS-th failed attempt "
            "of the round closes the case unrated (close)",
        ),
        _case(
            "close",
            gettext_lazy("关闭（未评价）"),
            frozenset({S.AWAITING_RETURN_VISIT}),
            _nobody,
            gettext_lazy("系统（回访均未联系上）"),
            to=(S.CLOSED,),
            via=frozenset({SYSTEM}),
            service="issues.workflow.case_return_visit",
            note="in the transaction of the failed return visit that makes JXT_RETURN_VISIT_ATTEMPTS "
            "of the round; open orders withdrawn",
        ),
        _case(
            "reject",
            gettext_lazy("不予受理"),
            frozenset({S.SUBMITTED, S.ACCEPTED, S.REOPENED}),
            is_holder,
            gettext_lazy("当前责任单位"),
            to=(S.REJECTED,),
            needs=(Need("reason"),),
            note="the reason is public; open orders withdrawn",
        ),
        _case(
            "merge",
            gettext_lazy("合并"),
            OPEN,
            is_holder,
            gettext_lazy("当前责任单位"),
            to=(S.MERGED,),
            needs=(Need("into"), _NOTE),
            note="open orders withdrawn",
        ),
        _case(
            "supervise",
            gettext_lazy("督办"),
            OPEN | {S.AWAITING_VERIFICATION},
            is_supervisor,
            gettext_lazy("街道或组织部"),
            to=(),
            needs=(_NOTE,),
            note="once",
        ),
        _case(
            "chase",
            gettext_lazy("催办"),
            OPEN | {S.AWAITING_VERIFICATION},
            is_above_holder,
            gettext_lazy("上级单位"),
            to=(),
            needs=(_NOTE,),
            note="counted",
        ),
        # The staff's work on a case, beside its state: who works on it within the holding unit,
        # internal notes, and progress the resident reads (issues.workflow.assignment).
        _case(
            "take",
            gettext_lazy("由我处理"),
            OPEN,
            is_holder_or_building_head,
            gettext_lazy("当前责任单位的人员；楼栋长：本楼栋在街巷办理的A类事项"),
            to=(),
            via=frozenset({WORK, API}),
            service="issues.workflow.case_take",
            note="the actor becomes the assignee; cleared when the case moves to another unit",
        ),
        _case(
            "assign",
            gettext_lazy("指定承办人"),
            OPEN,
            is_holder,
            gettext_lazy("当前责任单位的人员"),
            to=(),
            needs=(Need("assignee", "empty: nobody"),),
            via=frozenset({WORK, API}),
            service="issues.workflow.case_assign",
            note="a colleague with a holder role on the holding unit; they are told",
        ),
        _case(
            "note",
            gettext_lazy("内部备注"),
            frozenset(S.values),
            sees_case,
            gettext_lazy("能查看该案件的工作人员"),
            to=(),
            needs=(Need("text"),),
            via=frozenset({WORK, API}),
            service="issues.workflow.case_note",
            note="staff only: never on the tracking page, Open311 or the public timeline",
        ),
        _case(
            "progress",
            gettext_lazy("通报办理进展"),
            frozenset({S.ACCEPTED, S.IN_PROGRESS}),
            is_holder_or_lead,
            gettext_lazy("当前责任单位或牵头部门；楼栋长：本楼栋在街巷办理的A类事项"),
            to=(),
            needs=(Need("note"),),
            via=frozenset({WORK, API}),
            service="issues.workflow.case_progress_update",
            note="a public timeline event the resident reads on the tracking page (phone numbers masked); "
            "the holder and the community are told",
        ),
        _case(
            "mark-in-progress",
            gettext_lazy("牵头部门报到"),
            frozenset({S.ACCEPTED, S.REOPENED}),
            _nobody,
            gettext_lazy("系统（牵头部门报到后）"),
            to=(S.IN_PROGRESS,),
            via=frozenset({SYSTEM}),
            note="the lead department's report (order_report) starts a dispatched case; else nothing",
        ),
    )
}


# The tiers whose whistle up needs a joint meeting's decision. Ma'anshan: "区直部门无法解决的，
# 经区委相关会议研究后，上报市委组织部". (The sweep's escalation of a missed deadline is not a
# whistle and needs none: a deadline must not wait for a meeting.)
MEETING_BEFORE_WHISTLE: frozenset[str] = frozenset({AreaLevel.DISTRICT})


def whistle_decision(case: Case, decision: AgendaItem | int | None) -> AgendaItem | None:
    """The joint meeting's decision a whistle of ``case`` carries out, or None when it needs none.

    From the district (``MEETING_BEFORE_WHISTLE``) it needs one: a held meeting of the district
    holding the case decided "whistle up" on it. ``decision`` names it (the meeting's service
    passes the item it is carrying out); else the latest such decision is found. A decision named
    for a lower tier's whistle must be one on this case too. Raises ``TransitionInvalid`` naming
    what is missing.
    """
    needed = case.tier in MEETING_BEFORE_WHISTLE
    if decision is None and not needed:
        return None
    items = AgendaItem.objects.filter(
        case=case, state=AgendaState.DECIDED, decision=Decision.WHISTLE_UP, meeting__state=MeetingState.HELD
    ).select_related("meeting")
    if decision is not None:
        items = items.filter(pk=decision if isinstance(decision, int) else decision.pk)
    if needed:
        items = items.filter(meeting__area_id=case.holder_area_id)
    item = items.order_by("-decided_at", "-pk").first()
    if item is not None:
        return item
    if needed:
        raise TransitionInvalid(
            str(
                gettext_lazy(
                    "区级吹哨上报市级须经区委联席会议研究决定：该案件还没有%(unit)s委联席会议“吹哨上报”的决定。"
                    "请把它列入%(unit)s委联席会议的议题，会议作出“吹哨上报”决定时即上报市级。"
                )
            )
            % {"unit": case.holder_area.name},
            field="decision",
        )
    raise TransitionInvalid(str(gettext_lazy("找不到该案件的联席会议“吹哨上报”决定。")), field="decision")


# --- department orders and their extensions -------------------------------------------------------


def order_cases(order: Any) -> list[Case]:
    """The cases an order serves: its own, or every case of its common issue."""
    if order.case_id:
        return [order.case] if order.case is not None else []
    assert order.common_issue is not None
    return list(order.common_issue.cases.select_related("alley", "holder_area", "category"))


def is_order_department(scope: Scope, order: Any) -> bool:
    """Staff of the department the order was sent to."""
    return scope.in_department(order.department_id)


def is_order_dispatcher(scope: Scope, order: Any) -> bool:
    """The organisation department that dispatched the order."""
    area = order.dispatcher_area
    return scope.holds_tier(area.level, area.code)


def is_order_community(scope: Scope, order: Any) -> bool:
    """Staff of a community whose case the order serves (the community that whistled)."""
    roles = frozenset({Role.COMMUNITY_STAFF})
    return any(scope.has_role_over(roles, case.alley.code) for case in order_cases(order))


def is_extension_community(scope: Scope, extension: Any) -> bool:
    """Staff of a community whose case the extended order serves (the community that whistled)."""
    return is_order_community(scope, extension.order)


def is_attendance_community(scope: Scope, attendance: Any) -> bool:
    """Staff of a community whose case the visiting department's order serves: they say whether it came."""
    return is_order_community(scope, attendance.order)


def is_consulted_department(scope: Scope, consultation: Any) -> bool:
    """Staff of the department whose opinion the organisation department asked."""
    return scope.in_department(consultation.department_id)


def is_extension_dispatcher(scope: Scope, extension: Any) -> bool:
    """The organisation department that dispatched the extended order."""
    return is_order_dispatcher(scope, extension.order)


_DEPARTMENT = gettext_lazy("承办部门")
_DEPARTMENT_ONLY = gettext_lazy("只有承办部门“%(name)s”的人员可以办理该派单。")
_DISPATCHER = gettext_lazy("派单的组织部")
_DISPATCHER_ONLY = gettext_lazy("只有派单的组织部可以处理。")


def _order(
    name: str,
    label: Any,
    sources: frozenset[str],
    *,
    by_department: bool = True,
    to: tuple[str, ...],
    needs: tuple[Need, ...] = (),
    service: str = "",
    verb: Any = None,
    note: str = "",
    via: frozenset[str] = frozenset({STAFF, API}),
) -> Transition:
    return Transition(
        name,
        label,
        sources,
        is_order_department if by_department else is_order_dispatcher,
        _DEPARTMENT if by_department else _DISPATCHER,
        to=to,
        needs=needs,
        via=via,
        service=service if "." in service else f"issues.workflow.orders.{service or 'order_' + name}",
        subject=ORDER,
        note=note,
        verb=verb,
        refused=_ORDER_REFUSED,
        forbidden=_DEPARTMENT_ONLY if by_department else _DISPATCHER_ONLY,
        who_first=True,
    )


# The staff page offers an order's actions in this order.
ORDER_TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _order("receive", gettext_lazy("签收"), frozenset({OS.DISPATCHED}), to=(OS.RECEIVED,)),
        _order(
            "report",
            gettext_lazy("报到"),
            frozenset({OS.DISPATCHED, OS.RECEIVED}),
            to=(OS.REPORTED,),
            needs=(
                Need("leader_name"),
                Need("contact_name"),
                Need("contact_phone"),
                Need("work_plan"),
                Need("visit_at"),
                Need("visitors", "the leader or the contact among them"),
            ),
            note="announces who will come to the whistling community and when (a planned Attendance); "
            "the report deadline is met only when the community confirms they came; "
            "the lead's report starts its case(s) (mark-in-progress)",
        ),
        Transition(
            "attendance-confirm",
            gettext_lazy("确认到场报到"),
            frozenset({AS.PLANNED}),
            is_attendance_community,
            gettext_lazy("发起吹哨的社区"),
            to=(AS.CONFIRMED,),
            needs=(Need("attended_at"), Need("present"), Need("note", "optional")),
            service="issues.workflow.attendance.attendance_confirm",
            subject=ATTENDANCE,
            note="the actual time (not in the future, not before the dispatch) is the order's attended_at, "
            "which alone meets report_due; the department is told",
            refused=gettext_lazy("该到场安排已登记（%(state)s）。请刷新后查看。"),
            forbidden=gettext_lazy("只有发起吹哨的社区可以确认部门是否到场。"),
            who_first=True,
        ),
        Transition(
            "attendance-missed",
            gettext_lazy("登记未到场"),
            frozenset({AS.PLANNED}),
            is_attendance_community,
            gettext_lazy("发起吹哨的社区"),
            to=(AS.MISSED,),
            needs=(Need("note", "optional"),),
            service="issues.workflow.attendance.attendance_missed",
            subject=ATTENDANCE,
            note="once the announced time has passed; a reported order goes back to received: the "
            "department reports again with a new date; the organisation department is told",
            refused=gettext_lazy("该到场安排已登记（%(state)s）。请刷新后查看。"),
            forbidden=gettext_lazy("只有发起吹哨的社区可以确认部门是否到场。"),
            who_first=True,
        ),
        _order(
            "progress",
            gettext_lazy("填写进展"),
            frozenset({OS.RECEIVED, OS.REPORTED}),
            to=(),
            needs=(Need("note"),),
        ),
        _order(
            "complete",
            gettext_lazy("办结"),
            frozenset({OS.REPORTED}),
            to=(OS.COMPLETED,),
            needs=(Need("note"), Need("photos", "optional")),
            verb=gettext_lazy("办结（请先报到）"),
            note="the lead's completion resolves its case(s) (resolve, system)",
        ),
        _order(
            "extension",
            gettext_lazy("申请延期"),
            frozenset({OS.RECEIVED, OS.REPORTED}),
            to=(),
            needs=(Need("reason"), Need("new_due")),
            service="extension_request",
            note="opens an extension request (pending_community); one pending at a time",
        ),
        _order(
            "reject",
            gettext_lazy("退单"),
            frozenset({OS.DISPATCHED, OS.RECEIVED}),
            to=(OS.REJECTED,),
            needs=(Need("reason"),),
            note="the organisation department then redispatches or insists",
        ),
        Transition(
            "extension-community",
            gettext_lazy("社区意见：延期"),
            frozenset({ES.PENDING_COMMUNITY}),
            is_extension_community,
            gettext_lazy("发起吹哨的社区"),
            to=(ES.PENDING_ORG, ES.REFUSED),
            needs=(Need("agree"), Need("note", "if it disagrees")),
            service="issues.workflow.orders.extension_community_decide",
            subject=EXTENSION,
            refused=gettext_lazy("该延期申请已处理（%(state)s）。"),
            forbidden=gettext_lazy("只有发起吹哨的社区可以对延期发表意见。"),
            who_first=True,
        ),
        Transition(
            "extension-org",
            gettext_lazy("组织部审批：延期"),
            frozenset({ES.PENDING_ORG}),
            is_extension_dispatcher,
            _DISPATCHER,
            to=(ES.APPROVED, ES.REFUSED),
            needs=(Need("approve"), Need("note", "if it refuses")),
            service="issues.workflow.orders.extension_org_decide",
            subject=EXTENSION,
            note="approval moves the order's deadline (and its lead case's)",
            refused=gettext_lazy("该延期申请当前不在组织部审批环节（%(state)s）。"),
            forbidden=_DISPATCHER_ONLY,
            who_first=True,
        ),
        _order(
            "redispatch",
            gettext_lazy("改派"),
            frozenset({OS.REJECTED}),
            by_department=False,
            to=(OS.WITHDRAWN,),
            needs=(Need("department"), _NOTE),
            note="a new order to another department takes its place",
        ),
        _order(
            "insist",
            gettext_lazy("维持派单"),
            frozenset({OS.REJECTED}),
            by_department=False,
            to=(OS.RECEIVED, OS.DISPATCHED),
            needs=(Need("note"),),
            note="back to the same department: received if it had signed for it",
        ),
        Transition(
            "withdraw",
            gettext_lazy("撤回派单"),
            ACTIVE_ORDER_STATES,
            _nobody,
            gettext_lazy("结束案件的单位，或系统"),
            to=(OS.WITHDRAWN,),
            needs=(Need("reason"),),
            via=frozenset({SYSTEM}),
            service="issues.workflow.bulk.orders_settle_for_cases",
            subject=ORDER,
            note="the case ended (feedback; a return visit's answer, or its last failed attempt closing it "
            "unrated; reject; merge): every order still open on it is withdrawn with the reason, in the "
            "same transaction; a common issue's orders when its last case ends",
            refused=_ORDER_REFUSED,
        ),
        Transition(
            "extension-withdraw",
            gettext_lazy("撤回延期申请"),
            frozenset({ES.PENDING_COMMUNITY, ES.PENDING_ORG}),
            _nobody,
            gettext_lazy("系统（派单撤回时）"),
            to=(ES.WITHDRAWN,),
            via=frozenset({SYSTEM}),
            service="issues.workflow.bulk.orders_settle_for_cases",
            subject=EXTENSION,
            note="an open request of an order withdrawn because its case ended (withdraw)",
        ),
        _order(
            "reopen",
            gettext_lazy("退回重办"),
            frozenset({OS.COMPLETED}),
            by_department=False,
            to=(OS.REPORTED, OS.RECEIVED),
            service="issues.workflow.case_verify",
            via=frozenset({SYSTEM}),
            note="the lead's completed order goes back to work when its case fails verification "
            "or the resident says not solved (case verify, feedback, return-visit)",
        ),
    )
}


# --- joint meetings -------------------------------------------------------------------------------


def is_meeting_unit(scope: Scope, subject: Any) -> bool:
    """Staff of the unit whose meeting it is: the community's, the street's, the organisation department."""
    meeting = subject.meeting if isinstance(subject, AgendaItem) else subject
    return scope.holds_tier(meeting.area.level, meeting.area.code)


_MEETING_UNIT = gettext_lazy("召开会议的单位（社区、街道工作人员或区、市委组织部）")
_MEETING_FORBIDDEN = gettext_lazy("只有召开会议的单位可以%(action)s（需要：%(who)s）。")


def _meeting(
    name: str,
    label: Any,
    sources: frozenset[str],
    *,
    to: tuple[str, ...],
    needs: tuple[Need, ...] = (),
    subject: str = MEETING,
    service: str = "",
    note: str = "",
    refused: Any = None,
) -> Transition:
    return Transition(
        name,
        label,
        sources,
        is_meeting_unit,
        _MEETING_UNIT,
        to=to,
        needs=needs,
        service=f"issues.workflow.meetings.{service or 'meeting_' + name.replace('-', '_')}",
        subject=subject,
        note=note,
        refused=refused or gettext_lazy("会议当前状态为“%(state)s”，不能%(action)s。请刷新后查看。"),
        forbidden=_MEETING_FORBIDDEN,
        who_first=True,
    )


MS = MeetingState
AGS = AgendaState

# A joint meeting's agenda is proposed (``meeting_plan``: the unit's hard items), edited while it is
# planned, then the meeting is held and one decision is recorded per item.
MEETING_TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        _meeting(
            "agenda-add",
            gettext_lazy("添加议题"),
            frozenset({MS.PLANNED}),
            to=(),
            needs=(Need("case", "or common_issue"), Need("common_issue", "or case")),
            note="an open case or common issue of the unit's territory, once per meeting",
        ),
        _meeting(
            "agenda-remove",
            gettext_lazy("移出议题"),
            frozenset({MS.PLANNED}),
            to=(),
            needs=(Need("item"),),
        ),
        _meeting(
            "hold",
            gettext_lazy("登记召开"),
            frozenset({MS.PLANNED}),
            to=(MS.HELD,),
            needs=(
                Need("present_departments", "with present_areas and attendees: somebody came"),
                Need("present_areas", "optional"),
                Need("attendees", "optional"),
                Need("minutes", "optional"),
            ),
            note="every case on the agenda gets a public, neutral timeline line (经…联席会议研究)",
        ),
        _meeting(
            "decide",
            gettext_lazy("记录决定"),
            frozenset({AGS.PENDING}),
            to=(AGS.DECIDED,),
            needs=(
                Need("decision"),
                Need("assignments", "to settle here: who does what"),
                Need("departments", "to whistle up from a street or district meeting"),
                Need("mechanism", "to make a standing mechanism"),
            ),
            subject=AGENDA,
            service="agenda_item_decide",
            note="once per item, the meeting held; whistle up whistles the case (case_whistle, same "
            "transaction); a mechanism decision creates the StandingMechanism",
            refused=gettext_lazy("该议题已作出决定（%(state)s），每个议题只能作出一个决定。"),
        ),
    )
}


def is_mechanism_keeper(scope: Scope, mechanism: Any) -> bool:
    """Who keeps a standing mechanism's document and records its reviews: its owner department's
    staff, and the unit whose meeting made it."""
    return scope.in_department(mechanism.owner_department_id) or scope.holds_tier(
        mechanism.area.level, mechanism.area.code
    )


def offered_meeting_transitions(meeting: Any, scope: Scope) -> list[str]:
    """The meeting's actions this user may take now (the services check again when they run)."""
    if not is_meeting_unit(scope, meeting):
        return []
    return [
        t.name for t in MEETING_TRANSITIONS.values() if t.subject == MEETING and meeting.state in t.sources
    ] + (["decide"] if meeting.state == MS.HELD else [])


def offered_order_transitions(
    order: Any, pending: Any, scope: Scope, planned: Any = None
) -> list[Transition]:
    """The order's actions (and its pending extension's, its planned visit's) this user may take now: the buttons.

    ``pending`` is the order's open extension request, if any; a second cannot be asked for
    while it is open. ``planned`` is the visit the department announced and the community has
    not yet confirmed or recorded as missed, if any.
    """
    result = []
    for transition in ORDER_TRANSITIONS.values():
        subject = {EXTENSION: pending, ATTENDANCE: planned}.get(transition.subject, order)
        if not transition.via & {STAFF, API} or subject is None or subject.state not in transition.sources:
            continue
        if transition.name == "extension" and pending is not None:
            continue
        if transition.who(scope, subject):
            result.append(transition)
    return result


def allowed_transitions(case: Case, user: Actor | None) -> list[Transition]:
    """The transitions this user may make on this case now (for buttons and API hints)."""
    scope = scope_for(user)
    result = []
    for transition in TRANSITIONS.values():
        if not transition.via & {STAFF, API, WORK} or case.state not in transition.sources:
            continue
        if transition.name in ("dispatch", "consult") and (
            case.tier not in (AreaLevel.DISTRICT, AreaLevel.CITY) or case.lead_department_id
        ):
            continue  # dispatched once; a rejected order is re-dispatched from the order
        if transition.name == "supervise" and case.supervised:
            continue
        if transition.name == "whistle" and case.tier == AreaLevel.CITY:
            continue
        if transition.name == "resolve" and case.lead_department_id:
            continue  # the lead department completes through its order
        if transition.name == "feedback" and case.state == S.AWAITING_RETURN_VISIT:
            continue  # staff record the return visit instead (the residents' page still takes the answer)
        if transition.name == "take" and user is not None and case.assignee_id == user.pk:
            continue  # already theirs
        if transition.who(scope, case):
            result.append(transition)
    return result


# --- consultations before dispatch ----------------------------------------------------------------

CONSULTATION_TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in (
        Transition(
            "consult-answer",
            gettext_lazy("答复派单意见"),
            frozenset({CS.PENDING}),
            is_consulted_department,
            gettext_lazy("被征求意见的部门"),
            to=(CS.ANSWERED,),
            needs=(
                Need("opinion"),
                Need("suggested_department", f"when {ConsultationOpinion.OTHER_DEPARTMENT.value}"),
                Need("text", f"unless {ConsultationOpinion.AGREE.value}"),
            ),
            service="issues.workflow.consultations.consultation_answer",
            subject=CONSULTATION,
            note="also after the deadline, until the dispatch (then an unanswered one lapses); "
            "the organisation department is told",
            refused=gettext_lazy("该征求意见当前为“%(state)s”，不能再答复。"),
            forbidden=gettext_lazy("只有被征求意见的部门可以答复。"),
            who_first=True,
        ),
    )
}


def may_receive_orders_from(department: Any, org_area: Any) -> bool:
    """A district organisation department dispatches to its district's departments and to the
    city-level state enterprises and public-service companies that serve the whole city; city
    government departments take orders only from the city organisation department."""
    from alleys.choices import DepartmentKind

    if department.area_id == org_area.pk:
        return True
    return department.kind != DepartmentKind.GOVERNMENT and org_area.code.startswith(department.area.code)
