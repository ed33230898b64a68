"""The admin's one-page form for a year's arrangement: pre-filled prediction, validation, save, recompute."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from dispatch.calendar import load_calendar
from dispatch.choices import CalendarDayKind
from dispatch.forms import CalendarArrangementForm
from dispatch.models import CalendarDay, CalendarYear
from issues.workflow import case_submit
from tests.factories import UserFactory, World, at

pytestmark = pytest.mark.django_db
D = dt.date.fromisoformat
URL = "/admin/dispatch/calendaryear/arrangement/"
NOTE = "国务院办公厅关于2027年部分节假日安排的通知"


@pytest.fixture
def root(db: None) -> Client:
    client = Client()
    client.force_login(UserFactory(superuser=True, username="root"))
    return client


def form(**data: Any) -> CalendarArrangementForm:
    return CalendarArrangementForm({"year": 2027, "note": NOTE, "holidays": "", "workdays": "", **data})


def test_the_url_is_the_named_admin_view() -> None:
    assert reverse("admin:dispatch_calendaryear_arrangement") == URL


def test_the_form_is_prefilled_with_the_prediction(root: Client) -> None:
    response = root.get(URL, {"year": 2027})
    assert response.status_code == 200
    initial = response.context["form"].initial
    assert initial["year"] == 2027 and "2027" in initial["note"]
    lines = initial["holidays"].splitlines()
    assert "2027-01-01 元旦" in lines
    assert "2027-02-05~2027-02-10 农历除夕" in lines or "2027-02-06~2027-02-10 春节" in lines
    assert initial["workdays"] == ""  # make-up workdays cannot be predicted


def test_the_changelist_links_to_the_form(root: Client) -> None:
    assert URL in root.get("/admin/dispatch/calendaryear/").content.decode()


def test_a_valid_year_is_saved_and_replaces_that_years_days(root: Client) -> None:
    CalendarDay.objects.create(date=D("2027-03-01"), kind=CalendarDayKind.HOLIDAY, name="旧的调整")
    CalendarDay.objects.create(date=D("2028-01-03"), kind=CalendarDayKind.HOLIDAY, name="别的年份")
    response = root.post(
        URL,
        {
            "year": "2027",
            "note": NOTE,
            "holidays": "2027-01-01 元旦\n\n2027-02-05 ～ 2027-02-11 春节\n2027-10-01~2027-10-07 国庆节",
            "workdays": "2027-02-20 春节调休\n2027-10-09",
        },
    )
    assert response.status_code == 302
    assert CalendarYear.objects.get().note == NOTE
    days = {d.date: (d.kind, d.name) for d in CalendarDay.objects.all()}
    assert D("2027-03-01") not in days
    assert days[D("2028-01-03")] == ("holiday", "别的年份")
    assert days[D("2027-02-08")] == ("holiday", "春节")
    assert days[D("2027-02-20")] == ("workday", "春节调休")
    assert days[D("2027-10-09")] == ("workday", "调休上班")
    assert sum(kind == "holiday" for kind, _name in days.values()) == 1 + 7 + 7 + 1
    calendar = load_calendar()
    assert calendar.is_official(D("2027-06-01"))
    assert calendar.is_workday(D("2027-02-20")) and not calendar.is_workday(D("2027-02-11"))


def test_saving_recomputes_provisional_deadlines(
    root: Client, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    case = case_submit(
        category=world.cat_a, alley=world.alley_x, description="路灯", now=at("2027-02-04 16:00")
    )
    assert case.deadline_provisional and case.accept_due == at("2027-02-11 12:00")
    with django_capture_on_commit_callbacks(execute=True):
        response = root.post(
            URL,
            {
                "year": "2027",
                "note": NOTE,
                "holidays": "2027-02-05~2027-02-06 春节\n2027-02-08~2027-02-11 春节",
                "workdays": "2027-02-07",
            },
        )
    assert response.status_code == 302
    case.refresh_from_db()
    # The make-up Sunday counts: one hour on Thursday, three on Sunday February 7th.
    assert (case.deadline_provisional, case.accept_due) == (False, at("2027-02-07 12:00"))


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"holidays": "2027-02-30 春节"}, "holidays", "第 1 行：“2027-02-30”不是有效的日期"),
        ({"holidays": "2027-01-01\n下周一"}, "holidays", "第 2 行：“下周一”不是有效的日期"),
        ({"workdays": "2026-12-31"}, "workdays", "第 1 行：2026-12-31 不在 2027 年内。"),
        ({"holidays": "2027-12-30~2028-01-02 元旦"}, "holidays", "第 1 行：2028-01-02 不在 2027 年内。"),
        (
            {"holidays": "2027-02-11~2027-02-05 春节"},
            "holidays",
            "第 1 行：起始日期 2027-02-11 晚于结束日期 2027-02-05。",
        ),
        (
            {"holidays": "2027-02-05~2027-02-11", "workdays": "2027-02-07"},
            "__all__",
            "2027-02-07 同时列为放假日和调休上班日",
        ),
        ({"year": "1999"}, "year", ""),
        ({"note": ""}, "note", ""),
    ],
)
def test_invalid_input_is_refused_with_a_clear_message(
    data: dict[str, str], field: str, message: str
) -> None:
    bound = form(**data)
    assert not bound.is_valid()
    assert field in bound.errors
    assert message in " ".join(bound.errors[field])


def test_an_invalid_post_writes_nothing_and_shows_the_error(root: Client) -> None:
    response = root.post(URL, {"year": "2027", "note": NOTE, "holidays": "2027-13-01", "workdays": ""})
    assert response.status_code == 200
    assert "第 1 行：“2027-13-01”不是有效的日期" in response.content.decode()
    assert not CalendarYear.objects.exists() and not CalendarDay.objects.exists()


def test_only_superusers_enter_a_year(world: World) -> None:
    client = Client()
    client.force_login(world.district_officer)  # reads the calendar, may not change it
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"year": "2027", "note": NOTE, "holidays": "", "workdays": ""}).status_code == 403
    assert URL not in client.get("/admin/dispatch/calendaryear/").content.decode()
    assert not CalendarYear.objects.exists()
    anonymous = Client().get(URL)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
