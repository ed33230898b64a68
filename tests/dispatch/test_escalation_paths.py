"""The sweep's batch escalation writes the rows ``case_escalate`` writes, on every database.

On PostgreSQL the batch is one set-based statement; elsewhere three bulk statements.

The same overdue cases are escalated twice, each time from the same starting data (a
savepoint rolled back in between): one by one through ``case_escalate`` (the ORM), then as
one claimed batch through ``cases_escalate_claimed``. The cases, whistles and timeline
events they leave are compared field by field, ids and the auto-set ``updated_at`` aside.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from alleys.choices import AreaLevel
from dispatch.models import Whistle
from issues.choices import CaseState, EventKind, Urgency
from issues.models import Case, CaseEvent
from issues.workflow import case_escalate, cases_escalate_claimed
from issues.workflow.bulk import CLAIM_COLUMNS, ClaimedCase
from tests.factories import MONDAY, World, build_world, make_case

pytestmark = [pytest.mark.django_db]

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


def overdue_cases(world: World) -> list[int]:
    """Cases of several tiers, states and urgencies whose escalation deadline has passed."""
    made = []
    for tier in (AreaLevel.ALLEY, AreaLevel.COMMUNITY, AreaLevel.STREET, AreaLevel.DISTRICT):
        for state, urgency in (
            (CaseState.SUBMITTED, Urgency.NORMAL),
            (CaseState.IN_PROGRESS, Urgency.URGENT),
            (CaseState.REOPENED, Urgency.NORMAL),
        ):
            alley = world.alley_y if tier == AreaLevel.COMMUNITY else world.alley_x
            made.append(make_case(world, tier=tier, state=state, urgency=urgency, alley=alley).pk)
    return made


def written(ids: list[int]) -> dict[str, Any]:
    """What the escalation left: cases, whistles and timeline events, without ids."""
    cases = {c.pk: tuple(getattr(c, f) for f in CASE_FIELDS) for c in Case.objects.filter(pk__in=ids)}
    whistles = sorted(Whistle.objects.filter(case_id__in=ids).values_list(*WHISTLE_FIELDS))
    whistle_of = {
        pk: (case_id, to_tier)
        for pk, case_id, to_tier in Whistle.objects.filter(case_id__in=ids).values_list(
            "pk", "case_id", "to_tier"
        )
    }
    events = []
    for row in CaseEvent.objects.filter(case_id__in=ids, kind=EventKind.ESCALATED).values(*EVENT_FIELDS):
        # The whistle's id differs between the runs: the whistle it names must not.
        if "whistle_id" in row["data"]:
            row["data"]["whistle_id"] = whistle_of[row["data"]["whistle_id"]]
        events.append(tuple(row.values()))
    return {"cases": cases, "whistles": whistles, "events": sorted(events, key=repr)}


def test_the_batch_writes_what_case_escalate_writes(db: None) -> None:
    world = build_world()
    ids = overdue_cases(world)
    now = max(Case.objects.filter(pk__in=ids).values_list("escalation_due", flat=True)) + dt.timedelta(
        minutes=1
    )
    assert now > MONDAY

    one_by_one: dict[str, Any] = {}
    try:
        with transaction.atomic():
            for pk in ids:
                assert case_escalate(case=pk, now=now) is not None
            one_by_one = written(ids)
            raise _RolledBack
    except _RolledBack:
        pass
    assert not Whistle.objects.filter(case_id__in=ids).exists()  # back to the same starting data

    with transaction.atomic():
        claimed = [
            ClaimedCase(*row)
            for row in Case.objects.filter(pk__in=ids).order_by("pk").values_list(*CLAIM_COLUMNS)
        ]
        with CaptureQueriesContext(connection) as captured:
            escalated, at_city = cases_escalate_claimed(cases=claimed, now=now)
    assert (escalated, at_city) == (len(ids), 0)
    # The set-based statement went through Django's cursor: logged like any query.
    if connection.vendor == "postgresql":
        assert any("unnest" in q["sql"] and "INSERT INTO" in q["sql"] for q in captured.captured_queries)
    batch = written(ids)

    assert len(one_by_one["whistles"]) == len(one_by_one["events"]) == len(ids)
    assert batch["cases"] == one_by_one["cases"]
    assert batch["whistles"] == one_by_one["whistles"]
    assert batch["events"] == one_by_one["events"]
