"""Refresh the dashboards' rollups once (the same service the Celery beat task runs)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from evaluation.rollups import refresh_rollups


class Command(BaseCommand):
    help = "Refresh the dashboards' rollup tables (incrementally, or in full with --full)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--full", action="store_true", help="rebuild every rollup from the source tables")
        parser.add_argument("--now", help="classify deadlines as of this moment (ISO 8601)")

    def handle(self, *args: Any, **options: Any) -> None:
        now = _parse_now(options["now"]) if options["now"] else timezone.now()
        result = refresh_rollups(now=now, full=options["full"])
        if result.skipped:
            self.stdout.write("skipped: another refresh is running")
            return
        self.stdout.write(
            f"{'full' if result.full else 'incremental'} refresh: cases checked={result.cases_checked} "
            f"changed={result.cases_changed} orders changed={result.orders_changed} keys={result.keys} "
            f"in {result.duration_ms} ms"
        )


def _parse_now(value: str) -> dt.datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        raise CommandError(f"--now is not an ISO 8601 date-time: {value!r}")
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed
