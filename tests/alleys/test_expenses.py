"""alleys/expenses.py: chiefs' expenses — the transition table, who may act where, receipts, the yearly report."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from alleys.choices import ExpensePurpose, ExpenseState
from alleys.expenses import (
    EXPENSE_TRANSITIONS,
    allowed_transitions,
    check,
    expense_approve,
    expense_file,
    expense_pay,
    expense_report,
    expense_resubmit,
    expense_return,
)
from alleys.models import Area, Expense
from core.errors import ActionForbidden, ActionInvalid, ActionRefused
from tests.alleys.conftest import Actors

NOW = timezone.make_aware(dt.datetime(2026, 6, 15, 10, 0))
TODAY = NOW.date()


def receipt() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (250, 250, 240)).save(out, format="PNG")
    return SimpleUploadedFile("fapiao.png", out.getvalue(), content_type="image/png")


def fake_receipt() -> SimpleUploadedFile:
    # A text file that claims to be a JPEG by its name and content type.
    return SimpleUploadedFile("fapiao.jpg", b"<?php system($_GET['c']); ?>", content_type="image/jpeg")


def filed(actors: Actors, **kw: Any) -> Expense:
    values: dict[str, Any] = {
        "user": actors.chief,
        "alley": actors.tree["d1s1c1a1"],
        "amount": Decimal("58.00"),
        "purpose": ExpensePurpose.PHONE,
        "spent_on": dt.date(2026, 6, 1),
        "receipt": receipt(),
        "now": NOW,
    }
    values.update(kw)
    return expense_file(**values)


def in_state(actors: Actors, state: str) -> Expense:
    expense = filed(actors)
    Expense.objects.filter(pk=expense.pk).update(
        state=state, paid_on=TODAY if state == ExpenseState.PAID else None
    )
    expense.refresh_from_db()
    return expense


# --- filing --------------------------------------------------------------------------------------------


def test_chief_files_for_own_alley(actors: Actors) -> None:
    expense = filed(actors)
    assert expense.state == ExpenseState.SUBMITTED
    assert expense.chief == actors.chief
    assert expense.receipt.name.startswith(f"receipts/{actors.tree['d1s1c1a1'].code}/")
    assert expense.receipt.name.endswith(".jpg") and "fapiao" not in expense.receipt.name


@pytest.mark.parametrize("name", ["other_chief", "deputy", "community", "street", "dept_contact"])
def test_only_the_alleys_chief_files(actors: Actors, name: str) -> None:
    with pytest.raises(ActionForbidden):
        filed(actors, user=getattr(actors, name))
    assert not Expense.objects.exists()


def test_superuser_may_file(actors: Actors) -> None:
    assert filed(actors, user=actors.superuser).state == ExpenseState.SUBMITTED


def test_fake_image_refused_and_nothing_saved(actors: Actors, settings: Any) -> None:
    with pytest.raises(ActionInvalid) as caught:
        filed(actors, receipt=fake_receipt())
    assert caught.value.field == "receipt"
    assert "图片" in caught.value.message
    assert not Expense.objects.exists()
    media = settings.MEDIA_ROOT / "receipts"
    assert not media.exists() or not any(media.rglob("*"))


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"amount": Decimal("0")}, "amount"),
        ({"amount": Decimal("-5")}, "amount"),
        ({"amount": Decimal("5000.01")}, "amount"),
        ({"purpose": "bribe"}, "purpose"),
        ({"purpose": ExpensePurpose.OTHER, "description": "  "}, "description"),
        ({"spent_on": TODAY + dt.timedelta(days=1)}, "spent_on"),
    ],
)
def test_invalid_expense_refused(actors: Actors, kw: dict[str, Any], field: str) -> None:
    with pytest.raises(ActionInvalid) as caught:
        filed(actors, **kw)
    assert caught.value.field == field
    assert not Expense.objects.exists()


# --- the transition table --------------------------------------------------------------------------------

ALLOWED = {
    ("approve", ExpenseState.SUBMITTED),
    ("return", ExpenseState.SUBMITTED),
    ("return", ExpenseState.APPROVED),
    ("pay", ExpenseState.APPROVED),
    ("resubmit", ExpenseState.RETURNED),
}


@pytest.mark.parametrize("state", ExpenseState.values)
@pytest.mark.parametrize("name", list(EXPENSE_TRANSITIONS))
def test_every_transition_from_every_state(actors: Actors, name: str, state: str) -> None:
    expense = in_state(actors, state)
    actor = actors.chief if name == "resubmit" else actors.community
    if (name, state) in ALLOWED:
        assert check(expense, actor, name).target
    else:
        with pytest.raises(ActionRefused) as caught:
            check(expense, actor, name)
        assert type(caught.value) is ActionRefused  # not allowed now (409), not a role refusal
        assert expense.get_state_display() in caught.value.message


def test_the_table_is_what_the_paper_says() -> None:
    assert {(n, s) for n, r in EXPENSE_TRANSITIONS.items() for s in r.sources} == ALLOWED


def test_approve_then_pay(actors: Actors) -> None:
    expense = filed(actors)
    expense = expense_approve(expense=expense, user=actors.community, now=NOW)
    assert expense.state == ExpenseState.APPROVED and expense.decided_by == actors.community
    expense = expense_pay(expense=expense, user=actors.community, paid_on=TODAY, now=NOW)
    row = Expense.objects.get(pk=expense.pk)
    assert row.state == ExpenseState.PAID and row.paid_on == TODAY
    assert allowed_transitions(row, actors.community) == []
    with pytest.raises(ActionRefused, match="已报销"):
        expense_return(expense=row, user=actors.community, reason="错了", now=NOW)


def test_pay_date_checked(actors: Actors) -> None:
    expense = expense_approve(expense=filed(actors), user=actors.community, now=NOW)
    with pytest.raises(ActionInvalid):
        expense_pay(expense=expense, user=actors.community, paid_on=TODAY + dt.timedelta(days=1), now=NOW)
    with pytest.raises(ActionInvalid):
        expense_pay(expense=expense, user=actors.community, paid_on=dt.date(2026, 5, 1), now=NOW)
    assert Expense.objects.get(pk=expense.pk).state == ExpenseState.APPROVED


def test_just_after_midnight_today_is_the_local_date(actors: Actors) -> None:
    """00:30 in Beijing is still yesterday in UTC: spent and paid "today" are the local date."""
    early = timezone.make_aware(dt.datetime(2026, 6, 16, 0, 30)).astimezone(
        dt.UTC
    )  # as timezone.now() gives it
    today = timezone.localdate(early)
    assert early.date() < today
    expense = filed(actors, spent_on=today, now=early)
    expense = expense_approve(expense=expense, user=actors.community, now=early)
    expense = expense_pay(expense=expense, user=actors.community, paid_on=today, now=early)
    assert Expense.objects.get(pk=expense.pk).paid_on == today


def test_return_needs_a_reason_then_chief_resubmits(actors: Actors) -> None:
    expense = filed(actors)
    with pytest.raises(ActionInvalid):
        expense_return(expense=expense, user=actors.community, reason="  ", now=NOW)
    assert Expense.objects.get(pk=expense.pk).state == ExpenseState.SUBMITTED
    expense_return(expense=expense, user=actors.community, reason="票据不清楚", now=NOW)
    row = Expense.objects.get(pk=expense.pk)
    assert row.state == ExpenseState.RETURNED and row.return_reason == "票据不清楚"
    assert allowed_transitions(row, actors.chief) == ["resubmit"]
    assert allowed_transitions(row, actors.community) == []
    old_receipt = row.receipt.name
    row = expense_resubmit(
        expense=row,
        user=actors.chief,
        amount=Decimal("50.00"),
        purpose=ExpensePurpose.TEA,
        spent_on=dt.date(2026, 6, 2),
        receipt=receipt(),
        now=NOW,
    )
    row.refresh_from_db()
    assert row.state == ExpenseState.SUBMITTED and row.amount == Decimal("50.00")
    assert row.purpose == ExpensePurpose.TEA and row.receipt.name != old_receipt


# --- who may act where ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["chief", "deputy", "other_chief", "street", "district_org", "city_org", "dept_contact"]
)
def test_only_the_alleys_community_decides(actors: Actors, name: str) -> None:
    # The street and organisation departments read; the community of another alley, the chief,
    # departments: none may decide.
    expense = filed(actors)
    for action in ("approve", "return"):
        with pytest.raises(ActionForbidden, match="社区"):
            check(expense, getattr(actors, name), action)
    with pytest.raises(ActionForbidden):
        expense_approve(expense=expense, user=getattr(actors, name), now=NOW)
    assert Expense.objects.get(pk=expense.pk).state == ExpenseState.SUBMITTED


def test_community_of_another_community_refused(actors: Actors) -> None:
    from alleys.choices import Role
    from tests.factories import make_actor

    other = make_actor(Role.COMMUNITY_STAFF, area=actors.tree["d1s1c2"], username="c2staff")
    expense = filed(actors)
    with pytest.raises(ActionForbidden):
        expense_approve(expense=expense, user=other, now=NOW)
    assert not Expense.objects.visible_to(other).exists()


def test_superuser_decides_anything(actors: Actors) -> None:
    expense = filed(actors)
    assert set(allowed_transitions(expense, actors.superuser)) == {"approve", "return"}


def test_only_the_filer_resubmits(actors: Actors) -> None:
    expense = in_state(actors, ExpenseState.RETURNED)
    for name in ("deputy", "community", "other_chief"):
        with pytest.raises(ActionForbidden, match="巷长"):
            check(expense, getattr(actors, name), "resubmit")


def test_visible_to(actors: Actors) -> None:
    expense = filed(actors)
    far = filed(actors, user=actors.far_chief, alley=actors.tree["d2s2c2a2"])
    see = {
        name: set(Expense.objects.visible_to(getattr(actors, name)))
        for name in vars(actors)
        if name != "tree"
    }
    assert see["superuser"] == {expense, far}
    assert see["chief"] == {expense}
    assert see["far_chief"] == {far}
    assert see["community"] == see["street"] == see["district_org"] == {expense}
    assert see["city_org"] == {expense, far}
    for name in ("deputy", "service", "supervisor", "grid", "dept_contact", "dept_leader", "other_chief"):
        assert see[name] == set(), name


# --- the yearly report --------------------------------------------------------------------------------


def test_yearly_report_totals(actors: Actors) -> None:
    tree = actors.tree
    a1 = tree["d1s1c1a1"]

    def paid(amount: str, purpose: str, spent_on: dt.date = dt.date(2026, 3, 1)) -> Expense:
        e = filed(actors, amount=Decimal(amount), purpose=purpose, spent_on=spent_on, description="x")
        e = expense_approve(expense=e, user=actors.community, now=NOW)
        return expense_pay(expense=e, user=actors.community, paid_on=TODAY, now=NOW)

    paid("58.00", ExpensePurpose.PHONE)
    paid("42.50", ExpensePurpose.PHONE)
    paid("30.00", ExpensePurpose.TEA)
    paid("99.00", ExpensePurpose.PRINTING, spent_on=dt.date(2025, 12, 31))  # another year
    filed(actors, amount=Decimal("20.00"))  # pending
    returned = filed(actors, amount=Decimal("1000.00"))
    expense_return(expense=returned, user=actors.community, reason="不属实", now=NOW)
    filed(actors, user=actors.far_chief, alley=tree["d2s2c2a2"], amount=Decimal("77.00"))  # another community

    report = expense_report(community=tree["d1s1c1"], year=2026)
    assert [r.alley for r in report.rows] == [a1, tree["d1s1c1a2"]]
    first = report.rows[0]
    assert first.paid[ExpensePurpose.PHONE] == Decimal("100.50")
    assert first.paid[ExpensePurpose.TEA] == Decimal("30.00")
    assert first.paid[ExpensePurpose.PRINTING] == Decimal("0")
    assert first.paid_total == Decimal("130.50")
    assert first.pending_total == Decimal("20.00")
    assert first.count == 4
    assert report.rows[1].paid_total == 0 and report.rows[1].count == 0
    assert report.paid_total == Decimal("130.50") and report.pending_total == Decimal("20.00")
    assert report.paid_by_purpose[ExpensePurpose.PHONE] == Decimal("100.50")
    assert expense_report(community=tree["d1s1c1"], year=2025).paid_total == Decimal("99.00")


def test_demo_expenses_are_seeded_once(db: None) -> None:
    from demo import city as demo
    from demo.expenses import EXPENSES, seed_expenses

    demo.seed_city(password="demo-pass-12345", reset_passwords=False)
    assert seed_expenses(now=NOW) == len(EXPENSES)
    assert seed_expenses(now=NOW) == 0
    states = set(Expense.objects.values_list("state", flat=True))
    assert states == set(ExpenseState.values)
    community = Area.objects.get(code=demo.demo_anchors().community.code)
    assert expense_report(community=community, year=TODAY.year).paid_total == Decimal("94.50")
