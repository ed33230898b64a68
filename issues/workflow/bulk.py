"""Transitions over rows already claimed (locked), with a constant number of queries: the one
escalation writer (``case_escalate`` and the sweep), and the settling of the orders of cases that
ended (every path that closes, rejects or merges a case). The sweep's other writer, cases whose
feedback window passed, lives with the rule it serves (``return_visits``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.db.models import CharField, Exists, Func, OuterRef, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from alleys.choices import AreaLevel
from alleys.people import Member
from core.bulk_sql import insert_new, update_rows

from ..choices import AWAITING_ACCEPT_STATES, FINAL_STATES, AttendanceState, EventKind, Urgency
from ..models import Attendance, Case, CaseEvent, CommonIssue, DispatchOrder, ExtensionRequest
from .events import (
    new_event,
    notify_event_ids,
    stored,
)
from .rules import (
    ORDER_TRANSITIONS,
    S,
)

if TYPE_CHECKING:
    from dispatch.deadlines import Deadlines, Limit


class ClaimedCase(NamedTuple):
    """The columns the sweep's escalation reads from a claimed (locked) row: no model instance."""

    pk: int
    tier: str
    state: str
    category_id: int
    urgency: str
    alley_id: int
    holder_area_id: int
    due_label: str | None  # the missed deadline as the timeline writes it (``DueLabel``)


class DueLabel(Func):
    """A deadline as the timeline writes it ("2026-03-02 14:00", site time), formatted by the database.

    The sweep reads thousands of claimed rows at once: loading each timestamp into a Python
    datetime (psycopg's text loader) and formatting it back cost more than the rest of a row.
    """

    output_field = CharField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, Any]:  # type: ignore[override]
        inner, inner_params = compiler.compile(self.source_expressions[0])
        tzname = timezone.get_current_timezone_name()
        sql, params = connection.ops.datetime_trunc_sql("minute", inner, tuple(inner_params), tzname)
        if connection.vendor == "postgresql":
            return f"to_char({sql}, 'YYYY-MM-DD HH24:MI')", params
        return f"substr({sql}, 1, 16)", params  # SQLite's trunc gives 'YYYY-MM-DD HH:MM:SS'


# What the sweep's claim selects, in ClaimedCase's order.
CLAIM_COLUMNS: tuple[str | DueLabel, ...] = (*ClaimedCase._fields[:-1], DueLabel("escalation_due"))

# What escalation writes into each moved case; the state, acceptance and tier entry time are the same for all.
_ESCALATED_COLUMNS = [
    "tier",
    "holder_area",
    "accept_due",
    "resolve_due",
    "escalation_due",
    "warn_at",
    "deadline_provisional",
]


class _Row:
    """One case to move up: its new values (an attribute per column, as ``update_rows`` reads
    them), where it came from, and the reason the whistle and the timeline give."""

    __slots__ = (
        "accept_due",
        "deadline_provisional",
        "escalation_due",
        "from_state",
        "from_tier",
        "holder_area_id",
        "pk",
        "reason",
        "resolve_due",
        "tier",
        "warn_at",
    )

    def __init__(
        self, case: ClaimedCase, tier: str, holder_area_id: int, deadlines: Deadlines, reason: str
    ) -> None:
        self.pk = case.pk
        self.from_tier = case.tier
        self.from_state = case.state
        self.reason = reason
        self.tier = tier
        self.holder_area_id = holder_area_id
        # As ``dispatch.chain.set_fresh_deadlines`` sets them: the accept deadline escalates.
        self.accept_due = deadlines.accept_due
        self.resolve_due = deadlines.resolve_due
        self.escalation_due = deadlines.accept_due
        self.warn_at = deadlines.warn_at
        self.deadline_provisional = deadlines.provisional


@dataclass
class EscalationMemo:
    """What one sweep looks up once for all its batches (every batch shares the sweep's ``now``)."""

    categories: dict[int, Any] = field(default_factory=dict)
    areas: dict[int, Any] = field(default_factory=dict)
    areas_by_code: dict[str, Any] = field(default_factory=dict)
    # Deadlines depend only on the (accept, resolve) limits and `now`: types sharing limits share them.
    deadlines: dict[tuple[Limit, Limit], Deadlines] = field(default_factory=dict)
    by_type: dict[tuple[int, str, str], Deadlines] = field(default_factory=dict)  # (type, tier, urgency)

    def load_categories(self, cases: list[ClaimedCase]) -> None:
        """The category types of ``cases`` (the process's reference copy, read again only when it changed)."""
        from ..reference import all_categories

        if {c.category_id for c in cases} - self.categories.keys():
            self.categories.update(all_categories())

    def load(self, cases: list[ClaimedCase], targets: dict[int, str | None]) -> None:
        """Fetch the category types and areas this batch needs that earlier batches did not.

        From the process's reference copies (``alleys.reference``, ``issues.reference``): a
        worker that sweeps every minute reads them from the database only when they changed.
        """
        from alleys import reference

        self.load_categories(cases)
        if missing := ({c.alley_id for c in cases} | {c.holder_area_id for c in cases}) - self.areas.keys():
            self.areas.update(reference.areas_by_id(missing))
        wanted = {
            self.areas[c.alley_id].code_at(t) for c in cases if (t := targets[c.pk]) and t != AreaLevel.ALLEY
        }
        if missing_codes := wanted - self.areas_by_code.keys():
            self.areas_by_code.update(reference.areas_by_code(missing_codes))
        for c in cases:  # the alley tier is held by the alley itself
            alley = self.areas[c.alley_id]
            self.areas_by_code.setdefault(alley.code, alley)


def cases_escalate_claimed(
    *, cases: list[ClaimedCase], now: dt.datetime, memo: EscalationMemo | None = None
) -> tuple[int, int]:
    """The one escalation writer: claimed (locked) overdue cases climb one tier; returns
    (escalated, supervised at their highest tier).

    ``case_escalate`` calls it with the one case it has locked, the sweep with each batch it
    has claimed: one code path on every database. It reads plain column tuples (no model
    instances), computes each (category limits, tier, urgency)'s deadlines once per sweep
    (``memo``: every row shares ``now``), and writes with a fixed number of statements
    whatever the number of cases (see ``_write_escalations``). A case at its class's highest
    tier (``dispatch.chain.may_climb_from``; the city for every class) climbs no further by
    itself: it is supervised instead, and its holder told, once.
    """
    from dispatch.chain import may_climb_from, next_tier, unit_label
    from dispatch.deadlines import compute_deadlines, limits_for

    memo = memo or EscalationMemo()
    memo.load_categories(cases)
    at_top = [c for c in cases if not may_climb_from(c.tier, memo.categories[c.category_id])]
    movable = [c for c in cases if may_climb_from(c.tier, memo.categories[c.category_id])]
    targets = {c.pk: next_tier(c.tier) for c in movable}
    memo.load(movable, targets)

    rows: list[_Row] = []
    # Timeline text is in the site's language, whoever runs the sweep (as ``stored`` writes it).
    with translation.override(settings.LANGUAGE_CODE):
        template = _("%(unit)s超过%(what)s期限（%(due)s）未处理，系统自动上报。")
        missed = {True: _("受理"), False: _("办结")}
        units: dict[tuple[str, int], str] = {}
        for case in movable:
            target = targets[case.pk]
            assert target is not None
            key = (case.category_id, target, case.urgency)
            deadlines = memo.by_type.get(key)
            if deadlines is None:
                category = memo.categories[case.category_id]
                urgent = case.urgency == Urgency.URGENT
                limits = limits_for(category=category, tier=target, urgent=urgent)
                deadlines = memo.deadlines.get(limits)
                if deadlines is None:
                    deadlines = memo.deadlines[limits] = compute_deadlines(
                        category=category, tier=target, start=now, urgent=urgent
                    )
                memo.by_type[key] = deadlines
            holder = memo.areas_by_code[memo.areas[case.alley_id].code_at(target)]
            unit = units.get((case.tier, case.holder_area_id))
            if unit is None:
                unit = units[case.tier, case.holder_area_id] = unit_label(
                    case.tier, memo.areas[case.holder_area_id]
                )
            reason = template % {
                "unit": unit,
                "what": missed[case.state in AWAITING_ACCEPT_STATES],
                "due": case.due_label or "-",
            }
            rows.append(_Row(case, target, holder.pk, deadlines, reason))
    event_ids = _write_escalations(rows, now=now) if rows else []
    escalated = len(event_ids)  # one event per case moved; the others had been whistled there before
    if at_top:
        Case.objects.filter(pk__in=[c.pk for c in at_top]).update(
            escalation_due=None, warn_at=None, supervised=True, updated_at=now
        )
        with translation.override(settings.LANGUAGE_CODE):
            notes = {
                tier: _("%(tier)s层级办理超过期限（此类事项自动上报最高到该层级），系统自动督办。")
                % {"tier": AreaLevel(tier).label}
                for tier in {c.tier for c in at_top}
            }
        # One statement like the escalations' events (a mass event supervises thousands at once).
        event_ids += insert_new(
            CaseEvent,
            ("case", "note", "data"),
            [(case.pk, notes[case.tier], {"tier": case.tier}) for case in at_top],
            constants={
                "kind": EventKind.SUPERVISED,
                "at": now,
                "actor": None,
                "actor_label": stored(gettext_noop("系统")),
                "from_state": "",
                "to_state": "",
                "from_tier": "",
                "to_tier": "",
                "public": True,
            },
            returning=True,
        )
    notify_event_ids(event_ids)
    return escalated, len(at_top)


# The columns that differ between the rows escalation inserts (the others are the same for all).
_WHISTLE_COLUMNS = ("case", "from_tier", "to_tier", "reason")
_EVENT_COLUMNS = ("case", "from_state", "from_tier", "to_tier", "note", "data")


def _write_escalations(rows: list[_Row], *, now: dt.datetime) -> list[int]:
    """Whistles, the cases' new tier and deadlines, timeline events; returns the events' ids.

    At most four statements for any number of rows, the same on every database, each through
    Django's connection (logged and counted like any query; see ``issues.bulk_sql``):

    1. the whistles, ``INSERT … ON CONFLICT (case, to_tier) DO NOTHING RETURNING``: the
       once-per-tier guard. A case already whistled to that tier (by hand, or by a run that
       committed) gets no second whistle and does not move, whatever ran twice;
    2. the cases that got their whistle: new tier, holder and deadlines, awaiting acceptance;
    3. the others: their escalation clock stops, so no sweep retries them (a warning names
       the deadline it is for, so it goes too);
    4. one timeline event per moved case, naming its whistle.

    The caller holds the cases' row locks and its transaction makes the four one change:
    a process that dies midway leaves nothing behind, and the next sweep finds the cases again.
    """
    from ..models import Whistle

    whistled = dict(
        insert_new(
            Whistle,
            _WHISTLE_COLUMNS,
            [(r.pk, r.from_tier, r.tier, r.reason) for r in rows],
            constants={"automatic": True, "actor": None, "at": now},
            unique=("case", "to_tier"),
            returning=("case", "pk"),
        )
    )
    moved = [r for r in rows if r.pk in whistled]
    update_rows(
        Case,
        moved,
        _ESCALATED_COLUMNS,
        constants={
            "state": S.SUBMITTED,
            "accepted_at": None,
            "tier_entered_at": now,
            "updated_at": now,
            "assignee": None,  # the person was the previous unit's (as issues.workflow.placement)
        },
    )
    if stopped := [r.pk for r in rows if r.pk not in whistled]:
        Case.objects.filter(pk__in=stopped).update(escalation_due=None, warn_at=None)
    return insert_new(
        CaseEvent,
        _EVENT_COLUMNS,
        [
            (
                r.pk,
                r.from_state,
                r.from_tier,
                r.tier,
                r.reason,
                {"whistle_id": whistled[r.pk], "department_ids": []},
            )
            for r in moved
        ],
        constants={
            "kind": EventKind.ESCALATED,
            "at": now,
            "actor": None,
            "actor_label": stored(gettext_noop("系统")),
            "to_state": S.SUBMITTED,
            "public": True,
        },
        returning=True,
    )


# The reason a closed case's open orders are withdrawn (written on the order and in the timeline).
CASE_CLOSED_REASON = gettext_noop("案件已办结关闭，派单随案件结束，不再办理。")


def orders_settle_for_cases(
    *,
    cases: list[Case],
    reason: str,
    label: str,
    actor: Member | None = None,
    now: dt.datetime,
) -> list[CaseEvent]:
    """The cases ended (closed, rejected, merged): withdraw every order still open on them.

    Called in the transaction that ended the cases, after their new state is written, by
    every path that ends a case (``case_feedback``, ``case_return_visit`` (an answer, or the
    last failed attempt), ``case_reject`` and ``case_merge``): no order outlives its
    case, so none is left on a department's to-do list, flagged overdue by the sweep or
    counted against the department (the rates leave withdrawn orders out). An order of a
    common issue serves all its cases: it is settled when the last of them ends. Pending
    extension requests of the withdrawn orders are withdrawn with them.

    ``label`` is the unit that ended the case (or 系统), ``actor`` the person; the reason is
    stored on each order and in one timeline event per order and case it served. Returns the
    events, for the caller to notify the departments after commit. A fixed number of
    statements whatever the number of cases.
    """
    withdraw = ORDER_TRANSITIONS["withdraw"]
    case_ids = [c.pk for c in cases]
    through = CommonIssue.cases.through
    # Two of a common issue's cases ending at once must not each see the other still open:
    # lock the issues (in one order, so two such calls never deadlock), then look at their
    # cases in a statement of its own, which sees whatever the other transaction committed.
    issue_ids = list(
        CommonIssue.objects.select_for_update()
        .filter(pk__in=through.objects.filter(case_id__in=case_ids).values("commonissue_id"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    still_served = through.objects.filter(commonissue_id=OuterRef("pk")).exclude(
        case__state__in=sorted(FINAL_STATES)
    )
    finished = CommonIssue.objects.filter(pk__in=issue_ids).exclude(Exists(still_served))
    orders = list(
        DispatchOrder.objects.select_for_update(of=("self",))
        .filter(state__in=withdraw.sources)
        .filter(Q(case_id__in=case_ids) | Q(common_issue__in=finished.values("pk")))
        .select_related("department")
        .order_by("pk")
    )
    if not orders:
        return []
    ids = [o.pk for o in orders]
    DispatchOrder.objects.filter(pk__in=ids).update(
        state=withdraw.next_state, withdrawn_at=now, withdrawal_reason=reason
    )
    extensions = ORDER_TRANSITIONS["extension-withdraw"]
    ExtensionRequest.objects.filter(order_id__in=ids, state__in=extensions.sources).update(
        state=extensions.next_state, decision_note=reason
    )
    # A visit announced for a withdrawn order will not be made: nobody is to confirm it.
    Attendance.objects.filter(order_id__in=ids, state=AttendanceState.PLANNED).update(
        state=AttendanceState.CANCELLED, decided_at=now
    )
    served: dict[int, list[int]] = {}
    settled_issues = {o.common_issue_id for o in orders if o.common_issue_id}
    for issue_id, case_id in through.objects.filter(commonissue_id__in=settled_issues).values_list(
        "commonissue_id", "case_id"
    ):
        served.setdefault(issue_id, []).append(case_id)
    by_pk = {c.pk: c for c in cases}
    missing = {i for ids_ in served.values() for i in ids_} - by_pk.keys()
    if missing:
        by_pk.update(Case.objects.in_bulk(sorted(missing)))
    events: list[CaseEvent] = []
    for order in orders:
        targets = [order.case_id] if order.case_id else served.get(order.common_issue_id or 0, [])
        with translation.override(settings.LANGUAGE_CODE):
            role = str(order.get_role_display())
        text = stored(
            gettext_noop("撤回%(department)s的%(role)s派单：%(reason)s"),
            department=order.department.name,
            role=role,
            reason=reason,
        )
        data = {"order_id": order.pk, "department_id": order.department_id, "role": order.role}
        events.extend(
            new_event(
                by_pk[case_id],
                EventKind.ORDER_WITHDRAWN,
                actor=actor,
                now=now,
                note=text,
                label=label,
                data=data,
            )
            for case_id in targets
        )
    return CaseEvent.objects.bulk_create(events)
