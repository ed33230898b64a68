"""The sweep: warn near deadlines, escalate missed ones, flag overdue orders, ask for return visits.

Run every minute by Celery beat (``dispatch.sweep``) and by ``manage.py escalate``;
both call ``run_sweep``. The database is the source of truth: work is found by
indexed range scans over deadline columns, claimed in bounded batches with
``SELECT … FOR UPDATE SKIP LOCKED`` (two sweeps at once take disjoint rows), and
written with a constant number of queries per batch. "Escalated once per case and
tier" is the unique (case, to_tier) constraint on Whistle; a crashed or redelivered
sweep either committed its batch (the rows are no longer due) or rolled it back
(nothing happened), so the next sweep finds the work again.
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core.bulk_sql import claim
from dispatch.chain import may_climb_from, next_tier
from issues.choices import ACTIVE_ORDER_STATES, AWAITING_ACCEPT_STATES, OPEN_STATES, CaseState, EventKind
from issues.models import Case, CaseEvent, DispatchOrder, NotificationDelivery, NotificationOutbox
from issues.workflow import (
    cases_escalate_claimed,
    cases_return_visit_due_claimed,
    due_for_return_visit,
    feedback_cutoff,
    stored,
)
from issues.workflow.bulk import CLAIM_COLUMNS, ClaimedCase, EscalationMemo

from .calendar_watch import calendar_housekeeping
from .notify import relay_due, schedule_notifications
from .photos import relay_pending as relay_pending_photos
from .reference import all_categories


@dataclass
class SweepResult:
    """What one sweep did (or, in a dry run, would do)."""

    now: str = ""
    dry_run: bool = False
    warned: int = 0
    escalated: int = 0
    supervised_at_top: int = 0
    report_overdue: int = 0
    complete_overdue: int = 0
    return_visit_due: int = 0  # cases whose feedback window passed unanswered: the community visits
    relayed: int = 0  # outbox rows published again (their first message was lost or is late)
    redelivered: int = 0  # e-mail/webhook deliveries sent again
    batches: int = 0
    details: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("details")
        return data


def run_sweep(
    *,
    now: dt.datetime | None = None,
    dry_run: bool = False,
    batch: int | None = None,
    log: Callable[[str], None] | None = None,
) -> SweepResult:
    """One full sweep; safe to run concurrently and repeatedly."""
    now = now or timezone.now()
    batch = batch or settings.JXT_SWEEP_BATCH
    result = SweepResult(now=now.isoformat(), dry_run=dry_run)
    say = log or (lambda _msg: None)

    if not dry_run:
        # Provisional deadlines recomputed once the calendar learns their year; the yearly
        # reminder to enter the arrangement. No query in the common case, never raises.
        calendar_housekeeping(now)
        relay_pending_photos(now=now)  # photos whose processing message was lost (issues.photos)
    cutoff = feedback_cutoff(now)
    if not dry_run and not _anything_due(now, cutoff):
        # The common case, every minute: one indexed statement and done.
        return result
    _sweep_warnings(now, batch, dry_run, result, say)
    _sweep_escalations(now, batch, dry_run, result, say)
    _sweep_feedback_window(now, cutoff, batch, dry_run, result, say)
    _sweep_orders(now, batch, dry_run, result, say)
    if not dry_run:
        result.relayed, result.redelivered = relay_due(now=now, batch=batch)
    return result


def _anything_due(now: dt.datetime, cutoff: dt.datetime | None) -> bool:
    """One statement over the partial indexes: is there any work at all?

    Deliberately looser than the sweeps themselves (it ignores states): a "yes" only
    means the full sweep runs and finds out.
    """
    sql, times = _anything_due_sql(connection.alias, cutoff is not None)
    # As the ORM would write them (SQLite compares text: naive UTC, not the site's local time).
    adapt = connection.ops.adapt_datetimefield_value
    params = [adapt(now)] * times + ([adapt(cutoff)] if cutoff is not None else [])
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return bool(row and row[0])


@functools.cache
def _anything_due_sql(alias: str, with_feedback: bool) -> tuple[str, int]:
    """The statement of ``_anything_due`` and how many times it takes ``now``.

    Each sub-query is the earliest deadline in one partial index, with no parameter
    inside: its plan is the same for every ``now`` (an index's first entry), and it runs in
    tens of microseconds. The open states are written out, as in the indexes' predicates: a
    parameter there would keep the planner from matching the partial index.
    """
    quote = connections[alias].ops.quote_name
    case = quote(Case._meta.db_table)
    order = quote(DispatchOrder._meta.db_table)
    outbox = quote(NotificationOutbox._meta.db_table)
    delivery = quote(NotificationDelivery._meta.db_table)

    def literal(value: str) -> str:
        if not value.replace("_", "").isalnum():
            raise ValueError(f"not a plain state name: {value!r}")
        return f"'{value}'"

    open_states = ", ".join(literal(s) for s in sorted(OPEN_STATES))  # as in the partial index
    active = ", ".join(literal(s) for s in sorted(ACTIVE_ORDER_STATES))  # as in the orders' partial indexes
    earliest = [
        f"SELECT min(escalation_due) FROM {case} WHERE escalation_due IS NOT NULL AND state IN ({open_states})",  # noqa: S608
        f"SELECT min(warn_at) FROM {case} WHERE warn_at IS NOT NULL",  # noqa: S608
        f"SELECT min(report_due) FROM {order} WHERE attended_at IS NULL AND report_overdue_at IS NULL AND state IN ({active})",  # noqa: S608
        f"SELECT min(complete_due) FROM {order} WHERE completed_at IS NULL AND complete_overdue_at IS NULL AND state IN ({active})",  # noqa: S608
        f"SELECT min(next_attempt_at) FROM {outbox}",  # noqa: S608
        f"SELECT min(next_attempt_at) FROM {delivery} WHERE next_attempt_at IS NOT NULL",  # noqa: S608
    ]
    conditions = [f"({query}) <= %s" for query in earliest]
    if with_feedback:
        awaiting = literal(CaseState.AWAITING_FEEDBACK)
        conditions.append(f"(SELECT min(verified_at) FROM {case} WHERE state = {awaiting}) <= %s")  # noqa: S608
    # Table names from the models, quoted; states checked above. NULL (nothing pending) is not true.
    return "SELECT " + " OR ".join(conditions), len(earliest)


# --- (a) deadline warnings ------------------------------------------------------------------------


def _sweep_warnings(
    now: dt.datetime, batch: int, dry_run: bool, result: SweepResult, say: Callable[[str], None]
) -> None:
    # A warning is about the deadline that governs now (escalation_due). One whose deadline has
    # passed is escalated below, not warned; one with no deadline left (supervised at its highest tier,
    # closed) is stale and dropped without a word.
    due = Case.objects.filter(warn_at__lte=now, state__in=OPEN_STATES, escalation_due__gt=now).order_by(
        "warn_at", "pk"
    )
    if not dry_run:
        Case.objects.filter(warn_at__lte=now).filter(
            Q(escalation_due__isnull=True) | ~Q(state__in=OPEN_STATES)
        ).update(warn_at=None)
    if dry_run:
        for code, warn_at in due.values_list("tracking_code", "warn_at"):
            result.warned += 1
            say(f"warn     {code}  (warn_at {warn_at:%Y-%m-%d %H:%M})")
        return
    while True:
        with transaction.atomic():
            cases = claim(due.select_related("category__category_class", "alley", "holder_area"), batch)
            if not cases:
                return
            result.batches += 1
            events = []
            for case in cases:
                what = stored(
                    gettext_noop("受理") if case.state in AWAITING_ACCEPT_STATES else gettext_noop("办结")
                )
                deadline = case.escalation_due
                events.append(
                    CaseEvent(
                        case=case,
                        kind=EventKind.DEADLINE_WARNING,
                        at=now,
                        actor_label=stored(gettext_noop("系统")),
                        public=False,
                        note=stored(
                            gettext_noop("%(what)s期限 %(due)s 将到，请抓紧办理。"),
                            what=what,
                            due=timezone.localtime(deadline).strftime("%Y-%m-%d %H:%M") if deadline else "-",
                        ),
                    )
                )
            Case.objects.filter(pk__in=[c.pk for c in cases]).update(warn_at=None)
            created = CaseEvent.objects.bulk_create(events)
            schedule_notifications([e.pk for e in created if e.pk])
            result.warned += len(cases)


# --- (b) escalation ---------------------------------------------------------------------------------


def _sweep_escalations(
    now: dt.datetime, batch: int, dry_run: bool, result: SweepResult, say: Callable[[str], None]
) -> None:
    due = Case.objects.filter(escalation_due__lte=now, state__in=OPEN_STATES).order_by("escalation_due", "pk")
    if dry_run:
        categories = all_categories()
        for code, tier, category_id in due.values_list("tracking_code", "tier", "category_id"):
            if may_climb_from(tier, categories[category_id]):
                result.escalated += 1
                say(f"escalate {code}  {tier} -> {next_tier(tier)}")
            else:
                result.supervised_at_top += 1
                say(f"overdue  {code}  at {tier}, the highest tier of its class: supervise")
        return
    memo = EscalationMemo()
    size = batch
    while True:
        started = time.monotonic()
        with transaction.atomic():
            cases = [ClaimedCase(*row) for row in claim(due.values_list(*CLAIM_COLUMNS), size)]
            if not cases:
                return
            result.batches += 1
            # A case already whistled to its next tier is not moved again, and its clock
            # stops: the writer's whistle INSERT skips it (ON CONFLICT), so the batch commits.
            escalated, supervised = cases_escalate_claimed(cases=cases, now=now, memo=memo)
            result.escalated += escalated
            result.supervised_at_top += supervised
        size = next_batch_size(size, len(cases), time.monotonic() - started, most=batch)


def next_batch_size(size: int, claimed: int, took: float, *, most: int) -> int:
    """The next batch's size: its transaction should hold its row locks about ``JXT_SWEEP_LOCK_SECONDS``.

    A staff member's write on a claimed case (a note, an acceptance) waits for the batch's
    commit. A mass event escalates batch after batch for minutes, so a batch that takes longer
    than the budget (a busy machine, a large database) is made smaller, one that takes less
    grows back (at most doubling) to ``most`` (``JXT_SWEEP_BATCH``), which keeps the per-batch
    overhead low when the machine is quiet. Never below a quarter of ``most``: the per-batch
    cost (claim, commit, outbox row, task) stays within 4× a quiet run's, and on a saturated
    machine a click waits for the CPU more than for a lock anyway. A budget of 0 keeps every
    batch at ``most``.
    """
    budget = settings.JXT_SWEEP_LOCK_SECONDS
    if budget <= 0 or claimed < size:  # no budget, or the last (partial) batch
        return most
    wanted = int(size * budget / max(took, 1e-3))
    return max(max(1, most // 4), min(most, 2 * size, wanted))


# --- (c) overdue orders ------------------------------------------------------------------------------


def _sweep_orders(
    now: dt.datetime, batch: int, dry_run: bool, result: SweepResult, say: Callable[[str], None]
) -> None:
    kinds = (
        # The report deadline is met only by an attendance the community confirmed (issues.attendance).
        (
            "report",
            Q(report_due__lte=now, attended_at__isnull=True, report_overdue_at__isnull=True),
            "report_overdue_at",
        ),
        (
            "complete",
            Q(complete_due__lte=now, completed_at__isnull=True, complete_overdue_at__isnull=True),
            "complete_overdue_at",
        ),
    )
    for kind, condition, flag in kinds:
        due = DispatchOrder.objects.filter(condition, state__in=ACTIVE_ORDER_STATES).order_by("pk")
        if dry_run:
            for order_id, dept in due.values_list("pk", "department__name"):
                setattr(result, f"{kind}_overdue", getattr(result, f"{kind}_overdue") + 1)
                say(f"overdue  order {order_id} ({dept}): {kind}")
            continue
        while True:
            with transaction.atomic():
                orders = claim(due.select_related("department", "common_issue"), batch)
                if not orders:
                    break
                result.batches += 1
                DispatchOrder.objects.filter(pk__in=[o.pk for o in orders]).update(**{flag: now})
                case_ids: dict[int, list[int]] = {}
                common = [o for o in orders if o.case_id is None]
                if common:
                    through = DispatchOrder.common_issue.field.related_model.cases.through  # type: ignore[attr-defined]
                    for ci_id, case_id in through.objects.filter(
                        commonissue_id__in={o.common_issue_id for o in common}
                    ).values_list("commonissue_id", "case_id"):
                        case_ids.setdefault(ci_id, []).append(case_id)
                events = []
                for order in orders:
                    if kind == "complete":
                        text = _("派单办结超时")
                    elif order.reported_at is not None:
                        text = _("派单报到超时：已填报到社区的时间，社区尚未确认部门到场")
                    else:
                        text = _("派单报到超时")
                    targets = (
                        [order.case_id] if order.case_id else case_ids.get(order.common_issue_id or 0, [])
                    )
                    for case_id in targets:
                        events.append(
                            CaseEvent(
                                case_id=case_id,
                                kind=EventKind.ORDER_OVERDUE,
                                at=now,
                                actor_label=_("系统"),
                                note=f"{order.department.name}：{text}",
                                data={
                                    "order_id": order.pk,
                                    "department_id": order.department_id,
                                    "what": kind,
                                },
                            )
                        )
                created = CaseEvent.objects.bulk_create(events)
                schedule_notifications([e.pk for e in created if e.pk])
                setattr(result, f"{kind}_overdue", getattr(result, f"{kind}_overdue") + len(orders))


# --- (d) cases nobody rated within the feedback window: due for a return visit --------------------


def _sweep_feedback_window(
    now: dt.datetime,
    cutoff: dt.datetime | None,
    batch: int,
    dry_run: bool,
    result: SweepResult,
    say: Callable[[str], None],
) -> None:
    # Nothing closes here: the community's return visits decide (issues.workflow.return_visits).
    if cutoff is None:
        return
    due = Case.objects.filter(due_for_return_visit(cutoff)).order_by("verified_at", "pk")
    if dry_run:
        for (code,) in due.values_list("tracking_code"):
            result.return_visit_due += 1
            say(f"revisit  {code}  (no feedback within {settings.JXT_FEEDBACK_WINDOW_DAYS} working days)")
        return
    while True:
        with transaction.atomic():
            cases = claim(due, batch)
            if not cases:
                return
            result.batches += 1
            result.return_visit_due += cases_return_visit_due_claimed(cases=cases, now=now)
