"""The transitions of one case: each locks, checks, writes, appends its event, and notifies."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext as _

from alleys.choices import AreaLevel
from alleys.people import Member
from alleys.scoping import scope_for
from core.phones import is_mobile, normalize_phone
from dispatch.deadlines import verification_due

from ..choices import (
    CaseSource,
    EventKind,
    FeedbackChannel,
    FeedbackSolved,
    PhotoKind,
    PhotoState,
    Satisfaction,
    Urgency,
)
from ..models import Case, CaseEvent, Feedback, Submission
from ..models.cases import new_tracking_code
from .bulk import CASE_CLOSED_REASON, ClaimedCase, cases_escalate_claimed, orders_settle_for_cases
from .consultations import awaiting_answers, carry_onto_orders
from .events import (
    actor_label,
    attach_photos,
    clean_photos_first,
    lock_case,
    moment,
    new_event,
    notify_after_commit,
    record_event,
    require_text,
    stored,
)
from .rules import (
    TRANSITIONS,
    S,
    TransitionError,
    TransitionForbidden,
    TransitionInvalid,
    active_order_states,
    check,
    may_receive_orders_from,
    whistle_decision,
)


@dataclass(frozen=True)
class IntakeNote:
    """A staff-only timeline note written with a new case (who passed it on, with what)."""

    note: str
    label: str
    data: dict[str, Any] = field(default_factory=dict)


def reporter_number(raw: str) -> str:
    """The reporter's number in its one normal form (``core.phones``), or "" for none.

    Every way in (the residents' form, staff intake, the REST API, Open311) files through here, so a
    number typed "+86 138-1234-5678" is the 13812345678 the resident later verifies to see "my
    reports", and the staff page can call. A number that is no phone number is refused with why.
    """
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        return normalize_phone(raw)
    except ValidationError as exc:
        raise TransitionInvalid(exc.messages[0], field="reporter_phone") from exc


def case_submit(
    *,
    category: Any,
    alley: Any,
    description: str,
    building: Any = None,
    source: str = CaseSource.RESIDENT_FORM,
    reporter_name: str = "",
    reporter_phone: str = "",
    address_detail: str = "",
    latitude: Any = None,
    longitude: Any = None,
    urgency: str = Urgency.NORMAL,
    photos: Sequence[IO[bytes]] = (),
    consent: bool = False,
    sms_opt_in: bool = False,
    actor: Member | None = None,
    patrol: Any = None,
    start_tier: str | None = None,
    intake_note: IntakeNote | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """Create a case with the alley's team (staff may start it at a tier they hold) and start its clock.

    Every report starts in the alley, whatever its class (``dispatch.chain.START_TIER``); the
    class sets how high it climbs by itself, its deadlines, and who is told at once
    (``alert_tiers``: their holders hear of the report with the alley's team). Staff who
    register a case may start it at a tier they hold, up to the class's highest tier.
    ``intake_note`` is a staff-only note about how the case came in (an integration client's
    name, a media link), written in the same transaction as the case.
    ``building`` (optional) is a building (楼栋) of ``alley``; its building head may file for it
    and handles its A-class cases beside the alley's team (``rules.is_building_head_of``).
    """
    from dispatch.chain import BUILDING_CLASSES, START_TIER, alert_tiers, highest_tier, tier_index

    from .placement import place_at_tier

    now = moment(now)
    description = require_text(description, "description", _("请描述遇到的问题。"))
    if alley.level != AreaLevel.ALLEY:
        raise TransitionInvalid(_("请选择具体的街巷/网格。"), field="alley")
    if building is not None and (building.level != AreaLevel.BUILDING or building.parent_id != alley.pk):
        raise TransitionInvalid(
            _("所选楼栋“%(building)s”不在%(alley)s内，请重新选择。")
            % {"building": building.name, "alley": alley.name},
            field="building",
        )
    if not category.is_active:
        raise TransitionInvalid(_("该事项类型已停用，请选择其他类型。"), field="category")
    reporter_phone = reporter_number(reporter_phone)
    # Staff who register a case (a chief's patrol, a hotline call) are themselves the contact.
    if category.needs_contact and not reporter_phone and actor is None:
        raise TransitionInvalid(_("这类问题需要留下联系电话，方便工作人员回访。"), field="reporter_phone")
    if actor is not None and source == CaseSource.RESIDENT_FORM:
        source = CaseSource.HOTLINE
    # A building head files for their building (whose code is not a prefix of the alley's).
    if actor is not None and not (
        scope_for(actor).covers_code(alley.code)
        or (building is not None and scope_for(actor).covers_code(building.code))
    ):
        raise TransitionForbidden(_("只能登记本辖区街巷的案件。"))
    photos = clean_photos_first(photos)
    tier = START_TIER
    if start_tier and start_tier != START_TIER:
        if actor is None:
            raise TransitionForbidden(_("只有工作人员可以调整办理层级。"))
        top = highest_tier(category)
        if tier_index(start_tier) > tier_index(top):
            raise TransitionInvalid(
                _("该类事项最高由%(tier)s层级办理，更高层级请在办理中“吹哨”上报。")
                % {"tier": AreaLevel(top).label},
                field="start_tier",
            )
        if not scope_for(actor).holds_tier(start_tier, alley.code_at(start_tier)):
            raise TransitionForbidden(_("只能在本人所在的层级登记案件。"))
        tier = start_tier
    alert = alert_tiers(category, urgent=urgency == Urgency.URGENT)
    # The head of the building it is filed for handles it beside the alley's team (A class only:
    # ``rules.is_building_head_of``) and is told of it with them.
    heads = building is not None and category.category_class.code in BUILDING_CLASSES
    case = Case(
        source=source,
        category=category,
        alley=alley,
        building=building,
        description=description,
        reporter_name=reporter_name.strip(),
        reporter_phone=reporter_phone,
        address_detail=address_detail.strip(),
        latitude=latitude,
        longitude=longitude,
        urgency=urgency,
        consent_at=now if consent else None,
        # An SMS at each step only to a mobile number (issues.resident_sms checks again when sending).
        sms_opt_in=bool(sms_opt_in and is_mobile(reporter_phone)),
        state=S.SUBMITTED,
        created_at=now,
        created_by=actor if getattr(actor, "pk", None) else None,
        patrol=patrol,
    )
    place_at_tier(case, tier, now=now, holder=_holder_for(alley, tier))
    events = [
        new_event(
            case,
            EventKind.SUBMITTED,
            actor=actor,
            now=now,
            label=stored(gettext_noop("群众")) if actor is None else None,
            note="",
            data={
                "source": source,
                **({"alert": alert} if alert else {}),
                **({"building": building.code} if heads else {}),
            },
        )
    ]
    if intake_note is not None:
        # The client's staff-only note beside it.
        events.append(
            new_event(
                case,
                EventKind.NOTE,
                now=now,
                note=intake_note.note,
                public=False,
                label=intake_note.label,
                data=intake_note.data,
            )
        )
    # One transaction: the case, its events, its photos and the notification's outbox row
    # commit together or not at all.
    attempts = 0
    while True:
        attempts += 1
        case.tracking_code = new_tracking_code()
        try:
            with transaction.atomic():
                case.save()
                for event in events:
                    event.case = case
                CaseEvent.objects.bulk_create(events)
                attach_photos(case, events[0], photos, PhotoKind.REPORT, public=False)
                notify_after_commit(events[0])
        except IntegrityError:
            # The block rolled back whole (to its savepoint when the caller has a transaction
            # open). A random eight-character code may meet an existing case's: about one
            # filing in 85,000 at ten million cases. Draw another; any other conflict is raised.
            if attempts == TRACKING_CODE_ATTEMPTS or not _tracking_code_taken(case.tracking_code):
                raise
            case.pk = None
            for event in events:
                event.pk = None
            continue
        return case


TRACKING_CODE_ATTEMPTS = 5


def _tracking_code_taken(code: str) -> bool:
    return Case.objects.filter(tracking_code=code).exists()


@dataclass(frozen=True)
class Submitted:
    """What a submission with an idempotency key gave: the case, and whether it was filed earlier."""

    case: Case
    repeat: bool


def case_submit_once(
    *, key: str, within: dt.timedelta | None = None, now: dt.datetime | None = None, **fields: Any
) -> Submitted:
    """``case_submit`` unless ``key`` filed a case already (within ``within``, if given): then that case.

    The key's row is written in the case's transaction, and its unique index makes two
    concurrent repeats (a double tap reaching two web processes) one case: the second waits
    for the first's commit, fails on the index, and answers with the first's case. A key
    older than ``within`` is given to the new case.
    """
    now = moment(now)
    try:
        with transaction.atomic():
            earlier = Submission.objects.select_for_update().select_related("case").filter(key=key).first()
            if earlier is not None and _honoured(earlier, within=within, now=now):
                return Submitted(case=earlier.case, repeat=True)
            if earlier is not None:
                earlier.delete()
            case = case_submit(now=now, **fields)
            Submission.objects.create(key=key, case=case, created_at=now)
            return Submitted(case=case, repeat=False)
    except IntegrityError:
        # The twin request committed the key first (this transaction, case included, is undone).
        earlier = Submission.objects.select_related("case").filter(key=key).first()
        if earlier is None:  # the twin's key was pruned or replaced meanwhile: never lose the report
            raise
        return Submitted(case=earlier.case, repeat=True)


def submitted_case(
    *, key: str, within: dt.timedelta | None = None, now: dt.datetime | None = None
) -> Case | None:
    """The case ``key`` already filed (within ``within``, if given), or None: what ``case_submit_once``
    would answer a repeat with, read without a lock.

    A face asks first to spare a repeat its costly part (decoding photos, counting limits);
    ``case_submit_once`` still decides, since a twin request may file between the two.
    """
    earlier = Submission.objects.select_related("case").filter(key=key).first()
    if earlier is None or not _honoured(earlier, within=within, now=moment(now)):
        return None
    return earlier.case


def _honoured(earlier: Submission, *, within: dt.timedelta | None, now: dt.datetime) -> bool:
    """Whether an earlier submission's key still stands for its case (always, without a window)."""
    return within is None or earlier.created_at >= now - within


def submissions_prune(*, now: dt.datetime | None = None) -> int:
    """Forget idempotency keys older than ``JXT_SUBMISSION_KEEP_DAYS``; the number forgotten."""
    cutoff = moment(now) - dt.timedelta(days=settings.JXT_SUBMISSION_KEEP_DAYS)
    deleted, _by_model = Submission.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def _holder_for(alley: Any, tier: str) -> Any:
    """The area holding a new case (``dispatch.chain.holder_area_for`` from the reference cache)."""
    from alleys import reference
    from alleys.models import Area

    if tier == AreaLevel.ALLEY:
        return alley
    holder = reference.area_by_code(alley.code_at(tier))
    if holder is None:
        raise Area.DoesNotExist(f"no area {alley.code_at(tier)} above {alley.code}")
    return holder


def case_accept(*, case: Case | int, actor: Member, note: str = "", now: dt.datetime | None = None) -> Case:
    """The holder signs for the case (yellow light); the resolve deadline now governs."""
    from dispatch.deadlines import warn_time

    now = moment(now)
    with transaction.atomic():
        case = lock_case(case)
        transition = check(TRANSITIONS["accept"], case, actor)
        before = case.state
        case.state = transition.next_state
        case.accepted_at = case.accepted_at or now
        case.escalation_due = case.resolve_due
        case.warn_at = warn_time(start=now, due=case.resolve_due) if case.resolve_due else None
        case.save()
        event = record_event(case, EventKind.ACCEPTED, actor=actor, now=now, from_state=before, note=note)
        if case.sms_opt_in:
            # No staff member needs telling; the resident asked for an SMS (issues.resident_sms).
            notify_after_commit(event)
    return case


def case_start(*, case: Case | int, actor: Member, note: str = "", now: dt.datetime | None = None) -> Case:
    """The holder starts work on the case."""
    now = moment(now)
    with transaction.atomic():
        case = lock_case(case)
        transition = check(TRANSITIONS["start"], case, actor)
        before = case.state
        case.state = transition.next_state
        case.save()
        record_event(case, EventKind.STARTED, actor=actor, now=now, from_state=before, note=note)
    return case


def case_whistle(
    *,
    case: Case | int,
    actor: Member,
    reason: str,
    departments: Sequence[Any] = (),
    urgency: str | None = None,
    decision: Any = None,
    now: dt.datetime | None = None,
) -> Case:
    """The holder passes the case one tier up with a reason (吹哨).

    The street names the responsible department(s) and the urgency when it whistles
    to the district, which then dispatches. The district whistles to the city only as its
    joint meeting decided (``rules.whistle_decision``; the meeting's service passes the
    ``decision`` it carries out, in its own transaction); the whistle records the decision.
    """
    from dispatch.chain import next_tier

    from ..models import Whistle
    from .placement import place_at_tier

    now = moment(now)
    reason = require_text(reason, "reason", _("请说明吹哨上报的理由。"))
    with transaction.atomic():
        case = lock_case(case)
        check(TRANSITIONS["whistle"], case, actor)
        if case.tier == AreaLevel.STREET and not departments:
            raise TransitionInvalid(_("街道吹哨时请至少指定一个责任部门。"), field="departments")
        if urgency and urgency not in Urgency.values:
            raise TransitionInvalid(_("紧急程度无效。"), field="urgency")
        target = next_tier(case.tier)
        if target is None:
            raise TransitionError(_("案件已在市级，无法继续上报。"))
        item = whistle_decision(case, decision)
        before_state, before_tier = case.state, case.tier
        label = actor_label(actor, case)  # the unit that whistled, before the case leaves it
        whistle = Whistle.objects.create(
            case=case,
            from_tier=before_tier,
            to_tier=target,
            reason=reason,
            actor=actor if getattr(actor, "pk", None) else None,
            at=now,
            decision=item,
        )
        if departments:
            whistle.departments.set(departments)
        if urgency:
            case.urgency = urgency
        case.state = S.SUBMITTED
        case.accepted_at = None
        place_at_tier(case, target, now=now)
        case.save()
        event = record_event(
            case,
            EventKind.WHISTLED,
            actor=actor,
            now=now,
            from_state=before_state,
            from_tier=before_tier,
            note=reason,
            label=label,
            data={
                "whistle_id": whistle.pk,
                "department_ids": [d.pk for d in departments],
                **({"meeting_id": item.meeting_id, "item_id": item.pk} if item is not None else {}),
            },
        )
        notify_after_commit(event)
    return case


def case_escalate(*, case: Case | int, now: dt.datetime | None = None) -> Case | None:
    """The sweep's transition for one overdue case; None if nothing was due.

    The case climbs one tier (at the city: it is supervised) through the sweep's own writer,
    ``cases_escalate_claimed``, given this one locked case: the same rows whichever way it
    comes. Exactly once per case and tier: the Whistle row's unique (case, to_tier)
    constraint refuses a second one, whatever ran twice (the case then stays, its clock
    stopped, and this returns None).
    """
    now = moment(now)
    with transaction.atomic():
        case = lock_case(case)
        if case.state not in TRANSITIONS["escalate"].sources or case.escalation_due is None:
            return None
        if case.escalation_due > now:
            return None
        claimed = ClaimedCase(
            pk=case.pk,
            tier=case.tier,
            state=case.state,
            category_id=case.category_id,
            urgency=case.urgency,
            alley_id=case.alley_id,
            holder_area_id=case.holder_area_id,
            due_label=timezone.localtime(case.escalation_due).strftime("%Y-%m-%d %H:%M"),
        )
        escalated, supervised = cases_escalate_claimed(cases=[claimed], now=now)
        if not (escalated or supervised):
            return None
        case.refresh_from_db()
    return case


def case_resolve(
    *,
    case: Case | int,
    actor: Member,
    note: str,
    photos: Sequence[IO[bytes]] = (),
    photos_public: bool = False,
    now: dt.datetime | None = None,
    _by_lead_order: bool = False,
) -> Case:
    """The holder (or the lead department, through its order) reports the fix: green light."""
    now = moment(now)
    note = require_text(note, "note", _("请填写办理结果。"))
    photos = clean_photos_first(photos)
    with transaction.atomic():
        case = lock_case(case)
        transition = check(TRANSITIONS["resolve"], case, actor, system=_by_lead_order)
        if not _by_lead_order and case.lead_department_id:
            raise TransitionError(_("该案件已派单，由牵头部门通过派单办结。"))
        if (
            case.category.fix_photo_required
            and not photos
            # A fix photo still being processed counts; one quarantined (undecodable) does not.
            and not case.photos.filter(kind=PhotoKind.FIX).exclude(state=PhotoState.QUARANTINED).exists()
        ):
            raise TransitionInvalid(_("这类问题办结时需要上传整改后的照片。"), field="photos")
        before = case.state
        case.state = transition.next_state
        case.resolved_at = now
        case.resolved_tier = case.tier
        case.verify_due = verification_due(start=now)
        case.escalation_due = None
        case.warn_at = None
        case.save()
        event = record_event(
            case,
            EventKind.RESOLVED,
            actor=actor,
            now=now,
            from_state=before,
            note=note,
            label=case.lead_department.name if _by_lead_order and case.lead_department else None,
        )
        attach_photos(case, event, photos, PhotoKind.FIX, public=photos_public)
        notify_after_commit(event)
    return case


def case_verify(
    *, case: Case | int, actor: Member, passed: bool, note: str = "", now: dt.datetime | None = None
) -> Case:
    """The community checks the fix: passed → orange light; failed → back to work at the same tier."""
    from dispatch.deadlines import warn_time

    from .placement import set_fresh_deadlines

    now = moment(now)
    if not passed:
        note = require_text(note, "note", _("核实未通过时请说明原因。"))
    with transaction.atomic():
        case = lock_case(case)
        check(TRANSITIONS["verify"], case, actor)
        before = case.state
        if passed:
            case.state = S.AWAITING_FEEDBACK
            case.verified_at = now
            case.save()
            event = record_event(
                case,
                EventKind.VERIFIED,
                actor=actor,
                now=now,
                from_state=before,
                note=note,
                label=_community_label(case),
            )
        else:
            case.state = S.IN_PROGRESS
            case.reopen_count += 1
            case.feedback_round += 1
            set_fresh_deadlines(case, now=now)
            # Back in progress: the resolve deadline governs, and the warning is for it.
            case.escalation_due = case.resolve_due
            case.warn_at = warn_time(start=now, due=case.resolve_due) if case.resolve_due else None
            case.save()
            data: dict[str, Any] = {}
            lead = _reopen_lead_order(case, now=now)
            if lead is not None:
                data["order_id"] = lead
            event = record_event(
                case,
                EventKind.VERIFY_FAILED,
                actor=actor,
                now=now,
                from_state=before,
                note=note,
                label=_community_label(case),
                data=data,
            )
        notify_after_commit(event)
    return case


def _community_label(case: Case) -> str:
    from alleys.models import Area

    code = case.alley.code_at(AreaLevel.COMMUNITY)
    return Area.objects.filter(code=code).values_list("name", flat=True).first() or ""


def _reopen_lead_order(case: Case, *, now: dt.datetime) -> int | None:
    """A failed verification sends the lead department's completed order back to work."""
    from ..choices import OrderRole, OrderState
    from ..models import DispatchOrder

    order = (
        DispatchOrder.objects.select_for_update()
        .filter(case=case, role=OrderRole.LEAD, state=OrderState.COMPLETED)
        .order_by("-completed_at")
        .first()
    )
    if order is None:
        return None
    order.state = OrderState.REPORTED if order.reported_at else OrderState.RECEIVED
    order.completed_at = None
    order.save(update_fields=["state", "completed_at"])
    case.resolve_due = order.complete_due
    case.escalation_due = None
    case.warn_at = None  # the order's deadlines govern now; a warning named the case's own
    case.save(update_fields=["resolve_due", "escalation_due", "warn_at"])
    return order.pk


def case_feedback(
    *,
    case: Case | int,
    solved: str,
    satisfaction: str,
    comment: str = "",
    channel: str = FeedbackChannel.RESIDENT,
    actor: Member | None = None,
    now: dt.datetime | None = None,
) -> Case:
    """The reporter's answer (or a staff return call within the window): "not solved" reopens the case.

    The residents' page authenticates the reporter (tracking code + phone digits)
    before calling this with ``actor=None``; staff record return calls as themselves. Once
    the window has passed and a return visit is due, the resident's own answer is still taken
    (it ends the return visits), while staff record what they hear as a return visit
    (``case_return_visit``: how, when, reached or not).
    """
    now = moment(now)
    check_answer(solved=solved, satisfaction=satisfaction)
    if channel not in FeedbackChannel.values:
        raise TransitionInvalid(_("评价方式无效。"), field="channel")
    if channel != FeedbackChannel.RESIDENT and actor is None:
        raise TransitionForbidden(_("电话回访须由工作人员登记。"))
    if channel == FeedbackChannel.RESIDENT and actor is not None:
        channel = FeedbackChannel.RETURN_CALL
    with transaction.atomic():
        case = lock_case(case)
        check(TRANSITIONS["feedback"], case, actor, system=actor is None)
        if actor is not None and case.state == S.AWAITING_RETURN_VISIT:
            raise TransitionError(
                _("评价期已过，案件待回访：请登记回访记录（回访方式、是否联系上反映人、群众意见）。")
            )
        feedback_create(
            case,
            solved=solved,
            satisfaction=satisfaction,
            comment=comment,
            channel=channel,
            actor=actor,
            at=now,
        )
        # The resident answered, or the community recorded the answer on a return call (its name, the channel).
        label = (
            stored(gettext_noop("群众"))
            if channel == FeedbackChannel.RESIDENT
            else stored(gettext_noop("%(unit)s（电话回访）"), unit=actor_label(actor, case))
        )
        feedback_event = record_event(
            case,
            EventKind.FEEDBACK,
            actor=actor,
            now=now,
            note=comment.strip()[:2000],
            label=label,
            data={
                "solved": solved,
                "satisfaction": satisfaction,
                "channel": channel,
                "round": case.feedback_round,
            },
        )
        followed = answer_applied(
            case,
            solved=solved,
            actor=actor,
            label=label,
            # The resident's answer ends the case; the orders are settled by the system on its behalf.
            settled_by=actor if channel != FeedbackChannel.RESIDENT else None,
            reopened_note=gettext_noop("反映人表示问题未解决，案件重新办理。"),
            now=now,
        )
        notify_after_commit(feedback_event, *followed)
    return case


def check_answer(*, solved: str, satisfaction: str) -> None:
    """The two questions of every answer (the resident's, or one a return visit records), asked separately."""
    if solved not in FeedbackSolved.values:
        raise TransitionInvalid(_("请选择问题是否解决。"), field="solved")
    if satisfaction not in Satisfaction.values:
        raise TransitionInvalid(_("请选择满意程度。"), field="satisfaction")


def feedback_create(
    case: Case,
    *,
    solved: str,
    satisfaction: str,
    comment: str,
    channel: str,
    actor: Member | None,
    at: dt.datetime,
) -> Feedback:
    """The round's answer, once per round (the unique (case, round) settles two at once).

    The caller holds the case's lock and has checked its transition. The rates count these
    rows, whoever recorded them.
    """
    if Feedback.objects.filter(case=case, round=case.feedback_round).exists():
        raise TransitionError(_("这一轮办理已经评价过了，感谢您的反馈。"))
    try:
        with transaction.atomic():
            return Feedback.objects.create(
                case=case,
                round=case.feedback_round,
                solved=solved,
                satisfaction=satisfaction,
                comment=comment.strip()[:2000],
                channel=channel,
                recorded_by=actor if getattr(actor, "pk", None) else None,
                created_at=at,
            )
    except IntegrityError as exc:
        raise TransitionError(_("这一轮办理已经评价过了，感谢您的反馈。")) from exc


def answer_applied(
    case: Case,
    *,
    solved: str,
    actor: Member | None,
    label: str,
    settled_by: Member | None,
    reopened_note: str,
    now: dt.datetime,
) -> list[CaseEvent]:
    """What the round's answer does: "not solved" reopens the case, any other answer closes it.

    Shared by the resident's feedback and the community's reached return visit, so both
    reopen and close alike. ``reopened_note`` is a message id (stored in the site's
    language); ``settled_by`` is whom the withdrawn orders' events name (None: the system).
    Returns the events to tell after commit.
    """
    from .placement import set_fresh_deadlines

    before = case.state
    if solved == FeedbackSolved.NOT_SOLVED:
        case.reopen_count += 1
        case.feedback_round += 1
        set_fresh_deadlines(case, now=now)
        # A dispatched case goes straight back to its lead department; others are re-accepted.
        case.state = S.IN_PROGRESS if case.lead_department_id else S.REOPENED
        case.save()
        data: dict[str, Any] = {}
        lead = _reopen_lead_order(case, now=now) if case.lead_department_id else None
        if lead is not None:
            data["order_id"] = lead
        event = record_event(
            case,
            EventKind.REOPENED,
            actor=actor,
            now=now,
            from_state=before,
            note=stored(reopened_note),
            label=label,
            data=data,
        )
        return [event]
    case.state = S.CLOSED
    case.closed_at = now
    case.save()
    closed = record_event(case, EventKind.CLOSED, actor=actor, now=now, from_state=before, label=label)
    # Told only to a resident who asked for an SMS (issues.resident_sms); no staff inbox needs it.
    told = [closed] if case.sms_opt_in else []
    return told + settle_ended_case(case, actor=settled_by, why=CASE_CLOSED_REASON, now=now)


def case_reject(*, case: Case | int, actor: Member, reason: str, now: dt.datetime | None = None) -> Case:
    """Not a matter for us (不予受理), with the reason the resident will read."""
    now = moment(now)
    reason = require_text(reason, "reason", _("请填写不予受理的理由，群众会看到。"))
    with transaction.atomic():
        case = lock_case(case)
        transition = check(TRANSITIONS["reject"], case, actor)
        before = case.state
        case.state = transition.next_state
        case.rejection_reason = reason
        case.closed_at = now
        case.escalation_due = None
        case.warn_at = None
        case.save()
        record_event(case, EventKind.REJECTED, actor=actor, now=now, from_state=before, note=reason)
        notify_after_commit(
            *settle_ended_case(
                case, actor=actor, why=gettext_noop("案件不予受理：%(reason)s"), now=now, reason=reason
            )
        )
    return case


def case_merge(
    *, case: Case | int, actor: Member, into: Case | int, note: str = "", now: dt.datetime | None = None
) -> Case:
    """A duplicate: merged into another case, whose progress the resident then follows."""
    now = moment(now)
    with transaction.atomic():
        case = lock_case(case)
        transition = check(TRANSITIONS["merge"], case, actor)
        target_pk = into if isinstance(into, int) else into.pk
        if target_pk == case.pk:
            raise TransitionInvalid(_("不能把案件合并到它自己。"), field="into")
        target = Case.objects.visible_to(actor).filter(pk=target_pk).first()
        if target is None:
            raise TransitionInvalid(_("找不到要合并到的案件。"), field="into")
        if target.state == S.MERGED:
            raise TransitionInvalid(_("目标案件本身已被合并，请选择主案件。"), field="into")
        before = case.state
        case.state = transition.next_state
        case.merged_into = target
        case.closed_at = now
        case.escalation_due = None
        case.warn_at = None
        case.save()
        record_event(
            case,
            EventKind.MERGED,
            actor=actor,
            now=now,
            from_state=before,
            note=note
            or stored(gettext_noop("与案件 %(code)s 属同一问题，合并办理。"), code=target.tracking_code),
            data={"into": target.pk, "into_code": target.tracking_code},
        )
        notify_after_commit(
            *settle_ended_case(
                case,
                actor=actor,
                why=gettext_noop("案件已合并到 %(code)s。"),
                now=now,
                code=target.tracking_code,
            )
        )
    return case


def settle_ended_case(
    case: Case, *, actor: Member | None, why: str, now: dt.datetime, **params: str
) -> list[CaseEvent]:
    """The case has just ended: its open orders are withdrawn (``orders_settle_for_cases``).

    ``why`` is a message id (stored in the site's language with ``params``); the events
    name the unit that ended the case, or 系统 when nobody on the staff did.
    """
    if not case.lead_department_id:
        return []  # never dispatched: no order to settle
    label = actor_label(actor, case) if actor is not None else stored(gettext_noop("系统"))
    return orders_settle_for_cases(
        cases=[case], reason=stored(why, **params), label=label, actor=actor, now=now
    )


def case_supervise(
    *, case: Case | int, actor: Member, note: str = "", now: dt.datetime | None = None
) -> Case:
    """Put the case under supervision (督办); the holder is told."""
    now = moment(now)
    with transaction.atomic():
        case = lock_case(case)
        check(TRANSITIONS["supervise"], case, actor)
        if case.supervised:
            raise TransitionError(_("该案件已在督办中。"))
        case.supervised = True
        case.save(update_fields=["supervised", "updated_at"])
        event = record_event(
            case, EventKind.SUPERVISED, actor=actor, now=now, note=note, label=_supervisor_label(actor)
        )
        notify_after_commit(event)
    return case


def case_chase(*, case: Case | int, actor: Member, note: str = "", now: dt.datetime | None = None) -> Case:
    """Chase the holder (催办); counted, and the holder (and lead department) is told."""
    now = moment(now)
    with transaction.atomic():
        case = lock_case(case)
        check(TRANSITIONS["chase"], case, actor)
        case.chase_count += 1
        case.save(update_fields=["chase_count", "updated_at"])
        data: dict[str, Any] = {}
        if case.lead_department_id:
            data["department_ids"] = [case.lead_department_id]
        event = record_event(
            case, EventKind.CHASED, actor=actor, now=now, note=note, label=_supervisor_label(actor), data=data
        )
        notify_after_commit(event)
    return case


def _supervisor_label(actor: Member) -> str:
    from alleys.models import Area
    from dispatch.chain import unit_label

    scope = scope_for(actor)
    area = Area.objects.filter(code=scope.area_prefixes[0]).first() if scope.area_prefixes else None
    with translation.override(settings.LANGUAGE_CODE):
        if scope.is_global or area is None:
            return gettext("上级单位")
        return unit_label(area.level, area)


def case_dispatch(
    *,
    case: Case | int,
    actor: Member,
    lead: Any,
    cooperating: Sequence[Any] = (),
    instructions: str = "",
    now: dt.datetime | None = None,
) -> Case:
    """The organisation department dispatches orders (派单) to one lead and any cooperating departments.

    The orders' report and completion deadlines govern from now on; the case no longer
    escalates by itself (overdue orders are flagged to the organisation department). It
    dispatches what the tier below reviewed — a street's whistle naming the responsible
    departments, a district's whistle to the city — or takes the case up itself (it climbed
    by a missed deadline, or was registered here): that is recorded as its own supervision.
    """
    from .orders import create_orders

    now = moment(now)
    with transaction.atomic():
        case = lock_case(case)
        check(TRANSITIONS["dispatch"], case, actor)
        if case.tier not in (AreaLevel.DISTRICT, AreaLevel.CITY):
            raise TransitionError(_("只有区、市委组织部可以派单。"))
        if lead is None:
            raise TransitionInvalid(_("请指定牵头部门。"), field="lead")
        coop = [d for d in cooperating if d.pk != lead.pk]
        for dept in [lead, *coop]:
            if not dept.is_active:
                raise TransitionInvalid(_("部门“%(name)s”已停用。") % {"name": dept.name}, field="lead")
            if not may_receive_orders_from(dept, case.holder_area):
                raise TransitionInvalid(
                    _("“%(name)s”不属于本级派单范围。") % {"name": dept.name}, field="lead"
                )
        if case.orders.filter(state__in=active_order_states()).exists():
            raise TransitionError(_("该案件已有在办派单，如需调整请使用改派。"))
        awaiting_answers(case, now=now)  # refuses while an asked department may still answer
        before = case.state
        own_supervision = not _reviewed_below(case)
        orders = create_orders(
            case=case,
            common_issue=None,
            lead=lead,
            cooperating=coop,
            dispatcher_area=case.holder_area,
            instructions=instructions,
            actor=actor,
            now=now,
        )
        consulted = carry_onto_orders(case, orders, now=now)
        case.state = S.ACCEPTED if before in (S.SUBMITTED, S.REOPENED) else before
        case.accepted_at = case.accepted_at or now
        case.lead_department = lead
        case.resolve_due = orders[0].complete_due
        case.escalation_due = None
        case.warn_at = None
        newly_supervised = own_supervision and not case.supervised
        case.supervised = case.supervised or own_supervision
        case.save()
        if newly_supervised:
            record_event(
                case,
                EventKind.SUPERVISED,
                actor=actor,
                now=now,
                note=stored(gettext_noop("未经下级审核点名责任部门，由本级直接派单，记为本级督办。")),
                data={"own_supervision": True},
            )
        event = record_event(
            case,
            EventKind.DISPATCHED,
            actor=actor,
            now=now,
            from_state=before,
            note=instructions,
            data={
                "order_ids": [o.pk for o in orders],
                "department_ids": [lead.pk, *[d.pk for d in coop]],
                "own_supervision": own_supervision,
                **({"consultation_ids": consulted} if consulted else {}),
            },
        )
        notify_after_commit(event)
    return case


def _reviewed_below(case: Case) -> bool:
    """Whether the tier below sent the case here on purpose: a street's whistle naming departments
    (Ma'anshan: the street reviews, classifies and names them), or a district's whistle to the city."""
    whistles = case.whistles.filter(to_tier=case.tier, automatic=False)
    if case.tier == AreaLevel.DISTRICT:
        whistles = whistles.filter(departments__isnull=False)
    return whistles.exists()


def case_mark_in_progress(*, case: Case | int, now: dt.datetime | None = None, label: str = "") -> Case:
    """The lead department has reported (报到): a dispatched case is now being handled (yellow)."""
    now = moment(now)
    with transaction.atomic():
        case = lock_case(case)
        transition = TRANSITIONS["mark-in-progress"]
        if case.state not in transition.sources:
            return case  # already in progress, or moved on: nothing to start
        before = case.state
        case.state = transition.next_state
        case.save()
        record_event(
            case,
            EventKind.STARTED,
            actor=None,
            now=now,
            from_state=before,
            label=label
            or (case.lead_department.name if case.lead_department else stored(gettext_noop("系统"))),
        )
    return case


def case_dispatched_with_common_issue(
    *,
    case: Case | int,
    lead: Any,
    resolve_due: dt.datetime,
    note: str,
    label: str,
    actor: Member,
    now: dt.datetime,
    data: dict[str, Any],
) -> CaseEvent:
    """A case served by its common issue's orders: signed for (accepted), the orders' deadline governs.

    Called by dispatch.orders.common_issue_dispatch inside its transaction, which has checked
    the organisation department's right to dispatch.
    """
    case = lock_case(case)
    before = case.state
    if case.state in (S.SUBMITTED, S.REOPENED):
        case.state = S.ACCEPTED
        case.accepted_at = case.accepted_at or now
    case.lead_department = lead
    case.resolve_due = resolve_due
    case.escalation_due = None
    case.warn_at = None
    case.save()
    return record_event(
        case,
        EventKind.DISPATCHED,
        actor=actor,
        now=now,
        from_state=before if before != case.state else "",
        note=note,
        label=label,
        data=data,
    )
