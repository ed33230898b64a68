"""Recompute provisional deadlines once the calendar knows the missing year."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from dispatch.calendar import clear_calendar_cache
from dispatch.choices import ACTIVE_ORDER_STATES, ExtensionState, OrderRole
from dispatch.deadlines import compute_deadlines, order_deadlines
from dispatch.models import DispatchOrder
from issues.choices import AWAITING_ACCEPT_STATES, OPEN_STATES
from issues.models import Case


class Command(BaseCommand):
    help = (
        "Recompute deadlines marked provisional (estimated on Mon-Fri for a year the calendar did not know)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        clear_calendar_cache()
        orders_fixed, orders_still = self._orders()
        cases_fixed, cases_still = self._cases()
        self.stdout.write(
            f"{timezone.now():%Y-%m-%d %H:%M} cases recomputed={cases_fixed} still_provisional={cases_still}; "
            f"orders recomputed={orders_fixed} still_provisional={orders_still}"
        )

    def _orders(self) -> tuple[int, int]:
        fixed = still = 0
        qs = DispatchOrder.objects.filter(deadline_provisional=True, state__in=ACTIVE_ORDER_STATES)
        for order in qs.iterator(chunk_size=500):
            with transaction.atomic():
                report_due, complete_due, provisional = order_deadlines(start=order.dispatched_at)
                if provisional:
                    still += 1
                    continue
                order.report_due = report_due
                # An approved extension set an explicit date: the organisation department's decision stands.
                if not order.extensions.filter(state=ExtensionState.APPROVED).exists():
                    order.complete_due = complete_due
                order.deadline_provisional = False
                order.save(update_fields=["report_due", "complete_due", "deadline_provisional"])
                if order.role == OrderRole.LEAD:
                    # The lead order's completion deadline is the case's (see issues.workflow.case_dispatch).
                    case_ids = (
                        [order.case_id]
                        if order.case_id
                        else list(
                            order.common_issue.cases.values_list("pk", flat=True)
                            if order.common_issue
                            else []
                        )
                    )
                    Case.objects.filter(pk__in=case_ids, lead_department_id=order.department_id).update(
                        resolve_due=order.complete_due
                    )
                fixed += 1
        return fixed, still

    def _cases(self) -> tuple[int, int]:
        fixed = still = 0
        qs = Case.objects.filter(deadline_provisional=True, state__in=OPEN_STATES).select_related(
            "category__category_class"
        )
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
                case.accept_due = deadlines.accept_due
                fields = ["accept_due", "deadline_provisional"]
                if not case.lead_department_id:  # a dispatched case's resolve deadline is its lead order's
                    case.resolve_due = deadlines.resolve_due
                    fields.append("resolve_due")
                if case.escalation_due is not None:
                    case.escalation_due = (
                        deadlines.accept_due
                        if case.state in AWAITING_ACCEPT_STATES
                        else deadlines.resolve_due
                    )
                    fields.append("escalation_due")
                case.deadline_provisional = False
                case.save(update_fields=fields)
                fixed += 1
        return fixed, still
