"""The demo split for a fast first run (issue 16): the city with a dozen current cases first, the
year of history after; each part idempotent, an interrupted history completed by the next run."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.http import HttpRequest
from django.test import Client
from django.test.utils import CaptureQueriesContext

from demo import city as demo
from demo.common_proposals import CASES as PROPOSAL_CASES
from demo.common_proposals import proposal_codes
from demo.current import CASES, current_codes, seed_current
from demo.history import COMPLETE_MARKER, DEMO_PREFIX, history_complete, seed_history
from demo.mine import DEMO_RESIDENT_PHONE
from demo.mine import REPORTS as MINE_REPORTS
from issues.choices import CaseState, OrderState
from issues.models import Case, DispatchOrder, JointMeeting
from tests.factories import at

pytestmark = pytest.mark.django_db

NOW = at("2026-06-15 10:00")  # a Monday morning


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def writes_during(action: object) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        action()  # type: ignore[operator]
    return [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


def test_the_fast_part_gives_working_logins_and_work_for_each_of_them(client: Client) -> None:
    output = seed("--part", "now")
    assert "current cases: 12 written" in output
    assert not Case.objects.filter(tracking_code__startswith=DEMO_PREFIX).exists()  # no history yet
    # The demo resident's own reports (我的反映, demo/mine.py) are written with the fast part too.
    assert Case.objects.filter(reporter_phone=DEMO_RESIDENT_PHONE).count() == len(MINE_REPORTS)
    others = Case.objects.exclude(reporter_phone=DEMO_RESIDENT_PHONE).exclude(
        tracking_code__in=proposal_codes()
    )
    cases = {c.tracking_code: c for c in others}
    assert sorted(cases) == current_codes() and len(cases) == len(CASES)
    # And the street's common-issue proposal (demo/common_proposals.py).
    assert Case.objects.filter(tracking_code__in=proposal_codes()).count() == len(PROPOSAL_CASES)
    states = {c.state for c in cases.values()}
    assert {CaseState.SUBMITTED, CaseState.ACCEPTED, CaseState.IN_PROGRESS} <= states
    assert CaseState.AWAITING_VERIFICATION in states
    assert {c.tier for c in cases.values()} >= {"alley", "community", "street", "district"}
    order = DispatchOrder.objects.get(department__code=demo.demo_anchors().department.code)
    assert order.state == OrderState.DISPATCHED  # the dept login's order to receive
    for username in ("chief", "community", "orgdept"):
        assert client.login(request=HttpRequest(), username=username, password=demo.DEFAULT_PASSWORD)
        page = client.get("/staff/cases/")
        assert page.status_code == 200, username
        assert any(code in page.content.decode() for code in current_codes()), username
        client.logout()


def test_the_current_cases_are_written_once_and_missing_ones_again(client: Client) -> None:
    demo.seed_city(password="demo-pass-12345", reset_passwords=False)
    assert seed_current(stdout=StringIO(), now=NOW) == len(CASES)
    assert writes_during(lambda: seed_current(stdout=StringIO(), now=NOW)) == []
    Case.objects.filter(tracking_code=current_codes()[0]).delete()
    assert seed_current(stdout=StringIO(), now=NOW) == 1
    assert Case.objects.filter(tracking_code__in=current_codes()).count() == len(CASES)


def test_the_history_afterwards_gives_the_full_city_and_a_second_run_changes_nothing() -> None:
    demo.seed_city(password="demo-pass-12345", reset_passwords=False)
    seed_current(stdout=StringIO(), now=NOW)
    assert not history_complete()
    assert seed_history(stdout=StringIO(), cases=60, now=NOW) > 0
    assert history_complete()
    assert Case.objects.filter(tracking_code__startswith=f"{DEMO_PREFIX}0").count() >= 55
    assert JointMeeting.objects.exists()
    total = Case.objects.count()
    out = StringIO()
    assert writes_during(lambda: seed_history(stdout=out, cases=60, now=NOW)) == []
    assert "nothing to do" in out.getvalue() and Case.objects.count() == total


def test_an_interrupted_history_is_completed_by_the_next_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C during the background history: the batches written stay, the next run writes the
    rest and the closing steps, and nothing twice."""
    from demo import history

    demo.seed_city(password="demo-pass-12345", reset_passwords=False)
    one_case = history._one_case

    def interrupted(h: object, index: int, *args: object) -> int:
        if index == 250:  # in the second batch: its transaction rolls back
            raise KeyboardInterrupt
        return one_case(h, index, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(history, "_one_case", interrupted)
    with pytest.raises(KeyboardInterrupt):
        seed_history(stdout=StringIO(), cases=450, now=NOW)
    written = set(
        Case.objects.filter(tracking_code__startswith=DEMO_PREFIX).values_list("tracking_code", flat=True)
    )
    assert written and max(written) <= f"{DEMO_PREFIX}000200" and not history_complete()
    first_batch = {c.pk: (c.tracking_code, c.state) for c in Case.objects.filter(tracking_code__in=written)}

    monkeypatch.setattr(history, "_one_case", one_case)
    out = StringIO()
    seed_history(stdout=out, cases=450, now=NOW)
    assert "case history: 200/450" not in out.getvalue()  # the first batch was not written again
    assert history_complete() and Case.objects.filter(tracking_code=COMPLETE_MARKER).count() == 1
    codes = set(
        Case.objects.filter(tracking_code__startswith=f"{DEMO_PREFIX}0").values_list(
            "tracking_code", flat=True
        )
    )
    assert len(codes) >= 440 and max(codes) > f"{DEMO_PREFIX}000400"  # the later batches too
    assert all(
        Case.objects.filter(pk=pk, tracking_code=code).exists() for pk, (code, _s) in first_batch.items()
    )


def test_seed_demo_as_a_whole_writes_the_city_the_current_cases_and_the_history(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DEMO_CASES", "40")
    seed()
    assert history_complete()
    assert Case.objects.filter(tracking_code__in=current_codes()).count() == len(CASES)
    total = Case.objects.count()
    assert "没有改动" in seed() and Case.objects.count() == total  # the second run changes nothing


def test_a_fresh_seed_logs_each_predicted_year_once_and_no_error(caplog: pytest.LogCaptureFixture) -> None:
    """Issue 16: a fresh start's log had a calendar ERROR per call; a year the calendar package does
    not know is expected (it is predicted) and is one WARNING per process and year."""
    import logging

    from dispatch.calendar import predicted_holidays

    predicted_holidays.cache_clear()  # as in a fresh process
    demo.seed_city(password="demo-pass-12345", reset_passwords=False)
    with caplog.at_level(logging.INFO):
        seed_current(stdout=StringIO(), now=at("2026-12-30 10:00"))  # deadlines run into 2027
        seed_history(stdout=StringIO(), cases=40, now=at("2026-12-30 10:00"))
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    calendar = [r for r in caplog.records if r.name.startswith(("dispatch.calendar", "issues.calendar"))]
    predicted = [(r.levelname, r.getMessage()) for r in calendar if "predicted from" in r.getMessage()]
    assert len(predicted) == len(set(predicted)) >= 1
    assert {level for level, _m in predicted} == {"WARNING"}
