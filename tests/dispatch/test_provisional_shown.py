"""A provisional deadline says so wherever it is shown: staff case and order pages, the
residents' tracking page, the API and Open311; and the calendar banner on staff pages.

Cases are made in 2027 (predicted: chinesecalendar knows 2004–2026) with ``now=``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from alleys.choices import AreaLevel
from dispatch.models import CalendarYear
from issues.models import Case, DispatchOrder
from issues.workflow import case_accept, case_dispatch, case_submit
from tests.factories import UserFactory, World, at, make_case

pytestmark = pytest.mark.django_db
PROVISIONAL = "期限待定"


def lamp(world: World, now: dt.datetime) -> Case:
    return case_submit(category=world.cat_a, alley=world.alley_x, description="路灯不亮", now=now)


def dispatched(world: World) -> tuple[Case, DispatchOrder]:
    case = make_case(world, state="accepted", tier=AreaLevel.DISTRICT, now=at("2027-03-01 10:00"))
    case_dispatch(case=case, actor=world.district_officer, lead=world.dept_lead, now=at("2027-03-02 10:00"))
    return case, case.orders.get()


def page(user: Any, url: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def api(user: Any) -> APIClient:
    client = APIClient()
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def test_the_staff_case_page_marks_a_provisional_deadline(world: World) -> None:
    provisional = lamp(world, at("2027-03-01 10:00"))
    official = lamp(world, at("2026-03-02 10:00"))
    assert PROVISIONAL in page(world.chief_x, f"/staff/cases/{provisional.pk}/")
    assert PROVISIONAL not in page(world.chief_x, f"/staff/cases/{official.pk}/")


def test_the_staff_order_page_marks_a_provisional_deadline(world: World) -> None:
    _case, order = dispatched(world)
    assert order.deadline_provisional
    html = page(world.lead_contact, f"/staff/orders/{order.pk}/")
    assert html.count(PROVISIONAL) == 2  # the report and the completion deadline
    DispatchOrder.objects.filter(pk=order.pk).update(deadline_provisional=False)
    assert PROVISIONAL not in page(world.lead_contact, f"/staff/orders/{order.pk}/")


def test_only_the_deadline_that_reaches_the_predicted_year_is_marked(world: World) -> None:
    """Dispatched on 2 December 2026: the report is due within 2026 (known), the completion in
    March 2027 (predicted); the order's one flag covers both, the page marks only the second."""
    case = make_case(world, state="accepted", tier=AreaLevel.DISTRICT, now=at("2026-12-01 10:00"))
    case_dispatch(case=case, actor=world.district_officer, lead=world.dept_lead, now=at("2026-12-02 10:00"))
    order = case.orders.get()
    assert order.deadline_provisional
    assert (order.report_due_provisional, order.complete_due_provisional) == (False, True)
    html = page(world.lead_contact, f"/staff/orders/{order.pk}/")
    report, complete = html.split("办结期限", 1)
    assert PROVISIONAL not in report.rsplit("报到期限", 1)[1] and PROVISIONAL in complete.split("</dd>", 1)[0]


def test_a_case_due_in_2026_for_acceptance_is_not_marked_until_its_resolution_deadline_governs(
    world: World,
) -> None:
    """Filed on 30 December 2026: accepted within hours (known), resolved by 5 January 2027 (predicted)."""
    case = lamp(world, at("2026-12-30 10:00"))
    assert case.deadline_provisional
    assert (case.accept_due_provisional, case.resolve_due_provisional) == (False, True)
    staff = page(world.chief_x, f"/staff/cases/{case.pk}/")
    governing = staff.split('id="governing-deadline"', 1)[1].split("</dd>", 1)[0]
    assert PROVISIONAL not in governing  # the acceptance deadline governs, within 2026
    accept = staff.split("受理期限</dt>", 1)[1].split("</dd>", 1)[0]
    resolve = staff.split("办结期限</dt>", 1)[1].split("</dd>", 1)[0]
    assert PROVISIONAL not in accept and PROVISIONAL in resolve
    track = reverse("public-track-case", kwargs={"code": case.tracking_code})
    assert PROVISIONAL not in Client().get(track).content.decode()
    # Accepted: the resolution deadline governs, and is marked on both pages.
    case_accept(case=case, actor=world.chief_x, now=at("2026-12-30 11:00"))
    staff = page(world.chief_x, f"/staff/cases/{case.pk}/")
    assert PROVISIONAL in staff.split('id="governing-deadline"', 1)[1].split("</dd>", 1)[0]
    assert "期限待定：节假日安排尚未公布" in Client().get(track).content.decode()


def test_the_tracking_page_tells_the_resident(world: World) -> None:
    provisional = lamp(world, at("2027-03-01 10:00"))
    official = lamp(world, at("2026-03-02 10:00"))
    url = reverse("public-track-case", kwargs={"code": provisional.tracking_code})
    body = Client().get(url).content.decode()
    assert "期限待定：节假日安排尚未公布" in body
    url = reverse("public-track-case", kwargs={"code": official.tracking_code})
    assert PROVISIONAL not in Client().get(url).content.decode()


def test_the_api_carries_the_flag_for_cases_and_orders(world: World) -> None:
    case, order = dispatched(world)
    client = api(world.district_officer)
    body = client.get(f"/api/v1/cases/{case.pk}/").json()
    assert body["deadline_provisional"] is True
    assert [o["deadline_provisional"] for o in body["orders"]] == [True]
    order_body = api(world.lead_contact).get(f"/api/v1/orders/{order.pk}/").json()
    assert order_body["deadline_provisional"] is True


def test_open311_says_the_expected_date_is_provisional(world: World) -> None:
    provisional = lamp(world, at("2027-03-01 10:00"))
    official = lamp(world, at("2026-03-02 10:00"))
    [item] = Client().get(f"/open311/v2/requests/{provisional.pk}.json").json()
    assert item["expected_datetime"] is not None
    assert "期限待定：节假日安排未公布，按法定节假日推算" in item["status_notes"]
    [item] = Client().get(f"/open311/v2/requests/{official.pk}.json").json()
    assert PROVISIONAL not in item["status_notes"]


# --- the banner ----------------------------------------------------------------------------------

BANNER = "年的节假日安排尚未录入"


@pytest.fixture
def predicted_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Mid-November 2026: next year (2027) is not official yet."""
    from issues import context_processors

    monkeypatch.setattr(context_processors.timezone, "now", lambda: at("2026-11-16 10:00"))


def test_the_banner_shows_to_superusers_and_org_departments(world: World, predicted_now: None) -> None:
    root = UserFactory(superuser=True, username="root", is_staff=True)
    arrangement = reverse("admin:dispatch_calendaryear_arrangement")
    html = page(root, "/staff/")
    assert "2027 " + BANNER in html and arrangement in html
    admin_html = page(root, "/admin/")
    assert "2027 " + BANNER in admin_html and arrangement in admin_html
    # Organisation departments are told too; only a superuser may enter the year.
    for user in (world.district_officer, world.city_officer):
        for url in ("/staff/", "/admin/"):
            html = page(user, url)
            assert "2027 " + BANNER in html and "由系统管理员录入" in html and arrangement not in html


def test_the_banner_is_not_shown_to_others(world: World, predicted_now: None) -> None:
    for user in (world.chief_x, world.community_worker_x, world.lead_contact):
        assert BANNER not in page(user, "/staff/")


def test_no_banner_once_the_year_is_entered(
    world: World, predicted_now: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        CalendarYear.objects.create(year=2027, note="通知")
    assert BANNER not in page(world.district_officer, "/staff/")


def test_no_banner_before_november(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from issues import context_processors

    monkeypatch.setattr(context_processors.timezone, "now", lambda: at("2026-10-31 10:00"))
    assert BANNER not in page(world.district_officer, "/staff/")
