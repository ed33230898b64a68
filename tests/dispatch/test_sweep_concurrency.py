"""Exactly once per case and tier, whatever runs twice: concurrent sweeps, a killed worker, a repeated task.

These tests commit for real (``transaction=True``). The concurrent ones need PostgreSQL
(row locks with SKIP LOCKED); the others run on any database. Each thread uses its own
connection and closes it when done.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db import connection
from django.db.models import Count
from freezegun import freeze_time

from alleys.choices import AreaLevel
from issues import sweep as sweep_module
from issues.choices import EventKind
from issues.models import Case, CaseEvent, Notification, Whistle
from issues.sweep import SweepResult, run_sweep
from issues.tasks import sweep_task
from issues.workflow.bulk import ClaimedCase
from tests.factories import MONDAY, World, at, build_world, make_case

T = AreaLevel
# MONDAY's cases must be accepted by 14:00: by TUESDAY 12:30 they are overdue (escalated, not warned).
# Cases submitted TUESDAY 09:00 are due at 13:00 and warned from 12:12: at 12:30 they are warned.
TUESDAY = at("2026-03-03 12:30")
TUESDAY_MORNING = at("2026-03-03 09:00")


@pytest.fixture
def live_world(transactional_db: None) -> World:
    return build_world()


def overdue(world: World, n: int) -> list[int]:
    return [make_case(world, now=MONDAY).pk for _ in range(n)]


def near_deadline(world: World, n: int) -> list[int]:
    return [make_case(world, now=TUESDAY_MORNING).pk for _ in range(n)]


def assert_warned_exactly_once(ids: list[int]) -> None:
    warnings = CaseEvent.objects.filter(kind=EventKind.DEADLINE_WARNING)
    assert sorted(warnings.values_list("case_id", flat=True)) == sorted(ids)
    assert not Case.objects.filter(pk__in=ids, warn_at__isnull=False).exists()


def assert_escalated_exactly_once(ids: list[int]) -> None:
    assert Whistle.objects.filter(case_id__in=ids).count() == len(ids)
    assert not Whistle.objects.values("case_id", "to_tier").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert CaseEvent.objects.filter(case_id__in=ids, kind=EventKind.ESCALATED).count() == len(ids)
    assert set(Case.objects.filter(pk__in=ids).values_list("tier", flat=True)) == {T.COMMUNITY}


def in_threads(*targets: Callable[[], Any]) -> tuple[list[Any], list[BaseException]]:
    """Run the callables at once, each in a thread with its own database connection."""
    results: list[Any] = []
    errors: list[BaseException] = []
    start = threading.Barrier(len(targets))

    def run(target: Callable[[], Any]) -> None:
        try:
            start.wait(timeout=30)
            results.append(target())
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a sweep hung"
    return results, errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_escalate_each_case_exactly_once(live_world: World) -> None:
    ids = overdue(live_world, 200)
    near = near_deadline(live_world, 60)
    results, errors = in_threads(
        lambda: run_sweep(now=TUESDAY, batch=20), lambda: run_sweep(now=TUESDAY, batch=20)
    )
    assert errors == []
    assert sum(r.escalated for r in results) == 200
    assert sum(r.warned for r in results) == 60
    assert_escalated_exactly_once(ids)
    assert_warned_exactly_once(near)
    # Told once each, after each batch committed.
    escalated_messages = Notification.objects.filter(kind=EventKind.ESCALATED)
    assert escalated_messages.count() == 200
    assert set(escalated_messages.values_list("recipient__username", flat=True)) == {"community_worker_x"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_second_sweep_skips_rows_the_first_holds(
    live_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sweep A claims a batch and stalls; sweep B neither waits for A's rows nor takes them."""
    ids = overdue(live_world, 30)
    real = sweep_module.cases_escalate_claimed
    a_holds_rows = threading.Event()
    b_finished = threading.Event()
    seen: dict[str, bool] = {}

    def stalling(*, cases: list[ClaimedCase], now: dt.datetime, **kw: Any) -> tuple[int, int]:
        if threading.current_thread().name == "sweep-a" and not a_holds_rows.is_set():
            a_holds_rows.set()
            # B must finish while A still holds its rows; if B waited on them, this times out.
            seen["b_finished_while_a_held_rows"] = b_finished.wait(timeout=30)
        return real(cases=cases, now=now, **kw)

    monkeypatch.setattr(sweep_module, "cases_escalate_claimed", stalling)
    results: dict[str, SweepResult] = {}
    errors: list[BaseException] = []

    def sweep(name: str) -> None:
        try:
            if name == "sweep-b":
                assert a_holds_rows.wait(timeout=30)
            results[name] = run_sweep(now=TUESDAY, batch=10)
        except BaseException as exc:
            errors.append(exc)
        finally:
            if name == "sweep-b":
                b_finished.set()
            connection.close()

    threads = [threading.Thread(target=sweep, args=(n,), name=n) for n in ("sweep-a", "sweep-b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert seen == {"b_finished_while_a_held_rows": True}
    assert results["sweep-a"].escalated == 10  # only the batch it held when B ran past it
    assert results["sweep-b"].escalated == 20
    assert_escalated_exactly_once(ids)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_sweep_neither_waits_for_nor_overrides_a_chief_signing_for_the_case(live_world: World) -> None:
    from django.db import transaction

    from issues.workflow import case_accept

    [pk] = overdue(live_world, 1)
    chief_holds_row = threading.Event()
    sweep_done = threading.Event()
    outcome: dict[str, Any] = {}
    errors: list[BaseException] = []

    def chief() -> None:
        try:
            with transaction.atomic():
                # The chief's click has locked the row (case_accept's own lock) and is still working.
                Case.objects.select_for_update().get(pk=pk)
                chief_holds_row.set()
                outcome["sweep_did_not_wait"] = sweep_done.wait(timeout=30)
                case_accept(case=pk, actor=live_world.chief_x, now=TUESDAY)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def sweeper() -> None:
        try:
            assert chief_holds_row.wait(timeout=30)
            outcome["sweep"] = run_sweep(now=TUESDAY)
        except BaseException as exc:
            errors.append(exc)
        finally:
            sweep_done.set()
            connection.close()

    threads = [threading.Thread(target=chief), threading.Thread(target=sweeper)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert outcome["sweep_did_not_wait"] is True
    assert outcome["sweep"].escalated == 0
    case = Case.objects.get(pk=pk)
    assert (case.state, case.tier) == ("accepted", T.ALLEY)
    # Signed for: the resolve deadline (Thursday 17:00) governs now, so the next sweep leaves it be.
    assert run_sweep(now=TUESDAY).escalated == 0
    assert not Whistle.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_loses_its_batch_and_the_next_run_does_it_once(
    live_world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = overdue(live_world, 50)
    Case.objects.update(warn_at=None)
    real = sweep_module.cases_escalate_claimed
    calls: list[int] = []

    def killed_on_second_batch(*, cases: list[ClaimedCase], now: dt.datetime, **kw: Any) -> tuple[int, int]:
        calls.append(len(cases))
        outcome = real(cases=cases, now=now, **kw)
        if len(calls) == 2:
            raise SystemExit("worker killed after writing its batch, before the commit")
        return outcome

    monkeypatch.setattr(sweep_module, "cases_escalate_claimed", killed_on_second_batch)
    with pytest.raises(SystemExit):
        run_sweep(now=TUESDAY, batch=20)
    # The first batch committed; the second was written and then rolled back whole.
    assert calls == [20, 20]
    assert Whistle.objects.count() == 20
    assert Case.objects.filter(tier=T.COMMUNITY).count() == 20
    assert CaseEvent.objects.filter(kind=EventKind.ESCALATED).count() == 20
    assert (
        Notification.objects.filter(kind=EventKind.ESCALATED).count() == 20
    )  # nothing told for the lost batch
    monkeypatch.setattr(sweep_module, "cases_escalate_claimed", real)
    # The message is redelivered (acks_late): the next run finds the rest and does each once.
    assert run_sweep(now=TUESDAY, batch=20).escalated == 30
    assert run_sweep(now=TUESDAY, batch=20).escalated == 0
    assert_escalated_exactly_once(ids)
    assert Notification.objects.filter(kind=EventKind.ESCALATED).count() == 50


@pytest.mark.django_db(transaction=True)
def test_the_same_task_run_twice_escalates_once(live_world: World) -> None:
    ids = overdue(live_world, 25)
    near = near_deadline(live_world, 5)
    with freeze_time(TUESDAY):
        first = sweep_task.delay().result
        second = sweep_task.delay().result
    assert (first["escalated"], second["escalated"]) == (25, 0)
    assert (first["warned"], second["warned"]) == (5, 0)
    assert_escalated_exactly_once(ids)
    assert_warned_exactly_once(near)


@pytest.mark.django_db(transaction=True)
def test_lost_tasks_lose_no_work_the_database_is_the_truth(live_world: World) -> None:
    """A flushed broker drops the queued sweeps; nothing about the work lived there."""
    ids = overdue(live_world, 15)
    near = near_deadline(live_world, 4)
    # Ticks at 12:00 and 12:15 were enqueued and lost with the broker: nothing ran, nothing was marked.
    would = run_sweep(now=TUESDAY, dry_run=True)
    assert (would.escalated, would.warned) == (15, 4)
    # The next tick that does run finds all of it.
    done = run_sweep(now=TUESDAY + dt.timedelta(minutes=1))
    assert (done.escalated, done.warned) == (15, 4)
    assert_escalated_exactly_once(ids)
    assert_warned_exactly_once(near)


@pytest.fixture
def lost_queue() -> Iterator[tuple[Any, str]]:
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    # Unique per process: two test runs sharing a Redis must not delete each other's message.
    queue = f"jxt-test-lost-sweeps-{os.getpid()}"
    client.delete(queue)
    yield client, queue
    client.delete(queue)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_sweep_lost_in_a_flushed_broker_is_done_by_the_next_one(
    live_world: World, lost_queue: tuple[Any, str]
) -> None:
    client, queue = lost_queue
    ids = overdue(live_world, 5)
    sweep_task.apply_async(queue=queue)
    assert client.llen(queue) == 1
    client.delete(queue)  # what FLUSHDB does to our message, without touching anyone else's keys
    assert Whistle.objects.count() == 0
    with freeze_time(TUESDAY):
        assert sweep_task.apply().result["escalated"] == 5
    assert_escalated_exactly_once(ids)
