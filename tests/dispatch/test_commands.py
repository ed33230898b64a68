"""manage.py escalate [--now ISO] [--dry-run] [--json] and manage.py recompute_deadlines."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from alleys.choices import AreaLevel
from dispatch.choices import CalendarDayKind
from dispatch.models import CalendarDay, CalendarYear
from issues.models import Case, CaseEvent, DispatchOrder, SystemAlert, Whistle
from issues.workflow import case_accept, case_submit
from tests.factories import MONDAY, World, at, make_case

pytestmark = pytest.mark.django_db
T = AreaLevel


def escalate(*args: str) -> str:
    out = StringIO()
    call_command("escalate", *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Case, CaseEvent, Whistle, DispatchOrder, SystemAlert)}


@pytest.fixture
def lamp(world: World) -> Case:
    """Submitted Monday 2026-03-02 10:00 at the alley: accept by 14:00."""
    return case_submit(category=world.cat_a, alley=world.alley_x, description="路灯不亮", now=MONDAY)


def tier_of(case: Case) -> str:
    return Case.objects.get(pk=case.pk).tier


def test_a_drill_runs_the_clock_forward(lamp: Case) -> None:
    assert "escalated=0" in escalate("--now", "2026-03-02T13:00+08:00")
    assert tier_of(lamp) == T.ALLEY
    out = escalate("--now", "2026-03-03T10:00+08:00")
    assert "escalated=1" in out and "now=2026-03-03T10:00:00+08:00" in out
    assert tier_of(lamp) == T.COMMUNITY
    # The same moment again: nothing more. A week on: the community missed its deadline too, and
    # the community is as high as a class-A case climbs by itself: it is supervised there.
    assert "escalated=0" in escalate("--now", "2026-03-03T10:00+08:00")
    assert "escalated=0 supervised_at_top=1" in escalate("--now", "2026-03-10T10:00+08:00")
    assert tier_of(lamp) == T.COMMUNITY
    assert Whistle.objects.filter(case=lamp).count() == 1


def test_a_naive_now_is_beijing_time(lamp: Case) -> None:
    escalate("--now", "2026-03-02T14:01")
    assert tier_of(lamp) == T.COMMUNITY
    assert lamp.whistles.get().at == at("2026-03-02 14:01")


def test_a_dry_run_prints_what_would_happen_and_writes_nothing(world: World, lamp: Case) -> None:
    accepted = case_submit(category=world.cat_a, alley=world.alley_x, description="井盖", now=MONDAY)
    case_accept(case=accepted, actor=world.chief_x, now=MONDAY)
    before = counts()
    rows = list(Case.objects.order_by("pk").values())
    out = escalate("--now", "2026-03-09T10:00+08:00", "--dry-run")
    assert counts() == before
    assert list(Case.objects.order_by("pk").values()) == rows
    assert f"escalate {lamp.tracking_code}  alley -> community" in out
    assert f"escalate {accepted.tracking_code}  alley -> community" in out
    assert "[dry run]" in out and "escalated=2" in out
    # The real run does it.
    assert "escalated=2" in escalate("--now", "2026-03-09T10:00+08:00")
    assert counts()["Whistle"] == 2


def test_json_output(lamp: Case) -> None:
    result = json.loads(escalate("--now", "2026-03-03T10:00+08:00", "--json"))
    # Escalated, so not warned as well.
    assert (result["escalated"], result["warned"], result["dry_run"]) == (1, 0, False)


def test_a_bad_now_is_refused(lamp: Case) -> None:
    with pytest.raises(CommandError, match="ISO 8601"):
        escalate("--now", "next tuesday")
    assert tier_of(lamp) == T.ALLEY


@pytest.mark.parametrize("now", ["2027-01-11T10:00+08:00", "2028-01-11T10:00+08:00"])
def test_a_drill_in_a_year_without_official_data_escalates(lamp: Case, now: str) -> None:
    result = json.loads(escalate("--now", now, "--json"))
    assert result["escalated"] == 1
    assert tier_of(lamp) == T.COMMUNITY


def test_recompute_deadlines_once_the_year_is_entered(world: World) -> None:
    case = case_submit(
        category=world.cat_a, alley=world.alley_x, description="路灯", now=at("2030-05-06 10:00")
    )
    assert (case.deadline_provisional, case.accept_due) == (True, at("2030-05-06 14:00"))
    out = StringIO()
    call_command("recompute_deadlines", stdout=out)
    assert "recomputed=0 still_provisional=1" in out.getvalue()
    # The admin enters 2030, where May 6th turns out to be a holiday.
    CalendarYear.objects.create(year=2030, note="国务院办公厅通知")
    CalendarDay.objects.create(
        date=at("2030-05-06 00:00").date(), kind=CalendarDayKind.HOLIDAY, name="劳动节"
    )
    out = StringIO()
    call_command("recompute_deadlines", stdout=out)
    assert "recomputed=1 still_provisional=0" in out.getvalue()
    case.refresh_from_db()
    assert (case.deadline_provisional, case.accept_due) == (False, at("2030-05-07 13:00"))
    assert case.escalation_due == case.accept_due


def test_recompute_keeps_an_accepted_case_on_its_resolve_deadline(world: World) -> None:
    case = case_submit(
        category=world.cat_a, alley=world.alley_x, description="路灯", now=at("2030-05-06 10:00")
    )
    case_accept(case=case, actor=world.chief_x, now=at("2030-05-06 10:30"))
    CalendarYear.objects.create(year=2030, note="国务院办公厅通知")
    call_command("recompute_deadlines", stdout=StringIO())
    case.refresh_from_db()
    assert case.deadline_provisional is False
    assert case.escalation_due == case.resolve_due == at("2030-05-09 17:00")


def test_recompute_deadlines_fixes_a_dispatched_cases_orders(world: World) -> None:
    from issues.workflow import case_dispatch
    from issues.workflow.orders import order_receive

    case = make_case(world, state="accepted", tier=T.DISTRICT, now=at("2030-05-06 10:00"))
    assert case.deadline_provisional
    case_dispatch(case=case, actor=world.district_officer, lead=world.dept_lead, now=at("2030-05-07 10:00"))
    order = case.orders.get()
    order_receive(order=order, actor=world.lead_contact, now=at("2030-05-07 11:00"))
    assert order.report_due == at("2030-05-14 17:00")  # predicted from the statutory holidays
    CalendarYear.objects.create(year=2030, note="国务院办公厅通知")
    CalendarDay.objects.create(date=at("2030-05-08 00:00").date(), kind=CalendarDayKind.HOLIDAY, name="停工")
    call_command("recompute_deadlines", stdout=StringIO())
    order.refresh_from_db()
    case.refresh_from_db()
    assert order.report_due == at("2030-05-15 17:00")  # one working day later
    assert case.resolve_due == order.complete_due
