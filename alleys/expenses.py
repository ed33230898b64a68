"""Chiefs' expenses reimbursed (由社区党组织把关，实报实销): the one rule and its services.

A chief files what they paid out of pocket for the alley's work (phone bills, tea, printing)
with a photo of the receipt; the alley's community approves it or returns it with a reason;
an approved expense is marked paid with the date it was reimbursed. A returned expense is the
chief's again: they correct it and resubmit. ``EXPENSE_TRANSITIONS`` says which move is allowed
from which state and for whom; the services, the staff pages and the admin all ask ``check``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import IO, TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import ActionForbidden, ActionInvalid, ActionRefused
from core.photos import clean_photo

from .choices import AreaLevel, ExpensePurpose, ExpenseState, Role
from .models import EXPENSE_MAX, EXPENSE_MIN, Area, Expense
from .people import Actor
from .scoping import Scope, scope_for

if TYPE_CHECKING:
    # A type only (django-stubs-ext is a development dependency).
    from django_stubs_ext import StrOrPromise


class Who(StrEnum):
    """Who may take a transition."""

    FILER = "filer"  # the chief who filed the expense
    COMMUNITY = "community"  # staff of the alley's community


@dataclass(frozen=True)
class ExpenseRule:
    """One transition: from which states, for whom, to which state."""

    sources: frozenset[str]
    who: Who
    target: str
    label: StrOrPromise = field(default="", compare=False)


EXPENSE_TRANSITIONS: dict[str, ExpenseRule] = {
    "approve": ExpenseRule(
        frozenset({ExpenseState.SUBMITTED}), Who.COMMUNITY, ExpenseState.APPROVED, gettext_lazy("审核通过")
    ),
    "return": ExpenseRule(
        frozenset({ExpenseState.SUBMITTED, ExpenseState.APPROVED}),
        Who.COMMUNITY,
        ExpenseState.RETURNED,
        gettext_lazy("退回"),
    ),
    "pay": ExpenseRule(
        frozenset({ExpenseState.APPROVED}), Who.COMMUNITY, ExpenseState.PAID, gettext_lazy("标记已报销")
    ),
    "resubmit": ExpenseRule(
        frozenset({ExpenseState.RETURNED}), Who.FILER, ExpenseState.SUBMITTED, gettext_lazy("修改后重新提交")
    ),
}
# Irreversible: the page asks for a ticked confirmation first.
DESTRUCTIVE: frozenset[str] = frozenset({"pay", "return"})


def is_chief_of(scope: Scope, alley_code: str) -> bool:
    """Whether the user is (a superuser or) the chief of exactly this alley."""
    return scope.is_global or any(
        role == Role.CHIEF and code == alley_code for role, code, _ in scope.assignments
    )


def is_community_of(scope: Scope, alley_code: str) -> bool:
    """Whether the user is (a superuser or) staff of the alley's community."""
    return scope.is_global or any(
        role == Role.COMMUNITY_STAFF and code and alley_code.startswith(code)
        for role, code, _ in scope.assignments
    )


def files_expenses(user: Actor) -> bool:
    """Whether the user chiefs an alley (and so may file expenses); no query once the scope is known."""
    return any(role == Role.CHIEF for role, _code, _dept in scope_for(user).assignments)


def decides_expenses(user: Actor) -> bool:
    """Whether the user is community staff somewhere (approves, returns, marks paid)."""
    scope = scope_for(user)
    return scope.is_global or any(role == Role.COMMUNITY_STAFF for role, _code, _dept in scope.assignments)


def sees_receipt(user: Actor, expense: Expense) -> bool:
    """The receipt is the chief's, the community's and superusers' only."""
    scope = scope_for(user)
    return expense.chief_id == user.pk or is_community_of(scope, expense.alley.code)


def _may(user: Actor, expense: Expense, who: Who) -> bool:
    scope = scope_for(user)
    if who == Who.FILER:
        return scope.is_global or (user.is_authenticated and expense.chief_id == user.pk)
    return is_community_of(scope, expense.alley.code)


def check(expense: Expense, user: Actor, name: str) -> ExpenseRule:
    """The rule for ``name`` if ``user`` may take it on ``expense`` now; else the refusal, with its reason."""
    rule = EXPENSE_TRANSITIONS.get(name)
    if rule is None:
        raise ActionRefused(_("没有这个操作。"))
    if not _may(user, expense, rule.who):
        if rule.who == Who.FILER:
            raise ActionForbidden(_("只有提交这笔费用的巷长可以修改后重新提交。"))
        raise ActionForbidden(_("只有该街巷所在社区的工作人员可以审核和报销。"))
    if expense.state not in rule.sources:
        raise ActionRefused(
            _("这笔费用当前为“%(state)s”，不能%(action)s。")
            % {"state": expense.get_state_display(), "action": rule.label}
        )
    return rule


def allowed_transitions(expense: Expense, user: Actor) -> list[str]:
    """What ``user`` may do to ``expense`` now (nothing written)."""
    allowed = []
    for name in EXPENSE_TRANSITIONS:
        try:
            check(expense, user, name)
        except ActionRefused:
            continue
        allowed.append(name)
    return allowed


# --- services ---------------------------------------------------------------------------------------


def _validated(
    *, amount: Decimal, purpose: str, description: str, spent_on: dt.date, today: dt.date
) -> tuple[Decimal, str, str]:
    if purpose not in ExpensePurpose.values:
        raise ActionInvalid(_("请选择用途。"), field="purpose")
    description = description.strip()
    if purpose == ExpensePurpose.OTHER and not description:
        raise ActionInvalid(_("用途为“其他”时请写明用途。"), field="description")
    amount = Decimal(amount).quantize(Decimal("0.01"))
    if not EXPENSE_MIN <= amount <= EXPENSE_MAX:
        raise ActionInvalid(
            _("金额应在 %(min)s 至 %(max)s 元之间。") % {"min": EXPENSE_MIN, "max": EXPENSE_MAX},
            field="amount",
        )
    if spent_on > today:
        raise ActionInvalid(_("支出日期不能晚于今天。"), field="spent_on")
    return amount, purpose, description


def _receipt(receipt: IO[bytes]) -> ContentFile[bytes]:
    try:
        return clean_photo(receipt)
    except ValidationError as exc:
        raise ActionInvalid(" ".join(exc.messages), field="receipt") from exc


def expense_file(
    *,
    user: Actor,
    alley: Area,
    amount: Decimal,
    purpose: str,
    description: str = "",
    spent_on: dt.date,
    receipt: IO[bytes],
    now: dt.datetime,
) -> Expense:
    """A chief files an expense for their own alley; it waits for the community's check."""
    if alley.level != AreaLevel.ALLEY:
        raise ActionInvalid(_("请选择一条街巷。"), field="alley")
    if not user.is_authenticated or not is_chief_of(scope_for(user), alley.code):
        raise ActionForbidden(_("只有本街巷的巷长可以为本街巷申报费用。"))
    amount, purpose, description = _validated(
        amount=amount,
        purpose=purpose,
        description=description,
        spent_on=spent_on,
        today=timezone.localdate(now),
    )
    photo = _receipt(receipt)
    with transaction.atomic():
        expense = Expense(
            chief_id=user.pk,
            alley=alley,
            amount=amount,
            purpose=purpose,
            description=description,
            spent_on=spent_on,
            submitted_at=now,
        )
        expense.receipt.save("receipt.jpg", photo, save=False)
        expense.save()
    return expense


def _locked(expense: Expense) -> Expense:
    # The second click (or a colleague's) meets the new state: read it under the row lock.
    return Expense.objects.select_for_update().select_related("alley").get(pk=expense.pk)


def expense_approve(*, expense: Expense, user: Actor, now: dt.datetime) -> Expense:
    """The community approves the expense."""
    with transaction.atomic():
        row = _locked(expense)
        rule = check(row, user, "approve")
        row.state = rule.target
        row.decided_by_id = user.pk
        row.decided_at = now
        row.return_reason = ""
        row.save(update_fields=["state", "decided_by", "decided_at", "return_reason"])
    return row


def expense_return(*, expense: Expense, user: Actor, reason: str, now: dt.datetime) -> Expense:
    """The community returns the expense to the chief, saying why."""
    reason = reason.strip()
    with transaction.atomic():
        row = _locked(expense)
        rule = check(row, user, "return")
        if not reason:
            raise ActionInvalid(_("请写明退回理由。"), field="reason")
        row.state = rule.target
        row.decided_by_id = user.pk
        row.decided_at = now
        row.return_reason = reason[:300]
        row.save(update_fields=["state", "decided_by", "decided_at", "return_reason"])
    return row


def expense_pay(*, expense: Expense, user: Actor, paid_on: dt.date, now: dt.datetime) -> Expense:
    """The community marks an approved expense reimbursed (实报实销) on ``paid_on``."""
    with transaction.atomic():
        row = _locked(expense)
        rule = check(row, user, "pay")
        if paid_on > timezone.localdate(now):
            raise ActionInvalid(_("报销日期不能晚于今天。"), field="paid_on")
        if paid_on < row.spent_on:
            raise ActionInvalid(_("报销日期不能早于支出日期。"), field="paid_on")
        row.state = rule.target
        row.paid_on = paid_on
        row.save(update_fields=["state", "paid_on"])
    return row


def expense_resubmit(
    *,
    expense: Expense,
    user: Actor,
    amount: Decimal,
    purpose: str,
    description: str = "",
    spent_on: dt.date,
    receipt: IO[bytes] | None = None,
    now: dt.datetime,
) -> Expense:
    """The chief corrects a returned expense and submits it again (a new receipt is optional)."""
    amount, purpose, description = _validated(
        amount=amount,
        purpose=purpose,
        description=description,
        spent_on=spent_on,
        today=timezone.localdate(now),
    )
    photo = _receipt(receipt) if receipt is not None else None
    with transaction.atomic():
        row = _locked(expense)
        rule = check(row, user, "resubmit")
        row.state = rule.target
        row.amount = amount
        row.purpose = purpose
        row.description = description
        row.spent_on = spent_on
        row.submitted_at = now
        if photo is not None:
            row.receipt.save("receipt.jpg", photo, save=False)
        row.save()
    return row


# --- the yearly report --------------------------------------------------------------------------------


@dataclass
class ReportRow:
    """One alley's year: reimbursed amounts per purpose, and what still waits."""

    alley: Area
    paid: dict[str, Decimal]
    paid_total: Decimal
    pending_total: Decimal
    count: int


@dataclass
class ExpenseReport:
    """A community's expenses of one year (by the date spent), per alley and purpose."""

    community: Area
    year: int
    rows: list[ReportRow]
    paid_by_purpose: dict[str, Decimal]
    paid_total: Decimal
    pending_total: Decimal


def expense_report(*, community: Area, year: int) -> ExpenseReport:
    """Totals of the community's alleys for ``year``: paid per purpose, and submitted or approved but unpaid.

    Two queries: the alleys, and one grouped sum over the expenses.
    """
    zero = Decimal("0.00")
    alleys = list(Area.objects.under(community).at_level(AreaLevel.ALLEY).order_by("code"))
    sums = (
        Expense.objects.filter(alley__code__startswith=community.code, spent_on__year=year)
        .exclude(state=ExpenseState.RETURNED)
        .values("alley_id", "purpose", "state")
        .annotate(total=Sum("amount"), n=Count("pk"))
    )
    paid: dict[int, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(ExpensePurpose.values, zero))
    pending: dict[int, Decimal] = defaultdict(lambda: zero)
    counts: dict[int, int] = defaultdict(int)
    for item in sums:
        counts[item["alley_id"]] += item["n"]
        if item["state"] == ExpenseState.PAID:
            paid[item["alley_id"]][item["purpose"]] += item["total"]
        else:
            pending[item["alley_id"]] += item["total"]
    rows = [
        ReportRow(
            alley=alley,
            paid=paid[alley.pk],
            paid_total=sum(paid[alley.pk].values(), zero),
            pending_total=pending[alley.pk],
            count=counts[alley.pk],
        )
        for alley in alleys
    ]
    by_purpose = {p: sum((r.paid[p] for r in rows), zero) for p in ExpensePurpose.values}
    return ExpenseReport(
        community=community,
        year=year,
        rows=rows,
        paid_by_purpose=by_purpose,
        paid_total=sum((r.paid_total for r in rows), zero),
        pending_total=sum((r.pending_total for r in rows), zero),
    )
