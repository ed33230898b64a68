"""Celery tasks: thin, idempotent, taking ids."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.db import DatabaseError

from . import notify


@shared_task(name="dispatch.sweep")
def sweep_task() -> dict[str, int]:
    """The periodic sweep: warn, escalate, flag overdue orders (see dispatch.sweep)."""
    from .sweep import run_sweep

    return run_sweep().as_dict()


@shared_task(name="dispatch.notify_events")
def notify_events(
    event_ids: list[int], facts: list[list[Any]] | None = None, outbox: int | None = None
) -> int:
    """Fan timeline events out to inboxes and channels.

    ``facts``: the events' and cases' columns, when the process that wrote the events sent
    them along (``notify.schedule_event_notifications``); without them they are read.
    ``outbox``: the events' outbox row, deleted with the messages' writing.
    """
    return notify.fan_out(event_ids, facts=facts, outbox=outbox)


@shared_task(name="dispatch.deliver")
def deliver(delivery_id: int) -> str:
    """Send one e-mail or webhook delivery; a failure waits for the sweep (notify.deliver_one)."""
    return notify.deliver_one(delivery_id)


@shared_task(name="issues.deliver_resident_sms")
def deliver_resident_sms(sms_id: int) -> str:
    """Send one SMS to a resident who asked for them; a failure waits for the sweep (resident_sms.deliver)."""
    from .resident_sms import deliver

    return deliver(sms_id)


@shared_task(name="issues.prune_submissions")
def prune_submissions() -> int:
    """Nightly: forget submissions' idempotency keys past their keeping time."""
    from .workflow import submissions_prune

    return submissions_prune()


@shared_task(name="issues.remind_mechanism_reviews")
def remind_mechanism_reviews() -> int:
    """Daily: tell owner departments of standing mechanisms whose review date has come."""
    from .workflow.mechanisms import mechanism_reviews_remind

    return mechanism_reviews_remind()


@shared_task(
    name="issues.process_photo",
    autoretry_for=(OSError, DatabaseError),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=8,
)
def process_photo(photo_id: int) -> str:
    """Re-encode one case photo (EXIF and GPS gone), write its thumbnail; quarantine it if it cannot be decoded.

    Idempotent (issues.photos.process): a second delivery finds it processed and does nothing.
    Storage and database errors retry; a photo left pending past the retries is published again by the sweep.
    """
    from .photos import process

    return process(photo_id)
