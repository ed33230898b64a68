"""Keeping the calendar's guesses honest: recompute provisional deadlines, tell people, show a banner.

A year the State Council has not yet arranged is predicted from the statutory holidays
(dispatch.calendar) and every deadline that walked one of its days is provisional. This
module makes that state temporary and visible:

- ``recompute_provisional`` recomputes those deadlines on today's calendar. It runs after
  an administrator changes a CalendarDay or CalendarYear (``dispatch.calendar.calendar_changed``,
  after commit) and from
  ``calendar_housekeeping`` — called by the sweep every minute — whenever this process
  sees a different calendar (a new year entered elsewhere, a newer chinesecalendar package
  after a deploy).
- ``calendar_housekeeping`` also tells superusers and organisation departments, once per
  year across all processes, that the current year or (from 1 November) next year is
  predicted, and how to enter the arrangement.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from alleys.models import RoleAssignment
from alleys.permissions import ORG_ROLES
from alleys.reference import register_process_cache
from core.site import site_url
from dispatch.calendar import (
    CACHE_SECONDS,
    BusinessCalendar,
    arrangement_url,
    clear_calendar_cache,
    get_calendar,
    package_years,
    unofficial_years,
)
from dispatch.deadlines import compute_deadlines, order_deadlines, warn_time
from issues.choices import ACTIVE_ORDER_STATES, AWAITING_ACCEPT_STATES, OPEN_STATES, ExtensionState, OrderRole
from issues.models import Case, DispatchOrder, Notification, SystemAlert

logger = logging.getLogger(__name__)

NOTIFICATION_KIND = "calendar"
ALERT_PREFIX = "calendar-year-"
# --- recomputing provisional deadlines ------------------------------------------------------------

# Rows locked and rewritten per transaction: a click on one of them waits for one batch at most.
_RECOMPUTE_BATCH = 200


def recompute_provisional(*, now: dt.datetime) -> tuple[int, int]:
    """Recompute every open case's and active order's provisional deadlines on today's calendar.

    Returns (cases, orders) no longer provisional. Rows whose days are still predicted are
    recomputed too (an override may have moved them) and stay provisional. Call it outside
    a transaction: it commits batch by batch, each row locked and read again, so a
    transition running at the same time is never overwritten with deadlines of the state
    it left. With nothing provisional it costs two indexed-by-state queries.
    """
    clear_calendar_cache()
    calendar = get_calendar()
    orders = _recompute_orders(calendar)
    cases = _recompute_cases(calendar, now=now)
    if cases or orders:
        logger.info("calendar: %s cases and %s orders no longer provisional", cases, orders)
    return cases, orders


def _batches(ids: Sequence[int]) -> list[Sequence[int]]:
    return [ids[i : i + _RECOMPUTE_BATCH] for i in range(0, len(ids), _RECOMPUTE_BATCH)]


def _recompute_orders(calendar: BusinessCalendar) -> int:
    pending = DispatchOrder.objects.filter(deadline_provisional=True, state__in=ACTIVE_ORDER_STATES)
    fixed = 0
    for ids in _batches(list(pending.values_list("pk", flat=True))):
        with transaction.atomic():
            for order in pending.filter(pk__in=ids).select_for_update().order_by("pk"):
                report_due, complete_due, provisional = order_deadlines(
                    start=order.dispatched_at, calendar=calendar
                )
                order.report_due = report_due
                # An approved extension set an explicit date: the organisation department's decision stands.
                if not order.extensions.filter(state=ExtensionState.APPROVED).exists():
                    order.complete_due = complete_due
                order.deadline_provisional = provisional
                order.save(update_fields=["report_due", "complete_due", "deadline_provisional"])
                if order.role == OrderRole.LEAD:
                    # The lead order's completion deadline is the case's (see issues.workflow.case_dispatch).
                    if order.case_id:
                        cases = Q(pk=order.case_id)
                    elif order.common_issue_id:
                        cases = Q(common_issues=order.common_issue_id)
                    else:
                        cases = Q(pk__in=[])
                    Case.objects.filter(cases, lead_department_id=order.department_id).update(
                        resolve_due=order.complete_due
                    )
                fixed += not provisional
    return fixed


def _recompute_cases(calendar: BusinessCalendar, *, now: dt.datetime) -> int:
    pending = Case.objects.filter(deadline_provisional=True, state__in=OPEN_STATES)
    fixed = 0
    for ids in _batches(list(pending.values_list("pk", flat=True))):
        with transaction.atomic():
            locked = pending.filter(pk__in=ids).select_for_update(of=("self",))
            for case in locked.select_related("category__category_class").order_by("pk"):
                deadlines = compute_deadlines(
                    category=case.category,
                    tier=case.tier,
                    start=case.tier_entered_at,
                    urgent=case.urgency == "urgent",
                    calendar=calendar,
                )
                case.accept_due = deadlines.accept_due
                if not case.lead_department_id:  # a dispatched case's resolve deadline is its lead order's
                    case.resolve_due = deadlines.resolve_due
                if case.escalation_due is not None:
                    awaiting = case.state in AWAITING_ACCEPT_STATES
                    due = deadlines.accept_due if awaiting else case.resolve_due
                    if due != case.escalation_due:
                        case.escalation_due = due
                        case.warn_at = _new_warning(case, deadlines.warn_at, due, awaiting, calendar, now)
                case.deadline_provisional = deadlines.provisional
                case.save(
                    update_fields=[
                        "accept_due",
                        "resolve_due",
                        "escalation_due",
                        "warn_at",
                        "deadline_provisional",
                    ]
                )
                fixed += not deadlines.provisional
    return fixed


def _new_warning(
    case: Case,
    accept_warning: dt.datetime | None,
    due: dt.datetime | None,
    awaiting: bool,
    calendar: BusinessCalendar,
    now: dt.datetime,
) -> dt.datetime | None:
    """The warning for a deadline that moved: a warning refers to its deadline, so the old one
    (pending or already sent) no longer counts. None once the deadline has passed: the sweep
    escalates instead."""
    if due is None or due <= now:
        return None
    if awaiting:
        return accept_warning
    # As case_accept computes it: from the acceptance at this tier.
    since = max(filter(None, (case.accepted_at, case.tier_entered_at)), default=now)
    return warn_time(start=since, due=due, calendar=calendar)


# --- after an administrator's change ------------------------------------------------------------

_pending = threading.local()


def recompute_after_commit(**_kwargs: object) -> None:
    """Receiver of ``dispatch.calendar.calendar_changed``: recompute provisional deadlines after commit.

    Saving a year touches dozens of rows in one transaction; only the last change's callback
    recomputes (a rolled-back transaction drops its callbacks, so nothing is left pending).
    """
    generation = getattr(_pending, "generation", 0) + 1
    _pending.generation = generation

    def run() -> None:
        if getattr(_pending, "generation", 0) != generation:
            return  # a later change of the same transaction recomputes
        try:
            recompute_provisional(now=timezone.now())
        except Exception:
            # The change is committed; the sweep's housekeeping sees the new calendar and retries.
            logger.exception("calendar: recomputing provisional deadlines failed")

    transaction.on_commit(run)


# --- the sweep's minute -------------------------------------------------------------------------------


@dataclass
class _Watch:
    """What this process saw at its last housekeeping."""

    seen: object = None
    recheck_at: float | None = None
    announced: set[int] = field(default_factory=set)


_watch = _Watch()
_watch_lock = threading.Lock()


def forget_watch() -> None:
    """Forget what this process saw and announced (tests: each starts as a fresh process would)."""
    with _watch_lock:
        _watch.seen = None
        _watch.recheck_at = None
        _watch.announced.clear()


register_process_cache(forget_watch)


def _fingerprint(calendar: BusinessCalendar) -> object:
    return (package_years(), calendar.manual_years, frozenset(calendar.overrides.items()))


def calendar_housekeeping(now: dt.datetime) -> None:
    """Once a minute, from the sweep: recompute when the calendar changed, tell people once a year.

    The common case costs no query: the calendar is the process's cached copy (reloaded once
    a minute, as for every deadline), and what was seen and announced is remembered per
    process. Never raises: a failure is logged and retried at the next call.
    """
    try:
        _housekeeping(now)
    except Exception:
        logger.exception("calendar housekeeping failed")
        with _watch_lock:
            _watch.seen = None  # try the recompute again next time


def _housekeeping(now: dt.datetime) -> None:
    calendar = get_calendar()
    fingerprint = _fingerprint(calendar)
    clock = time.monotonic()
    with _watch_lock:
        changed = fingerprint != _watch.seen
        if changed:
            _watch.seen = fingerprint
            # Other processes may still compute on their previous copy for up to a minute after
            # the change: look once more when that copy has certainly expired.
            _watch.recheck_at = clock + 2 * CACHE_SECONDS
        elif _watch.recheck_at is not None and clock >= _watch.recheck_at:
            _watch.recheck_at = None
            changed = True
    if changed:
        recompute_provisional(now=now)
        _resolve_alerts(calendar, now=now)
    for year in unofficial_years(now, calendar):
        with _watch_lock:
            if year in _watch.announced:
                continue
        announce_predicted_year(year, now=now)
        with _watch_lock:
            _watch.announced.add(year)


def _resolve_alerts(calendar: BusinessCalendar, *, now: dt.datetime) -> None:
    """Alerts about a year that is now official are done (this module's and the sweep's)."""
    open_alerts = SystemAlert.objects.filter(
        Q(key__startswith=ALERT_PREFIX) | Q(key__startswith="calendar-missing-"), resolved_at__isnull=True
    )
    done = [
        alert.pk
        for alert in open_alerts.only("pk", "key")
        if alert.key.rsplit("-", 1)[-1].isdigit()
        and calendar.is_official_year(int(alert.key.rsplit("-", 1)[-1]))
    ]
    if done:
        SystemAlert.objects.filter(pk__in=done).update(resolved_at=now)


# --- telling people ------------------------------------------------------------------------------------


def announcement(year: int) -> tuple[str, str]:
    """(title, body) of the message about a predicted year, in the active language."""
    url = arrangement_url()
    title = _("%(year)d 年节假日安排尚未录入，期限按法定节假日推算") % {"year": year}
    body = _(
        "工作日历还没有国务院办公厅公布的 %(year)d 年节假日安排。在录入之前，系统按法定节假日"
        "（元旦、春节、清明节、劳动节、端午节、中秋节、国庆节）推算 %(year)d 年的放假日期；"
        "调休上班日无法推算，暂按周末休息计算。涉及这些日子的受理、办结和派单期限标记为“期限待定”，"
        "录入后系统会自动重新计算，不需要其他操作。"
    ) % {"year": year}
    how = _(
        "录入方法：通知发布后，在后台“手工维护的日历年份”页面点“录入全年放假安排”，"
        "在一页里填好全年的放假日期和调休上班日：%(url)s 。"
        "也可以请技术人员把 chinesecalendar 软件包升级到包含 %(year)d 年数据的版本。"
    ) % {"year": year, "url": f"{site_url()}{url}"}
    return title, f"{body}\n\n{how}"


def calendar_recipients() -> Iterable[Any]:
    """Active superusers and active holders of an organisation-department role."""
    user_model = get_user_model()
    org = RoleAssignment.objects.filter(user_id=OuterRef("pk"), role__in=ORG_ROLES, is_active=True)
    return user_model.objects.filter(Q(is_superuser=True) | Exists(org), is_active=True).order_by("pk")


def announce_predicted_year(year: int, *, now: dt.datetime) -> bool:
    """Tell the recipients that ``year`` is predicted; True if this call did (once, ever).

    The unique SystemAlert key is the guard: two sweeps at once, or two processes, insert
    the same key and only one transaction creates it (the other finds it after the first
    commits). The inbox messages are written in that transaction; the e-mails leave after it.
    """
    with translation.override(settings.LANGUAGE_CODE):
        title, body = announcement(year)
    with transaction.atomic():
        _alert, created = SystemAlert.objects.get_or_create(
            key=f"{ALERT_PREFIX}{year}",
            defaults={"message": f"{title}\n\n{body}", "first_seen": now, "last_seen": now},
        )
        if not created:
            return False
        recipients = list(calendar_recipients())
        Notification.objects.bulk_create(
            [
                Notification(recipient=user, kind=NOTIFICATION_KIND, title=title, body=body, created_at=now)
                for user in recipients
            ]
        )
        addresses = sorted({user.email for user in recipients if user.email})
        if addresses:
            transaction.on_commit(lambda: _send_mail(title, body, addresses))
    logger.warning("calendar: told %s people that %s is predicted", len(recipients), year)
    return True


def _send_mail(subject: str, body: str, addresses: list[str]) -> None:
    # One message per address: recipients do not see each other's addresses.
    try:
        send_mass_mail([(subject, body, None, [address]) for address in addresses], fail_silently=True)
    except Exception:
        # fail_silently covers SMTP errors only; a broken mail setup must not stop the sweep.
        logger.exception("calendar: e-mail about a predicted year not sent")
