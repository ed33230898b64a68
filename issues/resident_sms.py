"""SMS to the resident who reported a case and asked for them: accepted, escalated, resolved, closed.

The residents' form (and Open311) store ``Case.sms_opt_in``; only a mobile number receives an SMS.
The notification fan-out (``issues.notify.fan_out``) calls ``record`` for the events it tells: one
``ResidentSms`` row per (event, case), unique in the database, so a redelivered task adds nothing.
``deliver`` claims a row (a lease, like the channels' deliveries), reads the number and builds the
text only then, and sends through ``core.sms.send_sms``; a failure waits for the sweep
(``relay``), a permanent refusal (a number the provider rejects) is not tried again. At most
``JXT_SMS_PER_NUMBER_DAY`` messages a day go to one number: a case bouncing between tiers does not
flood its resident (the rest are marked skipped); "accepted" is told once, not again when a
higher tier accepts the escalated case.

Never logged: the number (``send_sms`` masks it) and the text or link (the tracking code is the
resident's key to the case).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from core.bulk_sql import claim, insert_new
from core.phones import is_mobile
from core.site import site_url
from core.sms import Sms, SmsError, send_sms
from issues.choices import EventKind, ResidentSmsState
from issues.models import Case, ResidentSms
from issues.reference import category_by_id

logger = logging.getLogger(__name__)

# The steps a resident is told of, and the provider template of each (JXT_SMS_TEMPLATES maps these
# names to the provider's template ids). A whistle and the automatic escalation both move the case up.
TEMPLATES: dict[str, str] = {
    EventKind.ACCEPTED: "case_accepted",
    EventKind.WHISTLED: "case_escalated",
    EventKind.ESCALATED: "case_escalated",
    EventKind.RESOLVED: "case_resolved",
    EventKind.CLOSED: "case_closed",
}

_COLUMNS = ("case", "event", "template", "state", "attempts", "last_error", "created_at", "next_attempt_at")
_MAX_RETRY_SECONDS = 3600


class _Told(Protocol):
    """What ``record`` reads of an event (the fan-out's own event tuples)."""

    @property
    def pk(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def case_id(self) -> int: ...
    @property
    def sms_opt_in(self) -> bool: ...


def _retry_delay(attempts: int) -> dt.timedelta:
    first = settings.JXT_OUTBOX_RETRY_SECONDS
    return dt.timedelta(seconds=min(first * 2**attempts, _MAX_RETRY_SECONDS))


def record(events: Iterable[_Told]) -> list[int]:
    """Write the SMS these events owe to residents who asked, and queue them; returns the rows queued.

    No query unless one is owed: the fan-out's events carry their case's ``sms_opt_in`` (set only
    with a mobile number; ``deliver`` checks the number again).
    """
    now = timezone.now()
    rows = [
        (e.case_id, e.pk, TEMPLATES[e.kind], ResidentSmsState.PENDING, 0, "", now, now + _retry_delay(0))
        for e in events
        if e.sms_opt_in and e.kind in TEMPLATES
    ]
    if not rows:
        return []
    new_ids = insert_new(ResidentSms, _COLUMNS, rows, unique=("event", "case"), returning=True)
    if len(new_ids) < len(rows):
        # A redelivered fan-out: rows an earlier run wrote but may never have queued.
        new_ids = list(
            ResidentSms.objects.filter(
                event_id__in=[row[1] for row in rows], state=ResidentSmsState.PENDING, attempts=0
            ).values_list("pk", flat=True)
        )
    if new_ids:
        from .tasks import deliver_resident_sms

        transaction.on_commit(lambda: [deliver_resident_sms.delay(i) for i in new_ids], robust=True)
    return new_ids


def message_for(case: Case, template: str) -> Sms:
    """The SMS of one step of ``case``: the provider's template and parameters, and the text as read."""
    link = site_url() + reverse("public-track-case", kwargs={"code": case.tracking_code})
    category = category_by_id(case.category_id)
    what = category.name if category else _("您反映的问题")
    texts = {
        "case_accepted": _("【街巷通】您反映的“%(what)s”已受理，办理进展：%(link)s"),
        "case_escalated": _("【街巷通】您反映的“%(what)s”已上报上一级协调办理，办理进展：%(link)s"),
        "case_resolved": _("【街巷通】您反映的“%(what)s”已办理完成，社区将核实，办理进展：%(link)s"),
        "case_closed": _("【街巷通】您反映的“%(what)s”已办结关闭，详情：%(link)s"),
    }
    params = {"what": str(what)[:20], "link": link}
    return Sms(phone=case.reporter_phone, template=template, params=params, text=texts[template] % params)


def deliver(sms_id: int, *, now: dt.datetime | None = None) -> str:
    """Send one resident SMS if nobody else is sending it; returns its state afterwards."""
    now = now or timezone.now()
    waiting = Q(state__in=(ResidentSmsState.PENDING, ResidentSmsState.FAILED), next_attempt_at__isnull=False)
    lease_over = Q(state=ResidentSmsState.SENDING, next_attempt_at__lte=now)
    claimed = ResidentSms.objects.filter(waiting | lease_over, pk=sms_id).update(
        state=ResidentSmsState.SENDING,
        attempts=F("attempts") + 1,
        next_attempt_at=now + dt.timedelta(seconds=settings.JXT_DELIVERY_LEASE_SECONDS),
    )
    row = ResidentSms.objects.select_related("case").filter(pk=sms_id).first()
    if row is None:
        return ""
    if not claimed:
        return str(row.state)
    case = row.case
    if not (case.sms_opt_in and is_mobile(case.reporter_phone)):
        return _finish(row, ResidentSmsState.SKIPPED, "no consent or no mobile number")
    if (
        row.template == "case_accepted"
        and ResidentSms.objects.filter(case=case, template=row.template, state=ResidentSmsState.SENT).exists()
    ):
        # Accepted again at a higher tier after an escalation: the resident was told of both already.
        return _finish(row, ResidentSmsState.SKIPPED, "accepted once already")
    since = now - dt.timedelta(days=1)
    sent_today = ResidentSms.objects.filter(
        case__reporter_phone=case.reporter_phone, state=ResidentSmsState.SENT, sent_at__gte=since
    ).count()
    if sent_today >= settings.JXT_SMS_PER_NUMBER_DAY:
        logger.warning("resident sms %s of case %s skipped: the number's daily cap", row.pk, case.pk)
        return _finish(row, ResidentSmsState.SKIPPED, "daily cap for this number")
    try:
        send_sms(message_for(case, row.template))
    except Exception as exc:
        permanent = isinstance(exc, SmsError) and exc.permanent
        retry = not permanent and row.attempts < settings.JXT_DELIVERY_MAX_ATTEMPTS
        ResidentSms.objects.filter(pk=row.pk).update(
            state=ResidentSmsState.FAILED,
            last_error=f"{type(exc).__name__}: {exc}"[:1000],
            next_attempt_at=timezone.now() + _retry_delay(row.attempts) if retry else None,
        )
        logger.warning(
            "resident sms %s of case %s failed (attempt %s%s): %s",
            row.pk,
            case.pk,
            row.attempts,
            "" if retry else ", giving up",
            type(exc).__name__,
        )
        return ResidentSmsState.FAILED
    ResidentSms.objects.filter(pk=row.pk).update(
        state=ResidentSmsState.SENT, sent_at=timezone.now(), last_error="", next_attempt_at=None
    )
    return ResidentSmsState.SENT


def _finish(row: ResidentSms, state: str, reason: str) -> str:
    ResidentSms.objects.filter(pk=row.pk).update(state=state, last_error=reason, next_attempt_at=None)
    return state


def relay(*, now: dt.datetime, batch: int) -> int:
    """Queue again the resident SMS whose time has come (lost messages, failures, dead senders)."""
    from .tasks import deliver_resident_sms

    with transaction.atomic():
        rows: list[Any] = claim(
            ResidentSms.objects.filter(next_attempt_at__lte=now)
            .exclude(state__in=(ResidentSmsState.SENT, ResidentSmsState.SKIPPED))
            .order_by("next_attempt_at", "pk"),
            batch,
        )
        for row in rows:
            if row.state == ResidentSmsState.SENDING:
                row.state = ResidentSmsState.PENDING
            row.next_attempt_at = now + _retry_delay(0)
        ResidentSms.objects.bulk_update(rows, ["state", "next_attempt_at"])
    for row in rows:
        deliver_resident_sms.delay(row.pk)
    return len(rows)
