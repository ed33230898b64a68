"""Fault drills: real Celery workers and beats, a private Redis, the test PostgreSQL database.

Each drill breaks something the way production breaks (connections killed as a PostgreSQL
restart kills them, a worker SIGKILLed mid-batch, two schedulers at once, the broker
stopped or flushed) and then checks, from the database, that no human action is needed:
every overdue case escalated exactly once, nothing half-written, every notification
written. Each prints its recovery time as ``DRILL <name> recovery_s=<seconds>`` (the
figures docs/operations.md quotes).

Bounded: every wait has a deadline; every process started is stopped in a finalizer; a
failing drill prints the processes' logs. The worker and beat see committed data only,
hence ``transaction=True``; the sweep runs every ``SWEEP_EVERY`` seconds from the
database schedule, as in production (where it is a minute).
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Count
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from PIL import Image
from pytest_django import Settings

from alleys.choices import AreaLevel
from issues.choices import CaseSource, EventKind, PhotoState
from issues.models import Case, CaseEvent, CasePhoto, Notification, NotificationOutbox, Whistle
from issues.workflow import case_accept, case_submit
from tests.factories import MONDAY, World, build_world, make_case
from tests.faults import (
    RedisServer,
    Service,
    backends_waiting_on_locks,
    celery_beat,
    celery_worker,
    database_url,
    project_env,
    side_connection,
    terminate_backends,
    wait_until,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

SWEEP_EVERY = 2  # seconds between sweeps (production: 60)
BATCH = 20  # small batches, so a sweep of a few hundred cases is long enough to be hit mid-way
OVERDUE = 400
STARTUP = 60  # seconds a worker or beat may take to come up on a busy machine
RECOVERY = 60  # seconds the system may take to heal by itself
SWEEP_TASK_NAME = (
    "超时扫描（预警、自动上报、派单超时）"  # as dispatch/migrations/0002_sweep_schedule.py names it
)


@dataclass
class Drill:
    """The drill's processes and helpers; ``close`` stops everything it started."""

    tmp: Path
    capsys: pytest.CaptureFixture[str]
    redis: RedisServer
    record: Callable[[str, object], None]  # record_property: the figures reach the summary under xdist too
    services: list[Service] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        (self.tmp / "var").mkdir(exist_ok=True)
        return project_env(
            DATABASE_URL=database_url(connection.settings_dict),
            REDIS_URL=self.redis.url,
            CELERY_BROKER_URL=self.redis.url,
            JXT_VAR_DIR=str(self.tmp / "var"),
            JXT_SWEEP_BATCH=str(BATCH),
            JXT_OUTBOX_RETRY_SECONDS="2",
            **extra,
        )

    def worker(self, name: str = "drill") -> Service:
        service = celery_worker(name, self.env(), self.tmp).start()
        self.services.append(service)
        service.wait_for_log("ready.", timeout=STARTUP)
        return service

    def beat(self, name: str = "beat") -> Service:
        service = celery_beat(name, self.env(), self.tmp).start()
        self.services.append(service)
        service.wait_for_log("beat: Starting", timeout=STARTUP)
        return service

    def report(self, name: str, seconds: float, **figures: Any) -> None:
        extra = "".join(f" {k}={v}" for k, v in figures.items())
        line = f"DRILL {name} recovery_s={seconds:.1f}{extra}"
        self.record(
            "drill", line
        )  # tests/conftest.py prints it in the summary (workers' output is not shown)
        with self.capsys.disabled():
            print(f"\n{line}")

    def logs(self) -> str:
        parts = [f"===== {s.name} ({s.log_path}) =====\n{s.log()[-6000:]}" for s in self.services]
        parts.append(f"===== redis =====\n{self.redis.log()[-2000:]}")
        return "\n".join(parts)

    def close(self) -> None:
        for service in reversed(self.services):
            service.kill()
        self.redis.stop()


@pytest.fixture
def drill(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    record_property: Callable[[str, object], None],
    transactional_db: None,
) -> Iterator[Drill]:
    redis = RedisServer(tmp_path)
    redis.start()
    the_drill = Drill(tmp=tmp_path, capsys=capsys, redis=redis, record=record_property)
    try:
        yield the_drill
    finally:
        print(the_drill.logs())  # pytest shows it when the drill failed
        the_drill.close()
        connection.close()  # it may have been killed with the others


@pytest.fixture
def world(transactional_db: None) -> World:
    return build_world()


def sweep_every(seconds: int) -> None:
    """The sweep's beat schedule (the migration's row; a flushed test database has lost it)."""
    interval, _created = IntervalSchedule.objects.get_or_create(
        every=seconds, period=IntervalSchedule.SECONDS
    )
    PeriodicTask.objects.update_or_create(
        name=SWEEP_TASK_NAME, defaults={"task": "dispatch.sweep", "interval": interval, "enabled": True}
    )


def overdue_cases(world: World, n: int = OVERDUE) -> list[int]:
    # Due for acceptance on MONDAY (2026-03-02): long past by the real clock the workers use.
    return [make_case(world, now=MONDAY).pk for _ in range(n)]


def whistles(ids: list[int]) -> int:
    return Whistle.objects.filter(case_id__in=ids).count()


def assert_each_escalated_exactly_once(ids: list[int]) -> None:
    """Once per case and tier, and no case half-written (a tier without its whistle and event, or the reverse)."""
    assert whistles(ids) == len(ids)
    assert not Whistle.objects.values("case_id", "to_tier").annotate(n=Count("id")).filter(n__gt=1).exists()
    assert CaseEvent.objects.filter(case_id__in=ids, kind=EventKind.ESCALATED).count() == len(ids)
    tiers = Case.objects.filter(pk__in=ids).values("tier").annotate(n=Count("id"))
    assert {row["tier"]: row["n"] for row in tiers} == {AreaLevel.COMMUNITY: len(ids)}
    assert set(Whistle.objects.filter(case_id__in=ids).values_list("to_tier", flat=True)) == {
        AreaLevel.COMMUNITY
    }


def wait_all_escalated(ids: list[int], *, timeout: float = RECOVERY) -> float:
    """Seconds until every case has its whistle (polling the database)."""
    started = time.monotonic()
    wait_until(lambda: whistles(ids) >= len(ids), timeout=timeout, interval=0.1, what="every case escalated")
    return time.monotonic() - started


@contextmanager
def sweep_held_mid_batch(ids: list[int]) -> Iterator[None]:
    """Hold the sweep inside a batch, half-way through ``ids``, until the block ends.

    A side transaction inserts, without committing, the whistle the sweep will try to write
    for the middle case: the sweep's batch INSERT waits on it with its rows claimed and half
    the cases already committed by earlier batches. The kill then always lands mid-batch,
    however loaded the machine (polling for "some but not all" lost that race under load).
    Leaving the block rolls the side transaction back: nothing of it remains.
    """
    middle = sorted(ids)[len(ids) // 2]
    with side_connection(connection.settings_dict) as conn:
        conn.autocommit = False
        conn.execute(
            f"INSERT INTO {Whistle._meta.db_table} (case_id, from_tier, to_tier, reason, automatic, at)"  # noqa: S608
            " VALUES (%s, %s, %s, 'drill', true, now())",
            [middle, AreaLevel.ALLEY, AreaLevel.COMMUNITY],
        )
        try:
            yield
        finally:
            conn.rollback()


def wait_mid_sweep(ids: list[int]) -> int:
    """Block until the held sweep has committed its first batches and waits inside the next; whistles so far."""

    def held() -> int:
        with side_connection(connection.settings_dict) as conn:
            waiting = backends_waiting_on_locks(conn)
        return whistles(ids) if waiting else 0

    return wait_until(held, timeout=STARTUP, interval=0.05, what="the sweep held inside a batch")


# --- 1. PostgreSQL connections killed mid-sweep ----------------------------------------------------


def test_drill_database_connections_killed_mid_sweep(drill: Drill, world: World) -> None:
    ids = overdue_cases(world)
    sweep_every(SWEEP_EVERY)
    worker = drill.worker()
    beat = drill.beat()
    with sweep_held_mid_batch(ids):
        so_far = wait_mid_sweep(ids)
        killed_at = time.monotonic()
        killed = terminate_backends(connection.settings_dict)  # the worker's and the beat's
    assert 0 < so_far < len(ids)
    recovery = time.monotonic() - killed_at + wait_all_escalated(ids)
    assert_each_escalated_exactly_once(ids)
    assert worker.alive() and beat.alive()
    # Healed by themselves: beat sent more sweeps and the worker ran one to success after the kill.
    assert worker.log().count("dispatch.sweep") >= 2, drill.logs()
    drill.report("db-kill", recovery, killed_backends=killed, escalated_before_kill=so_far, cases=len(ids))


# --- 2. the worker SIGKILLed mid-batch, a new one started -------------------------------------------


def test_drill_worker_killed_mid_batch(drill: Drill, world: World) -> None:
    ids = overdue_cases(world)
    sweep_every(SWEEP_EVERY)
    first = drill.worker("drill-a")
    drill.beat()
    with sweep_held_mid_batch(ids):
        so_far = wait_mid_sweep(ids)
        killed_at = time.monotonic()
        first.kill()  # SIGKILL to the whole process group: main process and pool child
    assert 0 < so_far < len(ids)
    assert whistles(ids) < len(ids), "a batch of the killed worker was committed after all"
    drill.worker("drill-b")
    recovery = time.monotonic() - killed_at + wait_all_escalated(ids)
    assert_each_escalated_exactly_once(ids)
    drill.report("worker-sigkill", recovery, escalated_before_kill=so_far, cases=len(ids))


# --- 3. two sweeps at once: two workers, two beats ---------------------------------------------------


def test_drill_two_workers_and_two_beats(drill: Drill, world: World) -> None:
    from config.celery import app

    ids = overdue_cases(world)
    sweep_every(SWEEP_EVERY)
    drill.worker("drill-a")
    drill.worker("drill-b")
    started = time.monotonic()
    # Two sweeps at once, on top of what the two beats send every SWEEP_EVERY seconds.
    with app.connection_for_write(drill.redis.url) as conn:
        for _ in range(2):
            app.send_task("dispatch.sweep", connection=conn)
    drill.beat("beat-a")
    drill.beat("beat-b")
    recovery = time.monotonic() - started + wait_all_escalated(ids)
    # The later sweeps find nothing left; give them a few ticks to prove they double nothing.
    wait_until(
        lambda: all(
            s.log().count("dispatch.sweep") >= 3 for s in drill.services if s.name.startswith("drill")
        ),
        timeout=RECOVERY,
        interval=0.2,
        what="both workers running sweeps",
    )
    assert_each_escalated_exactly_once(ids)
    drill.report("two-sweeps", recovery, cases=len(ids))


# --- 4. the broker: Redis stopped then restarted; Redis flushed ---------------------------------------


def point_publishing_at(url: str) -> None:
    """Make this process publish to ``url`` from now on.

    ``app.close()`` drops the connection pool, but Celery's producer pool (kombu's, keyed by
    the first connection) lives on in ``app.amqp`` and would keep publishing to the old
    broker; a fresh ``amqp`` (the app's own class, public ``amqp_cls``) starts clean.
    """
    from kombu.utils.imports import symbol_by_name

    from config.celery import app

    app.conf.broker_url = url
    app.close()
    app.amqp = symbol_by_name(app.amqp_cls)(app=app)


@pytest.fixture
def private_broker(drill: Drill, settings: Settings) -> Iterator[None]:
    """This test process publishes to the drill's Redis too (eager mode is off in `redis` tests)."""
    from config.celery import app

    saved = app.conf.broker_url
    settings.CELERY_BROKER_URL = drill.redis.url
    settings.JXT_OUTBOX_RETRY_SECONDS = 2  # as the drill's worker and beat have it
    point_publishing_at(drill.redis.url)
    yield
    point_publishing_at(saved)


def outbox_rows() -> int:
    return NotificationOutbox.objects.count()


def messages_per_event(event_ids: list[int]) -> dict[int, int]:
    rows = Notification.objects.filter(event_id__in=event_ids).values("event_id").annotate(n=Count("id"))
    return {row["event_id"]: row["n"] for row in rows}


def fresh_case(world: World) -> int:
    """A case submitted now (its deadlines ahead: the sweep leaves it alone)."""
    return make_case(world, now=timezone.now()).pk


def some_changes(world: World, waiting: list[int]) -> list[int]:
    """Three residents' reports and an acceptance per waiting case, through the services; their events."""
    before = CaseEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    for n in range(3):
        case_submit(
            category=world.cat_a,
            alley=world.alley_x,
            description=f"巷口路灯不亮（第 {n + 1} 盏）",
            source=CaseSource.RESIDENT_FORM,
        )
    for pk in waiting:
        case_accept(case=pk, actor=world.chief_x)
    return list(CaseEvent.objects.filter(pk__gt=before).order_by("pk").values_list("pk", flat=True))


def expected_messages(world: World) -> dict[str, int]:
    """Messages per event kind, learnt from the same changes made while everything is up."""
    events = some_changes(world, [fresh_case(world)])
    wait_until(
        lambda: outbox_rows() == 0, timeout=RECOVERY, interval=0.1, what="the baseline's notifications"
    )
    kinds = dict(CaseEvent.objects.filter(pk__in=events).values_list("pk", "kind"))
    counts = messages_per_event(events)
    expected: dict[str, int] = {}
    for event_id, kind in kinds.items():  # an acceptance tells nobody: 0 is an expectation too
        assert expected.setdefault(kind, counts.get(event_id, 0)) == counts.get(event_id, 0)
    assert any(expected.values())
    return expected


def assert_every_message_written(events: list[int], expected: dict[str, int]) -> None:
    kinds = dict(CaseEvent.objects.filter(pk__in=events).values_list("pk", "kind"))
    wanted = {pk: expected[kinds[pk]] for pk in events if expected[kinds[pk]]}
    assert messages_per_event(events) == wanted
    assert outbox_rows() == 0


def test_drill_redis_stopped_then_restarted(drill: Drill, world: World, private_broker: None) -> None:
    sweep_every(SWEEP_EVERY)
    worker = drill.worker()
    beat = drill.beat()
    expected = expected_messages(world)
    waiting = [fresh_case(world) for _ in range(3)]
    drill.redis.stop()
    events = some_changes(world, waiting)  # saved although nothing can be published
    assert Case.objects.filter(pk__in=waiting, state="accepted").count() == 3
    assert outbox_rows() >= 1
    restarted_at = time.monotonic()
    drill.redis.start()
    wait_until(
        lambda: outbox_rows() == 0,
        timeout=RECOVERY,
        interval=0.1,
        what="the outbox drained after Redis came back",
    )
    recovery = time.monotonic() - restarted_at
    assert_every_message_written(events, expected)
    assert worker.alive() and beat.alive()
    drill.report("redis-restart", recovery, events=len(events))


def test_drill_redis_flushed_with_queued_messages(drill: Drill, world: World, private_broker: None) -> None:
    sweep_every(SWEEP_EVERY)
    worker = drill.worker("drill-a")
    drill.beat()
    expected = expected_messages(world)
    waiting = [fresh_case(world) for _ in range(3)]
    worker.stop()
    events = some_changes(world, waiting)
    assert drill.redis.client().llen("notify") >= 1  # the fan-outs wait in their queue…
    drill.redis.flushall()  # …and are gone
    flushed_at = time.monotonic()
    drill.worker("drill-b")
    wait_until(
        lambda: outbox_rows() == 0, timeout=RECOVERY, interval=0.1, what="the outbox drained after the flush"
    )
    recovery = time.monotonic() - flushed_at
    assert_every_message_written(events, expected)
    drill.report("redis-flush", recovery, events=len(events))


# --- 5. photos: their processing messages flushed from Redis -----------------------------------------


def phone_photo() -> SimpleUploadedFile:
    """A small JPEG carrying a GPS position, as a phone sends it."""
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: (24.0, 54.0, 30.0), 3: "E", 4: (118.0, 35.0, 10.0)}
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 120, 200)).save(out, format="JPEG", exif=exif.tobytes())
    return SimpleUploadedFile("IMG_0002.jpg", out.getvalue(), content_type="image/jpeg")


def test_drill_photo_messages_flushed_from_redis(
    drill: Drill, world: World, private_broker: None, settings: Settings
) -> None:
    """Reports with photos are filed while no worker runs; Redis is flushed; the sweep publishes them again."""
    settings.MEDIA_ROOT = drill.tmp / "media"  # the worker's too: web and workers share the media storage
    env = {"JXT_MEDIA_ROOT": str(drill.tmp / "media"), "JXT_PHOTO_RELAY_SECONDS": str(SWEEP_EVERY)}
    sweep_every(SWEEP_EVERY)
    cases = [
        case_submit(
            category=world.cat_a,
            alley=world.alley_x,
            description=f"井盖破损（第 {n + 1} 处）",
            source=CaseSource.RESIDENT_FORM,
            photos=[phone_photo()],
        ).pk
        for n in range(3)
    ]
    photos = list(CasePhoto.objects.filter(case_id__in=cases).values_list("pk", flat=True))
    assert len(photos) == 3
    assert drill.redis.client().llen("photos") == 3  # the processing messages wait in their queue…
    drill.redis.flushall()  # …and are gone
    flushed_at = time.monotonic()
    service = celery_worker("drill-photos", drill.env(**env), drill.tmp).start()
    drill.services.append(service)
    service.wait_for_log("ready.", timeout=STARTUP)
    beat = celery_beat("beat-photos", drill.env(**env), drill.tmp).start()
    drill.services.append(beat)
    wait_until(
        lambda: CasePhoto.objects.filter(pk__in=photos, state=PhotoState.READY).count() == 3,
        timeout=RECOVERY,
        interval=0.1,
        what="the photos processed after the flush",
    )
    recovery = time.monotonic() - flushed_at
    for photo in CasePhoto.objects.filter(pk__in=photos):
        assert not photo.upload, "the raw upload is deleted once processed"
        with photo.image.open("rb") as stored:
            assert dict(Image.open(stored).getexif()) == {}, "no EXIF, no GPS position"
    assert Case.objects.filter(pk__in=cases).count() == 3
    drill.report("photos-flushed", recovery, photos=len(photos))
