"""/api/v1/expenses/: chiefs' expenses over the API — scoping, filing with a receipt, the moves, the report."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from alleys.choices import ExpensePurpose, ExpenseState
from alleys.expenses import expense_approve, expense_file, expense_pay, expense_return
from alleys.models import Expense
from tests.factories import World

pytestmark = pytest.mark.django_db

URL = "/api/v1/expenses/"


def receipt() -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (250, 250, 240)).save(out, format="PNG")
    return SimpleUploadedFile("fapiao.png", out.getvalue(), content_type="image/png")


def fake_receipt() -> SimpleUploadedFile:
    return SimpleUploadedFile("fapiao.jpg", b"<?php system($_GET['c']); ?>", content_type="image/jpeg")


def filed(world: World, chief: str = "chief_x", **kw: Any) -> Expense:
    user = world.actor(chief)
    alley = world.alley_x if chief == "chief_x" else world.alley_y
    values: dict[str, Any] = {
        "amount": Decimal("58.00"),
        "purpose": ExpensePurpose.PHONE,
        "spent_on": timezone.localdate() - dt.timedelta(days=3),
        **kw,
    }
    return expense_file(user=user, alley=alley, receipt=receipt(), now=timezone.now(), **values)


def form(**kw: Any) -> dict[str, Any]:
    return {
        "amount": "35.50",
        "purpose": "tea",
        "description": "",
        "spent_on": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
        "receipt": receipt(),
        **kw,
    }


def test_the_chief_files_with_a_receipt(world: World, api_as: Callable[[str], APIClient]) -> None:
    response = api_as("chief_x").post(URL, form(alley=world.alley_x.code), format="multipart")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["alley"], body["amount"], body["state"], body["allowed"]) == (
        world.alley_x.code,
        "35.50",
        ExpenseState.SUBMITTED,
        [],
    )
    expense = Expense.objects.get(pk=body["id"])
    assert expense.chief == world.chief_x and expense.receipt.name


def test_a_fake_receipt_is_refused_and_nothing_saved(
    world: World, api_as: Callable[[str], APIClient]
) -> None:
    response = api_as("chief_x").post(
        URL, form(alley=world.alley_x.code, receipt=fake_receipt()), format="multipart"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid" and "receipt" in error["fields"]
    assert not Expense.objects.exists()


@pytest.mark.parametrize(
    ("actor", "code"),
    [
        ("chief_y", 400),  # another alley's chief: alley_x is outside their scope, so no such alley
        ("community_worker_x", 403),  # sees the alley, is not its chief
        ("street_worker", 403),
        ("anonymous", 401),
    ],
)
def test_only_the_alleys_chief_files(
    world: World, api_as: Callable[[str], APIClient], actor: str, code: int
) -> None:
    response = api_as(actor).post(URL, form(alley=world.alley_x.code), format="multipart")
    assert response.status_code == code
    assert not Expense.objects.exists()


def test_list_and_detail_are_scoped(world: World, api_as: Callable[[str], APIClient]) -> None:
    mine = filed(world)
    theirs = filed(world, chief="chief_y")
    seen = {
        name: {row["id"] for row in api_as(name).get(URL).json()["results"]}
        for name in (
            "chief_x",
            "chief_y",
            "community_worker_x",
            "community_worker_y",
            "street_worker",
            "street_worker_far",
            "district_officer",
            "lead_contact",
        )
    }
    assert seen["chief_x"] == {mine.pk} and seen["chief_y"] == {theirs.pk}
    assert seen["community_worker_x"] == {mine.pk} and seen["community_worker_y"] == {theirs.pk}
    assert seen["street_worker"] == seen["district_officer"] == {mine.pk, theirs.pk}
    assert seen["street_worker_far"] == seen["lead_contact"] == set()
    assert api_as("chief_y").get(f"{URL}{mine.pk}/").status_code == 404
    detail = api_as("community_worker_x").get(f"{URL}{mine.pk}/").json()
    assert detail["allowed"] == ["approve", "return"]
    assert api_as("anonymous").get(URL).status_code == 401


def test_the_community_approves_and_pays(world: World, api_as: Callable[[str], APIClient]) -> None:
    expense = filed(world)
    community = api_as("community_worker_x")
    approved = community.post(f"{URL}{expense.pk}/approve/")
    assert approved.status_code == 200 and approved.json()["state"] == ExpenseState.APPROVED
    paid_on = timezone.localdate().isoformat()
    paid = community.post(f"{URL}{expense.pk}/pay/", {"paid_on": paid_on}, format="json")
    assert paid.status_code == 200 and (paid.json()["state"], paid.json()["paid_on"]) == ("paid", paid_on)


def test_a_wrong_transition_is_409(world: World, api_as: Callable[[str], APIClient]) -> None:
    expense = filed(world)
    community = api_as("community_worker_x")
    response = community.post(f"{URL}{expense.pk}/pay/", {"paid_on": timezone.localdate()}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "conflict"
    expense_approve(expense=expense, user=world.community_worker_x, now=timezone.now())
    assert community.post(f"{URL}{expense.pk}/approve/").status_code == 409  # a second click
    assert Expense.objects.get().state == ExpenseState.APPROVED


@pytest.mark.parametrize("actor", ["chief_x", "street_worker", "district_officer", "community_worker_y"])
def test_only_the_alleys_community_decides(
    world: World, api_as: Callable[[str], APIClient], actor: str
) -> None:
    expense = filed(world)
    response = api_as(actor).post(f"{URL}{expense.pk}/approve/")
    # Those who cannot see it are told it does not exist; those who can, that it is not theirs to decide.
    assert response.status_code == (404 if actor == "community_worker_y" else 403)
    assert Expense.objects.get().state == ExpenseState.SUBMITTED


def test_return_needs_a_reason_then_the_chief_resubmits(
    world: World, api_as: Callable[[str], APIClient]
) -> None:
    expense = filed(world)
    community = api_as("community_worker_x")
    assert community.post(f"{URL}{expense.pk}/return/", {}, format="json").status_code == 400
    returned = community.post(f"{URL}{expense.pk}/return/", {"reason": "票据不清楚"}, format="json")
    assert returned.status_code == 200 and returned.json()["return_reason"] == "票据不清楚"
    # Only the chief who filed it resubmits.
    values = form()
    assert community.post(f"{URL}{expense.pk}/resubmit/", values, format="multipart").status_code == 403
    again = api_as("chief_x").post(f"{URL}{expense.pk}/resubmit/", form(amount="40.00"), format="multipart")
    assert again.status_code == 200, again.json()
    assert (again.json()["state"], again.json()["amount"]) == ("submitted", "40.00")
    fake = api_as("chief_x").post(
        f"{URL}{expense.pk}/resubmit/", form(receipt=fake_receipt()), format="multipart"
    )
    assert fake.status_code in (400, 409)  # submitted now: no resubmission, and the fake never saved


def test_the_yearly_report(world: World, api_as: Callable[[str], APIClient]) -> None:
    now = timezone.now()
    one = filed(world, amount=Decimal("20.00"))
    expense_approve(expense=one, user=world.community_worker_x, now=now)
    expense_pay(expense=one, user=world.community_worker_x, paid_on=timezone.localdate(), now=now)
    filed(world, amount=Decimal("5.00"), purpose=ExpensePurpose.TEA)
    back = filed(world, amount=Decimal("7.00"))
    expense_return(expense=back, user=world.community_worker_x, reason="重复", now=now)
    year = one.spent_on.year
    query = {"community": world.community_x.code, "year": year}
    body = api_as("community_worker_x").get(f"{URL}report/", query).json()
    assert (body["community"], body["year"], body["paid_total"], body["pending_total"]) == (
        world.community_x.code,
        year,
        "20.00",
        "5.00",
    )
    assert body["paid_by_purpose"]["phone"] == "20.00"
    [row] = [r for r in body["rows"] if r["alley"] == world.alley_x.code]
    assert (row["paid_total"], row["count"]) == ("20.00", 2)
    assert api_as("district_officer").get(f"{URL}report/", query).status_code == 200
    assert api_as("community_worker_y").get(f"{URL}report/", query).status_code == 404
    assert api_as("street_worker_far").get(f"{URL}report/", query).status_code == 404
    assert api_as("community_worker_x").get(f"{URL}report/").status_code == 400


def test_list_queries_do_not_grow(
    world: World, api_as: Callable[[str], APIClient], django_assert_max_num_queries: Any
) -> None:
    client = api_as("community_worker_x")
    filed(world)
    with django_assert_max_num_queries(10) as small:
        assert client.get(URL).status_code == 200
    for _ in range(10):
        filed(world)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert len(client.get(URL).json()["results"]) == 11
