"""Recompute provisional deadlines once the calendar knows the missing year."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from dispatch.calendar import clear_calendar_cache
from dispatch.deadlines import compute_deadlines
from issues.choices import AWAITING_ACCEPT_STATES, OPEN_STATES
from issues.models import Case


class Command(BaseCommand):
    help = "Recompute deadlines marked provisional (estimated on Mon-Fri for an unknown year)."

    def handle(self, *args: Any, **options: Any) -> None:
        clear_calendar_cache()
        fixed = still = 0
        qs = Case.objects.filter(deadline_provisional=True, state__in=OPEN_STATES).select_related("category")
        for case in qs.iterator(chunk_size=500):
            with transaction.atomic():
                deadlines = compute_deadlines(
                    category=case.category,
                    tier=case.tier,
                    start=case.tier_entered_at,
                    urgent=case.urgency == "urgent",
                )
                if deadlines.provisional:
                    still += 1
                    continue
                case.accept_due, case.resolve_due = deadlines.accept_due, deadlines.resolve_due
                if case.escalation_due is not None:
                    case.escalation_due = (
                        deadlines.accept_due
                        if case.state in AWAITING_ACCEPT_STATES
                        else deadlines.resolve_due
                    )
                case.deadline_provisional = False
                case.save(
                    update_fields=["accept_due", "resolve_due", "escalation_due", "deadline_provisional"]
                )
                fixed += 1
        self.stdout.write(f"{timezone.now():%Y-%m-%d %H:%M} recomputed={fixed} still_provisional={still}")
