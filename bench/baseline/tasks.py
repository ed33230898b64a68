"""The bare Celery task: one ORM update, nothing else."""

from __future__ import annotations

from celery import shared_task
from django.db.models import F
from django.utils import timezone

from .models import BareTick


@shared_task(name="bench.bare_update")
def bare_update(pk: int) -> None:
    """Mark one row done (the smallest useful database task)."""
    BareTick.objects.filter(pk=pk).update(done_at=timezone.now(), hits=F("hits") + 1)


@shared_task(name="bench.gate")
def gate(key: str, timeout: float = 120.0) -> None:
    """Hold one worker process until ``key`` is set in Redis (queue a batch behind it, then release)."""
    import time

    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.incr(f"{key}:started")
    deadline = time.monotonic() + timeout
    while not client.exists(key) and time.monotonic() < deadline:
        time.sleep(0.0005)
