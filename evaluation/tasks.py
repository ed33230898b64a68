"""Celery tasks: thin and idempotent."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="evaluation.refresh_rollups")
def refresh_rollups_task(full: bool = False) -> dict[str, Any]:
    """Bring the dashboards' rollups up to date (every minute; in full nightly)."""
    from .rollups import refresh_rollups

    result = refresh_rollups(full=full)
    return {
        "skipped": result.skipped,
        "full": result.full,
        "cases_changed": result.cases_changed,
        "orders_changed": result.orders_changed,
        "duration_ms": result.duration_ms,
    }
