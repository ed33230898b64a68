"""The sweep's batch transitions over rows it has claimed, with a constant number of queries."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.db import connections, router
from django.db.models import CharField, Func
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from alleys.choices import AreaLevel
from core.bulk_sql import update_rows

from ..choices import (
    EventKind,
    Urgency,
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

# What escalation writes, per row; the state, acceptance and tier entry time are the same for all.
_ESCALATED_COLUMNS = ["tier", "holder_area", "accept_due", "resolve_due", "escalation_due", "warn_at"]


class _Row:
    """One escalated row: its new values (attribute per column, as ``update_rows`` reads them),
    where it came from, and the reason the whistle and the timeline give."""

    __slots__ = (
        "accept_due",
        "deadlines",
        "escalation_due",
        "from_state",
        "from_tier",
        "holder_area_id",
        "pk",
        "provisional",
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
        self.deadlines = deadlines
        self.accept_due = deadlines.accept_due
        self.resolve_due = deadlines.resolve_due
        self.escalation_due = deadlines.accept_due
        self.warn_at = deadlines.warn_at
        self.provisional = deadlines.provisional


@dataclass
class EscalationMemo:
    """What one sweep looks up once for all its batches (every batch shares the sweep's ``now``)."""

    categories: dict[int, Any] = field(default_factory=dict)
    areas: dict[int, Any] = field(default_factory=dict)
    areas_by_code: dict[str, Any] = field(default_factory=dict)
    # Deadlines depend only on the (accept, resolve) limits and `now`: types sharing limits share them.
    deadlines: dict[tuple[Limit, Limit], Deadlines] = field(default_factory=dict)
    by_type: dict[tuple[int, str, str], Deadlines] = field(default_factory=dict)  # (type, tier, urgency)

    def load(self, cases: list[ClaimedCase], targets: dict[int, str | None]) -> None:
        """Fetch the category types and areas this batch needs that earlier batches did not.

        From the process's reference copies (``alleys.reference``, ``issues.reference``): a
        worker that sweeps every minute reads them from the database only when they changed.
        """
        from alleys import reference

        from ..reference import all_categories

        if {c.category_id for c in cases} - self.categories.keys():
            self.categories.update(all_categories())
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
    """The sweep's bulk escalation of rows it has claimed (locked); returns (escalated, supervised at city).

    The same transition as ``case_escalate``, written for a batch: the sweep must move ten
    thousand overdue cases in about the time the database needs to rewrite them. It reads
    plain column tuples (no model instances), computes each (category limits, tier, urgency)'s
    deadlines once per sweep (``memo``: every row shares ``now``), and writes with a fixed
    number of statements per batch. On PostgreSQL that is the areas it has not seen yet and
    one statement (see ``_write_escalations_postgres``); elsewhere the existing whistles, one
    UPDATE joined to a VALUES list, one INSERT of whistles, one of timeline events.
    """
    from dispatch.chain import next_tier, unit_label
    from dispatch.deadlines import compute_deadlines, limits_for

    from ..models import Whistle

    memo = memo or EscalationMemo()
    connection = connections[router.db_for_write(Case)]
    on_postgres = connection.vendor == "postgresql"
    at_city = [c for c in cases if c.tier == AreaLevel.CITY]
    movable = [c for c in cases if c.tier != AreaLevel.CITY]
    targets = {c.pk: next_tier(c.tier) for c in movable}
    # On PostgreSQL the write statement itself skips (case, tier) pairs already whistled
    # (ON CONFLICT on the once-per-tier constraint): no separate look-up.
    existing: set[tuple[int, str]] = (
        set()
        if on_postgres
        else set(Whistle.objects.filter(case_id__in=list(targets)).values_list("case_id", "to_tier"))
    )
    memo.load(movable, targets)

    system = stored(gettext_noop("系统"))
    template = _("%(unit)s超过%(what)s期限（%(due)s）未处理，系统自动上报。")
    missed = {True: _("受理"), False: _("办结")}
    units: dict[tuple[str, int], str] = {}
    rows: list[_Row] = []
    stopped: list[int] = []
    for case in movable:
        target = targets[case.pk]
        assert target is not None
        if (case.pk, target) in existing:
            # Already escalated to that tier once: never twice. Stop the clock so it is not retried.
            stopped.append(case.pk)
            continue
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
            "what": missed[case.state in _AWAITING_ACCEPT],
            "due": case.due_label or "-",
        }
        rows.append(_Row(case, target, holder.pk, deadlines, reason))
    if on_postgres:
        # Escalated are the rows whose whistle went in; the statement stopped the others' clocks.
        event_ids = _write_escalations_postgres(rows, now=now, actor_label=system) if rows else []
        escalated = len(event_ids)
    else:
        event_ids = _write_escalations(rows, now=now, actor_label=system) if rows else []
        escalated = len(rows)
    # A stopped clock has no deadline left to warn about (a warning names the deadline it is for).
    if stopped:
        Case.objects.filter(pk__in=stopped).update(escalation_due=None, warn_at=None)
    if at_city:
        # Nothing above the city: the overdue case is supervised and its holder told, once.
        Case.objects.filter(pk__in=[c.pk for c in at_city]).update(
            escalation_due=None, warn_at=None, supervised=True
        )
        supervised = CaseEvent.objects.bulk_create(
            CaseEvent(
                case_id=case.pk,
                kind=EventKind.SUPERVISED,
                at=now,
                actor_label=system,
                note=_("市级办理超过期限，系统自动督办。"),
            )
            for case in at_city
        )
        event_ids += [e.pk for e in supervised if e.pk]
    _notify_ids(event_ids)
    return escalated, len(at_city)


def _write_escalations(rows: list[_Row], *, now: dt.datetime, actor_label: str) -> list[int]:
    """Whistles, the cases' new tier and deadlines, timeline events: three statements (any database)."""
    from ..models import Whistle

    whistles = Whistle.objects.bulk_create(
        Whistle(case_id=r.pk, from_tier=r.from_tier, to_tier=r.tier, reason=r.reason, automatic=True, at=now)
        for r in rows
    )
    # As case_escalate writes it: the event names its whistle (bulk_create sets the ids on
    # every database Django returns them for, SQLite and PostgreSQL included).
    whistle_of = {w.case_id: w.pk for w in whistles}
    for flag in (False, True):
        update_rows(
            Case,
            [r for r in rows if r.provisional is flag],
            _ESCALATED_COLUMNS,
            constants={
                "state": S.SUBMITTED,
                "accepted_at": None,
                "tier_entered_at": now,
                "deadline_provisional": flag,
            },
        )
    created = CaseEvent.objects.bulk_create(
        CaseEvent(
            case_id=r.pk,
            kind=EventKind.ESCALATED,
            at=now,
            actor_label=actor_label,
            from_state=r.from_state,
            to_state=S.SUBMITTED,
            from_tier=r.from_tier,
            to_tier=r.tier,
            note=r.reason,
            data={"whistle_id": whistle_of[r.pk], "department_ids": []},
        )
        for r in rows
    )
    return [e.pk for e in created if e.pk]


def _write_escalations_postgres(rows: list[_Row], *, now: dt.datetime, actor_label: str) -> list[int]:
    """The three writes as one PostgreSQL statement: the batch travels once, as arrays.

    ``unnest`` turns the arrays back into rows; the whistle INSERT, the UPDATEs and the
    event INSERT are data-modifying CTEs of one statement, so they succeed or fail
    together. The whistle INSERT goes first and is the once-per-tier guard: ``ON CONFLICT
    DO NOTHING`` on the unique (case, to_tier) constraint skips a case already whistled to
    that tier, and only the cases it returns are moved and get a timeline event; the
    others' escalation clock is stopped so that no sweep retries them. The rows' deadlines
    repeat (every row shares ``now``, most share a policy): they travel once per distinct
    set, and each row carries its set's position.
    """
    from ..models import Whistle

    connection = connections[router.db_for_write(Case)]
    quote = connection.ops.quote_name
    case, whistle, event = (quote(m._meta.db_table) for m in (Case, Whistle, CaseEvent))
    sql = f"""
        WITH v AS (
            SELECT * FROM unnest(
                %(id)b::bigint[], %(tier)b::varchar[], %(holder)b::bigint[], %(deadlines)b::int[],
                %(from_tier)b::varchar[], %(from_state)b::varchar[], %(reason)b::text[]
            ) AS v (id, tier, holder, deadlines, from_tier, from_state, reason)
        ),
        whistled AS (
            INSERT INTO {whistle} (case_id, from_tier, to_tier, reason, automatic, at)
            SELECT v.id, v.from_tier, v.tier, v.reason, true, %(now)s FROM v
            ON CONFLICT (case_id, to_tier) DO NOTHING
            RETURNING id, case_id
        ),
        w AS (
            SELECT v.*, whistled.id AS whistle_id, d.accept_due, d.resolve_due, d.warn_at, d.provisional
            FROM whistled JOIN v ON v.id = whistled.case_id
            JOIN unnest(
                %(accept_due)b::timestamptz[], %(resolve_due)b::timestamptz[],
                %(warn_at)b::timestamptz[], %(provisional)b::boolean[]
            ) WITH ORDINALITY AS d (accept_due, resolve_due, warn_at, provisional, n) ON d.n = v.deadlines
        ),
        moved AS (
            UPDATE {case} AS c SET
                tier = w.tier, holder_area_id = w.holder, accept_due = w.accept_due,
                resolve_due = w.resolve_due, escalation_due = w.accept_due, warn_at = w.warn_at,
                deadline_provisional = w.provisional, state = %(state)s, accepted_at = NULL,
                tier_entered_at = %(now)s
            FROM w WHERE c.id = w.id
        ),
        stopped AS (
            UPDATE {case} AS c SET escalation_due = NULL, warn_at = NULL
            FROM v WHERE c.id = v.id AND NOT EXISTS (SELECT 1 FROM whistled WHERE whistled.case_id = v.id)
        )
        INSERT INTO {event} (case_id, kind, at, actor_label, from_state, to_state, from_tier, to_tier,
                             note, public, data)
        SELECT w.id, %(kind)s, %(now)s, %(label)s, w.from_state, %(state)s, w.from_tier, w.tier,
               w.reason, true, jsonb_build_object('whistle_id', w.whistle_id, 'department_ids', '[]'::jsonb)
        FROM w
        RETURNING id
    """  # noqa: S608 - table names come from the models, quoted
    # Distinct deadline sets by identity: the memo hands out one object per set.
    positions: dict[int, int] = {}
    distinct: list[Deadlines] = []
    for r in rows:
        if id(r.deadlines) not in positions:
            distinct.append(r.deadlines)
            positions[id(r.deadlines)] = len(distinct)  # WITH ORDINALITY counts from 1
    params: dict[str, Any] = {
        "id": [r.pk for r in rows],
        "tier": [r.tier for r in rows],
        "holder": [r.holder_area_id for r in rows],
        "deadlines": [positions[id(r.deadlines)] for r in rows],
        "from_tier": [r.from_tier for r in rows],
        "from_state": [r.from_state for r in rows],
        "reason": [r.reason for r in rows],
        "accept_due": [d.accept_due for d in distinct],
        "resolve_due": [d.resolve_due for d in distinct],
        "warn_at": [d.warn_at for d in distinct],
        "provisional": [d.provisional for d in distinct],
        "state": S.SUBMITTED,
        "now": now,
        "kind": EventKind.ESCALATED,
        "label": actor_label,
    }
    # The arrays as binary parameters (``%(name)b``; with DATABASE_SERVER_SIDE_BINDING, the
    # default): psycopg's text format would quote and escape every element in Python. Through
    # Django's cursor, so the statement is logged, counted and its errors wrapped like any other.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


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
