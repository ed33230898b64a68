"""Recompute provisional deadlines now (the sweep and the admin do it by themselves; this is for a drill)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from issues.choices import ACTIVE_ORDER_STATES, OPEN_STATES
from issues.models import Case, DispatchOrder

from ...calendar_watch import recompute_provisional


class Command(BaseCommand):
    help = (
        "Recompute deadlines marked provisional (a year predicted from the statutory holidays) "
        "on the calendar as it is now."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        cases_fixed, orders_fixed = recompute_provisional(now=now)
        cases_still = Case.objects.filter(deadline_provisional=True, state__in=OPEN_STATES).count()
        orders_still = DispatchOrder.objects.filter(
            deadline_provisional=True, state__in=ACTIVE_ORDER_STATES
        ).count()
        self.stdout.write(
            f"{now:%Y-%m-%d %H:%M} cases recomputed={cases_fixed} still_provisional={cases_still}; "
            f"orders recomputed={orders_fixed} still_provisional={orders_still}"
        )
