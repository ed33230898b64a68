"""Consultation before dispatch (派单前征求意见): the organisation department asks, the departments answer.

Ma'anshan: "派单前，也将充分征求拟报到部门的意见建议". Before it dispatches a case, the
organisation department holding it may ask the departments it means to send it to (``case_consult``);
each answers — agree, suggest another department, or another opinion, with its reasons
(``consultation_answer``) — within ``OrderSettings.consult_days`` working days (one by default).
``case_dispatch`` waits while an answer is still due (``awaiting_answers``), never after the
deadline: an unanswered consultation lapses when the case is dispatched. The answers stay with
the case, are shown on the dispatch form, and each goes onto the order of its department
(``carry_onto_orders``).

The events are internal (staff timeline and inbox): they are the units' deliberation, not news
for the resident.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from alleys.choices import AreaLevel
from alleys.models import Department
from alleys.people import Member
from dispatch.deadlines import consultation_due

from ..choices import ACTIVE_ORDER_STATES, OPEN_STATES, ConsultationOpinion, ConsultationState, EventKind
from ..models import Case, Consultation, DispatchOrder
from .events import (
    lock_case,
    lock_for_transition,
    moment,
    notify_after_commit,
    record_event,
    require_text,
    stored,
)
from .rules import (
    CONSULTATION_TRANSITIONS,
    TRANSITIONS,
    TransitionError,
    TransitionInvalid,
    check,
    may_receive_orders_from,
)

CS = ConsultationState


def _when(moment_: dt.datetime) -> str:
    return timezone.localtime(moment_).strftime("%Y-%m-%d %H:%M")


def case_consult(
    *,
    case: Case | int,
    actor: Member,
    departments: Sequence[Department],
    question: str = "",
    now: dt.datetime | None = None,
) -> list[Consultation]:
    """Ask the proposed departments' opinion before dispatching the case (one row per department)."""
    now = moment(now)
    question = (question or "").strip()
    with transaction.atomic():
        case = lock_case(case)
        check(TRANSITIONS["consult"], case, actor)
        if case.tier not in (AreaLevel.DISTRICT, AreaLevel.CITY):
            raise TransitionError(_("只有案件升至区、市一级后，组织部才能在派单前征求部门意见。"))
        if case.lead_department_id or case.orders.filter(state__in=sorted(ACTIVE_ORDER_STATES)).exists():
            raise TransitionError(_("该案件已派单，不再征求派单意见。"))
        asked = list({d.pk: d for d in departments}.values())
        if not asked:
            raise TransitionInvalid(_("请至少选择一个部门。"), field="departments")
        for dept in asked:
            if not dept.is_active:
                raise TransitionInvalid(
                    _("部门“%(name)s”已停用。") % {"name": dept.name}, field="departments"
                )
            if not may_receive_orders_from(dept, case.holder_area):
                raise TransitionInvalid(
                    _("“%(name)s”不属于本级派单范围。") % {"name": dept.name}, field="departments"
                )
        waiting = list(
            Consultation.objects.filter(case=case, state=CS.PENDING, department__in=asked).values_list(
                "department__name", flat=True
            )
        )
        if waiting:
            raise TransitionError(
                _("已向%(names)s征求意见，尚待答复。") % {"names": "、".join(sorted(waiting))}
            )
        due, _provisional = consultation_due(start=now)
        try:
            with transaction.atomic():
                rows = [
                    Consultation.objects.create(
                        case=case,
                        department=dept,
                        asker_area=case.holder_area,
                        question=question,
                        asked_by=actor if getattr(actor, "pk", None) else None,
                        asked_at=now,
                        answer_due=due,
                    )
                    for dept in asked
                ]
        except IntegrityError as exc:  # asked at the same moment by another click
            raise TransitionError(_("刚刚已征求过这些部门的意见。请刷新后查看。")) from exc
        note = stored(
            gettext_noop("就派单征求%(names)s的意见，请于 %(due)s 前答复。"),
            names="、".join(d.name for d in asked),
            due=_when(due),
        )
        event = record_event(
            case,
            EventKind.CONSULTED,
            actor=actor,
            now=now,
            note=f"{note}\n{question}" if question else note,
            public=False,
            data={
                "consultation_ids": [c.pk for c in rows],
                "department_ids": [d.pk for d in asked],
                "answer_due": due.isoformat(),
            },
        )
        notify_after_commit(event)
    return rows


def _lock_consultation(consultation: Consultation | int) -> Consultation:
    return lock_for_transition(
        Consultation.objects.select_related("case", "case__alley", "department", "asker_area"),
        consultation if isinstance(consultation, int) else consultation.pk,
        changed=_("征求意见刚刚发生了变化，本次操作未执行。请刷新后查看。"),
    )


def opinion_text(opinion: str, suggested: Department | None, text: str) -> str:
    """An answer in one line of the site's language (the timeline and the orders carry it)."""
    with translation.override(settings.LANGUAGE_CODE):
        label = str(ConsultationOpinion(opinion).label)
    if suggested is not None:
        label = stored(gettext_noop("%(label)s：%(name)s"), label=label, name=suggested.name)
    return f"{label}。{text}" if text else f"{label}。"


def consultation_answer(
    *,
    consultation: Consultation | int,
    actor: Member,
    opinion: str,
    suggested_department: Department | None = None,
    text: str = "",
    now: dt.datetime | None = None,
) -> Consultation:
    """The department answers: agree, suggest another department (which, and why), or another opinion.

    Accepted after the deadline too, as long as the case has not been dispatched (then the
    consultation lapsed); a late answer is marked so.
    """
    now = moment(now)
    text = (text or "").strip()
    with transaction.atomic():
        row = _lock_consultation(consultation)
        check(CONSULTATION_TRANSITIONS["consult-answer"], row, actor)
        if row.case.state not in OPEN_STATES:
            raise TransitionError(_("该案件已不在办理中，无需答复。"))
        if opinion not in ConsultationOpinion.values:
            raise TransitionInvalid(_("请选择意见。"), field="opinion")
        if opinion == ConsultationOpinion.OTHER_DEPARTMENT:
            if suggested_department is None:
                raise TransitionInvalid(_("请选择建议承办的部门。"), field="suggested_department")
            if suggested_department.pk == row.department_id:
                raise TransitionInvalid(_("建议承办的部门不能是本部门。"), field="suggested_department")
            if not suggested_department.is_active:
                raise TransitionInvalid(
                    _("部门“%(name)s”已停用。") % {"name": suggested_department.name},
                    field="suggested_department",
                )
            require_text(text, "text", _("请说明建议改由其他部门承办的理由。"))
        else:
            suggested_department = None
            if opinion == ConsultationOpinion.OTHER:
                require_text(text, "text", _("请填写意见。"))
        row.state = CONSULTATION_TRANSITIONS["consult-answer"].next_state
        row.opinion, row.suggested_department, row.answer = opinion, suggested_department, text
        row.answered_by, row.answered_at = actor, now
        row.save()
        late = now > row.answer_due
        note = opinion_text(opinion, suggested_department, text)
        event = record_event(
            row.case,
            EventKind.CONSULTATION_ANSWERED,
            actor=actor,
            now=now,
            note=stored(gettext_noop("（逾期答复）%(note)s"), note=note) if late else note,
            public=False,
            label=row.department.name,
            data={
                "consultation_id": row.pk,
                "department_id": row.department_id,
                "opinion": opinion,
                "suggested_department_id": suggested_department.pk if suggested_department else None,
                "late": late,
                "org_area_code": row.asker_area.code,
            },
        )
        notify_after_commit(event)
    return row


def awaiting_answers(case: Case, *, now: dt.datetime) -> list[Consultation]:
    """The case's unanswered consultations, locked (inside the dispatch's transaction).

    Raises ``TransitionError`` while any of them is still within its answer deadline: the
    dispatch waits for the departments' word until then, and not after.
    """
    rows = list(
        Consultation.objects.select_for_update(of=("self",))
        .filter(case=case, state=CS.PENDING)
        .select_related("department")
    )
    waiting = [c for c in rows if c.answer_due > now]
    if waiting:
        raise TransitionError(
            _(
                "已向%(names)s征求派单意见，答复期限为 %(due)s。请等部门答复后再派单；期限过后未答复的不影响派单。"
            )
            % {
                "names": "、".join(sorted({c.department.name for c in waiting})),
                "due": _when(max(c.answer_due for c in waiting)),
            }
        )
    return rows


def carry_onto_orders(case: Case, orders: Sequence[DispatchOrder], *, now: dt.datetime) -> list[int]:
    """Each department's answers go onto its new order; what is still unanswered lapses. Returns their ids."""
    by_department = {o.department_id: o.pk for o in orders}
    rows = list(Consultation.objects.filter(case=case, order__isnull=True).exclude(state=CS.LAPSED))
    for row in rows:
        changed: dict[str, Any] = {}
        if row.department_id in by_department:
            changed["order_id"] = by_department[row.department_id]
        if row.state == CS.PENDING:
            changed["state"] = CS.LAPSED
        if changed:
            Consultation.objects.filter(pk=row.pk).update(**changed)
    return [row.pk for row in rows]
