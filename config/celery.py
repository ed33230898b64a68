"""The Celery application: Redis broker in production, SQLite-backed kombu transport by default."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from celery import Celery
from celery.signals import task_prerun
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


class DjangoCeleryConf(Mapping[str, Any]):
    """The ``CELERY_*`` Django settings, read once, on Celery's first look.

    Celery looks its configuration up on every publish (the after-commit notification of
    every form, Open311 submission and transition) and in the worker, trying several
    spellings of each name in each source; against Django's ``LazySettings`` every miss was
    a Python exception, a fifth of a publish's CPU. Settings do not change in a running
    process; tests that need another value set it on ``app.conf``, which Celery asks first.
    """

    def __init__(self) -> None:
        self._data: dict[str, Any] | None = None

    @property
    def data(self) -> dict[str, Any]:
        if self._data is None:
            from django.conf import settings

            self._data = {
                name: getattr(settings, name) for name in dir(settings) if name.startswith("CELERY_")
            }
        return self._data

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


app = Celery("jiexiangtong")
app.config_from_object(DjangoCeleryConf(), namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def check_database_connections(sender: Any = None, **_kwargs: Any) -> None:
    """Before each task, drop database connections that broke or aged, as Django does per request.

    Celery's Django fixup reuses connections for CELERY_DB_REUSE_MAX tasks without looking at
    them, so after a PostgreSQL restart every task failed on a dead connection. With
    CONN_HEALTH_CHECKS the next query also checks a reused connection first. Eager tasks run
    inside the caller's transaction and are left alone.
    """
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


# --- the Redis transport, one client object per channel ---------------------------------------------
# kombu's Redis channel builds a new ``redis.Redis`` for every command it sends outside the
# worker's event loop: every publish (the after-commit ``notify_events.delay`` of each
# transition, form and Open311 submission) and every ack. redis-py fills a table of ~170
# response callbacks per client, a third of a publish's CPU. The client object holds no
# connection of its own (each command takes one from the channel's pool and returns it), so
# one per channel serves, as long as it uses the channel's current pool.


class RedisChannel(kombu_redis.Channel):
    """kombu's Redis channel, reusing one client object while its connection pool lasts."""

    _sync_client: Any = None

    @contextmanager
    def conn_or_acquire(self, client: Any = None) -> Iterator[Any]:
        if client:
            yield client
            return
        pool = self.pool
        cached = self._sync_client
        if cached is None or cached.connection_pool is not pool:
            cached = self._sync_client = self._create_client()
        yield cached


class RedisTransport(kombu_redis.Transport):
    """The Redis transport with ``RedisChannel`` (CELERY_BROKER_TRANSPORT names it for redis:// brokers)."""

    Channel = RedisChannel
