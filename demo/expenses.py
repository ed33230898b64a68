"""A few chiefs' expenses for the demo's ``chief`` and ``community`` logins, written through the services.

One of each state, so the community finds one to approve, one to pay, and the yearly report has
reimbursed totals. Idempotent: when the demo chief has filed anything, nothing is written.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from PIL import Image

from alleys.choices import ExpensePurpose
from alleys.expenses import expense_approve, expense_file, expense_pay, expense_return
from alleys.models import Area, Expense

from .city import demo_anchors

# (days ago, amount, purpose, description, what the community did: "", "approve", "pay", "return")
EXPENSES: tuple[tuple[int, str, str, str, str], ...] = (
    (75, "58.00", ExpensePurpose.PHONE, "联系居民的手机话费", "pay"),
    (60, "36.50", ExpensePurpose.TEA, "街巷议事会茶水", "pay"),
    (40, "120.00", ExpensePurpose.PRINTING, "街巷公约和公示牌印刷", "approve"),
    (20, "45.00", ExpensePurpose.OTHER, "巡查用手电筒电池", "return"),
    (5, "58.00", ExpensePurpose.PHONE, "联系居民的手机话费", ""),
)


def _receipt(seed: int) -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (320, 200), (250, 250 - seed * 10, 240)).save(out, format="PNG")
    return SimpleUploadedFile("receipt.png", out.getvalue(), content_type="image/png")


def seed_expenses(*, now: dt.datetime | None = None) -> int:
    """Write the demo chief's expenses unless there are some already; return how many were written."""
    now = now or timezone.now()
    users = get_user_model().objects
    chief = users.filter(username="chief").first()
    community = users.filter(username="community").first()
    alley = Area.objects.filter(code=demo_anchors().alley.code).first()
    if chief is None or community is None or alley is None or Expense.objects.filter(chief=chief).exists():
        return 0
    with transaction.atomic():
        for index, (days, amount, purpose, description, decision) in enumerate(EXPENSES):
            spent_on = timezone.localdate(now) - dt.timedelta(days=days)
            expense = expense_file(
                user=chief,
                alley=alley,
                amount=Decimal(amount),
                purpose=purpose,
                description=description,
                spent_on=spent_on,
                receipt=_receipt(index),
                now=now,
            )
            if decision == "return":
                expense_return(expense=expense, user=community, reason="请补充电池的购物小票。", now=now)
            elif decision in ("approve", "pay"):
                expense = expense_approve(expense=expense, user=community, now=now)
                if decision == "pay":
                    expense_pay(
                        expense=expense, user=community, paid_on=spent_on + dt.timedelta(days=10), now=now
                    )
    return len(EXPENSES)
