"""The staff pages of chiefs' expenses (/staff/expenses/): who sees what, the actions, the report and its files."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from alleys.choices import ExpensePurpose, ExpenseState
from alleys.expenses import expense_approve, expense_file, expense_pay
from alleys.models import Expense
from tests.alleys.conftest import Actors
from tests.alleys.test_expenses import fake_receipt, receipt

LIST = reverse("staff:expense-list")
NEW = reverse("staff:expense-new")
REPORT = reverse("staff:expense-report")


def as_(client: Client, user: Any) -> Client:
    client.force_login(user)
    return client


def file_one(actors: Actors, **kw: Any) -> Expense:
    values: dict[str, Any] = {
        "user": actors.chief,
        "alley": actors.tree["d1s1c1a1"],
        "amount": Decimal("58.00"),
        "purpose": ExpensePurpose.PHONE,
        "spent_on": timezone.localdate() - dt.timedelta(days=3),
        "receipt": receipt(),
        "now": timezone.now(),
    }
    values.update(kw)
    return expense_file(**values)


def test_chief_files_through_the_form(client: Client, actors: Actors) -> None:
    page = as_(client, actors.chief).get(NEW)
    assert page.status_code == 200
    response = client.post(
        NEW,
        {
            "alley": actors.tree["d1s1c1a1"].pk,
            "amount": "36.50",
            "purpose": ExpensePurpose.TEA,
            "description": "",
            "spent_on": timezone.localdate().isoformat(),
            "receipt": receipt(),
        },
    )
    expense = Expense.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "staff:expense-detail", args=[expense.pk]
    )
    assert expense.amount == Decimal("36.50") and expense.state == ExpenseState.SUBMITTED


def test_fake_receipt_shows_a_clear_error_and_saves_nothing(client: Client, actors: Actors) -> None:
    response = as_(client, actors.chief).post(
        NEW,
        {
            "alley": actors.tree["d1s1c1a1"].pk,
            "amount": "36.50",
            "purpose": ExpensePurpose.TEA,
            "spent_on": timezone.localdate().isoformat(),
            "receipt": fake_receipt(),
        },
    )
    assert response.status_code == 400
    assert "这不是有效的图片文件" in response.content.decode()
    assert not Expense.objects.exists()


def test_chief_cannot_file_for_another_alley(client: Client, actors: Actors) -> None:
    response = as_(client, actors.chief).post(
        NEW,
        {
            "alley": actors.tree["d1s1c2a2"].pk,
            "amount": "10",
            "purpose": ExpensePurpose.PHONE,
            "spent_on": timezone.localdate().isoformat(),
            "receipt": receipt(),
        },
    )
    assert response.status_code == 400 and not Expense.objects.exists()


@pytest.mark.parametrize("name", ["community", "dept_contact", "street"])
def test_new_form_is_for_chiefs(client: Client, actors: Actors, name: str) -> None:
    assert as_(client, getattr(actors, name)).get(NEW).status_code == 403


@pytest.mark.parametrize(
    ("name", "status", "receipt_status"),
    [
        ("chief", 200, 200),
        ("community", 200, 200),
        ("superuser", 200, 200),
        ("street", 200, 404),
        ("district_org", 200, 404),
        ("other_chief", 404, 404),
        ("deputy", 404, 404),
        ("far_chief", 404, 404),
        ("dept_contact", 404, 404),
    ],
)
def test_detail_and_receipt_per_role(
    client: Client, actors: Actors, name: str, status: int, receipt_status: int
) -> None:
    expense = file_one(actors)
    as_(client, getattr(actors, name))
    page = client.get(reverse("staff:expense-detail", args=[expense.pk]))
    assert page.status_code == status
    if status == 200:
        shows = reverse("staff:expense-receipt", args=[expense.pk]) in page.content.decode()
        assert shows == (receipt_status == 200)
    photo = client.get(reverse("staff:expense-receipt", args=[expense.pk]))
    assert photo.status_code == receipt_status
    if receipt_status == 200:
        assert photo["Content-Type"] == "image/jpeg"


def test_community_approves_returns_and_pays_on_the_page(client: Client, actors: Actors) -> None:
    expense = file_one(actors)
    detail = reverse("staff:expense-detail", args=[expense.pk])
    as_(client, actors.community)
    body = client.get(detail).content.decode()
    assert "审核通过" in body and "退回理由" in body and "报销日期" not in body.split("</dl>")[1]
    client.post(reverse("staff:expense-action", args=[expense.pk, "approve"]))
    assert Expense.objects.get().state == ExpenseState.APPROVED
    # Paying is irreversible: without the ticked confirmation nothing happens.
    pay = reverse("staff:expense-action", args=[expense.pk, "pay"])
    client.post(pay, {"paid_on": timezone.localdate().isoformat()})
    assert Expense.objects.get().state == ExpenseState.APPROVED
    client.post(pay, {"paid_on": timezone.localdate().isoformat(), "confirm": "on"})
    assert Expense.objects.get().state == ExpenseState.PAID
    # A second click meets the new state and says so.
    response = client.post(reverse("staff:expense-action", args=[expense.pk, "approve"]), follow=True)
    assert "不能审核通过" in response.content.decode()


def test_return_needs_reason_and_confirmation_then_chief_resubmits(client: Client, actors: Actors) -> None:
    expense = file_one(actors)
    ret = reverse("staff:expense-action", args=[expense.pk, "return"])
    as_(client, actors.community)
    client.post(ret, {"reason": "票据不清楚"})
    assert Expense.objects.get().state == ExpenseState.SUBMITTED
    client.post(ret, {"reason": "票据不清楚", "confirm": "on"})
    assert Expense.objects.get().state == ExpenseState.RETURNED
    edit = reverse("staff:expense-edit", args=[expense.pk])
    assert client.get(edit).status_code == 403  # the community does not edit the chief's claim
    as_(client, actors.chief)
    assert "票据不清楚" in client.get(edit).content.decode()
    response = client.post(
        edit,
        {"amount": "40.00", "purpose": ExpensePurpose.PHONE, "spent_on": expense.spent_on.isoformat()},
    )
    assert response.status_code == 302
    row = Expense.objects.get()
    assert row.state == ExpenseState.SUBMITTED and row.amount == Decimal("40.00")


@pytest.mark.parametrize("name", ["chief", "street", "other_chief", "dept_contact"])
def test_others_cannot_act(client: Client, actors: Actors, name: str) -> None:
    expense = file_one(actors)
    as_(client, getattr(actors, name))
    response = client.post(reverse("staff:expense-action", args=[expense.pk, "approve"]))
    assert response.status_code in (302, 404)
    assert Expense.objects.get().state == ExpenseState.SUBMITTED


def test_list_filters_and_constant_queries(client: Client, actors: Actors) -> None:
    file_one(actors)
    as_(client, actors.community)
    client.get(LIST)  # warm the session and the scope's first read

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        first = client.get(LIST)
    for _ in range(5):
        file_one(actors, purpose=ExpensePurpose.PRINTING)
    with CaptureQueriesContext(connection) as many:
        second = client.get(LIST)
    assert len(many) == len(few)
    assert second.content.decode().count('data-label="金额（元）"') == 6
    assert 'class="rtable"' in first.content.decode()
    filtered = client.get(LIST, {"state": ExpenseState.APPROVED, "year": timezone.localdate().year})
    assert filtered.content.decode().count('data-label="金额（元）"') == 0


def test_nav_entry_for_chiefs_and_communities_only(client: Client, actors: Actors) -> None:
    for name, shown in (("chief", True), ("community", True), ("street", False), ("dept_contact", False)):
        as_(client, getattr(actors, name))
        # The to-do page reads the user's scope for itself; the inbox does not: the header is the same.
        for page in (reverse("staff:home"), reverse("staff:inbox")):
            body = client.get(page).content.decode()
            assert (f'href="{LIST}"' in body) == shown, (name, page)


def test_report_page_and_files(client: Client, actors: Actors) -> None:
    now = timezone.now()
    expense = file_one(actors)
    expense_pay(
        expense=expense_approve(expense=expense, user=actors.community, now=now),
        user=actors.community,
        paid_on=timezone.localdate(),
        now=now,
    )
    year = expense.spent_on.year
    community = actors.tree["d1s1c1"]
    as_(client, actors.community)
    page = client.get(REPORT, {"year": year})
    assert page.status_code == 200
    assert page.context["report"].paid_total == Decimal("58.00")
    csv_body = client.get(REPORT, {"year": year, "format": "csv"}).content.decode("utf-8-sig")
    assert "58.00" in csv_body and community.name in csv_body
    xlsx = client.get(REPORT, {"community": community.code, "year": year, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[-1][0] == "合计" and float(rows[-1][5]) == 58.0


@pytest.mark.parametrize("name", ["chief", "dept_contact"])
def test_report_is_not_for_chiefs_or_departments(client: Client, actors: Actors, name: str) -> None:
    assert as_(client, getattr(actors, name)).get(REPORT).status_code == 403


def test_report_names_stay_text(client: Client, actors: Actors) -> None:
    # A community named like a formula stays text in the file.
    community = actors.tree["d1s1c1"]
    alley = actors.tree["d1s1c1a1"]
    type(alley).objects.filter(pk=alley.pk).update(name="=1+1巷")
    as_(client, actors.community)
    body = client.get(REPORT, {"community": community.code, "format": "csv"}).content.decode("utf-8-sig")
    assert "'=1+1巷" in body
