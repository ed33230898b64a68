"""The Celery application: Redis broker in production, SQLite-backed kombu transport by default."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Celery
from kombu.transport import redis as kombu_redis

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("jiexiangtong")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


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
