"""One escalation writer: the same rows for one case as for a batch, and as the ORM would write them.

``case_escalate`` (one case, locked by it) and the sweep (a claimed batch) both call
``cases_escalate_claimed``, whose writes are set-based statements through Django's
connection. The same overdue cases are escalated three times, each time from the same
starting data (a savepoint rolled back in between): by a plain-ORM rendering of the rule
(``orm_escalate``: ``place_at_tier``, ``Whistle.objects.create``, ``record_event``), one by
one through ``case_escalate``, and as one batch. The cases, whistles, timeline events and
notification outbox rows they leave are compared field by field, ids aside. The cases
include every tier below the city, the city itself and a class's highest tier (supervised, not
moved) and one case
already whistled to its next tier (not moved again, its clock stopped).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from alleys.choices import AreaLevel
from dispatch.chain import next_tier, tier_index, unit_label
from issues.choices import AWAITING_ACCEPT_STATES, CaseState, EventKind, Urgency
from issues.models import Case, CaseEvent, NotificationOutbox, Whistle
from issues.workflow import case_escalate, cases_escalate_claimed, record_event
from issues.workflow.bulk import CLAIM_COLUMNS, ClaimedCase
from issues.workflow.placement import place_at_tier
from tests.factories import MONDAY, World, build_world, make_case

pytestmark = [pytest.mark.django_db]

# Every column escalation may change but ``updated_at`` (the ORM's save stamps the wall clock).
CASE_FIELDS = (
    "state",
    "tier",
    "holder_area_id",
    "accept_due",
    "resolve_due",
    "escalation_due",
    "warn_at",
    "deadline_provisional",
    "accepted_at",
    "tier_entered_at",
    "urgency",
    "supervised",
)
WHISTLE_FIELDS = ("case_id", "from_tier", "to_tier", "reason", "automatic", "actor_id", "at")
EVENT_FIELDS = (
    "case_id",
    "kind",
    "at",
    "actor_id",
    "actor_label",
    "from_state",
    "to_state",
    "from_tier",
    "to_tier",
    "note",
    "public",
    "data",
)


class _RolledBack(Exception):
    """Leaves the block's writes behind."""


def overdue_cases(world: World) -> tuple[list[int], int]:
    """Overdue cases of every tier, several states and urgencies; and one of them already
    whistled to its next tier (by hand, before the sweep came)."""
    made = []
    for tier in (AreaLevel.ALLEY, AreaLevel.COMMUNITY, AreaLevel.STREET, AreaLevel.DISTRICT, AreaLevel.CITY):
        for state, urgency in (
            (CaseState.SUBMITTED, Urgency.NORMAL),
            (CaseState.IN_PROGRESS, Urgency.URGENT),
            (CaseState.REOPENED, Urgency.NORMAL),
        ):
            alley = world.alley_y if tier == AreaLevel.COMMUNITY else world.alley_x
            made.append(
                make_case(
                    world, tier=tier, state=state, urgency=urgency, alley=alley, category=world.cat_d
                ).pk
            )
    # Class A climbs to the community at most: there it is supervised, like a case at the city.
    made += [
        make_case(world, tier=AreaLevel.COMMUNITY, state=state).pk
        for state in (CaseState.SUBMITTED, CaseState.IN_PROGRESS)
    ]
    whistled = made[1]
    Whistle.objects.create(
        case_id=whistled, from_tier=AreaLevel.ALLEY, to_tier=AreaLevel.COMMUNITY, reason="先前上报", at=MONDAY
    )
    return made, whistled


def orm_escalate(pk: int, now: dt.datetime) -> None:
    """The escalation rule written with the ORM, one case at a time: what the writer must match."""
    case = Case.objects.select_related("category", "alley", "holder_area").get(pk=pk)
    assert case.escalation_due is not None
    target = next_tier(case.tier)
    if target is None or tier_index(case.tier) >= tier_index(case.category.highest_tier):
        case.supervised, case.escalation_due, case.warn_at = True, None, None
        case.save()
        tier = AreaLevel(case.tier).label
        record_event(
            case,
            EventKind.SUPERVISED,
            now=now,
            label="系统",
            note=f"{tier}层级办理超过期限（此类事项自动上报最高到该层级），系统自动督办。",
            data={"tier": case.tier},
        )
        return
    if Whistle.objects.filter(case=case, to_tier=target).exists():
        case.escalation_due, case.warn_at = None, None
        case.save()
        return
    unit = unit_label(case.tier, case.holder_area)
    what = "受理" if case.state in AWAITING_ACCEPT_STATES else "办结"
    due = timezone.localtime(case.escalation_due).strftime("%Y-%m-%d %H:%M")
    reason = f"{unit}超过{what}期限（{due}）未处理，系统自动上报。"
    whistle = Whistle.objects.create(
        case=case, from_tier=case.tier, to_tier=target, reason=reason, automatic=True, at=now
    )
    before_state, before_tier = case.state, case.tier
    case.state, case.accepted_at = CaseState.SUBMITTED, None
    place_at_tier(case, target, now=now)
    case.save()
    record_event(
        case,
        EventKind.ESCALATED,
        now=now,
        from_state=before_state,
        from_tier=before_tier,
        note=reason,
        label="系统",
        data={"whistle_id": whistle.pk, "department_ids": []},
    )


def written(ids: list[int], since_outbox: int) -> dict[str, Any]:
    """What the escalation left: cases, whistles, timeline events and their outbox rows, without ids."""
    cases = {c.pk: tuple(getattr(c, f) for f in CASE_FIELDS) for c in Case.objects.filter(pk__in=ids)}
    whistles = sorted(Whistle.objects.filter(case_id__in=ids).values_list(*WHISTLE_FIELDS))
    whistle_of = {
        pk: (case_id, to_tier)
        for pk, case_id, to_tier in Whistle.objects.filter(case_id__in=ids).values_list(
            "pk", "case_id", "to_tier"
        )
    }
    events = []
    rows = CaseEvent.objects.filter(case_id__in=ids, kind__in=[EventKind.ESCALATED, EventKind.SUPERVISED])
    for row in rows.values(*EVENT_FIELDS):
        # The whistle's id differs between the runs: the whistle it names must not.
        if "whistle_id" in row["data"]:
            row["data"]["whistle_id"] = whistle_of[row["data"]["whistle_id"]]
        events.append(tuple(row.values()))
    outboxed = [i for r in NotificationOutbox.objects.filter(pk__gt=since_outbox) for i in r.event_ids]
    return {
        "cases": cases,
        "whistles": whistles,
        "events": sorted(events, key=repr),
        "outboxed": sorted(outboxed) == sorted(rows.values_list("pk", flat=True)),
    }


def escalated_by(ids: list[int], since_outbox: int, escalate: Any) -> dict[str, Any]:
    """Run ``escalate`` and return what it wrote, rolling it back afterwards."""
    result: dict[str, Any] = {}
    try:
        with transaction.atomic():
            escalate()
            result = written(ids, since_outbox)
            raise _RolledBack
    except _RolledBack:
        pass
    return result


def test_one_writer_writes_for_one_case_and_for_a_batch_what_the_orm_would(db: None) -> None:
    world = build_world()
    ids, whistled = overdue_cases(world)
    now = max(Case.objects.filter(pk__in=ids).values_list("escalation_due", flat=True)) + dt.timedelta(
        minutes=1
    )
    assert now > MONDAY
    since_outbox = NotificationOutbox.objects.order_by("pk").values_list("pk", flat=True).last() or 0
    before = written(ids, since_outbox)

    def by_orm() -> None:
        for pk in ids:
            orm_escalate(pk, now)

    def one_by_one() -> None:
        for pk in ids:
            assert (case_escalate(case=pk, now=now) is None) == (pk == whistled)

    claimed = [
        ClaimedCase(*row)
        for row in Case.objects.filter(pk__in=ids).order_by("pk").values_list(*CLAIM_COLUMNS)
    ]

    def as_a_batch() -> None:
        with CaptureQueriesContext(connection) as captured:
            assert cases_escalate_claimed(cases=claimed, now=now) == (len(ids) - 6, 5)
        # The set-based statements went through Django's cursor: logged like any query, and
        # as many for these fifteen cases as for one (the memo's look-ups aside).
        sql = [q["sql"] for q in captured.captured_queries]
        assert any(
            s.startswith(f'INSERT INTO "{Whistle._meta.db_table}"') and "ON CONFLICT" in s for s in sql
        )
        assert any(s.startswith(f'INSERT INTO "{CaseEvent._meta.db_table}"') for s in sql)

    orm = escalated_by(ids, since_outbox, by_orm)
    single = escalated_by(ids, since_outbox, one_by_one)
    assert written(ids, since_outbox) == before  # back to the same starting data
    batch = escalated_by(ids, since_outbox, as_a_batch)

    assert len(orm["whistles"]) == len(ids) - 5  # none at the city or a class's top; one whistled before
    assert len(orm["events"]) == len(ids) - 1
    assert orm["cases"][whistled][CASE_FIELDS.index("escalation_due")] is None
    for name in ("cases", "whistles", "events"):
        assert single[name] == orm[name], name
        assert batch[name] == orm[name], name
    assert single["outboxed"] and batch["outboxed"]  # every event has its outbox row, in the same transaction


def test_the_writer_stamps_the_cases_it_changes_as_updated(db: None) -> None:
    # API and Open311 clients fetch what changed since their last poll by ``updated_at``.
    world = build_world()
    case = make_case(world)
    assert case.escalation_due is not None
    now = case.escalation_due + dt.timedelta(minutes=1)
    moved = case_escalate(case=case.pk, now=now)
    assert moved is not None and (moved.tier, moved.updated_at) == (AreaLevel.COMMUNITY, now)
