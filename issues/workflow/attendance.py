"""报到 in person: the whistling community confirms that the department came, or records that it did not.

The department announces its visit in its report (``orders.order_report``: who will come and
when, a planned ``Attendance``). The community then records what happened:

- ``attendance_confirm``: the actual time and the people present; that time is the order's
  ``attended_at``, the only thing that meets the report deadline (``issues.attendance``);
- ``attendance_missed``: nobody came at the announced time. A reported order goes back to
  "received", so the department must report again with a new date; the department and the
  organisation department that dispatched the order are told.

Only staff of a community whose case the order serves may do either (``rules.is_attendance_community``).
The events go onto the timeline of every case the order serves, labelled with the community
that recorded them; the people's names stay in the events' data (staff pages, the inbox), not
in the public line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from alleys.choices import AreaLevel, Role
from alleys.models import Area
from alleys.people import Member
from alleys.scoping import scope_for
from dispatch.chain import unit_label
from issues.attendance import report_outcome
from issues.choices import AttendanceState, EventKind, OrderState, ReportOutcome
from issues.models import Attendance, Case, CaseEvent, DispatchOrder
from issues.workflow import (
    ORDER_TRANSITIONS,
    Transition,
    TransitionError,
    TransitionForbidden,
    TransitionInvalid,
    check,
    is_order_community,
    order_cases,
    record_event,
    stored,
)

from .events import moment, notify_after_commit
from .orders import clean_names, lock_order


def planned_visit(order: DispatchOrder) -> Attendance | None:
    """The visit the department announced that the community has not yet recorded (at most one)."""
    return order.attendances.filter(state=AttendanceState.PLANNED).first()


def _lock_planned(order: DispatchOrder, transition: Transition, actor: Member) -> Attendance:
    """The order's planned visit, locked, after the table's check (who first, then the state)."""
    visit = (
        Attendance.objects.select_for_update(of=("self",))
        .filter(order=order, state=AttendanceState.PLANNED)
        .first()
    )
    if visit is None:
        # Nothing planned: who may act is still answered first, from the order itself.
        if actor is None or not is_order_community(scope_for(actor), order):
            raise TransitionForbidden(str(transition.forbidden))
        raise TransitionError(_("该派单没有待社区确认的到场安排（部门尚未报到，或已登记）。请刷新后查看。"))
    visit.order = order
    check(transition, visit, actor)
    return visit


def _community_of(actor: Member, cases: Sequence[Case]) -> Area | None:
    """The community recording the visit: the actor's, among the communities the order serves."""
    scope = scope_for(actor)
    roles = frozenset({Role.COMMUNITY_STAFF})
    mine = [c for c in cases if scope.has_role_over(roles, c.alley.code)] or list(cases)
    if not mine:
        return None
    return Area.objects.filter(code=mine[0].alley.code_at(AreaLevel.COMMUNITY)).first()


def _record(
    order: DispatchOrder,
    kind: str,
    *,
    cases: Sequence[Case],
    community: Area | None,
    actor: Member,
    now: dt.datetime,
    note: str,
    data: dict[str, object],
) -> list[CaseEvent]:
    with translation.override(settings.LANGUAGE_CODE):
        label = unit_label(AreaLevel.COMMUNITY, community) if community is not None else ""
    payload = {"order_id": order.pk, "department_id": order.department_id, "role": order.role, **data}
    return [
        record_event(case, kind, actor=actor, now=now, note=note, label=label or None, data=payload)
        for case in cases
    ]


def _when(moment_: dt.datetime) -> str:
    return timezone.localtime(moment_).strftime("%Y-%m-%d %H:%M")


def attendance_confirm(
    *,
    order: DispatchOrder | int,
    actor: Member,
    attended_at: dt.datetime | None,
    present: Sequence[str] | str,
    note: str = "",
    now: dt.datetime | None = None,
) -> Attendance:
    """The community confirms the department came: when it actually came and who was there.

    ``attended_at`` may be earlier than now (the community confirms afterwards) but not in the
    future nor before the order was dispatched; it alone decides whether the report was on time.
    """
    now = moment(now)
    people = clean_names(present, "present", _("请填写实际到场人员。"))
    if attended_at is None:
        raise TransitionInvalid(_("请填写实际到场时间。"), field="attended_at")
    if attended_at > now:
        raise TransitionInvalid(_("实际到场时间不能晚于现在。"), field="attended_at")
    with transaction.atomic():
        order = lock_order(order)
        transition = ORDER_TRANSITIONS["attendance-confirm"]
        visit = _lock_planned(order, transition, actor)
        # The forms say the minute; a visit in the minute of the dispatch is not before it.
        if attended_at < order.dispatched_at.replace(second=0, microsecond=0):
            raise TransitionInvalid(_("实际到场时间不能早于派单时间。"), field="attended_at")
        cases = order_cases(order)
        community = _community_of(actor, cases)
        visit.state = transition.next_state
        visit.attended_at, visit.present, visit.note = attended_at, people, (note or "").strip()
        visit.community, visit.decided_by, visit.decided_at = community, actor, now
        visit.save()
        order.attended_at = attended_at
        order.save(update_fields=["attended_at"])
        outcome = report_outcome(report_due=order.report_due, attended_at=attended_at, no_show=False, now=now)
        text = (
            stored(
                gettext_noop("部门于 %(when)s 到社区报到，社区已确认（按时报到）。"), when=_when(attended_at)
            )
            if outcome == ReportOutcome.ON_TIME
            else stored(
                gettext_noop("部门于 %(when)s 到社区报到，社区已确认（晚于报到期限 %(due)s）。"),
                when=_when(attended_at),
                due=_when(order.report_due),
            )
        )
        events = _record(
            order,
            EventKind.ATTENDANCE_CONFIRMED,
            cases=cases,
            community=community,
            actor=actor,
            now=now,
            note=text,
            data={
                "attendance_id": visit.pk,
                "attended_at": attended_at.isoformat(),
                "outcome": outcome,
                "people": people,
                "remark": visit.note,
            },
        )
        notify_after_commit(*events)
    return visit


def attendance_missed(
    *, order: DispatchOrder | int, actor: Member, note: str = "", now: dt.datetime | None = None
) -> Attendance:
    """The community records that nobody came at the announced time: the department must report again."""
    now = moment(now)
    with transaction.atomic():
        order = lock_order(order)
        transition = ORDER_TRANSITIONS["attendance-missed"]
        visit = _lock_planned(order, transition, actor)
        if now < visit.planned_at:
            raise TransitionError(
                _("约定的到场时间 %(when)s 还没到，不能登记未到场。") % {"when": _when(visit.planned_at)}
            )
        cases = order_cases(order)
        community = _community_of(actor, cases)
        visit.state = transition.next_state
        visit.note = (note or "").strip()
        visit.community, visit.decided_by, visit.decided_at = community, actor, now
        visit.save()
        if order.state == OrderState.REPORTED:
            # Reported again with a new date before the department can complete (the table's sources).
            order.state = OrderState.RECEIVED
            order.save(update_fields=["state"])
        text = stored(
            gettext_noop("部门未按约定时间（%(when)s）到社区报到，须重新报到并约定时间。"),
            when=_when(visit.planned_at),
        )
        events = _record(
            order,
            EventKind.ATTENDANCE_MISSED,
            cases=cases,
            community=community,
            actor=actor,
            now=now,
            note=text,
            data={"attendance_id": visit.pk, "people": list(visit.visitors), "remark": visit.note},
        )
        notify_after_commit(*events)
    return visit
