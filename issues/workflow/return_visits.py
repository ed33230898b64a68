"""The return visit before closing (回访; Jilin's orange light, 橘灯 "处理完结等待回访").

After verification a case waits ``JXT_FEEDBACK_WINDOW_DAYS`` working days for the resident's
answer. When the window passes unanswered, the sweep does not close it: it becomes due for a
return visit (``awaiting_return_visit``) and the community is told. The community records
each attempt (``case_return_visit``): by phone or in person, when, who, whether the resident
was reached and, if so, their words and their two answers. A reached attempt's answer is the
round's feedback, counted by the rates like the resident's own, and "not solved" reopens the
case as the resident's would. The case closes unrated only when the attempt that makes
``JXT_RETURN_VISIT_ATTEMPTS`` failed attempts of the round is recorded, in that attempt's
transaction: closing needs no clock of its own, so the sweep's idle check is unchanged. A
resident who answers on the tracking page meanwhile is heard (``case_feedback``): the first
answer to commit wins, the row lock decides.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _

from alleys.people import Member
from dispatch.calendar import get_calendar

from ..choices import EventKind, FeedbackChannel, FeedbackSolved, ReturnVisitChannel, Satisfaction
from ..models import Case, CaseEvent, ReturnVisit
from .bulk import CASE_CLOSED_REASON
from .cases import answer_applied, check_answer, feedback_create, settle_ended_case
from .events import (
    actor_label,
    lock_case,
    moment,
    notify_after_commit,
    notify_event_ids,
    record_event,
    stored,
)
from .rules import TRANSITIONS, S, TransitionInvalid, check

# A visit's time is what the visitor says; a clock a few minutes ahead is not a visit in the future.
_CLOCK_SLACK = dt.timedelta(minutes=5)
_CHANNEL_FEEDBACK = {
    ReturnVisitChannel.PHONE: FeedbackChannel.RETURN_CALL,
    ReturnVisitChannel.IN_PERSON: FeedbackChannel.RETURN_VISIT,
}


# --- the feedback window ------------------------------------------------------------------------


def feedback_cutoff(now: dt.datetime) -> dt.datetime | None:
    """Cases verified before this moment have had their feedback window (None: unknown year).

    The window runs to the start of the ``JXT_FEEDBACK_WINDOW_DAYS``-th working day after the
    day of verification: a case verified on Monday 2 March 2026 is due for its return visit
    from Monday 9 March on; one verified on 29 April, before the May Day holidays, from
    Saturday 9 May (a make-up working day) on.
    """
    calendar = get_calendar()
    try:
        cutoff_day = timezone.localtime(now).date()
        for _i in range(settings.JXT_FEEDBACK_WINDOW_DAYS):
            cutoff_day = _previous_workday(calendar, cutoff_day)
    except Exception:  # an unknown year: the return visit can wait for the calendar
        return None
    return dt.datetime.combine(cutoff_day, dt.time(23, 59, 59), tzinfo=timezone.get_current_timezone())


def _previous_workday(calendar: Any, day: dt.date) -> dt.date:
    current = day - dt.timedelta(days=1)
    while not calendar.is_workday(current):
        current -= dt.timedelta(days=1)
    return current


def due_for_return_visit(cutoff: dt.datetime) -> Q:
    """Cases whose window passed unanswered (the sweep's claim; the partial index case_awaiting_feedback)."""
    return Q(state=S.AWAITING_FEEDBACK, verified_at__lte=cutoff)


# --- the window passed: due for a return visit ------------------------------------------------


def cases_return_visit_due_claimed(*, cases: list[Case], now: dt.datetime) -> int:
    """The sweep's writer: claimed (locked) cases whose window passed become due for a return visit.

    A fixed number of statements for any number of cases: the state, one public event per
    case (naming no one), and the notification's outbox row, which tells the community.
    """
    transition = TRANSITIONS["return-visit-due"]
    moved = Case.objects.filter(pk__in=[c.pk for c in cases], state__in=transition.sources).update(
        state=transition.next_state, updated_at=now
    )
    note = stored(
        gettext_noop("%(n)d 个工作日内未收到反映人评价，社区将电话或上门回访。"),
        n=settings.JXT_FEEDBACK_WINDOW_DAYS,
    )
    events = CaseEvent.objects.bulk_create(
        CaseEvent(
            case_id=c.pk,
            kind=EventKind.RETURN_VISIT_DUE,
            at=now,
            actor_label=stored(gettext_noop("系统")),
            from_state=S.AWAITING_FEEDBACK,
            to_state=transition.next_state,
            note=note,
            data={"round": c.feedback_round},
        )
        for c in cases
    )
    notify_event_ids([e.pk for e in events if e.pk])
    return moved


def case_return_visit_due(*, case: Case | int, now: dt.datetime | None = None) -> Case | None:
    """The sweep's transition for one case whose window passed; None if it is not due.

    Through the sweep's own writer, given this one locked case (as ``case_escalate`` does).
    """
    now = moment(now)
    cutoff = feedback_cutoff(now)
    with transaction.atomic():
        case = lock_case(case)
        if (
            cutoff is None
            or case.verified_at is None
            or case.state not in TRANSITIONS["return-visit-due"].sources
        ):
            return None
        if case.verified_at > cutoff:
            return None
        cases_return_visit_due_claimed(cases=[case], now=now)
        case.refresh_from_db()
    return case


# --- one attempt --------------------------------------------------------------------------------


def case_return_visit(
    *,
    case: Case | int,
    actor: Member,
    channel: str,
    reached: bool,
    visited_at: dt.datetime | None = None,
    solved: str = "",
    satisfaction: str = "",
    words: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> Case:
    """The community records one return-visit attempt (staff of the case's community, or a superuser).

    ``visited_at`` (default: now) is when the call or visit happened, not before the
    verification nor in the future. Reached: ``solved`` and ``satisfaction`` are the
    resident's answers (the round's feedback), ``words`` what they said; "not solved"
    reopens the case, any other answer closes it. Not reached: no answer may be given;
    the attempt that makes ``JXT_RETURN_VISIT_ATTEMPTS`` failed attempts of the round closes
    the case unrated, settling its orders. The public timeline says only that the community
    called or visited; the words and the person are on the staff pages.
    """
    now = moment(now)
    visited_at = visited_at or now
    if channel not in ReturnVisitChannel.values:
        raise TransitionInvalid(_("请选择回访方式（电话或上门）。"), field="channel")
    if visited_at > now + _CLOCK_SLACK:
        raise TransitionInvalid(_("回访时间不能晚于现在。"), field="visited_at")
    words, note = (words or "").strip()[:2000], (note or "").strip()[:2000]
    if reached:
        check_answer(solved=solved, satisfaction=satisfaction)
    elif solved or satisfaction or words:
        raise TransitionInvalid(_("没有联系上反映人时，不能登记评价和群众原话。"), field="reached")
    with transaction.atomic():
        case = lock_case(case)
        check(TRANSITIONS["return-visit"], case, actor)
        if case.verified_at is not None and visited_at < case.verified_at:
            raise TransitionInvalid(_("回访时间不能早于社区核实的时间。"), field="visited_at")
        label = actor_label(actor, case)
        earlier = list(
            ReturnVisit.objects.filter(case=case, round=case.feedback_round).values_list("reached", flat=True)
        )
        attempt = len(earlier) + 1
        failed = sum(1 for r in earlier if not r) + (0 if reached else 1)
        feedback = (
            feedback_create(
                case,
                solved=solved,
                satisfaction=satisfaction,
                comment=words,
                channel=_CHANNEL_FEEDBACK[ReturnVisitChannel(channel)],
                actor=actor,
                at=visited_at,
            )
            if reached
            else None
        )
        visit = ReturnVisit.objects.create(
            case=case,
            round=case.feedback_round,
            channel=channel,
            visited_at=visited_at,
            recorded_by=actor,
            reached=reached,
            words=words,
            note=note,
            feedback=feedback,
            recorded_at=now,
        )
        data: dict[str, Any] = {
            "return_visit_id": visit.pk,
            "channel": channel,
            "reached": reached,
            "attempt": attempt,
            "round": visit.round,
            "staff_note": _staff_note(visit, solved=solved, satisfaction=satisfaction),
        }
        if reached:
            data.update(solved=solved, satisfaction=satisfaction)
        record_event(
            case,
            EventKind.RETURN_VISIT,
            actor=actor,
            now=now,
            note=_public_note(channel, reached=reached, attempt=attempt),
            label=label,
            data=data,
        )
        followed: list[CaseEvent] = []
        if reached:
            followed = answer_applied(
                case,
                solved=solved,
                actor=actor,
                label=label,
                settled_by=actor,
                reopened_note=gettext_noop("回访中反映人表示问题未解决，案件重新办理。"),
                now=now,
            )
        elif failed >= settings.JXT_RETURN_VISIT_ATTEMPTS:
            followed = _close_unrated(case, actor=actor, label=label, failed=failed, now=now)
        else:
            case.save(update_fields=["updated_at"])  # integrations polling for changes see the attempt
        notify_after_commit(*followed)
    return case


def _close_unrated(
    case: Case, *, actor: Member, label: str, failed: int, now: dt.datetime
) -> list[CaseEvent]:
    """The last failed attempt closes the case without an answer (the table's ``close``)."""
    transition = check(TRANSITIONS["close"], case, actor, system=True)
    before = case.state
    case.state = transition.next_state
    case.closed_at = now
    case.save()
    closed = record_event(
        case,
        EventKind.CLOSED,
        actor=actor,
        now=now,
        from_state=before,
        note=stored(gettext_noop("%(n)d 次回访均未联系上反映人，案件关闭（未评价）。"), n=failed),
        label=label,
        data={"unrated": True, "failed_return_visits": failed},
    )
    # Told only to a resident who asked for an SMS (issues.resident_sms).
    told = [closed] if case.sms_opt_in else []
    return told + settle_ended_case(case, actor=actor, why=CASE_CLOSED_REASON, now=now)


def _public_note(channel: str, *, reached: bool, attempt: int) -> str:
    """The public line of an attempt: how the community reached for the resident, never who or what was said."""
    if channel == ReturnVisitChannel.PHONE:
        if reached:
            return stored(gettext_noop("社区已电话回访。"))
        return stored(gettext_noop("社区已电话回访，未联系上反映人（第 %(n)d 次）。"), n=attempt)
    if reached:
        return stored(gettext_noop("社区已上门回访。"))
    return stored(gettext_noop("社区已上门回访，未见到反映人（第 %(n)d 次）。"), n=attempt)


def _staff_note(visit: ReturnVisit, *, solved: str, satisfaction: str) -> str:
    """Everything about an attempt in one line, for the staff pages' timeline (site language)."""
    with translation.override(settings.LANGUAGE_CODE):
        parts = [
            str(ReturnVisitChannel(visit.channel).label),
            timezone.localtime(visit.visited_at).strftime("%Y-%m-%d %H:%M"),
            gettext("联系上反映人") if visit.reached else gettext("未联系上反映人"),
        ]
        if visit.reached:
            parts += [str(FeedbackSolved(solved).label), str(Satisfaction(satisfaction).label)]
            if visit.words:
                parts.append(gettext("群众原话：%(words)s") % {"words": visit.words})
        if visit.note:
            parts.append(visit.note)
        return " · ".join(parts)
