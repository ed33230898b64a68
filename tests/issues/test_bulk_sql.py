"""issues/bulk_sql.py: a new case and its events in one statement, written as ``save()`` writes them."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict

from alleys.choices import AreaLevel
from dispatch.chain import place_at_tier
from issues.bulk_sql import insert_with_children
from issues.choices import CaseState, EventKind
from issues.models import Case, CaseEvent
from tests.issues.factories import MONDAY, World, build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db: None) -> World:
    return build_world()


def new_case(world: World, **fields: object) -> tuple[Case, list[CaseEvent]]:
    case = Case(
        category=world.cat_a,
        alley=world.alley_x,
        description="井盖松动，晚上容易绊倒",
        reporter_name="张三",
        reporter_phone="13900001234",
        state=CaseState.SUBMITTED,
        created_at=MONDAY,
        **fields,
    )
    place_at_tier(case, AreaLevel.ALLEY, now=MONDAY)
    events = [
        CaseEvent(
            case=case, kind=EventKind.SUBMITTED, at=MONDAY, actor_label="群众", data={"source": "form"}
        ),
        CaseEvent(case=case, kind=EventKind.NOTE, at=MONDAY, actor_label="热线", note="来电", public=False),
    ]
    return case, events


@pytest.mark.postgres
def test_one_statement_writes_what_save_writes(world: World) -> None:
    case, events = new_case(world, tracking_code="ONESTMT2")
    assert insert_with_children(case, events, link="case")
    assert case.pk and all(e.pk and e.case_id == case.pk and e.case is case for e in events)
    assert not case._state.adding

    saved, saved_events = new_case(world, tracking_code="SAVED234")
    saved.save()
    for event in saved_events:
        event.case = saved
        event.save(force_insert=True)

    def columns(obj: object, *skip: str) -> dict[str, object]:
        row = type(obj).objects.filter(pk=obj.pk).values().get()  # type: ignore[attr-defined]
        return {k: v for k, v in row.items() if k not in {"id", *skip}}

    assert columns(case, "tracking_code", "updated_at") == columns(saved, "tracking_code", "updated_at")
    for mine, theirs in zip(events, saved_events, strict=True):
        assert columns(mine, "case_id") == columns(theirs, "case_id")


@pytest.mark.postgres
def test_a_failing_statement_writes_nothing(world: World) -> None:
    first, _events = new_case(world, tracking_code="TAKEN234")
    first.save()
    case, events = new_case(world, tracking_code="TAKEN234")  # the tracking code is unique
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_with_children(case, events, link="case")
    assert Case.objects.count() == 1 and not CaseEvent.objects.exists()


def test_where_it_cannot_it_writes_nothing_and_says_so(world: World) -> None:
    """No children, or a database without data-modifying CTEs: the caller saves the usual way."""
    case, events = new_case(world)
    assert insert_with_children(case, [], link="case") is False
    if connection.vendor != "postgresql":
        assert insert_with_children(case, events, link="case") is False
    assert case.pk is None and not Case.objects.exists()
    assert model_to_dict(case)["description"] == "井盖松动，晚上容易绊倒"
