"""Separate Celery queues: a flood of notifications waits in its own queue while the sweep runs.

A private redis-server and real worker processes: the worker of the sweep's queue drains it with a
backlog of notification messages untouched beside it; a worker started without -Q consumes every queue.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection
from kombu import Connection

from config.celery import app
from tests.faults import RedisServer, Service, celery_worker, database_url, project_env, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

FLOOD = 200
STARTUP = 60


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def publish(broker: RedisServer, name: str, args: list[object], times: int = 1) -> None:
    with Connection(broker.url) as conn:
        for _ in range(times):
            app.send_task(name, args=args, connection=conn)


def test_the_sweep_is_not_held_up_by_a_flood_of_notifications(broker: RedisServer, tmp_path: Path) -> None:
    publish(broker, "dispatch.deliver", [0], times=FLOOD)  # no such delivery: each would be a no-op
    publish(broker, "dispatch.sweep", [])
    redis = broker.client()
    assert redis.llen("notify") == FLOOD and redis.llen("sweep") == 1 and redis.llen("celery") == 0

    (tmp_path / "var").mkdir()
    env = project_env(
        DATABASE_URL=database_url(connection.settings_dict),
        REDIS_URL=broker.url,
        CELERY_BROKER_URL=broker.url,
        JXT_VAR_DIR=str(tmp_path / "var"),
    )
    workers: list[Service] = []
    try:
        sweeper = celery_worker("sweeper", env, tmp_path, queues="sweep").start()
        workers.append(sweeper)
        sweeper.wait_for_log("ready.", timeout=STARTUP)
        wait_until(
            lambda: sweeper.log_has("dispatch.sweep") and redis.llen("sweep") == 0,
            timeout=STARTUP,
            what="the sweep ran",
        )
        assert redis.llen("notify") == FLOOD  # the flood waits for its own workers

        everything = celery_worker("everything", env, tmp_path).start()  # no -Q: every queue
        workers.append(everything)
        wait_until(lambda: redis.llen("notify") == 0, timeout=STARTUP, what="the notifications drained")
    finally:
        for worker in workers:
            worker.kill()
        connection.close()
