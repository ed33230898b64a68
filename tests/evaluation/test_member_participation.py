"""In-service Party members' figures (双报到) on the dashboards, and their weight in the annual assessment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evaluation import services
from evaluation.participation import member_participation
from evaluation.periods import Period
from members.choices import ClaimState, NeedState, RegistrationState
from members.models import Claim
from tests.evaluation.test_services import evaluated_year
from tests.factories import PartyOrganizationFactory, RegistrationFactory, ServiceNeedFactory

JUNE = timezone.make_aware(dt.datetime(2026, 6, 10, 10, 0))


def claim(
    need: Any, registration: Any, state: str, *, hours: str | None = None, when: dt.datetime = JUNE
) -> Claim:
    return Claim.objects.create(
        need=need,
        registration=registration,
        state=state,
        claimed_at=when,
        claimed_by=need.posted_by,
        hours=Decimal(hours) if hours else None,
        confirmed_at=when if state == ClaimState.CONFIRMED else None,
    )


def seed(world: Any) -> dict[str, Any]:
    """Community x: 3 members (2 confirmed, 1 pending) and one withdrawn; 2 needs in June, one in May;
    claims in June: 1 claimed, 1 recorded, 2 confirmed (1.5 + 2 hours), 1 withdrawn. Community y: 1 member."""
    org = PartyOrganizationFactory(name="鲤城区城管局党支部", department=world.dept_lead)
    x, y = world.community_x, world.community_y
    m1 = RegistrationFactory(community=x, organization=org, registered_at=JUNE)
    m2 = RegistrationFactory(community=x, organization=org, registered_at=JUNE)
    RegistrationFactory(community=x, state=RegistrationState.PENDING, registered_at=JUNE)
    RegistrationFactory(community=x, state=RegistrationState.WITHDRAWN, registered_at=JUNE)
    RegistrationFactory(community=y, registered_at=JUNE)
    n1 = ServiceNeedFactory(community=x, places=5, posted_at=JUNE, state=NeedState.OPEN)
    n2 = ServiceNeedFactory(community=x, places=5, posted_at=JUNE, state=NeedState.OPEN)
    ServiceNeedFactory(community=x, posted_at=JUNE - dt.timedelta(days=40))
    claim(n1, m1, ClaimState.CLAIMED)
    claim(n1, m2, ClaimState.RECORDED, hours="3")
    claim(n2, m1, ClaimState.CONFIRMED, hours="1.5")
    claim(n2, m2, ClaimState.CONFIRMED, hours="2")
    other = RegistrationFactory(community=x, registered_at=JUNE)
    claim(n1, other, ClaimState.WITHDRAWN)
    return {"org": org}


def test_figures_per_community(world: Any) -> None:
    seed(world)
    june = Period(kind="month", start=dt.date(2026, 6, 1), end=dt.date(2026, 7, 1))
    table = member_participation(world.street, june)
    rows = {row["name"]: row for row in table.rows}
    x = rows[world.community_x.name]
    # Registered: m1, m2, the pending one and "other" (confirmed); the withdrawn one is not counted.
    assert (x["registered"], x["confirmed"]) == (4, 3)
    assert (x["needs"], x["taken"], x["done"], x["hours"]) == (2, 4, 2, Decimal("3.5"))
    y = rows[world.community_y.name]
    assert (y["registered"], y["confirmed"], y["needs"], y["taken"]) == (1, 1, 0, 0)
    assert rows["合计"]["registered"] == 5
    # Another period: the stock of members stays, the flows are empty.
    july = Period(kind="month", start=dt.date(2026, 7, 1), end=dt.date(2026, 8, 1))
    x = {row["name"]: row for row in member_participation(world.street, july).rows}[world.community_x.name]
    assert (x["registered"], x["needs"], x["taken"], x["done"]) == (4, 0, 0, 0)


def test_dashboard_page_and_export(client: Client, world: Any) -> None:
    seed(world)
    client.force_login(world.street_worker)
    page = client.get(reverse("dashboard:members"), {"period": "2026-06", "area": world.street.code})
    body = page.content.decode()
    assert page.status_code == 200 and "在职党员双报到" in body and world.community_x.name in body
    export = client.get(reverse("dashboard:export", args=["members"]), {"period": "2026-06", "fmt": "csv"})
    assert export.status_code == 200 and "报到党员" in export.content.decode("utf-8-sig")


def test_assessment_weight_is_zero_by_default(world: Any) -> None:
    seed(world)
    evaluated_year(world)
    a = services.assessment_compute(street=world.street, year=2026, actor=world.street_worker)
    line = a.lines.get(department=world.dept_lead)
    assert line.computed_score == Decimal("79.00")


def test_assessment_weighs_members_service_when_configured(world: Any, settings: Any) -> None:
    settings.JXT_ASSESSMENT_MEMBER_SERVICE_WEIGHT = 0.5
    settings.JXT_ASSESSMENT_MEMBER_SERVICE_CAP = 5.0
    seed(world)
    evaluated_year(world)
    a = services.assessment_compute(street=world.street, year=2026, actor=world.street_worker)
    lines = {line.department_id: line for line in a.lines.all()}
    # Two confirmed services of the lead department's members: 79 + 2 × 0.5.
    assert lines[world.dept_lead.pk].computed_score == Decimal("80.00")
    assert lines[world.dept_coop.pk].computed_score == Decimal("60.00")


@pytest.mark.parametrize(("weight", "expected"), [(10.0, "84.00"), (100.0, "84.00")])
def test_assessment_bonus_is_capped(world: Any, settings: Any, weight: float, expected: str) -> None:
    settings.JXT_ASSESSMENT_MEMBER_SERVICE_WEIGHT = weight
    settings.JXT_ASSESSMENT_MEMBER_SERVICE_CAP = 5.0
    seed(world)
    evaluated_year(world)
    a = services.assessment_compute(street=world.street, year=2026, actor=world.street_worker)
    assert a.lines.get(department=world.dept_lead).computed_score == Decimal(expected)
