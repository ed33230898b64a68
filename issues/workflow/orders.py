"""The department-order state machine: receive, report (报到), progress, complete, reject, extend.

A report announces who will come to the whistling community and when (a planned ``Attendance``);
the community's confirmation or no-show is ``issues.workflow.attendance``.

An order belongs to one department (lead or cooperating) and either one case or one
common issue. Its events go onto the timelines of the cases it serves. Where an
order changes the case (the lead department completes), this module calls the case
state machine in issues.workflow rather than touching the case's state itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from alleys import reference
from alleys.choices import AreaLevel, Role
from alleys.models import Area, Department
from alleys.people import Member
from alleys.scoping import scope_for
from dispatch.deadlines import order_deadlines
from issues.choices import (
    ACTIVE_ORDER_STATES,
    OPEN_STATES,
    CaseState,
    EventKind,
    ExtensionState,
    OrderRole,
    OrderState,
)
from issues.models import Attendance, Case, CaseEvent, CommonIssue, DispatchOrder, ExtensionRequest
from issues.workflow import (
    ORDER_TRANSITIONS,
    TransitionError,
    TransitionForbidden,
    TransitionInvalid,
    case_dispatched_with_common_issue,
    case_mark_in_progress,
    case_resolve,
    check,
    lock_for_transition,
    may_receive_orders_from,
    order_cases,
    record_event,
    stored,
)

from .events import moment, notify_after_commit, require_text

OS = OrderState


def _order_just_changed() -> str:
    return _("派单刚刚发生了变化，本次操作未执行。请刷新后查看最新进展。")


def lock_order(order: DispatchOrder | int) -> DispatchOrder:
    """Lock the order row and load what the checks read (the race guard as for cases).

    No transition moves an order's department today; the guard keeps a future one from
    turning a click that waited on the lock into a 500.
    """
    return lock_for_transition(
        DispatchOrder.objects.select_related("department", "dispatcher_area", "case", "common_issue"),
        order if isinstance(order, int) else order.pk,
        changed=_order_just_changed(),
    )


def _cases_of(order: DispatchOrder) -> list[Case]:
    return order_cases(order)


def _events(
    order: DispatchOrder,
    kind: str,
    *,
    label: str,
    actor: Member,
    now: dt.datetime,
    note: str = "",
    data: dict[str, Any] | None = None,
) -> list[CaseEvent]:
    """The order's event on the timeline of every case it serves.

    ``label`` names the unit that acted, which is not always the order's department: the
    community agrees to an extension (``_community_label``), the organisation department
    approves it, redispatches or insists (``_dispatcher_label``); the person is ``actor``.
    """
    payload = {"order_id": order.pk, "department_id": order.department_id, "role": order.role, **(data or {})}
    return [
        record_event(case, kind, actor=actor, now=now, note=note, label=label, data=payload)
        for case in _cases_of(order)
    ]


def _department_label(order: DispatchOrder) -> str:
    """The department the order was sent to (its staff receive, report, progress, complete, reject, ask)."""
    return order.department.name


def _dispatcher_label(order: DispatchOrder) -> str:
    """The organisation department that dispatched the order (it decides extensions and rejections)."""
    return _org_label(order.dispatcher_area)


def _community_label(order: DispatchOrder, actor: Member) -> str:
    """The whistling community the actor speaks for: one whose case the order serves (its first, for a superuser)."""
    scope = scope_for(actor)
    codes = [case.alley.code_at(AreaLevel.COMMUNITY) for case in _cases_of(order)]
    mine = [c for c in codes if scope.has_role_over(frozenset({Role.COMMUNITY_STAFF}), c)]
    code = (mine or codes or [""])[0]
    community = reference.area_by_code(code) if code else None
    return community.name if community is not None else ""


def create_orders(
    *,
    case: Case | None,
    common_issue: CommonIssue | None,
    lead: Department,
    cooperating: Sequence[Department],
    dispatcher_area: Area,
    instructions: str,
    actor: Member,
    now: dt.datetime,
) -> list[DispatchOrder]:
    """Orders for the lead (first) and the cooperating departments, with their deadlines."""
    report_due, complete_due, provisional = order_deadlines(start=now)
    orders = [
        DispatchOrder.objects.create(
            case=case,
            common_issue=common_issue,
            department=dept,
            role=role,
            dispatcher_area=dispatcher_area,
            instructions=instructions,
            dispatched_by=actor if getattr(actor, "pk", None) else None,
            dispatched_at=now,
            report_due=report_due,
            complete_due=complete_due,
            deadline_provisional=provisional,
        )
        for dept, role in [(lead, OrderRole.LEAD), *[(d, OrderRole.COOPERATING) for d in cooperating]]
    ]
    return orders


def order_receive(
    *, order: DispatchOrder | int, actor: Member, now: dt.datetime | None = None
) -> DispatchOrder:
    """The department signs for the order."""
    now = moment(now)
    with transaction.atomic():
        order = lock_order(order)
        transition = check(ORDER_TRANSITIONS["receive"], order, actor)
        order.state = transition.next_state
        order.received_at = now
        order.save(update_fields=["state", "received_at"])
        _events(order, EventKind.ORDER_RECEIVED, label=_department_label(order), actor=actor, now=now)
    return order


def order_report(
    *,
    order: DispatchOrder | int,
    actor: Member,
    leader_name: str,
    contact_name: str,
    contact_phone: str,
    work_plan: str,
    visit_at: dt.datetime | None,
    visitors: Sequence[str],
    now: dt.datetime | None = None,
) -> DispatchOrder:
    """报到: the department names its leader and contact, files its work plan, and says who will come when.

    The visit (an ``Attendance``, planned) is what the whistling community then confirms or
    records as missed (``issues.workflow.attendance``); only a confirmed attendance meets the
    report deadline. After a no-show the order is back at "received" and is reported again.
    """
    now = moment(now)
    leader_name = require_text(leader_name, "leader_name", _("请填写分管负责人。"))
    contact_name = require_text(contact_name, "contact_name", _("请填写联系人。"))
    contact_phone = require_text(contact_phone, "contact_phone", _("请填写联系电话。"))
    work_plan = require_text(work_plan, "work_plan", _("请填写工作方案。"))
    people = clean_names(visitors, "visitors", _("请填写到社区报到的人员。"))
    if leader_name not in people and contact_name not in people:
        raise TransitionInvalid(_("到社区报到的人员中须有分管负责人或联系人。"), field="visitors")
    if visit_at is None:
        raise TransitionInvalid(_("请填写到社区报到的时间。"), field="visit_at")
    if visit_at < now.replace(second=0, microsecond=0):
        raise TransitionInvalid(_("约定到社区报到的时间不能早于现在。"), field="visit_at")
    with transaction.atomic():
        order = lock_order(order)
        transition = check(ORDER_TRANSITIONS["report"], order, actor)
        order.state = transition.next_state
        order.received_at = order.received_at or now
        order.reported_at = now
        order.leader_name, order.contact_name, order.contact_phone = leader_name, contact_name, contact_phone
        order.work_plan = work_plan
        order.save()
        try:
            with transaction.atomic():
                visit = Attendance.objects.create(
                    order=order, planned_at=visit_at, visitors=people, reported_by=actor, reported_at=now
                )
        except IntegrityError as exc:  # a visit is still planned (the state check makes this a race)
            raise TransitionError(_order_just_changed()) from exc
        when = timezone.localtime(visit_at).strftime("%Y-%m-%d %H:%M")
        plan = (
            stored(gettext_noop("约定 %(when)s 到社区报到（晚于报到期限）。"), when=when)
            if visit_at > order.report_due
            else stored(gettext_noop("约定 %(when)s 到社区报到。"), when=when)
        )
        # The names go to staff only (the timeline's data, the inbox); the public line says when.
        events = _events(
            order,
            EventKind.ORDER_REPORTED,
            label=_department_label(order),
            actor=actor,
            now=now,
            note=f"{plan}\n{work_plan}",
            data={"attendance_id": visit.pk, "visit_at": visit_at.isoformat(), "people": people},
        )
        if order.role == OrderRole.LEAD:
            for case in _cases_of(order):
                case_mark_in_progress(case=case, now=now)
        notify_after_commit(*events)
    return order


def order_progress(
    *, order: DispatchOrder | int, actor: Member, note: str, now: dt.datetime | None = None
) -> DispatchOrder:
    """A progress note from the department."""
    now = moment(now)
    note = require_text(note, "note", _("请填写办理进展。"))
    with transaction.atomic():
        order = lock_order(order)
        check(ORDER_TRANSITIONS["progress"], order, actor)
        _events(
            order, EventKind.ORDER_PROGRESS, label=_department_label(order), actor=actor, now=now, note=note
        )
    return order


def order_complete(
    *,
    order: DispatchOrder | int,
    actor: Member,
    note: str,
    photos: Sequence[IO[bytes]] = (),
    now: dt.datetime | None = None,
) -> DispatchOrder:
    """The department finishes its part; the lead's completion sends the case(s) to verification."""
    now = moment(now)
    note = require_text(note, "note", _("请填写办结说明。"))
    with transaction.atomic():
        order = lock_order(order)
        transition = check(ORDER_TRANSITIONS["complete"], order, actor)
        order.state = transition.next_state
        order.completed_at = now
        order.completion_note = note
        order.save(update_fields=["state", "completed_at", "completion_note"])
        events = _events(
            order,
            EventKind.ORDER_COMPLETED,
            label=_department_label(order),
            actor=actor,
            now=now,
            note=note,
            data={"on_time": now <= order.complete_due},
        )
        notify_after_commit(*events)
        if order.role == OrderRole.LEAD:
            for case in _cases_of(order):
                if case.state in (CaseState.ACCEPTED, CaseState.IN_PROGRESS):
                    case_resolve(
                        case=case, actor=actor, note=note, photos=photos, now=now, _by_lead_order=True
                    )
    return order


def order_reject(
    *, order: DispatchOrder | int, actor: Member, reason: str, now: dt.datetime | None = None
) -> DispatchOrder:
    """退单: the department says the matter is not theirs; the organisation department decides."""
    now = moment(now)
    reason = require_text(reason, "reason", _("请填写退单理由。"))
    with transaction.atomic():
        order = lock_order(order)
        transition = check(ORDER_TRANSITIONS["reject"], order, actor)
        order.state = transition.next_state
        order.rejection_reason = reason
        order.save(update_fields=["state", "rejection_reason"])
        notify_after_commit(
            *_events(
                order,
                EventKind.ORDER_REJECTED,
                label=_department_label(order),
                actor=actor,
                now=now,
                note=reason,
            )
        )
    return order


def order_redispatch(
    *,
    order: DispatchOrder | int,
    actor: Member,
    department: Department,
    note: str = "",
    now: dt.datetime | None = None,
) -> DispatchOrder:
    """The organisation department accepts a rejection and sends the order to another department."""
    now = moment(now)
    with transaction.atomic():
        order = lock_order(order)
        transition = check(ORDER_TRANSITIONS["redispatch"], order, actor)
        if department.pk == order.department_id:
            raise TransitionInvalid(_("请选择另一个部门，或选择“维持派单”。"), field="department")
        if not department.is_active:
            raise TransitionInvalid(
                _("部门“%(name)s”已停用。") % {"name": department.name}, field="department"
            )
        if not may_receive_orders_from(department, order.dispatcher_area):
            raise TransitionInvalid(
                _("“%(name)s”不属于本级派单范围。") % {"name": department.name}, field="department"
            )
        [new] = create_orders(
            case=order.case,
            common_issue=order.common_issue,
            lead=department,
            cooperating=(),
            dispatcher_area=order.dispatcher_area,
            instructions=order.instructions,
            actor=actor,
            now=now,
        )
        new.role = order.role
        new.save(update_fields=["role"])
        order.state = transition.next_state
        order.replaced_by = new
        order.save(update_fields=["state", "replaced_by"])
        text = note or stored(gettext_noop("改派至%(name)s。"), name=department.name)
        events = _events(
            new,
            EventKind.ORDER_REDISPATCHED,
            label=_dispatcher_label(order),
            actor=actor,
            now=now,
            note=text,
            data={"previous_order_id": order.pk},
        )
        if order.role == OrderRole.LEAD:
            for case in _cases_of(order):
                Case.objects.filter(pk=case.pk).update(
                    lead_department=department, resolve_due=new.complete_due
                )
        notify_after_commit(*events)
    return new


def order_insist(
    *, order: DispatchOrder | int, actor: Member, note: str, now: dt.datetime | None = None
) -> DispatchOrder:
    """The organisation department refuses the rejection: the same department must handle it."""
    now = moment(now)
    note = require_text(note, "note", _("请说明维持派单的理由。"))
    with transaction.atomic():
        order = lock_order(order)
        check(ORDER_TRANSITIONS["insist"], order, actor)
        order.state = OS.RECEIVED if order.received_at else OS.DISPATCHED
        order.save(update_fields=["state"])
        notify_after_commit(
            *_events(
                order,
                EventKind.ORDER_INSISTED,
                label=_dispatcher_label(order),
                actor=actor,
                now=now,
                note=note,
            )
        )
    return order


# --- extensions --------------------------------------------------------------------------------


def extension_request(
    *,
    order: DispatchOrder | int,
    actor: Member,
    reason: str,
    new_due: dt.datetime,
    now: dt.datetime | None = None,
) -> ExtensionRequest:
    """The department asks for more time; the community must agree, then the org department approve."""
    now = moment(now)
    reason = require_text(reason, "reason", _("请填写延期理由。"))
    with transaction.atomic():
        order = lock_order(order)
        check(ORDER_TRANSITIONS["extension"], order, actor)
        if new_due <= order.complete_due:
            raise TransitionInvalid(_("延期后的期限必须晚于原办结期限。"), field="new_due")
        if new_due <= now:
            raise TransitionInvalid(_("延期后的期限必须在今天之后。"), field="new_due")
        try:
            with transaction.atomic():
                ext = ExtensionRequest.objects.create(
                    order=order,
                    reason=reason,
                    requested_due=new_due,
                    previous_due=order.complete_due,
                    requested_by=actor,
                    requested_at=now,
                )
        except IntegrityError as exc:
            raise TransitionError(_("该派单已有待审批的延期申请。")) from exc
        notify_after_commit(
            *_events(
                order,
                EventKind.EXTENSION_REQUESTED,
                label=_department_label(order),
                actor=actor,
                now=now,
                note=reason,
                data={"extension_id": ext.pk, "requested_due": new_due.isoformat()},
            )
        )
    return ext


def _lock_extension(ext: ExtensionRequest | int) -> ExtensionRequest:
    return lock_for_transition(
        ExtensionRequest.objects.select_related(
            "order", "order__department", "order__dispatcher_area", "order__case", "order__common_issue"
        ),
        ext if isinstance(ext, int) else ext.pk,
        changed=_order_just_changed(),
    )


def extension_community_decide(
    *,
    extension: ExtensionRequest | int,
    actor: Member,
    agree: bool,
    note: str = "",
    now: dt.datetime | None = None,
) -> ExtensionRequest:
    """The whistling community agrees (→ the org department decides) or refuses."""
    now = moment(now)
    with transaction.atomic():
        ext = _lock_extension(extension)
        order = ext.order
        check(ORDER_TRANSITIONS["extension-community"], ext, actor)
        if not agree:
            require_text(note, "note", _("不同意延期时请说明理由。"))
        ext.state = ExtensionState.PENDING_ORG if agree else ExtensionState.REFUSED
        ext.community_decided_by, ext.community_decided_at = actor, now
        ext.decision_note = note
        ext.save()
        verdict = (
            stored(gettext_noop("社区同意延期，报组织部审批。"))
            if agree
            else stored(gettext_noop("社区不同意延期：%(note)s"), note=note)
        )
        notify_after_commit(
            *_events(
                order,
                EventKind.EXTENSION_DECIDED,
                label=_community_label(order, actor),
                actor=actor,
                now=now,
                note=verdict,
                data={"extension_id": ext.pk, "state": ext.state},
            )
        )
    return ext


def extension_org_decide(
    *,
    extension: ExtensionRequest | int,
    actor: Member,
    approve: bool,
    note: str = "",
    now: dt.datetime | None = None,
) -> ExtensionRequest:
    """The organisation department at the same level approves or refuses; approval moves the deadline."""
    now = moment(now)
    with transaction.atomic():
        ext = _lock_extension(extension)
        order = lock_order(ext.order_id)
        check(ORDER_TRANSITIONS["extension-org"], ext, actor)
        if not approve:
            require_text(note, "note", _("不批准延期时请说明理由。"))
        ext.state = ExtensionState.APPROVED if approve else ExtensionState.REFUSED
        ext.org_decided_by, ext.org_decided_at = actor, now
        ext.decision_note = note or ext.decision_note
        ext.save()
        if approve:
            order.complete_due = ext.requested_due
            order.complete_overdue_at = None
            order.save(update_fields=["complete_due", "complete_overdue_at"])
            if order.role == OrderRole.LEAD:
                for case in _cases_of(order):
                    Case.objects.filter(pk=case.pk).update(resolve_due=ext.requested_due)
        verdict = (
            stored(
                gettext_noop("组织部批准延期至 %(due)s。"),
                due=timezone.localtime(ext.requested_due).strftime("%Y-%m-%d"),
            )
            if approve
            else stored(gettext_noop("组织部不批准延期：%(note)s"), note=note)
        )
        notify_after_commit(
            *_events(
                order,
                EventKind.EXTENSION_DECIDED,
                label=_dispatcher_label(order),
                actor=actor,
                now=now,
                note=verdict,
                data={"extension_id": ext.pk, "state": ext.state},
            )
        )
    return ext


# --- common issues -------------------------------------------------------------------------------


def common_issue_create(
    *,
    actor: Member,
    title: str,
    cases: Sequence[Case],
    description: str = "",
    is_long_term: bool = False,
    now: dt.datetime | None = None,
) -> CommonIssue:
    """Group cases raised by several communities as one common issue (共性问题) of an org department."""
    now = moment(now)
    title = require_text(title, "title", _("请填写共性问题的标题。"))
    scope = scope_for(actor)
    org_area = _org_area_of(actor)
    if org_area is None:
        raise TransitionForbidden(_("只有区、市委组织部可以设立共性问题。"))
    if len(cases) < 1:
        raise TransitionInvalid(_("请至少选择一个案件。"), field="cases")
    for case in cases:
        if not scope.covers_code(case.alley.code):
            raise TransitionInvalid(
                _("案件 %(code)s 不在本辖区。") % {"code": case.tracking_code}, field="cases"
            )
        if case.state not in OPEN_STATES:
            raise TransitionInvalid(
                _("案件 %(code)s 已办结或关闭。") % {"code": case.tracking_code}, field="cases"
            )
    with transaction.atomic():
        issue = CommonIssue.objects.create(
            title=title,
            description=description,
            coordinator_area=org_area,
            is_long_term=is_long_term,
            created_by=actor,
            created_at=now,
        )
        issue.cases.set(cases)
        for case in cases:
            record_event(
                case,
                EventKind.COMMON_ISSUE,
                actor=actor,
                now=now,
                note=title,
                data={"common_issue_id": issue.pk},
            )
    return issue


def common_issue_dispatch(
    *,
    issue: CommonIssue | int,
    actor: Member,
    lead: Department,
    cooperating: Sequence[Department] = (),
    instructions: str = "",
    now: dt.datetime | None = None,
) -> list[DispatchOrder]:
    """One order set serving every case of the common issue."""
    now = moment(now)
    with transaction.atomic():
        issue = CommonIssue.objects.select_for_update().get(pk=issue if isinstance(issue, int) else issue.pk)
        area = issue.coordinator_area
        if actor is None or not scope_for(actor).holds_tier(area.level, area.code):
            raise TransitionForbidden(_("只有协调该共性问题的组织部可以派单。"))
        if issue.orders.filter(state__in=ACTIVE_ORDER_STATES).exists():
            raise TransitionError(_("该共性问题已有在办派单。"))
        coop = [d for d in cooperating if d.pk != lead.pk]
        _check_departments([lead, *coop], area)
        orders = create_orders(
            case=None,
            common_issue=issue,
            lead=lead,
            cooperating=coop,
            dispatcher_area=area,
            instructions=instructions,
            actor=actor,
            now=now,
        )
        issue.lead_department = lead
        issue.save(update_fields=["lead_department"])
        issue.cooperating_departments.set(coop)
        events: list[CaseEvent] = []
        for case in issue.cases.all():
            events.append(
                case_dispatched_with_common_issue(
                    case=case,
                    lead=lead,
                    resolve_due=orders[0].complete_due,
                    note=instructions or issue.title,
                    label=_org_label(area),
                    actor=actor,
                    now=now,
                    data={"common_issue_id": issue.pk, "department_ids": [lead.pk, *[d.pk for d in coop]]},
                )
            )
        notify_after_commit(*events)
    return orders


def _check_departments(departments: Sequence[Department], org_area: Area) -> None:
    """The same rule as issues.workflow.case_dispatch: active, and within the dispatch level."""
    for dept in departments:
        if not dept.is_active:
            raise TransitionInvalid(_("部门“%(name)s”已停用。") % {"name": dept.name}, field="lead")
        if not may_receive_orders_from(dept, org_area):
            raise TransitionInvalid(_("“%(name)s”不属于本级派单范围。") % {"name": dept.name}, field="lead")


def clean_names(names: Sequence[str] | str, field: str, message: str) -> list[str]:
    """People's names as typed (one per line, or separated by commas or 、, in one text or several), each once."""
    texts = [names] if isinstance(names, str) else list(names)
    parts = [
        part.strip()
        for text in texts
        for part in str(text or "").replace("，", ",").replace("、", ",").replace("\n", ",").split(",")
    ]
    cleaned = list(dict.fromkeys(p for p in parts if p))
    if not cleaned:
        raise TransitionInvalid(message, field=field)
    if len(cleaned) > 30 or any(len(n) > 50 for n in cleaned):
        raise TransitionInvalid(_("人员名单过长：最多 30 人，每人不超过 50 个字。"), field=field)
    return cleaned


def _org_area_of(actor: Member) -> Area | None:
    scope = scope_for(actor)
    for role, code, _dept in scope.assignments:
        if role in (Role.DISTRICT_ORG, Role.CITY_ORG) and code:
            return Area.objects.filter(code=code).first()
    if scope.is_global:
        return Area.objects.filter(level=AreaLevel.CITY).first()
    return None


def _org_label(area: Area) -> str:
    from django.conf import settings
    from django.utils import translation

    from dispatch.chain import unit_label

    with translation.override(settings.LANGUAGE_CODE):
        return unit_label(area.level, area)
