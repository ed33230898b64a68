"""The sweep's batch transitions over rows it has claimed, with a constant number of queries."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from alleys.choices import AreaLevel

from ..choices import (
    EventKind,
)
from ..models import Case, CaseEvent
from .events import (
    _notify_ids,
    stored,
)
from .rules import (
    _AWAITING_ACCEPT,
    S,
)


def cases_escalate_claimed(*, cases: list[Case], now: dt.datetime) -> tuple[int, int]:
    """The sweep's bulk escalation of rows it has claimed (locked); returns (escalated, supervised at city).

    The same transition as ``case_escalate``, written for a batch with a constant
    number of queries: the sweep must move ten thousand overdue cases quickly.
    """
    from alleys.models import Area
    from dispatch.chain import next_tier, place_at_tier, unit_label
    from dispatch.models import Whistle

    memo: dict[Any, Any] = {}  # deadlines per (type, tier, urgency): every case shares `now`
    at_city = [c for c in cases if c.tier == AreaLevel.CITY]
    movable = [c for c in cases if c.tier != AreaLevel.CITY]
    targets = {c.pk: next_tier(c.tier) for c in movable}
    existing = set(Whistle.objects.filter(case_id__in=list(targets)).values_list("case_id", "to_tier"))
    holders = Area.objects.in_bulk(
        {c.alley.code_at(t) for c in movable if (t := targets[c.pk]) and t != AreaLevel.ALLEY},
        field_name="code",
    )
    whistles: list[Whistle] = []
    events: list[CaseEvent] = []
    for case in movable:
        target = targets[case.pk]
        assert target is not None
        if (case.pk, target) in existing:
            # Already escalated to that tier once: never twice. Stop the clock so it is not retried.
            case.escalation_due = None
            continue
        before_state, before_tier = case.state, case.tier
        missed = _("受理") if case.state in _AWAITING_ACCEPT else _("办结")
        reason = _("%(unit)s超过%(what)s期限（%(due)s）未处理，系统自动上报。") % {
            "unit": unit_label(case.tier, case.holder_area),
            "what": missed,
            "due": timezone.localtime(case.escalation_due).strftime("%Y-%m-%d %H:%M")
            if case.escalation_due
            else "-",
        }
        case.state = S.SUBMITTED
        case.accepted_at = None
        place_at_tier(case, target, now=now, holder=holders[case.alley.code_at(target)], memo=memo)
        whistles.append(
            Whistle(case=case, from_tier=before_tier, to_tier=target, reason=reason, automatic=True, at=now)
        )
        events.append(
            CaseEvent(
                case=case,
                kind=EventKind.ESCALATED,
                at=now,
                actor_label=stored(gettext_noop("系统")),
                from_state=before_state,
                to_state=case.state,
                from_tier=before_tier,
                to_tier=target,
                note=reason,
            )
        )
    for case in at_city:
        # Nothing above the city: the overdue case is supervised and its holder told, once.
        case.escalation_due = None
        case.supervised = True
        events.append(
            CaseEvent(
                case=case,
                kind=EventKind.SUPERVISED,
                at=now,
                actor_label=stored(gettext_noop("系统")),
                note=_("市级办理超过期限，系统自动督办。"),
            )
        )
    Whistle.objects.bulk_create(whistles)
    Case.objects.bulk_update(
        cases,
        [
            "state",
            "accepted_at",
            "tier",
            "holder_area",
            "tier_entered_at",
            "accept_due",
            "resolve_due",
            "escalation_due",
            "warn_at",
            "deadline_provisional",
            "supervised",
        ],
    )
    created = CaseEvent.objects.bulk_create(events)
    _notify_ids([e.pk for e in created if e.pk])
    return len(whistles), len(at_city)


def cases_close_unrated_claimed(*, cases: list[Case], now: dt.datetime) -> int:
    """The sweep closes claimed cases that got no feedback within the window."""

    note = _("%(n)d 个工作日内未收到评价，系统关闭。") % {"n": settings.JXT_FEEDBACK_WINDOW_DAYS}
    closed = Case.objects.filter(pk__in=[c.pk for c in cases], state=S.AWAITING_FEEDBACK).update(
        state=S.CLOSED, closed_at=now
    )
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                case=c,
                kind=EventKind.CLOSED,
                at=now,
                actor_label=stored(gettext_noop("系统")),
                from_state=S.AWAITING_FEEDBACK,
                to_state=S.CLOSED,
                note=note,
            )
            for c in cases
        ]
    )
    return closed
