"""Celery tasks of residents' participation: thin, idempotent, taking ids."""

from __future__ import annotations

from celery import shared_task

from .deliberation import topics_close_due
from .notices import notice_sms_deliver


@shared_task(name="participation.send_notice_sms")
def send_notice_sms(notice_id: int) -> int:
    """After a notice is published: send its outbox rows (a second run finds nothing due)."""
    return notice_sms_deliver(notice_id=notice_id)


@shared_task(name="participation.relay")
def relay() -> dict[str, int]:
    """Every five minutes (beat, installed by migration participation/0003): notice SMS left or
    failed are sent again, topics past their deadline are closed."""
    return {"sms_sent": notice_sms_deliver(), "topics_closed": topics_close_due()}
