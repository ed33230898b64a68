"""Run the sweep once: warn, escalate, flag overdue orders, close unrated cases."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ...sweep import run_sweep


class Command(BaseCommand):
    help = "Run the deadline sweep once (the same service the Celery beat task runs)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help="pretend it is this moment (ISO 8601, e.g. 2026-03-02T09:30+08:00)")
        parser.add_argument(
            "--dry-run", action="store_true", help="print what would happen and write nothing"
        )
        parser.add_argument("--batch", type=int, default=None, help="rows claimed per transaction")
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        now = _parse_now(options["now"]) if options["now"] else timezone.now()
        result = run_sweep(
            now=now,
            dry_run=options["dry_run"],
            batch=options["batch"],
            log=self.stdout.write if options["dry_run"] or options["verbosity"] > 1 else None,
        )
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False))
            return
        prefix = "[dry run] " if result.dry_run else ""
        self.stdout.write(
            f"{prefix}now={result.now} warned={result.warned} escalated={result.escalated} "
            f"supervised_at_top={result.supervised_at_top} report_overdue={result.report_overdue} "
            f"complete_overdue={result.complete_overdue} return_visit_due={result.return_visit_due} "
            f"relayed={result.relayed} redelivered={result.redelivered}"
        )


def _parse_now(value: str) -> dt.datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError as exc:
            raise CommandError(f"--now is not an ISO 8601 date-time: {value!r}") from exc
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed
