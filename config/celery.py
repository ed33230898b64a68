"""The Celery application: Redis broker in production, SQLite-backed kombu transport by default."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")


app = Celery("jiexiangtong")
app.config_from_object("django.conf:settings", namespace="CELERY")
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
